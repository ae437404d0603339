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

export interface ManagerContext {
  connect: ConnectPolicy;
  /** Per circle, by URL, in the order added. */
  circles: Record<string, CircleState>;
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

const readyStatuses: ReadonlySet<CircleWsStatus> = new Set(['authenticated', 'connected']);

function emptyCounts(): Record<CircleWsStatus, number> {
  return Object.fromEntries(circleStatuses.map((s) => [s, 0])) as Record<CircleWsStatus, number>;
}

function countsOf(circles: Record<string, CircleState>): Record<CircleWsStatus, number> {
  const counts = emptyCounts();
  for (const url in circles) counts[circles[url]!.status] += 1;
  return counts;
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
      if (url in context.circles) return {};
      const circles = { ...context.circles, [url]: { ...disconnectedCircle } };
      return { circles, counts: countsOf(circles) };
    }),
    forgetCircle: assign(({ context }, { url }: { url: string }) => {
      const { [url]: _gone, ...circles } = context.circles;
      return { circles, counts: countsOf(circles) };
    }),
    /** The chart asked these clients to connect: it counts them as connecting before they say so. */
    markEveryStarting: assign(({ context }) => {
      const circles = { ...context.circles };
      for (const url in circles) if (startable(circles[url]!.status)) circles[url] = { ...circles[url]!, status: 'connecting' };
      return { circles, counts: countsOf(circles) };
    }),
    markStarting: assign(({ context }, { url }: { url: string }) => {
      const circle = context.circles[url];
      if (!circle || !startable(circle.status)) return {};
      const circles = { ...context.circles, [url]: { ...circle, status: 'connecting' as const } };
      return { circles, counts: countsOf(circles) };
    }),
    /** The chart asked every client to stop: it counts them as disconnected at once. */
    markEveryStopped: assign(({ context }) => {
      const circles: Record<string, CircleState> = {};
      for (const url in context.circles) circles[url] = { ...context.circles[url]!, status: 'disconnected' };
      return { circles, counts: countsOf(circles) };
    }),
    recordStatus: assign(({ context }, state: { url: string } & CircleState) => {
      // A late report from a client already removed is not a circle of this manager any more.
      if (!(state.url in context.circles)) return {};
      const { url, ...circle } = state;
      const circles = { ...context.circles, [url]: circle };
      const before = context.circles[url]!.status;
      if (before === circle.status) return { circles };
      // Counted by difference: a thousand circles each reporting a few changes stay cheap.
      const counts = { ...context.counts, [before]: context.counts[before] - 1 };
      counts[circle.status] += 1;
      return { circles, counts };
    }),
  },
  guards: {
    connectsEagerly: ({ context }) => context.connect === 'eager',
    /** The lazy policy, and a circle of this manager. */
    startsOnCall: ({ context }, { url }: { url: string }) => context.connect === 'lazy' && url in context.circles,
    isKnown: ({ context }, { url }: { url: string }) => url in context.circles,
    everyCircleReady: ({ context }) => {
      const urls = Object.keys(context.circles);
      return urls.length > 0 && urls.every((url) => readyStatuses.has(context.circles[url]!.status));
    },
    aCircleFailed: ({ context }) => context.counts.failed > 0,
  },
}).createMachine({
  id: 'circleWsManager',
  context: ({ input }) => {
    const circles: Record<string, CircleState> = {};
    for (const url of input.urls) circles[url] = { ...disconnectedCircle };
    return { connect: input.connect, circles, counts: countsOf(circles) };
  },
  initial: 'idle',
  on: {
    'circle.status': { actions: { type: 'recordStatus', params: ({ event }) => event } },
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
