/**
 * The connection lifecycle of a Circle client, as an XState v5 statechart.
 *
 * This module is the specification: it does no I/O and holds no secret. Every effect is named
 * here and implemented elsewhere (`src/client/`), injected with `circleWsMachine.provide(...)`:
 * the socket (`openSocket`, `releaseSocket`), the three handshake steps (`fetchNonce`, `signNonce`,
 * `authenticate`), the keep-alive probe, and the delays. The private key never enters it: the
 * injected signer holds the key, the context holds only the public key. Nor do the nonce and the
 * signature: the facade keeps them, and the handshake actors report only that their step succeeded,
 * so an inspector sees no secret in any input, output or event.
 */
import { assign, type ErrorActorEvent, fromPromise, setup, type StateValue } from 'xstate';
import { backoffDelay, type ReconnectPolicy } from './backoff.js';
import { type FailureCode, isFailureCode } from './failure.js';

export { backoffCeiling, backoffDelay, defaultReconnectPolicy, type ReconnectPolicy } from './backoff.js';
export type { AuthFailureCode, FailureCode } from './failure.js';

/** Keep-alive: probe after `intervalMs` without an inbound frame; the link is dead after `timeoutMs` more. */
export interface KeepAlivePolicy {
  intervalMs: number;
  timeoutMs: number;
}

/**
 * When the client may ask its signer for a new signature by itself:
 * - `'automatic'`: whenever a new socket needs one (a key held in-process signs without asking anyone);
 * - `'onConnect'`: at most once per `connect` event, so a wallet never prompts unless the
 *   application asked to connect. After a drop that would need a new signature the machine stops
 *   in `disconnected` (the failure kept) instead of reconnecting.
 */
export type ResignPolicy = 'onConnect' | 'automatic';

/** Plain data the machine starts from (all of it is visible to an inspector). */
export interface CircleWsInput {
  url: string;
  /** Uncompressed public key (130 hex) when the client has a key pair; `null` for an anonymous client. */
  publicKey: string | null;
  /** `null` turns reconnection off. */
  reconnect: ReconnectPolicy | null;
  /** `null` turns keep-alive off. */
  keepAlive: KeepAlivePolicy | null;
  /** How long a socket may take to open. */
  connectTimeoutMs: number;
  /** How long each handshake step (nonce, authenticate) may take. */
  authTimeoutMs: number;
  /** How long the signer may take to sign a nonce (a wallet prompt waits for a person). Default: `authTimeoutMs`. */
  signTimeoutMs?: number;
  /** When the signer may be asked again (see {@link ResignPolicy}). Default: `'automatic'`. */
  resign?: ResignPolicy;
  /** How long a session must stay ready before the attempt counter resets. */
  stableAfterMs: number;
  /**
   * Which client runs this actor: the implementations are provided once for every client and
   * find theirs by this number (a plain number, so the inspector sees nothing else). Default 0.
   */
  instance?: number;
}

/** Why the client is not connected, as plain data (the facade turns it into an error class). */
export interface Failure {
  /** A stable code (see {@link FailureCode}); a handshake error with any other code is recorded as `CONNECTION_LOST`. */
  code: FailureCode;
  message: string;
  /** HTTP status of a refused upgrade. */
  status?: number;
  /** The refusal's `Retry-After`, in ms: the next backoff delay is at least this (capped by `maxDelayMs`). */
  retryAfterMs?: number;
  /** WebSocket close code. */
  closeCode?: number;
}

export interface CircleWsContext {
  instance: number;
  url: string;
  publicKey: string | null;
  reconnect: ReconnectPolicy | null;
  keepAlive: KeepAlivePolicy | null;
  connectTimeoutMs: number;
  authTimeoutMs: number;
  signTimeoutMs: number;
  resign: ResignPolicy;
  /** The signer signed since the last `connect` event (a flag only: the signature stays with the facade). */
  signedThisConnect: boolean;
  stableAfterMs: number;
  /** Reconnection attempts in a row since the last stable session. */
  attempt: number;
  /** The jittered delay drawn for the pending reconnection attempt (shown by UIs: "retrying in …"). */
  retryDelayMs: number;
  /** Nonces fetched again on this socket because the last one expired before `authenticate`. */
  nonceRetries: number;
  /** The last close the server or the network gave us. */
  lastClose: { code: number; reason: string } | null;
  /** The last failure; cleared by a stable session or an explicit `connect`/`disconnect`. */
  lastFailure: Failure | null;
}

/** Why a socket ended, as the machine needs it to decide whether to reconnect (the transports report it). */
export interface SocketClosed {
  /** The WebSocket close code (1006 when there was no close frame or the socket never opened). */
  code: number;
  reason: string;
  /** The HTTP status when the server refused the upgrade and the runtime can see it (Node only). */
  status?: number;
  /** A short description of a network error (e.g. `connect ECONNREFUSED 127.0.0.1:8080`). */
  error?: string;
  /** A refused upgrade's `Retry-After` (429/503), in ms from now (Node only). */
  retryAfterMs?: number;
  /** A redirecting upgrade's `Location` (3xx), trimmed and made printable (Node only). */
  location?: string;
  /** The client closed the socket (with 1009) because the server sent a frame over `maxInboundFrameBytes`. */
  inboundTooLarge?: boolean;
}

/** Sent by the facade about the socket that `openSocket` opened. */
export type SocketEvent = { type: 'socket.opened' } | ({ type: 'socket.closed' } & SocketClosed);

export type CircleWsEvent =
  /** The application asks for a connection (also leaves `failed`). */
  | { type: 'connect' }
  /** The application asks to stop: close with 1000, no reconnection. */
  | { type: 'disconnect' }
  | SocketEvent
  /** Any frame arrived while a keep-alive probe was out. */
  | { type: 'link.alive' }
  /** The runtime says the network is back (browser `online`): skip the pending backoff delay, keep the counters. */
  | { type: 'network.online' }
  /** The runtime says the network is gone (browser `offline`): probe the link now. */
  | { type: 'network.offline' };

/** The states an application sees, flattened (`client.status`). */
export type CircleWsStatus =
  | 'disconnected'
  | 'connecting'
  | 'fetchingNonce'
  | 'signing'
  | 'authenticating'
  | 'authenticated'
  | 'connected'
  | 'backoff'
  | 'failed';

/**
 * The failure code of an error a handshake step threw, read without trusting its type. Anything
 * outside the machine's codes (a `PROTOCOL_ERROR`, a signer's own code, no code at all) counts as a
 * lost connection: retried with backoff, and turned into a `ConnectionLostError` by the facade.
 */
function failureCodeOf(error: unknown): FailureCode {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return isFailureCode(code) ? code : 'CONNECTION_LOST';
}

/** The error of a failed handshake step, as the guards and actions that judge it take it. */
export interface HandshakeError {
  error: unknown;
}

/**
 * Passes a failed step's error to a named guard or action as its params. A named implementation is
 * typed with the machine's own events only, which do not include `xstate.error.actor.*`; the
 * invoke's `onError` is typed with the actor's error event, so the error is read there, uncast.
 */
const handshakeError = ({ event }: { event: ErrorActorEvent }): HandshakeError => ({ error: event.error });

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Failures of the handshake that a retry cannot fix: the server said no, or (`NONCE_REJECTED`) it
 * sent something that is not a nonce, which a hostile server would only send again.
 */
const refusalCodes: ReadonlySet<FailureCode> = new Set<FailureCode>([
  'AUTH_REFUSED',
  'NONCE_EXPIRED',
  'NONCE_REFUSED',
  'NONCE_REJECTED',
  'SIGNING_FAILED',
  // The person at the wallet said no: asking again by ourselves would be a loop of prompts.
  'SIGNING_DECLINED',
  'INVALID_KEY',
]);

/** Whether the signer may be asked for another signature without a new `connect` event. */
function mayResign(context: CircleWsContext): boolean {
  return context.resign === 'automatic' || !context.signedThisConnect;
}

/**
 * The ready part of a session, shared by `authenticated` and `connected`: both stay states of
 * their own (the inspector, `client.status` and the Stately editor show which one), with the same
 * keep-alive sub-chart inside. The attempt counter resets only once the session has stayed ready a
 * while, so a flapping server cannot pin the backoff at its minimum.
 */
const readyState = {
  tags: 'ready',
  after: { stableSession: { actions: 'stabilise' } },
  // The runtime says the network is gone: probe now rather than wait for a quiet interval.
  on: { 'network.offline': { guard: 'keepAliveIsOn', target: '.probing' } },
  initial: 'idle',
  states: {
    // Frames are arriving (or keep-alive has just begun): wait for a quiet interval.
    idle: {
      always: { guard: 'keepAliveIsOff', target: 'unmonitored' },
      after: {
        keepAliveInterval: [
          { guard: 'linkIsQuiet', target: 'probing' },
          { target: 'idle', reenter: true },
        ],
      },
    },
    // A probe is out; any frame proves the link alive, silence past the deadline makes it suspect.
    probing: {
      entry: 'sendProbe',
      on: { 'link.alive': { target: 'idle' } },
      after: { keepAliveTimeout: { target: 'overdue' } },
    },
    // The deadline passed, but a late timer (a busy loop, a throttled tab, a laptop waking) may fire
    // before frames already received are read: give them one turn before declaring the link dead.
    overdue: {
      on: { 'link.alive': { target: 'idle' } },
      after: { graceTurn: { target: '#circleWs.backoff', actions: ['recordLinkDead', 'dropSocket'] } },
    },
    // Keep-alive is turned off: only the transport's own close tells us the link is gone.
    unmonitored: {},
  },
} as const;

const notProvided = (name: string) => `circleWsMachine: the "${name}" implementation was not provided`;

export const circleWsMachine = setup({
  types: {
    context: {} as CircleWsContext,
    events: {} as CircleWsEvent,
    input: {} as CircleWsInput,
    tags: {} as 'ready' | 'handshake',
    children: {} as {
      fetchNonce: 'fetchNonce';
      signNonce: 'signNonce';
      authenticate: 'authenticate';
    },
  },
  actors: {
    /**
     * `fetch_nonce` over the open socket; resolves (with nothing) once the implementation holds a
     * nonce it is willing to sign, rejects with `NONCE_REJECTED` when the text does not look like one.
     */
    fetchNonce: fromPromise<void, { instance: number; publicKey: string }>(async () => {
      throw new Error(notProvided('fetchNonce'));
    }),
    /** Signs the held nonce with the injected signer (which holds the key); resolves (with nothing) once the signature is held. */
    signNonce: fromPromise<void, { instance: number }>(async () => {
      throw new Error(notProvided('signNonce'));
    }),
    /** `authenticate` with the held signature; resolves when accepted, rejects with a refusal otherwise. */
    authenticate: fromPromise<true, { instance: number; publicKey: string }>(async () => {
      throw new Error(notProvided('authenticate'));
    }),
  },
  actions: {
    /**
     * Opens the session's socket, which then reports `socket.opened` and `socket.closed`. Injected.
     * An action pair rather than an invoked actor: a child actor per connected client cost about
     * 1.7 KiB of heap and one more actor start per connection (docs/performance.md).
     */
    openSocket: () => {
      throw new Error(notProvided('openSocket'));
    },
    /** Closes the session's socket with 1000 (if still open) as the session ends, whatever ended it. Injected. */
    releaseSocket: () => {},
    /** Sends a ping frame, or a JSON-RPC probe where the transport has none. Injected. */
    sendProbe: () => {},
    /** Drops the socket without a closing handshake: used when the link is dead or stalled. Injected. */
    dropSocket: () => {},
    countAttempt: assign({ attempt: ({ context }) => context.attempt + 1 }),
    /** Draws the jittered delay of the coming attempt. Injected with the client's random source. */
    planRetry: assign({
      retryDelayMs: ({ context }) =>
        context.reconnect === null ? 0 : backoffDelay(context.attempt, context.reconnect, Math.random, context.lastFailure?.retryAfterMs),
    }),
    resetAttempts: assign({ attempt: 0 }),
    resetNonceRetries: assign({ nonceRetries: 0 }),
    noteSigned: assign({ signedThisConnect: true }),
    forgetSigned: assign({ signedThisConnect: false }),
    countNonceRetry: assign({ nonceRetries: ({ context }) => context.nonceRetries + 1 }),
    forgetFailure: assign({ lastFailure: null, lastClose: null }),
    stabilise: assign({ attempt: 0, lastFailure: null }),
    recordClose: assign(({ event }) => {
      // Narrowed, not asserted: xstate's assertEvent would add about 250 bytes to every bundle for a check the type already makes.
      if (event.type !== 'socket.closed') return {};
      const lastClose = { code: event.code, reason: event.reason };
      const failure: Failure = {
        code: 'CONNECTION_LOST',
        message: describeClose(event),
        closeCode: event.code,
      };
      if (event.status !== undefined) failure.status = event.status;
      if (event.retryAfterMs !== undefined) failure.retryAfterMs = event.retryAfterMs;
      if (event.code === 1008) failure.code = 'AUTH_LOCKED';
      else if (isTerminalStatus(event.status)) failure.code = 'CONNECTION_FAILED';
      else if (event.inboundTooLarge) failure.code = 'FRAME_TOO_LARGE';
      return { lastClose, lastFailure: failure };
    }),
    recordHandshakeError: assign({
      lastFailure: (_, { error }: HandshakeError) => ({ code: failureCodeOf(error), message: messageOf(error) }),
    }),
    recordTimeout: assign({
      lastFailure: (_, params: { step: string; ms: number }) => ({
        code: 'TIMEOUT',
        message: `${params.step} took longer than ${params.ms} ms`,
      }),
    }),
    recordLinkDead: assign({
      lastFailure: ({ context }) => ({
        code: 'LINK_DEAD',
        message: `no answer to the keep-alive probe within ${context.keepAlive?.timeoutMs ?? 0} ms`,
      }),
    }),
    recordExhausted: assign({
      lastFailure: ({ context }) => ({
        code: 'RECONNECT_EXHAUSTED',
        message: `gave up after ${context.attempt - 1} reconnection attempts${
          context.lastFailure ? `; last failure: ${context.lastFailure.message}` : ''
        }`,
      }),
    }),
  },
  guards: {
    hasKeyPair: ({ context }) => context.publicKey !== null,
    /** 1008 (too many failed authentications), redirects (3xx) and 4xx upgrade refusals other than 408/429 end the story. */
    closeIsTerminal: ({ event }) =>
      event.type === 'socket.closed' && (event.code === 1008 || isTerminalStatus(event.status)),
    errorIsRefusal: (_, { error }: HandshakeError) => refusalCodes.has(failureCodeOf(error)),
    /** The nonce expired before the signature reached the server (a slow signer): worth one fresh nonce. */
    nonceExpiredOnce: ({ context }, { error }: HandshakeError) =>
      failureCodeOf(error) === 'NONCE_EXPIRED' && context.nonceRetries < 1 && mayResign(context),
    /** Another attempt would ask the signer again, and it may be asked only once per `connect` (`resign: 'onConnect'`). */
    resignWaitsForConnect: ({ context }) => !mayResign(context),
    reconnectIsOff: ({ context }) => context.reconnect === null,
    attemptsExhausted: ({ context }) =>
      context.reconnect !== null && context.attempt > context.reconnect.maxAttempts,
    keepAliveIsOff: ({ context }) => context.keepAlive === null,
    keepAliveIsOn: ({ context }) => context.keepAlive !== null,
    /** Injected: true when no frame arrived during the last keep-alive interval. */
    linkIsQuiet: () => true,
  },
  delays: {
    reconnectDelay: ({ context }) => context.retryDelayMs,
    connectTimeout: ({ context }) => context.connectTimeoutMs,
    authTimeout: ({ context }) => context.authTimeoutMs,
    signTimeout: ({ context }) => context.signTimeoutMs,
    /** Injected with the time left until the link has been quiet for a whole interval. */
    keepAliveInterval: ({ context }) => context.keepAlive?.intervalMs ?? 0,
    keepAliveTimeout: ({ context }) => context.keepAlive?.timeoutMs ?? 0,
    /** One event-loop turn: a zero-delay timer runs after pending socket reads. */
    graceTurn: 0,
    stableSession: ({ context }) => context.stableAfterMs,
  },
}).createMachine({
  id: 'circleWs',
  context: ({ input }) => ({
    instance: input.instance ?? 0,
    url: input.url,
    publicKey: input.publicKey,
    reconnect: input.reconnect,
    keepAlive: input.keepAlive,
    connectTimeoutMs: input.connectTimeoutMs,
    authTimeoutMs: input.authTimeoutMs,
    signTimeoutMs: input.signTimeoutMs ?? input.authTimeoutMs,
    resign: input.resign ?? 'automatic',
    signedThisConnect: false,
    stableAfterMs: input.stableAfterMs,
    attempt: 0,
    retryDelayMs: 0,
    nonceRetries: 0,
    lastClose: null,
    lastFailure: null,
  }),
  initial: 'disconnected',
  states: {
    // Nothing open, nothing scheduled: where a client starts and where disconnect() leaves it.
    disconnected: {
      on: { connect: { target: 'session', actions: ['resetAttempts', 'forgetFailure', 'forgetSigned'] } },
    },
    // One socket's lifetime: opened on entry and released on exit, so every sub-state can use it.
    session: {
      entry: ['resetNonceRetries', 'openSocket'],
      exit: 'releaseSocket',
      on: {
        'socket.closed': [
          { guard: 'closeIsTerminal', target: 'failed', actions: 'recordClose' },
          { target: 'backoff', actions: 'recordClose' },
        ],
        disconnect: { target: 'disconnected', actions: 'forgetFailure' },
      },
      initial: 'connecting',
      states: {
        // The socket is opening; bounded so a silent network cannot hold us here.
        connecting: {
          tags: 'handshake',
          on: {
            'socket.opened': [
              { guard: 'hasKeyPair', target: 'fetchingNonce' },
              { target: 'connected' },
            ],
          },
          after: {
            connectTimeout: {
              target: '#circleWs.backoff',
              actions: [
                { type: 'recordTimeout', params: ({ context }) => ({ step: 'opening the socket', ms: context.connectTimeoutMs }) },
                'dropSocket',
              ],
            },
          },
        },
        // Asking the server for a nonce: a fresh one per socket (no signature is ever replayed); text not shaped like a nonce is refused unsigned.
        fetchingNonce: {
          tags: 'handshake',
          invoke: {
            id: 'fetchNonce',
            src: 'fetchNonce',
            input: ({ context }) => ({ instance: context.instance, publicKey: context.publicKey ?? '' }),
            onDone: { target: 'signing' },
            onError: [
              {
                guard: { type: 'errorIsRefusal', params: handshakeError },
                target: '#circleWs.failed',
                actions: { type: 'recordHandshakeError', params: handshakeError },
              },
              { target: '#circleWs.backoff', actions: [{ type: 'recordHandshakeError', params: handshakeError }, 'dropSocket'] },
            ],
          },
          after: {
            authTimeout: {
              target: '#circleWs.backoff',
              actions: [
                { type: 'recordTimeout', params: ({ context }) => ({ step: 'fetch_nonce', ms: context.authTimeoutMs }) },
                'dropSocket',
              ],
            },
          },
        },
        // The injected signer signs the nonce; kept apart, with its own deadline, because a signer may be slow (a wallet prompt waits for a person).
        signing: {
          tags: 'handshake',
          invoke: {
            id: 'signNonce',
            src: 'signNonce',
            input: ({ context }) => ({ instance: context.instance }),
            onDone: { target: 'authenticating', actions: 'noteSigned' },
            onError: [
              {
                guard: { type: 'errorIsRefusal', params: handshakeError },
                target: '#circleWs.failed',
                actions: { type: 'recordHandshakeError', params: handshakeError },
              },
              { target: '#circleWs.backoff', actions: [{ type: 'recordHandshakeError', params: handshakeError }, 'dropSocket'] },
            ],
          },
          after: {
            signTimeout: {
              target: '#circleWs.backoff',
              actions: [
                { type: 'recordTimeout', params: ({ context }) => ({ step: 'signing the nonce', ms: context.signTimeoutMs }) },
                'dropSocket',
              ],
            },
          },
        },
        // The signature is with the server; a refusal is final (no reconnect storm on bad credentials).
        authenticating: {
          tags: 'handshake',
          invoke: {
            id: 'authenticate',
            src: 'authenticate',
            input: ({ context }) => ({ instance: context.instance, publicKey: context.publicKey ?? '' }),
            onDone: { target: 'authenticated' },
            onError: [
              { guard: { type: 'nonceExpiredOnce', params: handshakeError }, target: 'fetchingNonce', actions: 'countNonceRetry' },
              {
                guard: { type: 'errorIsRefusal', params: handshakeError },
                target: '#circleWs.failed',
                actions: { type: 'recordHandshakeError', params: handshakeError },
              },
              { target: '#circleWs.backoff', actions: [{ type: 'recordHandshakeError', params: handshakeError }, 'dropSocket'] },
            ],
          },
          after: {
            authTimeout: {
              target: '#circleWs.backoff',
              actions: [
                { type: 'recordTimeout', params: ({ context }) => ({ step: 'authenticate', ms: context.authTimeoutMs }) },
                'dropSocket',
              ],
            },
          },
        },
        // Ready with a proven identity: calls flow; keep-alive watches the link.
        authenticated: readyState,
        // Ready without a key pair: the socket is open and calls flow, but nothing was proven.
        connected: readyState,
      },
    },
    // Waiting before the next attempt; the delay grows with each failure and is jittered.
    // A signer that may sign once per connect() and already did stops here instead: a new
    // attempt would prompt the person at the wallet, who did not ask for it (the failure is kept).
    backoff: {
      entry: ['countAttempt', 'planRetry'],
      always: [
        { guard: 'reconnectIsOff', target: 'disconnected' },
        { guard: 'resignWaitsForConnect', target: 'disconnected' },
        { guard: 'attemptsExhausted', target: 'failed', actions: 'recordExhausted' },
      ],
      after: { reconnectDelay: { target: 'session' } },
      on: {
        connect: { target: 'session', actions: 'forgetSigned' },
        'network.online': { target: 'session' },
        disconnect: { target: 'disconnected', actions: 'forgetFailure' },
      },
    },
    // Stopped for a reason a retry cannot fix (refused credentials, a nonce it will not sign, a declined signature, close 1008, a 4xx upgrade refusal, attempts exhausted).
    failed: {
      on: {
        connect: { target: 'session', actions: ['resetAttempts', 'forgetFailure', 'forgetSigned'] },
        disconnect: { target: 'disconnected', actions: 'forgetFailure' },
      },
    },
  },
});

/** A redirect is not followed (the client would send its signature to a server nobody chose) nor retried. */
function isTerminalStatus(status: number | undefined): boolean {
  if (status === undefined) return false;
  if (status >= 300 && status < 400) return true;
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function describeClose(event: { code: number; reason: string; status?: number; error?: string; retryAfterMs?: number; location?: string; inboundTooLarge?: boolean }): string {
  if (event.status !== undefined) {
    if (event.status >= 300 && event.status < 400) {
      return `the server redirected the WebSocket upgrade with HTTP ${event.status} to ${event.location ?? '(no Location header)'}; redirects are not followed: connect to that URL if you trust it`;
    }
    const retry = event.retryAfterMs === undefined ? '' : ` (Retry-After: ${Math.ceil(event.retryAfterMs / 1000)} s)`;
    return `the server refused the WebSocket upgrade with HTTP ${event.status}${retry}`;
  }
  if (event.inboundTooLarge) return `the server sent a frame over the client's inbound limit; the client closed the connection with 1009`;
  const parts = [`the connection closed with code ${event.code}`];
  if (event.code === 1009 && !event.reason) parts.push('(message too big: the server refused a frame the client sent)');
  if (event.reason) parts.push(`(${event.reason})`);
  const text = parts.join(' ');
  return event.error ? `${text}: ${event.error}` : text;
}

/**
 * The flat status of a state value or of a snapshot (anything with a `value`), e.g.
 * `'authenticated'` for `{ session: { authenticated: 'idle' } }`.
 * @example statusOf(actor.getSnapshot()); // 'disconnected'
 */
export function statusOf(state: StateValue | { readonly value: StateValue }): CircleWsStatus {
  // No state of this machine is named `value`, so a `value` key can only mean a snapshot.
  const value: StateValue | undefined = typeof state === 'object' && 'value' in state ? (state.value as StateValue | undefined) : state;
  if (typeof value === 'string') return value as CircleWsStatus;
  const session = value?.session;
  if (typeof session === 'string') return session as CircleWsStatus;
  for (const key in session) return key as CircleWsStatus;
  return 'disconnected';
}

export type CircleWsMachine = typeof circleWsMachine;
