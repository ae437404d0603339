/**
 * The lifecycle of a `CircleWsManager`: many circles, one client each, supervised as one system.
 *
 * Like the connection chart, this module does no I/O and holds no secret. Each client runs its own
 * connection chart (its keep-alive, backoff and handshake are its own); the manager tracks them
 * through events (`circle.added`, `circle.status`, `circle.removed`) and acts on them through named,
 * injected implementations (`connectCircle`, `connectEveryCircle`, `releaseCircle`, the
 * `disconnectClients` actor). Its context is plain data: URLs, statuses, counts. No key, no nonce,
 * no socket: an inspector sees what a dashboard would show, and nothing more.
 */
import { assign, fromPromise, not, setup } from 'xstate';
import type { CircleWsStatus } from './connection.js';
import type { FailureCode } from './failure.js';

/** What the manager knows of one circle: what its client last reported. */
export interface CircleState {
  status: CircleWsStatus;
  /** The client's reconnection attempts in a row since its last stable session. */
  attempt: number;
  /** The jittered delay before the client's next attempt, in ms (meaningful in `backoff`). */
  retryDelayMs: number;
  /** Why the client last failed or dropped, or null. */
  lastFailure: { code: FailureCode; message: string } | null;
}

/** Every status a client can be in, for counting. */
export const circleStatuses: readonly CircleWsStatus[] = [
  'disconnected',
  'connecting',
  'fetchingNonce',
  'signing',
  'authenticating',
  'authenticated',
  'connected',
  'backoff',
  'failed',
];

/** When circles connect: all at `connectAll()` (and at once when added later), or each on its first call. */
export type ConnectPolicy = 'eager' | 'lazy';

export interface ManagerInput {
  connect: ConnectPolicy;
  /** The circles the manager starts with, in the order given. */
  urls: readonly string[];
}

/** One circle in the chart's context: its URL and what its client last reported. */
export interface CircleEntry extends CircleState {
  readonly url: string;
}

export interface ManagerContext {
  connect: ConnectPolicy;
  /**
   * The circles, in the order added. A list rather than a record keyed by URL: a status change
   * copies the list (references only), where copying a record of a thousand keys cost more per
   * change than everything else the manager does (`docs/performance.md`).
   */
  circles: readonly CircleEntry[];
  /** Where each circle's URL is in `circles`. */
  index: Readonly<Record<string, number>>;
  /** How many circles are in each status. */
  counts: Record<CircleWsStatus, number>;
}

export type ManagerEvent =
  /** The application asks every circle to connect (`connectAll()`). */
  | { type: 'connect' }
  /** The application asks every circle to stop (`disconnectAll()`). */
  | { type: 'disconnect' }
  /** A circle was added at run time (`add(url)`); its client starts disconnected. */
  | { type: 'circle.added'; url: string }
  /** A circle was removed (`remove(url)`); its client is released. */
  | { type: 'circle.removed'; url: string }
  /** A call reached a circle whose client is not trying to connect (only acted on with the lazy policy). */
  | { type: 'circle.needed'; url: string }
  /** A client's status changed (or its attempt, delay or failure with it). */
  | ({ type: 'circle.status'; url: string } & CircleState);


function emptyCounts(): Record<CircleWsStatus, number> {
  return Object.fromEntries(circleStatuses.map((s) => [s, 0])) as Record<CircleWsStatus, number>;
}

function countsOf(circles: readonly CircleEntry[]): Record<CircleWsStatus, number> {
  const counts = emptyCounts();
  for (const circle of circles) counts[circle.status] += 1;
  return counts;
}

function indexOf(circles: readonly CircleEntry[]): Record<string, number> {
  const index: Record<string, number> = {};
  circles.forEach((circle, i) => (index[circle.url] = i));
  return index;
}

/** The context after one circle's entry changed: the list copied, the counts adjusted by difference. */
function withEntry(context: ManagerContext, i: number, entry: CircleEntry): Partial<ManagerContext> {
  const circles = context.circles.slice();
  const before = circles[i]!.status;
  circles[i] = entry;
  if (before === entry.status) return { circles };
  const counts = { ...context.counts, [before]: context.counts[before] - 1 };
  counts[entry.status] += 1;
  return { circles, counts };
}

/** A client in these statuses is not trying to connect: `connect` starts it again. */
function startable(status: CircleWsStatus): boolean {
  return status === 'disconnected' || status === 'failed';
}

const disconnectedCircle: CircleState = { status: 'disconnected', attempt: 0, retryDelayMs: 0, lastFailure: null };

const notProvided = (name: string) => `circleWsManagerMachine: the "${name}" implementation was not provided`;

export const circleWsManagerMachine = setup({
  types: {
    context: {} as ManagerContext,
    events: {} as ManagerEvent,
    input: {} as ManagerInput,
    tags: {} as 'running',
    children: {} as { disconnectClients: 'disconnectClients' },
  },
  actors: {
    /** Disconnects every client and resolves once every socket is gone. Injected. */
    disconnectClients: fromPromise<void>(async () => {
      throw new Error(notProvided('disconnectClients'));
    }),
  },
  actions: {
    /** Asks one circle's client to connect. Injected. */
    connectCircle: (_, _params: { url: string }) => {
      throw new Error(notProvided('connectCircle'));
    },
    /** Asks every circle's client that is not trying already to connect. Injected. */
    connectEveryCircle: () => {
      throw new Error(notProvided('connectEveryCircle'));
    },
    /** Disconnects and forgets a removed circle's client. Injected. */
    releaseCircle: (_, _params: { url: string }) => {
      throw new Error(notProvided('releaseCircle'));
    },
    addCircle: assign(({ context }, { url }: { url: string }) => {
      if (url in context.index) return {};
      const circles = [...context.circles, { url, ...disconnectedCircle }];
      return { circles, index: { ...context.index, [url]: circles.length - 1 }, counts: countsOf(circles) };
    }),
    forgetCircle: assign(({ context }, { url }: { url: string }) => {
      const circles = context.circles.filter((circle) => circle.url !== url);
      return { circles, index: indexOf(circles), counts: countsOf(circles) };
    }),
    /** The chart asked these clients to connect: it counts them as connecting before they say so. */
    markEveryStarting: assign(({ context }) => {
      const circles = context.circles.map((circle) => (startable(circle.status) ? { ...circle, status: 'connecting' as const } : circle));
      return { circles, counts: countsOf(circles) };
    }),
    markStarting: assign(({ context }, { url }: { url: string }) => {
      const i = context.index[url];
      const circle = i === undefined ? undefined : context.circles[i];
      if (i === undefined || !circle || !startable(circle.status)) return {};
      return withEntry(context, i, { ...circle, status: 'connecting' });
    }),
    /** The chart asked every client to stop: it counts them as disconnected at once. */
    markEveryStopped: assign(({ context }) => {
      const circles = context.circles.map((circle) => ({ ...circle, status: 'disconnected' as const }));
      return { circles, counts: countsOf(circles) };
    }),
    recordStatus: assign(({ context }, entry: CircleEntry) => {
      const i = context.index[entry.url];
      // A late report from a client already removed is not a circle of this manager any more.
      if (i === undefined) return {};
      return withEntry(context, i, entry);
    }),
  },
  guards: {
    connectsEagerly: ({ context }) => context.connect === 'eager',
    /** The lazy policy, and a circle of this manager. */
    startsOnCall: ({ context }, { url }: { url: string }) => context.connect === 'lazy' && url in context.index,
    isKnown: ({ context }, { url }: { url: string }) => url in context.index,
    everyCircleReady: ({ context }) =>
      context.circles.length > 0 && context.counts.authenticated + context.counts.connected === context.circles.length,
    aCircleFailed: ({ context }) => context.counts.failed > 0,
  },
}).createMachine({
  id: 'circleWsManager',
  context: ({ input }) => {
    const circles: CircleEntry[] = [];
    for (const url of input.urls) if (!circles.some((c) => c.url === url)) circles.push({ url, ...disconnectedCircle });
    return { connect: input.connect, circles, index: indexOf(circles), counts: countsOf(circles) };
  },
  initial: 'idle',
  on: {
    'circle.status': {
      actions: {
        type: 'recordStatus',
        params: ({ event }) => ({ url: event.url, status: event.status, attempt: event.attempt, retryDelayMs: event.retryDelayMs, lastFailure: event.lastFailure }),
      },
    },
    'circle.added': { actions: { type: 'addCircle', params: ({ event }) => ({ url: event.url }) } },
    'circle.removed': {
      guard: { type: 'isKnown', params: ({ event }) => ({ url: event.url }) },
      actions: [
        { type: 'releaseCircle', params: ({ event }) => ({ url: event.url }) },
        { type: 'forgetCircle', params: ({ event }) => ({ url: event.url }) },
      ],
    },
  },
  states: {
    // Built, or stopped: no client is trying to connect. Circles can be added and removed.
    idle: {
      on: {
        connect: { target: 'running', actions: ['connectEveryCircle', 'markEveryStarting'] },
        // With the lazy policy, a call is what starts the manager (and that circle only).
        'circle.needed': {
          guard: { type: 'startsOnCall', params: ({ event }) => ({ url: event.url }) },
          target: 'running',
          actions: [
            { type: 'connectCircle', params: ({ event }) => ({ url: event.url }) },
            { type: 'markStarting', params: ({ event }) => ({ url: event.url }) },
          ],
        },
      },
    },
    // Clients are connecting, ready or recovering; each runs its own backoff. The sub-states say how the whole system is doing.
    running: {
      tags: 'running',
      on: {
        connect: { actions: ['connectEveryCircle', 'markEveryStarting'] },
        disconnect: { target: 'stopping' },
        // Otherwise (lazy) the root's handler only adds it.
        'circle.added': {
          guard: 'connectsEagerly',
          actions: [
            { type: 'addCircle', params: ({ event }) => ({ url: event.url }) },
            { type: 'connectCircle', params: ({ event }) => ({ url: event.url }) },
            { type: 'markStarting', params: ({ event }) => ({ url: event.url }) },
          ],
        },
        'circle.needed': {
          guard: { type: 'isKnown', params: ({ event }) => ({ url: event.url }) },
          actions: [
            { type: 'connectCircle', params: ({ event }) => ({ url: event.url }) },
            { type: 'markStarting', params: ({ event }) => ({ url: event.url }) },
          ],
        },
      },
      initial: 'converging',
      states: {
        // Some circles are still on their way (opening, handshaking, backing off) or not asked yet.
        converging: {
          always: [
            { guard: 'aCircleFailed', target: 'degraded' },
            { guard: 'everyCircleReady', target: 'ready' },
          ],
        },
        // Every circle is ready: calls to any of them go straight out.
        ready: {
          always: [
            { guard: 'aCircleFailed', target: 'degraded' },
            { guard: not('everyCircleReady'), target: 'converging' },
          ],
        },
        // At least one circle has failed for good (refused, exhausted): it stays failed until connect is asked again; the others carry on.
        degraded: {
          always: { guard: not('aCircleFailed'), target: 'converging' },
        },
      },
    },
    // Every client is closing; the manager is idle again once every socket is gone.
    stopping: {
      entry: 'markEveryStopped',
      invoke: { id: 'disconnectClients', src: 'disconnectClients', onDone: 'idle', onError: 'idle' },
    },
  },
});

export type CircleWsManagerMachine = typeof circleWsManagerMachine;

/**
 * The manager's flat status: `idle`, `converging`, `ready`, `degraded` or `stopping`.
 * @example managerStatusOf(manager.actor.getSnapshot()); // 'idle'
 */
export type ManagerStatus = 'idle' | 'converging' | 'ready' | 'degraded' | 'stopping';

export function managerStatusOf(snapshot: { readonly value: unknown }): ManagerStatus {
  const value = snapshot.value;
  if (typeof value === 'string') return value as ManagerStatus;
  const running = (value as { running?: unknown }).running;
  return (typeof running === 'string' ? running : 'converging') as ManagerStatus;
}
