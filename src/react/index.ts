/**
 * React bindings (`circle-ws-client/react`). React is an optional peer dependency: only this
 * entry imports it, never the root entry.
 * @example
 * import { useCircleWsStatus } from 'circle-ws-client/react';
 * function Badge({ client }: { client: CircleWsClient }) {
 *   const { status, isConnected } = useCircleWsStatus(client);
 *   return <span className={isConnected ? 'ok' : 'wait'}>{status}</span>;
 * }
 */
import { useCallback, useSyncExternalStore } from 'react';
import type { CircleWsStatus } from '../../machines/connection.js';
import type { CircleWsClient } from '../client/client.js';
import type { CircleWsManager, ManagerStatusSnapshot } from '../manager/manager.js';

export type { ManagerStatusSnapshot } from '../manager/manager.js';

/** What {@link useCircleWsStatus} returns. The same object is returned for as long as the status stays the same. */
export interface CircleWsStatusState {
  /** `client.status`. */
  readonly status: CircleWsStatus;
  /** `client.isConnected()`: calls go straight out. */
  readonly isConnected: boolean;
}

/** The part of a client the hook uses (structural, so two installed copies of the package still fit). */
export type StatusSource = Pick<CircleWsClient, 'status' | 'isConnected' | 'on'>;

const disconnected: CircleWsStatusState = Object.freeze({ status: 'disconnected', isConnected: false });

/** One frozen state object per client and status: `useSyncExternalStore` compares snapshots with `Object.is`. */
const states = new WeakMap<StatusSource, Map<CircleWsStatus, CircleWsStatusState>>();

function stateOf(client: StatusSource): CircleWsStatusState {
  const status = client.status;
  let byStatus = states.get(client);
  if (byStatus === undefined) {
    byStatus = new Map();
    states.set(client, byStatus);
  }
  let state = byStatus.get(status);
  if (state === undefined) {
    state = Object.freeze({ status, isConnected: client.isConnected() });
    byStatus.set(status, state);
  }
  return state;
}

const subscribeToNothing = (): (() => void) => () => {};

/**
 * The client's status, re-rendering the component when it changes. Pass `null` or `undefined`
 * while there is no client yet (reads as `disconnected`).
 * @example const { status, isConnected } = useCircleWsStatus(client);
 */
export function useCircleWsStatus(client: StatusSource | null | undefined): CircleWsStatusState {
  const subscribe = useCallback(
    (onChange: () => void) => (client ? client.on('status', () => onChange()) : subscribeToNothing()),
    [client],
  );
  const snapshot = useCallback(() => (client ? stateOf(client) : disconnected), [client]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/**
 * The part of a manager {@link useCircleWsManager} uses (structural, like {@link StatusSource}):
 * `status`, and `on('change')`, which fires on every change of it (a circle's status, a circle
 * added or removed, the manager's own state).
 */
export type ManagerStatusSource = Pick<CircleWsManager, 'status' | 'on'>;

const noManager: ManagerStatusSnapshot = Object.freeze({
  state: 'idle',
  circles: Object.freeze({}),
  // Typed as a full record, so a status added to the client cannot be forgotten here.
  counts: Object.freeze({
    disconnected: 0,
    connecting: 0,
    fetchingNonce: 0,
    signing: 0,
    authenticating: 0,
    authenticated: 0,
    connected: 0,
    backoff: 0,
    failed: 0,
  } satisfies Record<CircleWsStatus, number>),
});

/**
 * The manager's status (its state, each circle's status, counts by status), re-rendering the
 * component when it changes. It is `manager.status` itself: the same object until something
 * changes. Pass `null` or `undefined` while there is no manager yet (reads as idle, no circles).
 * @example
 * const { state, circles, counts } = useCircleWsManager(manager);
 * // state: 'ready'; counts.authenticated: 2; circles[url].status: 'authenticated'
 */
export function useCircleWsManager(manager: ManagerStatusSource | null | undefined): ManagerStatusSnapshot {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (!manager) return subscribeToNothing();
      return manager.on('change', () => onChange());
    },
    [manager],
  );
  const snapshot = useCallback(() => (manager ? manager.status : noManager), [manager]);
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}
