/**
 * The machine's implementations, provided once for every client, and how each finds its client.
 *
 * `circleWsMachine.provide()` builds a whole new tree of state nodes with its own memoised
 * transition tables; done per client it cost tens of KiB apiece (docs/performance.md). So it is
 * done once here, and each implementation finds the client it runs for through the plain number
 * in the machine's context (`instance`): an inspector sees that number and nothing else. Clients
 * are held weakly, so a client the application drops is forgotten with it.
 */
import { assign, fromPromise } from 'xstate';
import { backoffDelay, type CircleWsEvent, circleWsMachine } from '../../machines/connection.js';

/** What the implementations ask of a client: the narrow side of it that acts on the socket. */
export interface MachineHost {
  /** Opens a socket for the session; it reports `socket.*` events to `machine`. */
  open(url: string, machine: MachineRef): void;
  /** The session ended: closes its socket with 1000 if it is still open. */
  release(): void;
  fetchNonce(publicKey: string): Promise<void>;
  signNonce(): Promise<void>;
  authenticate(publicKey: string): Promise<true>;
  /** Sends a keep-alive probe on the current socket. */
  probe(): void;
  /** Drops the current socket without a closing handshake. */
  drop(): void;
  /** The client's random source (jitter). */
  random(): number;
  /** Milliseconds until the link has been quiet for `intervalMs`; 0 when it has. */
  quietIn(intervalMs: number): number;
}

/** Where a socket reports its events: the client's actor. */
export interface MachineRef {
  send(event: CircleWsEvent): void;
}

const hosts = new Map<number, WeakRef<MachineHost>>();
const forget = new FinalizationRegistry<number>((instance) => hosts.delete(instance));
let nextInstance = 1;

/**
 * Registers a client's host and returns the number its machine carries in its context.
 * @example const instance = register(host); createActor(providedMachine, { input: { instance, … } });
 */
export function register(host: MachineHost): number {
  const instance = nextInstance++;
  hosts.set(instance, new WeakRef(host));
  forget.register(host, instance);
  return instance;
}

function hostOf(holder: { instance: number }): MachineHost {
  const host = hosts.get(holder.instance)?.deref();
  if (!host) throw new Error(`no CircleWsClient instance ${holder.instance}`);
  return host;
}

/** The connection machine with the client's implementations. */
export const providedMachine = circleWsMachine.provide({
  actors: {
    fetchNonce: fromPromise<void, { instance: number; publicKey: string }>(async ({ input }) => hostOf(input).fetchNonce(input.publicKey)),
    signNonce: fromPromise<void, { instance: number }>(async ({ input }) => hostOf(input).signNonce()),
    authenticate: fromPromise<true, { instance: number; publicKey: string }>(async ({ input }) => hostOf(input).authenticate(input.publicKey)),
  },
  actions: {
    openSocket: ({ context, self }) => hostOf(context).open(context.url, self),
    releaseSocket: ({ context }) => hostOf(context).release(),
    planRetry: assign({
      retryDelayMs: ({ context }) =>
        context.reconnect === null
          ? 0
          : backoffDelay(context.attempt, context.reconnect, () => hostOf(context).random(), context.lastFailure?.retryAfterMs),
    }),
    sendProbe: ({ context }) => hostOf(context).probe(),
    dropSocket: ({ context }) => hostOf(context).drop(),
  },
  guards: {
    linkIsQuiet: ({ context }) => context.keepAlive !== null && hostOf(context).quietIn(context.keepAlive.intervalMs) === 0,
  },
  delays: {
    // The timer runs until the link has been quiet for a whole interval, measured on the wall clock,
    // so per-frame work is one timestamp and a late (throttled) timer still measures the true silence.
    keepAliveInterval: ({ context }) => hostOf(context).quietIn(context.keepAlive?.intervalMs ?? 0),
  },
});
