/**
 * `CircleWsManager`: one client per circle, one identity, supervised by the manager's statechart
 * (`machines/manager.ts`). Each client keeps its own keep-alive and reconnection; the manager
 * starts and stops them, reports their statuses as one picture, and fans calls out.
 */
import { type Actor, createActor, fromPromise, type SnapshotFrom, waitFor } from 'xstate';
import type { CircleWsStatus } from '../../machines/connection.js';
import {
  type CircleEntry,
  type CircleState,
  circleWsManagerMachine,
  type CircleWsManagerMachine,
  managerStatusOf,
  type ManagerStatus,
} from '../../machines/manager.js';
import type { Signer } from '../auth/crypto.js';
import { type CallOptions, CircleWsClient, CircleWsClientBuilder } from '../client/client.js';
import { checkMs } from '../client/options.js';
import type { AsyncDisposableLike } from '../disposable.js';
import { AbortError, CircleWsError, InvalidArgumentError, UnknownCircleError } from '../errors.js';
import { checkCircleOptions, type CircleOptions, ManagerBuilderBase, type ManagerOptions } from './builder.js';

export type { CircleOptions, ClientDefaults } from './builder.js';

/** One circle's outcome in a report: `{ ok: true, value }` or `{ ok: false, error }`. */
export type CircleResult<T> = { ok: true; value: T } | { ok: false; error: CircleWsError };

/** Per circle URL, its outcome. */
export type CircleReport<T> = Record<string, CircleResult<T>>;

/** What `manager.status` returns: plain data, the same object until something changes. */
export interface ManagerStatusSnapshot {
  /** `idle` (nothing asked to connect), `converging`, `ready` (every circle), `degraded` (a circle failed) or `stopping`. */
  readonly state: ManagerStatus;
  /** Per circle URL: status, attempt, next delay, last failure. */
  readonly circles: Readonly<Record<string, CircleState>>;
  /** How many circles are in each status. */
  readonly counts: Readonly<Record<CircleWsStatus, number>>;
}

/** Events of `manager.on(...)`. */
export interface ManagerEvents {
  /** A circle's client changed status; `manager.status` already shows it. */
  status: (url: string, status: CircleWsStatus, previous: CircleWsStatus) => void;
  /** `manager.status` changed (a circle's status, a circle added or removed, the manager's own state). */
  change: (status: ManagerStatusSnapshot) => void;
}

/** A status change heard from a client, told to listeners once the chart has recorded it. */
interface Heard {
  readonly url: string;
  readonly status: CircleWsStatus;
  readonly previous: CircleWsStatus;
}

/** Options of `connectAll()` and `playAll()`. */
export interface FanOutOptions {
  /** Deadline for each circle, from the moment of the call (default: the clients' request timeout). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Member {
  readonly client: CircleWsClient;
  readonly stopListening: () => void;
}

/** Turns whatever a client rejected with into the package's error type. */
function asCircleWsError(error: unknown): CircleWsError {
  return error instanceof CircleWsError ? error : new CircleWsError('INTERNAL', String(error));
}

function settle<T>(promise: Promise<T>): Promise<CircleResult<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: asCircleWsError(error) }),
  );
}

const ignore = (): void => {};

/** The chart's list of circles as a record by URL, frozen, in the order added. */
function recordOf(circles: readonly CircleEntry[]): Readonly<Record<string, CircleState>> {
  const byUrl: Record<string, CircleState> = {};
  for (const { url, ...circle } of circles) byUrl[url] = circle;
  return Object.freeze(byUrl);
}

/**
 * Many circles at once, one identity. Build it with {@link CircleWsManager.builder}.
 * @example
 * const manager = CircleWsManager.builder().withKeypair(key).withCircle([urlA, urlB]).build();
 * const report = await manager.connectAll({ timeoutMs: 10_000 }); // per circle: ok or the error
 * const results = await manager.playAll('1 + 1');                  // per circle: { ok, value | error }
 * await manager.disconnectAll();
 */
export class CircleWsManager implements AsyncDisposableLike {
  /** The XState actor running the manager's statechart, for inspection and advanced use. */
  readonly actor: Actor<CircleWsManagerMachine>;

  readonly #options: ManagerOptions;
  readonly #members = new Map<string, Member>();
  /** Clients removed but not yet gone: `remove()` and `disconnectAll()` wait for them. */
  readonly #leaving = new Set<Promise<void>>();
  #listeners: Set<ManagerEvents['status']> | undefined;
  #changeListeners: Set<ManagerEvents['change']> | undefined;
  /** Client changes not yet told: the chart records them after the action that caused them ends. */
  #heard: Heard[] = [];
  #told: ManagerStatusSnapshot | undefined;
  #status: ManagerStatusSnapshot | undefined;
  #statusOf: SnapshotFrom<CircleWsManagerMachine> | undefined;
  /** The chart's list the current `#status.circles` was made from. */
  #statusCircles: readonly CircleEntry[] | undefined;

  /**
   * Starts a manager's builder.
   * @example const manager = CircleWsManager.builder().withCircle(url).build();
   */
  static builder(): CircleWsManagerBuilder {
    return new CircleWsManagerBuilder();
  }

  /** @internal Use {@link CircleWsManager.builder}. */
  constructor(options: ManagerOptions) {
    this.#options = options;
    for (const [url, circle] of options.circles) this.#admit(url, checkCircleOptions(circle));
    const machine = circleWsManagerMachine.provide({
      actions: {
        connectCircle: (_, { url }) => this.#start(url),
        connectEveryCircle: () => {
          for (const url of this.#members.keys()) this.#start(url);
        },
        releaseCircle: (_, { url }) => this.#release(url),
      },
      actors: {
        disconnectClients: fromPromise(() => this.#disconnectEveryClient()),
      },
    });
    this.actor = createActor(machine, {
      input: { connect: options.connect, urls: [...this.#members.keys()] },
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.subscribe(() => this.#tell());
    this.actor.start();
  }

  /** The circles' URLs, in the order added. */
  get urls(): string[] {
    return [...this.#members.keys()];
  }

  /** The whole picture as plain data: the manager's state, each circle's, and counts by status. */
  get status(): ManagerStatusSnapshot {
    const snapshot = this.actor.getSnapshot();
    if (this.#status === undefined || this.#statusOf !== snapshot) {
      const { circles, counts } = snapshot.context;
      const state = managerStatusOf(snapshot);
      // A new object only when something an application can see changed (useSyncExternalStore compares by identity).
      const old = this.#status;
      if (old === undefined || old.state !== state || this.#statusCircles !== circles || old.counts !== counts) {
        const byUrl = this.#statusCircles === circles && old ? old.circles : recordOf(circles);
        this.#status = Object.freeze({ state, circles: byUrl, counts });
        this.#statusCircles = circles;
      }
      this.#statusOf = snapshot;
    }
    return this.#status!;
  }

  /**
   * The client of one circle (throws `UnknownCircleError` for a URL the manager does not have).
   * @example const whoami = await manager.client(url).whoami();
   */
  client(url: string): CircleWsClient {
    return this.#member(url).client;
  }

  /**
   * Adds a circle at run time and returns its client. While running with the eager policy it
   * starts connecting at once; otherwise at `connectAll()` or (lazy) its first call.
   * @example manager.add('ws://127.0.0.1:8080/03cd…');
   */
  add(url: string, options?: CircleOptions): CircleWsClient {
    if (this.#members.has(url)) throw new InvalidArgumentError(`the circle ${url} is already in the manager`);
    const member = this.#admit(url, checkCircleOptions(options));
    this.actor.send({ type: 'circle.added', url });
    return member.client;
  }

  /**
   * Removes a circle: its client disconnects (pending calls reject with `NotConnectedError`) and
   * the promise resolves once its socket is gone. Rejects with `UnknownCircleError` for a URL the
   * manager does not have.
   * @example await manager.remove(url);
   */
  async remove(url: string): Promise<void> {
    const { client } = this.#member(url);
    this.actor.send({ type: 'circle.removed', url });
    await client.disconnect();
  }

  /**
   * Connects every circle and resolves, once each is ready or has failed or run out of time, with a
   * report per circle. Never rejects because one circle failed: that circle's entry holds its
   * typed error, and the others are unaffected. A circle that times out keeps trying.
   * @example const report = await manager.connectAll({ timeoutMs: 10_000 });
   */
  async connectAll(options: FanOutOptions = {}): Promise<CircleReport<void>> {
    this.#checkFanOut(options);
    // Asked while stopping: the stop finishes first, then every circle starts again.
    if (this.actor.getSnapshot().matches('stopping')) await waitFor(this.actor, (s) => s.matches('idle'));
    this.actor.send({ type: 'connect' });
    return this.#fanOut((client) => client.whenReady(options));
  }

  /**
   * Calls `method` on one circle. A circle backing off makes the call wait, as a client does; with
   * the lazy policy the first call connects the circle. Rejects with `UnknownCircleError` for a URL
   * the manager does not have.
   * @example await manager.call(url, 'whoami');
   */
  call(url: string, method: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    let client: CircleWsClient;
    try {
      client = this.#need(url);
    } catch (error) {
      return Promise.reject(error);
    }
    return client.call(method, params, options);
  }

  /**
   * Runs a script on one circle and resolves with its output.
   * @example const output = await manager.play(url, 'let x = 10; x * 2'); // "20"
   */
  play(url: string, script: string, options: CallOptions = {}): Promise<string> {
    let client: CircleWsClient;
    try {
      client = this.#need(url);
    } catch (error) {
      return Promise.reject(error);
    }
    return client.play(script, options);
  }

  /**
   * Runs a script on every circle; resolves, within the deadline, with each circle's output or error.
   * @example const results = await manager.playAll('1 + 1', { timeoutMs: 5_000 });
   */
  async playAll(script: string, options: FanOutOptions = {}): Promise<CircleReport<string>> {
    if (typeof script !== 'string') throw new InvalidArgumentError('playAll takes the script as a string');
    this.#checkFanOut(options);
    for (const url of this.#members.keys()) this.#need(url);
    return this.#fanOut((client) => client.play(script, options));
  }

  /**
   * Listens to every circle's status changes (`status`), or to every change of `manager.status`
   * (`change`: also a circle added or removed, and the manager's own state). Listeners run once
   * `manager.status` shows the change. Returns the function that stops listening.
   * @example const off = manager.on('status', (url, status) => console.log(url, status));
   */
  on<E extends keyof ManagerEvents>(event: E, listener: ManagerEvents[E]): () => void {
    if (event !== 'status' && event !== 'change') {
      throw new InvalidArgumentError(`unknown event ${JSON.stringify(event)}: expected "status" or "change"`);
    }
    if (typeof listener !== 'function') throw new InvalidArgumentError(`the ${event} listener must be a function`);
    if (event === 'change') {
      const changes = (this.#changeListeners ??= new Set());
      changes.add(listener as ManagerEvents['change']);
      return () => {
        changes.delete(listener as ManagerEvents['change']);
      };
    }
    const listeners = (this.#listeners ??= new Set());
    listeners.add(listener as ManagerEvents['status']);
    return () => {
      listeners.delete(listener as ManagerEvents['status']);
    };
  }

  /**
   * Disconnects every circle and resolves once every socket is gone: no timer, socket or listener
   * is left. Pending calls reject with `NotConnectedError`. Idempotent; `connectAll()` starts again.
   * @example await manager.disconnectAll();
   */
  async disconnectAll(): Promise<void> {
    this.actor.send({ type: 'disconnect' });
    // Also when idle: a client connected by hand (`manager.client(url).connect()`) stops too.
    await this.#disconnectEveryClient();
    await waitFor(this.actor, (s) => !s.matches('stopping'));
  }

  /** `await using manager = …` disconnects every circle at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.disconnectAll();
  }

  // ---------------------------------------------------------------------------------------------

  #admit(url: string, own: Signer | undefined): Member {
    const builder = new CircleWsClientBuilder(url);
    for (const configure of this.#options.configure) configure(builder, url);
    const signer = own ?? this.#options.signer;
    if (signer) builder.withSigner(signer);
    if (this.#options.inspect) builder.withInspect(this.#options.inspect);
    const client = builder.build();
    const stopListening = client.on('status', (status, previous) => this.#onStatus(url, client, status, previous));
    const member = { client, stopListening };
    this.#members.set(url, member);
    return member;
  }

  #onStatus(url: string, client: CircleWsClient, status: CircleWsStatus, previous: CircleWsStatus): void {
    const { attempt, retryDelayMs, lastFailure } = client.actor.getSnapshot().context;
    if (this.#listeners) this.#heard.push({ url, status, previous });
    this.actor.send({
      type: 'circle.status',
      url,
      status,
      attempt,
      retryDelayMs,
      lastFailure: lastFailure ? { code: lastFailure.code, message: lastFailure.message } : null,
    });
  }

  /**
   * Tells listeners what the chart has now recorded. A client's change can arrive while the chart
   * is in the middle of an action (`connectAll()` starting the clients): the chart takes the event
   * after that action, so listeners hear of it only once `manager.status` shows it.
   */
  #tell(): void {
    if (this.#heard.length > 0) {
      const { circles, index } = this.actor.getSnapshot().context;
      // In order, circle by circle: a change waits for the ones heard before it from the same circle.
      const waiting = new Set<string>();
      const ready: Heard[] = [];
      const later: Heard[] = [];
      for (const h of this.#heard) {
        const i = index[h.url];
        if (!waiting.has(h.url) && (i === undefined || circles[i]!.status === h.status)) ready.push(h);
        else {
          waiting.add(h.url);
          later.push(h);
        }
      }
      this.#heard = later;
      for (const h of ready) this.#call(this.#listeners, (listener) => listener(h.url, h.status, h.previous));
    }
    // Read only when someone listens: making the per-URL record costs a pass over every circle.
    if (!this.#changeListeners || this.#changeListeners.size === 0) return;
    const now = this.status;
    if (now !== this.#told) {
      this.#told = now;
      this.#call(this.#changeListeners, (listener) => listener(now));
    }
  }

  /** A listener's failure must not stop the others or the manager. */
  #call<L>(listeners: Set<L> | undefined, run: (listener: L) => void): void {
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        run(listener);
      } catch {
        // ignored on purpose: see above
      }
    }
  }

  #member(url: string): Member {
    const member = this.#members.get(url);
    if (!member) throw new UnknownCircleError(String(url));
    return member;
  }

  /** The client for a call: with the lazy policy, a circle not trying to connect is started. */
  #need(url: string): CircleWsClient {
    const { client } = this.#member(url);
    if (client.status === 'disconnected') this.actor.send({ type: 'circle.needed', url });
    return client;
  }

  /** Starts one circle's client unless it is trying already (a client backing off keeps its delay). */
  #start(url: string): void {
    const member = this.#members.get(url);
    if (!member) return;
    const status = member.client.status;
    // connect()'s promise is the caller's to watch (connectAll waits with whenReady); here it would only be an unhandled rejection.
    if (status === 'disconnected' || status === 'failed') member.client.connect().catch(ignore);
  }

  #release(url: string): void {
    const member = this.#members.get(url);
    if (!member) return;
    this.#members.delete(url);
    member.stopListening();
    const leaving = member.client.disconnect();
    this.#leaving.add(leaving);
    void leaving.finally(() => this.#leaving.delete(leaving));
  }

  async #disconnectEveryClient(): Promise<void> {
    await Promise.all([...[...this.#members.values()].map(({ client }) => client.disconnect()), ...this.#leaving]);
  }

  #checkFanOut(options: FanOutOptions): void {
    if (options.timeoutMs !== undefined) checkMs('timeoutMs', options.timeoutMs);
    if (options.signal?.aborted) throw new AbortError('the call was aborted before it started');
  }

  async #fanOut<T>(run: (client: CircleWsClient) => Promise<T>): Promise<CircleReport<T>> {
    const entries = [...this.#members].map(async ([url, { client }]) => [url, await settle(run(client))] as const);
    return Object.fromEntries(await Promise.all(entries));
  }
}

/**
 * Builds a {@link CircleWsManager} (see `builder.ts` for the `with…` methods).
 * @example
 * const manager = CircleWsManager.builder()
 *   .withKeypair(process.env.CIRCLE_WS_KEY!)
 *   .withCircle(['ws://127.0.0.1:8080/02ab…', 'ws://127.0.0.1:8081/03cd…'])
 *   .build();
 */
export class CircleWsManagerBuilder extends ManagerBuilderBase {
  /** Builds the manager (idle; call `connectAll()`, or make a call with the lazy policy). */
  build(): CircleWsManager {
    return new CircleWsManager(this.resolve());
  }
}
