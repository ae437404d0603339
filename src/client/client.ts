/**
 * `CircleWsClient`: the thin facade over the connection statechart. It wires the pieces together
 * and turns the machine's snapshots into what an application sees (status, listeners, errors):
 * - the machine's implementations and how they find this client: `implementations.ts`;
 * - the socket, its frames, liveness and the handshake's secrets: `socket.ts`, `handshake.ts`;
 * - every call's life, queued, pending and settled: `calls.ts`;
 * - the failure-to-error mapping: `failures.ts`; the browser's network events: `network.ts`.
 * Frames do not pass through the machine: only lifecycle events do, so a call costs a map insert
 * and a `send`, not a statechart transition.
 */
import type { AsyncDisposableLike } from '../disposable.js';
import { type Actor, createActor, type SnapshotFrom } from 'xstate';
import { type CircleWsMachine, type CircleWsStatus, statusOf } from '../../machines/connection.js';
import type { Signer } from '../auth/crypto.js';
import {
  AbortError,
  CircleWsError,
  FrameTooLargeError,
  InvalidArgumentError,
  NotConnectedError,
  TimeoutError,
} from '../errors.js';
import { encodeRequest, exceedsBytes, utf8ByteLength } from '../rpc/codec.js';
import { playOutputFrom, type WhoAmI, whoamiFrom } from '../rpc/results.js';
import { ClientBuilderBase } from './builder.js';
import { Calls } from './calls.js';
import { failureError } from './failures.js';
import { providedMachine, register } from './implementations.js';
import { watchNetwork } from './network.js';
import { checkMs, type ResolvedOptions, stableAfterMs } from './options.js';
import { ClientSocket, type Notification } from './socket.js';

export type { Notification } from './socket.js';

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
  readonly #calls: Calls;
  readonly #socket: ClientSocket;
  // Listener sets are made on first use: most clients never add one.
  #statusListeners: Set<ClientEvents['status']> | undefined;
  #connectWaiters: Set<Waiter> | undefined;
  #status: CircleWsStatus = 'disconnected';
  /** Stops listening to the browser's network events; set between connect() and disconnect(). */
  #unwatchNetwork: (() => void) | undefined;

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
    this.#calls = new Calls(options, this);
    this.#socket = new ClientSocket(options, signer, this.#calls);
    const { clock, timeouts } = options;
    this.actor = createActor(providedMachine, {
      input: {
        instance: register(this.#socket),
        url: options.url,
        publicKey: signer?.publicKey ?? null,
        reconnect: options.reconnect,
        keepAlive: options.keepAlive,
        connectTimeoutMs: timeouts.connectMs,
        authTimeoutMs: timeouts.authMs,
        signTimeoutMs: timeouts.signMs,
        resign: options.resign,
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
    return this.#whenReady(options, 'connect()', true);
  }

  /**
   * @internal Resolves once the session is ready, without asking to connect: rejects at once when
   * the client is not trying to (disconnected or failed). `CircleWsManager` waits this way, so a
   * client backing off keeps its delay.
   */
  whenReady(options: ConnectOptions = {}): Promise<void> {
    return this.#whenReady(options, 'whenReady()', false);
  }

  #whenReady(options: ConnectOptions, what: string, start: boolean): Promise<void> {
    let timeoutMs: number;
    try {
      timeoutMs = options.timeoutMs === undefined ? this.#options.timeouts.requestMs : checkMs('timeoutMs', options.timeoutMs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.isConnected()) return Promise.resolve();
    if (options.signal?.aborted) return Promise.reject(new AbortError(`${what} was aborted`));
    const refusal = start ? undefined : this.#refusalForNewCalls();
    if (refusal) return Promise.reject(refusal);
    return new Promise<void>((resolve, reject) => {
      const { clock } = this.#options;
      const waiters = (this.#connectWaiters ??= new Set());
      const finish = (error?: Error): void => {
        waiters.delete(waiter);
        // An idle client keeps no empty set.
        if (waiters.size === 0 && this.#connectWaiters === waiters) this.#connectWaiters = undefined;
        clock.clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const waiter: Waiter = { resolve: () => finish(), reject: (error) => finish(error) };
      const onAbort = (): void => finish(new AbortError(`${what} was aborted`));
      const timer = clock.setTimeout(() => {
        const last = this.actor.getSnapshot().context.lastFailure;
        finish(new TimeoutError(`not ready after ${timeoutMs} ms (state ${this.#status}${last ? `; last failure: ${last.message}` : ''})`));
      }, timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      waiters.add(waiter);
      if (!start) return;
      this.#socket.stopped = false;
      const { network } = this.#options;
      if (network && !this.#unwatchNetwork) this.#unwatchNetwork = watchNetwork(network, (event) => this.actor.send(event));
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
    const id = this.#calls.nextId();
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

    const { call, promise } = this.#calls.make({
      id,
      method,
      frame,
      timeoutMs,
      signal,
      idempotent: options.idempotent ?? idempotentMethods.has(method),
    });
    const link = this.#socket.link;
    if (link && this.isConnected()) this.#calls.send(call, link.transport);
    else this.#calls.enqueue(call);
    return promise;
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
    if (event !== 'status' && event !== 'notification') {
      throw new InvalidArgumentError(`unknown event ${JSON.stringify(event)}: expected "status" or "notification"`);
    }
    if (typeof listener !== 'function') throw new InvalidArgumentError(`the ${event} listener must be a function`);
    if (event === 'notification') return this.#socket.listen(listener as ClientEvents['notification']);
    const listeners = (this.#statusListeners ??= new Set());
    listeners.add(listener as ClientEvents['status']);
    return () => {
      listeners.delete(listener as ClientEvents['status']);
    };
  }

  /**
   * Closes the socket with 1000, stops every timer, rejects every pending call with
   * `NotConnectedError`, and resolves once the socket is gone. Idempotent.
   * @example await client.disconnect();
   */
  async disconnect(): Promise<void> {
    this.#socket.stopped = true;
    this.#unwatchNetwork?.();
    this.#unwatchNetwork = undefined;
    const link = this.#socket.link;
    this.actor.send({ type: 'disconnect' });
    if (this.#calls.waitingCount > 0 || (this.#connectWaiters?.size ?? 0) > 0) this.#rejectWaiting(new NotConnectedError('the client was disconnected'));
    if (link) await this.#socket.waitGone(link);
  }

  /** `await using client = …` disconnects at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnect();
  }

  // ---------------------------------------------------------------------------------------------

  /** Calls made now fail at once when the client is not trying to connect. */
  #refusalForNewCalls(): Error | undefined {
    if (this.#status === 'failed') return this.#failureError();
    if (this.#status === 'disconnected') {
      return this.#socket.stopped
        ? new NotConnectedError('the client is not connected: call connect() first')
        : this.#failureError();
    }
    return undefined;
  }

  #onSnapshot(snapshot: SnapshotFrom<CircleWsMachine>): void {
    const status = statusOf(snapshot.value);
    if (status === this.#status) return;
    const previous = this.#status;
    this.#status = status;
    this.#options.logger.debug('status', { status, previous });
    if (readyStatuses.has(status)) {
      if (this.#connectWaiters) for (const waiter of [...this.#connectWaiters]) waiter.resolve();
      const link = this.#socket.link;
      if (link) this.#calls.flush(link.transport);
    } else if (status === 'failed' || (status === 'disconnected' && !this.#socket.stopped)) {
      this.#rejectWaiting(this.#failureError());
    }
    if (!this.#statusListeners) return;
    for (const listener of [...this.#statusListeners]) {
      try {
        listener(status, previous);
      } catch (error) {
        this.#options.logger.error('a status listener threw', { error: String(error) });
      }
    }
  }

  #rejectWaiting(error: Error): void {
    if (this.#connectWaiters) for (const waiter of [...this.#connectWaiters]) waiter.reject(error);
    this.#calls.rejectWaiting(error);
  }

  #onActorError(error: unknown): void {
    this.#options.logger.error('the connection machine stopped on an error', { error: String(error) });
    const failure = new CircleWsError('INTERNAL', `the connection machine stopped on an error: ${String(error)}`);
    this.#rejectWaiting(failure);
    this.#calls.rejectAll(failure);
    this.#socket.drop();
  }

  /** The error matching the machine's last failure. */
  #failureError(): CircleWsError {
    return failureError(this.actor.getSnapshot().context.lastFailure, this.#options.maxInboundFrameBytes);
  }
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
