/**
 * `CircleWsClient`: the thin facade over the connection statechart. It owns the socket, the
 * JSON-RPC pending table and the call queue, and gives the machine its implementations. Frames
 * do not pass through the machine: only lifecycle events do, so a call costs a map insert and a
 * `send`, not a statechart transition.
 */
import type { AsyncDisposableLike } from '../disposable.js';
import { type Actor, assign, createActor, fromCallback, fromPromise, type SnapshotFrom } from 'xstate';
import {
  backoffDelay,
  type CircleWsEvent,
  type CircleWsMachine,
  type CircleWsStatus,
  type Failure,
  circleWsMachine,
  statusOf,
} from '../../machines/connection.js';
import type { Signer } from '../auth/crypto.js';
import { checkNonce } from '../auth/nonce-rule.js';
import {
  AbortError,
  AuthError,
  CircleWsError,
  ConnectionFailedError,
  ConnectionLostError,
  FrameTooLargeError,
  InvalidArgumentError,
  NotConnectedError,
  OutcomeUnknownError,
  QueueFullError,
  RpcError,
  RpcErrorCode,
  ServerError,
  TimeoutError,
} from '../errors.js';
import { decodeFrame, encodeRequest, exceedsBytes, utf8ByteLength } from '../rpc/codec.js';
import { type Call, PendingCalls } from '../rpc/pending.js';
import { authenticatedFrom, nonceFrom, playOutputFrom, type WhoAmI, whoamiFrom } from '../rpc/results.js';
import type { CloseInfo, Transport } from '../transport/types.js';
import { ClientBuilderBase } from './builder.js';
import { checkMs, type ResolvedOptions, stableAfterMs } from './options.js';

/** Options of one call. */
export interface CallOptions {
  /** Deadline for this call, from the moment it is made (queued time included). Default: the client's request timeout. */
  timeoutMs?: number;
  /** Cancels the wait. A call already sent may still run on the server. */
  signal?: AbortSignal;
  /**
   * Safe to run twice: re-sent after a reconnect if it was in flight when the connection dropped.
   * Default: true for `whoami`, false otherwise (those reject with `OutcomeUnknownError`).
   */
  idempotent?: boolean;
}

/** A server notification (a message with a `method` and no `id`). */
export interface Notification {
  method: string;
  params: unknown;
}

/** Events of `client.on(...)`. */
export interface ClientEvents {
  /** The flat state changed; `previous` is the state before. */
  status: (status: CircleWsStatus, previous: CircleWsStatus) => void;
  notification: (notification: Notification) => void;
}

/** Options of `connect()`. */
export interface ConnectOptions {
  /** How long to wait for the session to be ready (default: the request timeout). The client keeps trying after it. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Waiter = { resolve: () => void; reject: (error: Error) => void };

/** One socket, from the transport factory to its close. */
interface Link {
  transport: Transport;
  closed: boolean;
  /** Settles when the socket is gone, so `disconnect()` can wait for the port to be released. */
  gone: Promise<void>;
  markGone: () => void;
}

/** Live clients by instance number; a client the application drops is forgotten with it. */
const instances = new Map<number, WeakRef<CircleWsClient>>();
const forget = new FinalizationRegistry<number>((instance) => instances.delete(instance));
let nextInstance = 1;

const readyStatuses: ReadonlySet<CircleWsStatus> = new Set(['authenticated', 'connected']);
/** Methods that only read, so re-sending them after a drop cannot do harm. */
const idempotentMethods: ReadonlySet<string> = new Set(['whoami']);

/**
 * A client for one Circle (one server URL). Build it with {@link CircleWsClient.builder}.
 * @example
 * const client = CircleWsClient.builder('ws://127.0.0.1:8080/02abc…').withKeypair(key).build();
 * await client.connect();
 * console.log(await client.play('let x = 10; x * 2')); // "20"
 * await client.disconnect();
 */
export class CircleWsClient implements AsyncDisposableLike {
  /** The XState actor running the connection statechart, for inspection and advanced use. */
  readonly actor: Actor<CircleWsMachine>;

  readonly #options: ResolvedOptions;
  readonly #signer: Signer | null;
  readonly #pending = new PendingCalls();
  /** Calls made while the session was not ready, in order; sent only once it is. */
  readonly #waiting = new Map<string, Call>();
  readonly #statusListeners = new Set<ClientEvents['status']>();
  readonly #notificationListeners = new Set<ClientEvents['notification']>();
  readonly #connectWaiters = new Set<Waiter>();
  #link: Link | null = null;
  /**
   * The nonce (until signed) and the signature (until sent) of the current socket's handshake.
   * Kept here, never in the machine, so no inspector, snapshot or persisted state can show them.
   */
  #secrets: { link: Link; nonce: string | null; signature: string | null } | null = null;
  #status: CircleWsStatus = 'disconnected';
  #nextId = 0;
  #lastInboundAt = 0;
  #probeOut = false;
  #userStopped = true;
  #listeningToNetwork = false;
  readonly #onOnline = (): void => {
    this.actor.send({ type: 'network.online' });
  };
  readonly #onOffline = (): void => {
    this.actor.send({ type: 'network.offline' });
  };

  /** The client an implementation runs for, found by the plain number in the machine's context. */
  static #of(holder: { instance: number }): CircleWsClient {
    const client = instances.get(holder.instance)?.deref();
    if (!client) throw new Error(`no CircleWsClient instance ${holder.instance}`);
    return client;
  }

  /**
   * The machine with this facade's implementations, provided once for every client: a per-client
   * `provide()` would rebuild the whole state-node tree for each of them (tens of KiB apiece).
   */
  static readonly #machine = circleWsMachine.provide({
    actors: {
      transport: fromCallback<CircleWsEvent, { instance: number; url: string }>(({ input, sendBack }) => {
        const client = CircleWsClient.#of(input);
        const link = client.#open(input.url, sendBack);
        return () => client.#release(link);
      }),
      fetchNonce: fromPromise<void, { instance: number; publicKey: string }>(async ({ input }) => {
        const client = CircleWsClient.#of(input);
        try {
          const link = client.#link;
          const nonce = nonceFrom(await client.#handshakeCall('fetch_nonce', { pubkey: input.publicKey }));
          // Checked as it arrives, so text that is not a nonce never reaches the signer (protocol section 4).
          checkNonce(nonce, client.#options.nonceRule);
          if (link !== null && link === client.#link) client.#secrets = { link, nonce, signature: null };
        } catch (error) {
          if (isServerFault(error)) throw serverFault('fetch_nonce', error);
          if (error instanceof RpcError) {
            throw new AuthError('NONCE_REFUSED', `the server would not issue a nonce: ${error.message}`, { cause: error });
          }
          throw error;
        }
      }),
      signNonce: fromPromise<void, { instance: number }>(async ({ input }) => {
        const client = CircleWsClient.#of(input);
        const signer = client.#signer;
        if (signer === null) throw new AuthError('SIGNING_FAILED', 'no key pair was given');
        const secrets = client.#secretsOfThisSocket('sign');
        const nonce = secrets.nonce;
        if (nonce === null) throw new ConnectionLostError('no nonce is held for this socket');
        secrets.nonce = null;
        secrets.signature = await signer.sign(nonce);
      }),
      authenticate: fromPromise<true, { instance: number; publicKey: string }>(async ({ input }) => {
        const client = CircleWsClient.#of(input);
        const secrets = client.#secretsOfThisSocket('authenticate');
        const signature = secrets.signature;
        if (signature === null) throw new ConnectionLostError('no signature is held for this socket');
        secrets.signature = null;
        let accepted: boolean;
        try {
          accepted = authenticatedFrom(
            await client.#handshakeCall('authenticate', { pubkey: input.publicKey, signature }),
          );
        } catch (error) {
          if (isServerFault(error)) throw serverFault('authenticate', error);
          if (error instanceof RpcError) {
            if (nonceExpired(error)) {
              throw new AuthError('NONCE_EXPIRED', `the nonce expired before the signature reached the server: ${error.message}`, { cause: error });
            }
            throw new AuthError('AUTH_REFUSED', `the server refused the credentials of ${short(input.publicKey)}: ${error.message}`, { cause: error });
          }
          throw error;
        }
        if (!accepted) throw new AuthError('AUTH_REFUSED', `the server refused the credentials of ${short(input.publicKey)}`);
        return true;
      }),
    },
    actions: {
      planRetry: assign({
        retryDelayMs: ({ context }) =>
          context.reconnect === null
            ? 0
            : backoffDelay(context.attempt, context.reconnect, CircleWsClient.#of(context).#options.random, context.lastFailure?.retryAfterMs),
      }),
      sendProbe: ({ context }) => CircleWsClient.#of(context).#sendProbe(),
      dropSocket: ({ context }) => CircleWsClient.#of(context).#link?.transport.terminate(),
    },
    guards: {
      linkIsQuiet: ({ context }) => {
        const client = CircleWsClient.#of(context);
        return context.keepAlive !== null && client.#options.clock.now() - client.#lastInboundAt >= context.keepAlive.intervalMs;
      },
    },
    delays: {
      // The timer runs until the link has been quiet for a whole interval, measured on the wall clock,
      // so per-frame work is one timestamp and a late (throttled) timer still measures the true silence.
      keepAliveInterval: ({ context }) => {
        const client = CircleWsClient.#of(context);
        return Math.max(0, client.#lastInboundAt + (context.keepAlive?.intervalMs ?? 0) - client.#options.clock.now());
      },
    },
  });

  /**
   * Starts a builder for the server at `url` (same as `new CircleWsClientBuilder(url)`).
   * @example const client = CircleWsClient.builder('ws://127.0.0.1:8080/02abc…').build();
   */
  static builder(url: string): CircleWsClientBuilder {
    return new CircleWsClientBuilder(url);
  }

  /** @internal Use {@link CircleWsClient.builder}. */
  constructor(options: ResolvedOptions, signer: Signer | null) {
    this.#options = options;
    this.#signer = signer;
    const { clock, timeouts } = options;
    const instance = nextInstance++;
    instances.set(instance, new WeakRef(this));
    forget.register(this, instance);
    this.actor = createActor(CircleWsClient.#machine, {
      input: {
        instance,
        url: options.url,
        publicKey: signer?.publicKey ?? null,
        reconnect: options.reconnect,
        keepAlive: options.keepAlive,
        connectTimeoutMs: timeouts.connectMs,
        authTimeoutMs: timeouts.authMs,
        stableAfterMs,
      },
      clock,
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.subscribe({
      next: (snapshot) => this.#onSnapshot(snapshot),
      // A throwing implementation would otherwise crash the process on a later tick.
      error: (error) => this.#onActorError(error),
    });
    this.actor.start();
  }

  /** The current state, flattened: `disconnected`, `connecting`, `fetchingNonce`, `signing`, `authenticating`, `authenticated`, `connected`, `backoff` or `failed`. */
  get status(): CircleWsStatus {
    return this.#status;
  }

  /** Why the client last failed or dropped (as the error a call would get), or null. */
  get lastError(): CircleWsError | null {
    return this.actor.getSnapshot().context.lastFailure ? this.#failureError() : null;
  }

  /** True only when calls go straight out: authenticated, or connected without a key pair. */
  isConnected(): boolean {
    return readyStatuses.has(this.#status);
  }

  /**
   * Connects, and resolves once the session is ready. Rejects with `AuthError` when the
   * credentials are refused, `ConnectionFailedError` when the server refuses the upgrade or
   * attempts run out, `TimeoutError` when not ready in time (the client keeps trying after that),
   * and `NotConnectedError` when `disconnect()` is called meanwhile.
   * @example await client.connect({ timeoutMs: 5000 });
   */
  connect(options: ConnectOptions = {}): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = options.timeoutMs === undefined ? this.#options.timeouts.requestMs : checkMs('timeoutMs', options.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.isConnected()) return Promise.resolve();
    if (options.signal?.aborted) return Promise.reject(new AbortError('connect() was aborted'));
    return new Promise<void>((resolve, reject) => {
      const { clock } = this.#options;
      const finish = (error?: Error): void => {
        this.#connectWaiters.delete(waiter);
        clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = { resolve: () => finish(), reject: (error) => finish(error) };
      const onAbort = (): void => finish(new AbortError('connect() was aborted'));
      const timer = clock.setTimeout(() => {
        const last = this.actor.getSnapshot().context.lastFailure;
        finish(new TimeoutError(`not ready after ${timeoutMs} ms (state ${this.#status}${last ? `; last failure: ${last.message}` : ''})`));
      }, timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#connectWaiters.add(waiter);
      this.#userStopped = false;
      this.#listenToNetwork(true);
      this.actor.send({ type: 'connect' });
    });
  }

  /**
   * Calls `method` with named `params` and resolves with the raw result. Made while the client
   * is connecting or backing off, the call waits (up to its deadline) for the session to be ready.
   * @example const result = await client.call('whoami', {}, { timeoutMs: 2000 });
   */
  call(method: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    if (typeof method !== 'string' || method.length === 0) {
      return Promise.reject(new InvalidArgumentError('the method must be a non-empty string'));
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) {
      return Promise.reject(new InvalidArgumentError(`params of ${method} must be an object (named parameters)`));
    }
    let timeoutMs: number;
    try {
      timeoutMs = options.timeoutMs === undefined ? this.#options.timeouts.requestMs : checkMs('timeoutMs', options.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = String(++this.#nextId);
    let frame: string;
    try {
      frame = encodeRequest(id, method, params);
    } catch (error) {
      return Promise.reject(error);
    }
    const limit = this.#options.maxFrameBytes;
    // Checked before anything is queued: the server would close with 1009, failing every call in flight.
    if (exceedsBytes(frame, limit)) {
      const bytes = utf8ByteLength(frame);
      return Promise.reject(
        new FrameTooLargeError('outbound', `${method} would be a ${bytes}-byte frame, over the ${limit}-byte limit (withMaxFrameBytes); it was not sent`, { bytes, limit }),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError(`${method} was aborted before it was sent`));
    const refusal = this.#refusalForNewCalls();
    if (refusal) return Promise.reject(refusal);

    return new Promise<unknown>((resolve, reject) => {
      const call: Call = {
        id,
        method,
        frame,
        resolve,
        reject,
        timer: undefined,
        detach: undefined,
        idempotent: options.idempotent ?? idempotentMethods.has(method),
        internal: false,
      };
      const { clock } = this.#options;
      call.timer = clock.setTimeout(() => {
        const wasSent = this.#pending.delete(id);
        this.#waiting.delete(id);
        call.detach?.();
        reject(new TimeoutError(`${method} got no answer within ${timeoutMs} ms${wasSent ? '' : ` (never sent: the session was ${this.#status})`}`));
      }, timeoutMs);
      if (signal) {
        const onAbort = (): void => {
          this.#pending.delete(id);
          this.#waiting.delete(id);
          clock.clearTimeout(call.timer);
          reject(new AbortError(`${method} was aborted`));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        call.detach = () => signal.removeEventListener('abort', onAbort);
      }
      if (this.isConnected() && this.#link) this.#send(call, this.#link);
      else this.#enqueue(call);
    });
  }

  /**
   * Runs a script on the circle and resolves with its output string (both protocol versions' result shapes are accepted).
   * @example const output = await client.play('let x = 10; x * 2'); // "20"
   */
  async play(script: string, options: CallOptions = {}): Promise<string> {
    if (typeof script !== 'string') throw new InvalidArgumentError('play takes the script as a string');
    return playOutputFrom(await this.call('play', { script }, options));
  }

  /**
   * Asks the server who this session is.
   * @example const { authenticated, pubkey } = await client.whoami();
   */
  async whoami(options: CallOptions = {}): Promise<WhoAmI> {
    return whoamiFrom(await this.call('whoami', {}, options));
  }

  /**
   * Listens to `status` changes or server `notification`s; returns the function that stops listening.
   * @example const off = client.on('status', (status) => console.log(status)); off();
   */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    const set = this.#listenersOf(event);
    if (typeof listener !== 'function') throw new InvalidArgumentError(`the ${event} listener must be a function`);
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /**
   * Closes the socket with 1000, stops every timer, rejects every pending call with
   * `NotConnectedError`, and resolves once the socket is gone. Idempotent.
   * @example await client.disconnect();
   */
  async disconnect(): Promise<void> {
    this.#userStopped = true;
    this.#listenToNetwork(false);
    const link = this.#link;
    this.actor.send({ type: 'disconnect' });
    if (this.#waiting.size > 0 || this.#connectWaiters.size > 0) this.#rejectWaiting(new NotConnectedError('the client was disconnected'));
    if (link && !link.closed) await this.#waitGone(link);
  }

  /** `await using client = …` disconnects at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  // ---------------------------------------------------------------------------------------------

  /** Browser `online`/`offline` listeners live only between connect() and disconnect(). */
  #listenToNetwork(on: boolean): void {
    const network = this.#options.network;
    if (!network || on === this.#listeningToNetwork) return;
    this.#listeningToNetwork = on;
    if (on) {
      network.addEventListener('online', this.#onOnline);
      network.addEventListener('offline', this.#onOffline);
    } else {
      network.removeEventListener('online', this.#onOnline);
      network.removeEventListener('offline', this.#onOffline);
    }
  }

  #listenersOf<E extends keyof ClientEvents>(event: E): Set<ClientEvents[E]> {
    if (event === 'status') return this.#statusListeners as Set<ClientEvents[E]>;
    if (event === 'notification') return this.#notificationListeners as Set<ClientEvents[E]>;
    throw new InvalidArgumentError(`unknown event ${JSON.stringify(event)}: expected "status" or "notification"`);
  }

  /** Calls made now fail at once when the client is not trying to connect. */
  #refusalForNewCalls(): Error | undefined {
    if (this.#status === 'failed') return this.#failureError();
    if (this.#status === 'disconnected') {
      return this.#userStopped
        ? new NotConnectedError('the client is not connected: call connect() first')
        : this.#failureError();
    }
    return undefined;
  }

  #open(url: string, sendBack: (event: CircleWsEvent) => void): Link {
    let markGone!: () => void;
    const gone = new Promise<void>((resolve) => {
      markGone = resolve;
    });
    const link: Link = { transport: deadTransport, closed: false, gone, markGone };
    // Current before the factory runs, so a transport that reports synchronously is not ignored.
    this.#link = link;
    const { logger, clock } = this.#options;
    try {
      link.transport = this.#options.transport(url, {
        open: () => {
          if (this.#link !== link) return;
          this.#lastInboundAt = clock.now();
          logger.debug('socket open', { url });
          sendBack({ type: 'socket.opened' });
        },
        message: (data) => {
          if (this.#link === link) this.#onFrame(data);
        },
        binary: (byteLength) => {
          if (this.#link !== link) return;
          this.#heard();
          logger.warn('ignored a binary frame (not part of the protocol)', { bytes: byteLength });
        },
        pong: () => {
          if (this.#link === link) this.#heard();
        },
        oversize: (byteLength, limit) => {
          if (this.#link !== link) return;
          this.#heard();
          logger.warn('dropped an inbound frame over the limit, unread (withMaxInboundFrameBytes)', { bytes: byteLength, limit });
        },
        close: (info) => {
          link.closed = true;
          link.markGone();
          if (this.#link !== link) return;
          this.#link = null;
          logger.info('socket closed', { code: info.code, reason: info.reason, ...(info.status ? { status: info.status } : {}), ...(info.error ? { error: info.error } : {}) });
          this.#failInFlight(info);
          sendBack({ type: 'socket.closed', ...info });
        },
      }, { maxInboundFrameBytes: this.#options.maxInboundFrameBytes });
    } catch (error) {
      // A factory that throws (a bad URL, no WebSocket in this runtime) is a closed socket, reported once the actor is running.
      const message = error instanceof Error ? error.message : String(error);
      link.transport = deadTransport;
      link.closed = true;
      link.markGone();
      this.#link = null;
      queueMicrotask(() => sendBack({ type: 'socket.closed', code: 1006, reason: '', error: message }));
    }
    return link;
  }

  /** The transport actor's cleanup: the session state was left (or the client stopped). */
  #release(link: Link): void {
    if (this.#secrets?.link === link) this.#secrets = null;
    if (this.#link === link) {
      this.#link = null;
      this.#failInFlight();
    }
    if (!link.closed) link.transport.close(1000, this.#userStopped ? 'client disconnected' : 'client closing');
  }

  /**
   * The socket is gone with calls in flight. Never a silent re-send of a write: calls safe to
   * repeat go back to the queue (sent again once the session is ready), the rest reject with
   * `OutcomeUnknownError`; after `disconnect()` everything rejects with `NotConnectedError`.
   * A close with 1009 (a frame too big for one side) re-sends nothing: the call that caused it
   * cannot be told for sure, and re-sending it would fail the next session the same way. The
   * largest call in flight, the likely cause of a server's 1009, rejects with `FrameTooLargeError`.
   */
  #failInFlight(close?: CloseInfo): void {
    this.#probeOut = false;
    const { logger } = this.#options;
    const calls = this.#pending.takeAll();
    const tooBig = close?.code === 1009;
    let suspect: Call | undefined;
    if (tooBig && !close.inboundTooLarge) {
      for (const call of calls) if (!call.internal && (!suspect || call.frame.length > suspect.frame.length)) suspect = call;
    }
    for (const call of calls) {
      if (this.#userStopped) this.#settle(call, new NotConnectedError(`the client was disconnected while ${call.method} was in flight`));
      else if (call.internal) this.#settle(call, new ConnectionLostError(`the connection dropped during ${call.method}`));
      else if (call === suspect) {
        const bytes = utf8ByteLength(call.frame);
        const message = `the server closed the connection with 1009 (message too big) while ${call.method} (${bytes} bytes, the largest call in flight) was in flight; it was not re-sent`;
        this.#settle(call, new FrameTooLargeError('outbound', message, { bytes }));
      } else if (tooBig) {
        const why = close.inboundTooLarge
          ? 'a frame from the server was over the inbound limit (1009): an answer too big would fail the same way again'
          : 'calls in flight at a 1009 close (message too big) are never re-sent';
        this.#settle(call, new OutcomeUnknownError(call.method, why));
      } else if (call.idempotent) {
        logger.info('will re-send after reconnecting (idempotent)', { method: call.method, id: call.id });
        this.#enqueue(call);
      } else this.#settle(call, new OutcomeUnknownError(call.method));
    }
  }

  /** Queues a call until the session is ready, within the queue limit. */
  #enqueue(call: Call): void {
    if (this.#waiting.size >= this.#options.queueLimit) {
      this.#settle(call, new QueueFullError(this.#options.queueLimit));
      return;
    }
    this.#waiting.set(call.id, call);
  }

  /** Rejects a call that is in neither table any more, releasing its timer and abort listener. */
  #settle(call: Call, error: Error): void {
    this.#options.clock.clearTimeout(call.timer);
    call.detach?.();
    call.reject(error);
  }

  async #waitGone(link: Link): Promise<void> {
    const { clock } = this.#options;
    let timer: unknown;
    // A server that never finishes the closing handshake must not hold disconnect() open.
    const bounded = new Promise<void>((resolve) => {
      timer = clock.setTimeout(() => {
        link.transport.terminate();
        resolve();
      }, 2_000);
    });
    await Promise.race([link.gone, bounded]);
    clock.clearTimeout(timer);
  }

  #onFrame(data: string): void {
    this.#heard();
    const inbound = decodeFrame(data);
    const { logger } = this.#options;
    switch (inbound.kind) {
      case 'result': {
        const call = this.#pending.take(inbound.id, this.#options.clock);
        if (call) call.resolve(inbound.result);
        else logger.warn('ignored a response to no pending call', { id: inbound.id.slice(0, 40) });
        return;
      }
      case 'error': {
        const call = inbound.id === null ? undefined : this.#pending.take(inbound.id, this.#options.clock);
        if (call) call.reject(new RpcError(inbound.error.code, inbound.error.message, inbound.error.data));
        else logger.warn('ignored an error response to no pending call', { id: inbound.id?.slice(0, 40) ?? null, code: inbound.error.code });
        return;
      }
      case 'notification':
        for (const listener of this.#notificationListeners) {
          try {
            listener({ method: inbound.method, params: inbound.params });
          } catch (error) {
            logger.error('a notification listener threw', { error: String(error) });
          }
        }
        return;
      case 'invalid':
        logger.warn('ignored a malformed frame', { reason: inbound.reason });
    }
  }

  /** Any inbound frame proves the link alive. */
  #heard(): void {
    this.#lastInboundAt = this.#options.clock.now();
    if (this.#probeOut) {
      this.#probeOut = false;
      this.actor.send({ type: 'link.alive' });
    }
  }

  #sendProbe(): void {
    const link = this.#link;
    if (!link) return;
    this.#probeOut = true;
    if (link.transport.ping()) return;
    // No ping frames here (browsers): a JSON-RPC request whose any answer, even an error, proves the link.
    this.#handshakeCall('whoami', {}).catch(() => {});
  }

  /** The handshake secrets held for the open socket; a step that finds none lost its socket. */
  #secretsOfThisSocket(step: string): { link: Link; nonce: string | null; signature: string | null } {
    const secrets = this.#secrets;
    if (!secrets || secrets.link !== this.#link || secrets.link.closed) throw new ConnectionLostError(`no open socket to ${step} on`);
    return secrets;
  }

  /** Handshake and probe requests: sent at once on the current socket, bypassing the ready gate. */
  #handshakeCall(method: string, params: Record<string, unknown>): Promise<unknown> {
    const link = this.#link;
    if (!link || link.closed) return Promise.reject(new ConnectionLostError(`no open socket for ${method}`));
    return new Promise((resolve, reject) => {
      const id = String(++this.#nextId);
      // No timer: the machine bounds each handshake step and the probe, and drops the socket when they stall.
      const frame = encodeRequest(id, method, params);
      this.#send({ id, method, frame, resolve, reject, timer: undefined, detach: undefined, idempotent: false, internal: true }, link);
    });
  }

  #send(call: Call, link: Link): void {
    this.#pending.add(call);
    try {
      link.transport.send(call.frame);
    } catch (error) {
      this.#pending.take(call.id, this.#options.clock);
      call.reject(new ConnectionLostError(`${call.method} could not be sent: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  #onSnapshot(snapshot: SnapshotFrom<CircleWsMachine>): void {
    const status = statusOf(snapshot.value);
    if (status === this.#status) return;
    const previous = this.#status;
    this.#status = status;
    this.#options.logger.debug('status', { status, previous });
    if (readyStatuses.has(status)) {
      const link = this.#link;
      for (const waiter of [...this.#connectWaiters]) waiter.resolve();
      if (link) {
        const queued = [...this.#waiting.values()];
        this.#waiting.clear();
        for (const call of queued) this.#send(call, link);
      }
    } else if (status === 'failed' || (status === 'disconnected' && !this.#userStopped)) {
      const error = this.#failureError();
      this.#rejectWaiting(error);
    }
    for (const listener of [...this.#statusListeners]) {
      try {
        listener(status, previous);
      } catch (error) {
        this.#options.logger.error('a status listener threw', { error: String(error) });
      }
    }
  }

  #rejectWaiting(error: Error): void {
    for (const waiter of [...this.#connectWaiters]) waiter.reject(error);
    const queued = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const call of queued) this.#settle(call, error);
  }

  #onActorError(error: unknown): void {
    this.#options.logger.error('the connection machine stopped on an error', { error: String(error) });
    const failure = new CircleWsError('INTERNAL', `the connection machine stopped on an error: ${String(error)}`);
    this.#rejectWaiting(failure);
    for (const call of this.#pending.takeAll()) this.#settle(call, failure);
    this.#link?.transport.terminate();
  }

  /** The error matching the machine's last failure. */
  #failureError(): CircleWsError {
    const failure: Failure | null = this.actor.getSnapshot().context.lastFailure;
    if (!failure) return new NotConnectedError('the client is not connected');
    const code = failure.code;
    switch (code) {
      case 'AUTH_REFUSED':
      case 'AUTH_LOCKED':
      case 'NONCE_EXPIRED':
      case 'NONCE_REFUSED':
      case 'NONCE_REJECTED':
      case 'SIGNING_FAILED':
      case 'INVALID_KEY':
        return new AuthError(code, failure.message);
      case 'TIMEOUT':
        return new TimeoutError(failure.message);
      case 'FRAME_TOO_LARGE':
        return new FrameTooLargeError('inbound', failure.message, { limit: this.#options.maxInboundFrameBytes });
      case 'SERVER_ERROR':
        return new ServerError(failure.message);
      case 'CONNECTION_FAILED':
      case 'RECONNECT_EXHAUSTED': {
        const details: { status?: number; closeCode?: number } = {};
        if (failure.status !== undefined) details.status = failure.status;
        if (failure.closeCode !== undefined) details.closeCode = failure.closeCode;
        return new ConnectionFailedError(failure.message, details);
      }
      case 'CONNECTION_LOST':
      case 'LINK_DEAD':
      // A handshake answer of the wrong shape drops the link and is retried: to a caller, a lost connection.
      case 'PROTOCOL_ERROR':
        return new ConnectionLostError(failure.message);
      default: {
        // A code added to FailureCode without an error here fails to compile.
        const unmapped: never = code;
        return new ConnectionLostError(failure.message);
      }
    }
  }
}

/**
 * Whether a refusal of `authenticate` blames an expired nonce rather than the key: the reference
 * server says so in `data.reason`, other servers may only say it in the message.
 */
function nonceExpired(error: RpcError): boolean {
  const reason = typeof error.data === 'object' && error.data !== null ? (error.data as { reason?: unknown }).reason : undefined;
  return reason === 'expired' || /\bexpired\b/i.test(error.message);
}

/** An internal error (-32603) answering a handshake step is the server's hiccup, not a verdict on the key. */
function isServerFault(error: unknown): error is RpcError {
  return error instanceof RpcError && error.rpcCode === RpcErrorCode.InternalError;
}

function serverFault(step: string, error: RpcError): ServerError {
  return new ServerError(`the server failed internally while answering ${step} (${error.message}); retrying with backoff`, { cause: error });
}

/** A short, log-safe form of a public key. */
function short(publicKey: string): string {
  return publicKey.length > 12 ? `${publicKey.slice(0, 10)}…` : publicKey;
}

/**
 * Builds a {@link CircleWsClient}: the `with…` methods check each option as it is given
 * (see `builder.ts`); `build()` is here so that the builder and the client do not import each other.
 * @example
 * const client = new CircleWsClientBuilder('ws://127.0.0.1:8080/02abc…')
 *   .withKeypair(process.env.CIRCLE_WS_KEY!)
 *   .withReconnect({ maxAttempts: 10 })
 *   .build();
 */
export class CircleWsClientBuilder extends ClientBuilderBase {
  /** Builds the client (disconnected; call `connect()`). */
  build(): CircleWsClient {
    const { options, signer } = this.resolve();
    return new CircleWsClient(options, signer);
  }
}

const deadTransport: Transport = {
  send: () => {
    throw new Error('the socket could not be created');
  },
  ping: () => false,
  close: () => {},
  terminate: () => {},
  bufferedAmount: 0,
};

