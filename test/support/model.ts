/**
 * The model-based test harness: the statechart as the model, a real client with every effect
 * faked as the system under test, and an executor that turns each model event into what the
 * environment does (a frame, a close, a timer firing). Used by the model tests and by the fault
 * suite's "disconnect() in every state".
 */
import { expect } from 'vitest';
import { type AnyStateNode, createActor, type EventObject, type SnapshotFrom } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap, TestModel, type TestPath } from 'xstate/graph';
import { backoffCeiling, type CircleWsInput, type CircleWsMachine, circleWsMachine, statusOf } from '../../machines/connection.js';
import { AuthError, CircleWsClient, type CryptoService, derivePublicKey, generateKeypair, nobleCrypto, type Signer, signNonce } from '../../src/index.js';
import { type FakeSocket, FakeTransport, ManualClock } from '../../src/testing/index.js';

export type Snapshot = SnapshotFrom<CircleWsMachine>;
export type ModelEvent = EventObject & Record<string, unknown>;

export const key = generateKeypair();
export const delays = { connectMs: 700, authMs: 800, signMs: 900, keepAliveIntervalMs: 20_000, keepAliveTimeoutMs: 300, stableMs: 5_000 };
export const reconnect = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 2, jitter: 1, maxAttempts: 2 };

export interface Variant {
  name: string;
  keyed: boolean;
  reconnect: boolean;
  keepAlive: boolean;
  /** The key is held elsewhere (`withSigner`, default `resign: 'onConnect'`): it signs at most once per connect(). */
  external?: boolean;
}
export const variants: Variant[] = [
  { name: 'with a key pair', keyed: true, reconnect: true, keepAlive: true },
  { name: 'without a key pair', keyed: false, reconnect: true, keepAlive: true },
  { name: 'reconnect off', keyed: true, reconnect: false, keepAlive: true },
  { name: 'keep-alive off', keyed: true, reconnect: true, keepAlive: false },
  { name: 'without a key pair, keep-alive off', keyed: false, reconnect: true, keepAlive: false },
  { name: 'external signer, signing once per connect', keyed: true, reconnect: true, keepAlive: true, external: true },
];

export function inputOf(v: Variant): CircleWsInput {
  return {
    url: 'ws://fake/circle',
    publicKey: v.keyed ? key.publicKey : null,
    reconnect: v.reconnect ? reconnect : null,
    keepAlive: v.keepAlive ? { intervalMs: delays.keepAliveIntervalMs, timeoutMs: delays.keepAliveTimeoutMs } : null,
    connectTimeoutMs: delays.connectMs,
    authTimeoutMs: delays.authMs,
    signTimeoutMs: delays.signMs,
    resign: v.external ? 'onConnect' : 'automatic',
    stableAfterMs: delays.stableMs,
  };
}

/** Every event type the machine's state nodes handle (delays and invocation results included). */
export function eventTypesOf(node: AnyStateNode, into = new Set<string>()): Set<string> {
  for (const type of node.transitions.keys()) into.add(type);
  for (const child of Object.values(node.states)) eventTypesOf(child as AnyStateNode, into);
  return into;
}

/** The payload variants the environment can produce for each event type. */
export function payloadsOf(type: string, v: Variant): ModelEvent[] {
  if (type === 'socket.closed') {
    return [
      { type, code: 1006, reason: '' },
      { type, code: 1008, reason: 'too many failed authentications' },
      { type, code: 1006, reason: '', status: 404 },
    ];
  }
  if (type.startsWith('xstate.error.actor.')) {
    const refusal = type.endsWith('fetchNonce') ? 'NONCE_REFUSED' : type.endsWith('signNonce') ? 'SIGNING_FAILED' : 'AUTH_REFUSED';
    // A key held in-process fails only one way; a wallet can also be declined by its user.
    if (type.endsWith('signNonce')) return v.external ? [{ type, error: { code: refusal } }, { type, error: { code: 'SIGNING_DECLINED' } }] : [{ type, error: { code: refusal } }];
    const variants: ModelEvent[] = [
      { type, error: { code: refusal } },
      { type, error: { code: 'PROTOCOL_ERROR' } },
    ];
    if (type.endsWith('authenticate')) variants.push({ type, error: { code: 'NONCE_EXPIRED' } });
    // A hostile server's "nonce" (a login message): refused before signing.
    if (type.endsWith('fetchNonce')) variants.push({ type, error: { code: 'NONCE_REJECTED' } });
    return variants;
  }
  // The nonce and the signature stay in the facade: those steps report success with no output.
  if (type.startsWith('xstate.done.actor.')) return [{ type, output: type.endsWith('authenticate') ? true : undefined }];
  return [{ type }];
}

export const allEventTypes = [...eventTypesOf(circleWsMachine.root)].filter((t) => !t.startsWith('xstate.done.state.'));

export function modelFor(v: Variant) {
  return new TestModel(circleWsMachine, {
    input: inputOf(v),
    events: () => allEventTypes.flatMap((type) => payloadsOf(type, v)) as never,
    filterEvents: (s: Snapshot, e: ModelEvent) => s.status === 'active' && s.can(e as never),
    // Only what the test can observe; the attempt counter is bounded by maxAttempts.
    serializeState: (s: Snapshot) => serialize(s),
    serializeEvent: (e: ModelEvent) => JSON.stringify(e),
    stateMatcher: (s: Snapshot, k: string) => s.matches(k as never),
    limit: 5_000,
  } as never) as unknown as TestModel<Snapshot, ModelEvent, CircleWsInput>;
}

/** The system under test: a real client with every effect faked. */
export class Harness {
  readonly clock = new ManualClock();
  readonly transport = new FakeTransport();
  /** Plays the browser's window for online/offline events. */
  readonly network = new EventTarget();
  readonly client: CircleWsClient;
  /** Sockets on which the session became ready (application calls may go out on these). */
  readonly readySockets = new Set<FakeSocket>();
  #resolveSign: ((signature: string) => void) | null = null;
  #rejectSign: ((error: Error) => void) | null = null;
  readonly variant: Variant;
  /** Times the signer was asked to sign since the last connect() (the executor's own count, not the chart's). */
  promptsSinceConnect = 0;
  /** A signature was made since the last connect(). */
  signedSinceConnect = false;

  constructor(v: Variant) {
    this.variant = v;
    const crypto: CryptoService = {
      derivePublicKey: (k, o) => derivePublicKey(k, o),
      signNonce: (k, nonce) =>
        new Promise<string>((resolve, reject) => {
          this.#resolveSign = () => resolve(nobleCrypto.signNonce(k, nonce) as string);
          this.#rejectSign = reject;
        }),
    };
    let builder = CircleWsClient.builder('ws://fake/circle')
      .withTransport(this.transport.factory)
      .withClock(this.clock)
      .withCrypto(crypto)
      .withRandom(() => 0)
      .withTimeouts({ connectMs: delays.connectMs, authMs: delays.authMs, signMs: delays.signMs })
      .withRequestTimeout(60_000)
      .withNetworkEvents(this.network)
      .withKeepAlive(v.keepAlive ? { intervalMs: delays.keepAliveIntervalMs, timeoutMs: delays.keepAliveTimeoutMs } : false)
      .withReconnect(v.reconnect ? reconnect : false);
    if (v.keyed && v.external) {
      // A wallet: it answers when the person does (the executor resolves or rejects it).
      const signer: Signer = {
        publicKey: key.publicKey,
        sign: (nonce) => {
          this.promptsSinceConnect += 1;
          return new Promise<string>((resolve, reject) => {
            this.#resolveSign = () => resolve(signNonce(key.privateKey, nonce));
            this.#rejectSign = reject;
          });
        },
      };
      builder = builder.withSigner(signer);
    } else if (v.keyed) builder = builder.withKeypair(key.privateKey);
    this.client = builder.build();
    this.client.on('status', () => {
      if (this.client.isConnected()) this.readySockets.add(this.transport.current);
    });
  }

  get snapshot(): Snapshot {
    return this.client.actor.getSnapshot();
  }

  resolveSign(): void {
    this.#resolveSign?.('');
  }

  rejectSign(code: string): void {
    this.#rejectSign?.(code === 'SIGNING_DECLINED' ? new AuthError('SIGNING_DECLINED', 'the user declined to sign') : new Error('the signer declined'));
  }

  /** Which state-specific timer an `xstate.after.<delay>.…` event means, by its scheduled delay. */
  fireDelay(type: string): void {
    const delay = type.split('.')[2];
    const expected: Record<string, (ms: number) => boolean> = {
      connectTimeout: (ms) => ms === delays.connectMs,
      authTimeout: (ms) => ms === delays.authMs,
      signTimeout: (ms) => ms === delays.signMs,
      keepAliveTimeout: (ms) => ms === delays.keepAliveTimeoutMs,
      graceTurn: (ms) => ms === 0,
      stableSession: (ms) => ms === delays.stableMs,
      keepAliveInterval: (ms) => ms > delays.stableMs && ms <= delays.keepAliveIntervalMs,
      reconnectDelay: (ms) => ms === backoffCeiling(this.snapshot.context.attempt, reconnect),
    };
    const match = delay ? expected[delay] : undefined;
    if (!match) throw new Error(`no executor for ${type}`);
    this.clock.fire((t) => match(t.ms));
  }
}

export const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
};

export async function execute(h: Harness, event: ModelEvent): Promise<void> {
  const socket = () => h.transport.current;
  switch (event.type) {
    case 'connect':
      h.promptsSinceConnect = 0;
      h.signedSinceConnect = false;
      h.client.connect().catch(() => {});
      break;
    case 'disconnect':
      void h.client.disconnect();
      break;
    case 'socket.opened':
      socket().open();
      break;
    case 'socket.closed': {
      const info: { code: number; reason: string; status?: number } = { code: event.code as number, reason: event.reason as string };
      if (event.status !== undefined) info.status = event.status as number;
      socket().serverClose(info);
      break;
    }
    case 'link.alive':
      socket().pong();
      break;
    case 'network.online':
      h.network.dispatchEvent(new Event('online'));
      break;
    case 'network.offline':
      h.network.dispatchEvent(new Event('offline'));
      break;
    case 'xstate.done.actor.fetchNonce':
      socket().reply('fetch_nonce', `nonce-${h.transport.sockets.length}`);
      break;
    case 'xstate.error.actor.fetchNonce':
      if ((event.error as { code: string }).code === 'NONCE_REFUSED') socket().replyError('fetch_nonce', -32602, 'bad pubkey');
      else if ((event.error as { code: string }).code === 'NONCE_REJECTED') socket().reply('fetch_nonce', 'example.org wants you to sign in');
      else socket().reply('fetch_nonce', 42);
      break;
    case 'xstate.done.actor.signNonce':
      h.resolveSign();
      h.signedSinceConnect = true;
      break;
    case 'xstate.error.actor.signNonce':
      h.rejectSign((event.error as { code: string }).code);
      break;
    case 'xstate.done.actor.authenticate':
      socket().reply('authenticate', true);
      break;
    case 'xstate.error.actor.authenticate':
      switch ((event.error as { code: string }).code) {
        case 'AUTH_REFUSED':
          socket().reply('authenticate', false);
          break;
        case 'NONCE_EXPIRED':
          socket().replyError('authenticate', -32002, 'Invalid Credentials: nonce expired');
          break;
        default:
          socket().reply('authenticate', 'garbage');
      }
      break;
    default:
      if (event.type.startsWith('xstate.after.')) h.fireDelay(event.type);
      else throw new Error(`no executor for ${event.type}`);
  }
  await settle();
}

/** What must hold in the real client whenever the model is in `expected`. */
export function checkState(h: Harness, expected: Snapshot): void {
  const actual = h.snapshot;
  expect(actual.value).toEqual(expected.value);
  expect(actual.context.attempt).toBe(expected.context.attempt);
  expect(actual.context.nonceRetries).toBe(expected.context.nonceRetries);
  // Only where it decides something: elsewhere the traversal merges states that differ in it (see `serialize`).
  if (expected.context.resign === 'onConnect') expect(actual.context.signedThisConnect).toBe(expected.context.signedThisConnect);
  expect(h.client.status).toBe(statusOf(expected.value));
  expect(h.client.isConnected()).toBe(expected.hasTag('ready'));
  const inSession = expected.matches('session');
  // Outside a session no socket is left open by the client; inside, exactly one.
  expect(h.transport.alive().filter((s) => !s.closedByClient).length).toBe(inSession ? 1 : 0);
  // Before authentication only the handshake goes out: a socket the session never got ready on
  // carries nothing else. (The model test also checks, step by step, what each step sent.)
  for (const socket of h.transport.sockets) {
    if (h.readySockets.has(socket)) continue;
    for (const request of socket.requests()) expect(['fetch_nonce', 'authenticate']).toContain(request.method);
  }
  const probed = (sub: string) =>
    expected.matches({ session: { authenticated: sub } } as never) || expected.matches({ session: { connected: sub } } as never);
  if (probed('probing') || probed('overdue')) {
    expect(h.transport.current.pings).toBeGreaterThan(0);
  }
  // A nonce the client would not sign: nothing went out after the last fetch_nonce on that socket.
  if (expected.context.lastFailure?.code === 'NONCE_REJECTED') {
    const methods = h.transport.current.requests().map((r) => r.method);
    expect(methods.slice(methods.lastIndexOf('fetch_nonce'))).toEqual(['fetch_nonce']);
  }
  // The private key is nowhere in the machine's context.
  expect(JSON.stringify(actual.context)).not.toContain(key.privateKey);
}

export function traversalOptions(variant: Variant) {
  return {
    input: inputOf(variant),
    events: () => allEventTypes.flatMap((type) => payloadsOf(type, variant)) as never,
    filterEvents: (s: Snapshot, e: ModelEvent) => s.status === 'active' && s.can(e as never),
    serializeState: (s: Snapshot) => serialize(s),
    serializeEvent: (e: ModelEvent) => JSON.stringify(e),
    limit: 5_000,
  } as never;
}

/** The observable state; whether this connect() already signed matters only when that stops a reconnection. */
export const serialize = (s: Snapshot): string =>
  JSON.stringify(
    s.context.resign === 'onConnect'
      ? [s.value, s.context.attempt, s.context.nonceRetries, s.context.signedThisConnect]
      : [s.value, s.context.attempt, s.context.nonceRetries],
  );

export function initialOf(variant: Variant): Snapshot {
  return createActor(circleWsMachine, { input: inputOf(variant) }).getSnapshot();
}

export interface Walk {
  name: string;
  steps: Array<{ event: ModelEvent; state: Snapshot }>;
}

/**
 * Transition coverage: for every edge of the adjacency map, the shortest path to its source
 * state followed by the edge itself. (Simple paths explode combinatorially on this chart.)
 */
export function edgeWalks(variant: Variant): Walk[] {
  const model = modelFor(variant);
  const shortest = new Map<string, TestPath<Snapshot, ModelEvent>>();
  // Prefix paths are kept: each is the way to its own state.
  for (const path of model.getShortestPaths({ allowDuplicatePaths: true })) shortest.set(serialize(path.state), path);
  const map = getAdjacencyMap(circleWsMachine, traversalOptions(variant));
  return adjacencyMapToArray(map).map(({ state, event, nextState }) => {
    const key = serialize(state as Snapshot);
    const to = shortest.get(key);
    // The initial state needs no path: a fresh client is already there.
    if (!to && key !== serialize(initialOf(variant))) throw new Error(`no shortest path to ${key}`);
    return {
      name: `${key} --${(event as ModelEvent).type}--> ${serialize(nextState as Snapshot)}`,
      steps: [...(to?.steps ?? []), { event: event as ModelEvent, state: nextState as Snapshot }],
    };
  });
}

/** Every leaf state of the chart, as a dotted path (`session.authenticated.probing`). */
export function leaves(node: AnyStateNode, prefix = ''): string[] {
  const children = Object.values(node.states) as AnyStateNode[];
  if (children.length === 0) return [prefix];
  return children.flatMap((child) => leaves(child, prefix ? `${prefix}.${child.key}` : child.key));
}

/** The leaf state a snapshot is in, as a dotted path. */
export function leafOf(snapshot: Snapshot): string {
  const walk = (value: unknown): string =>
    typeof value === 'string' ? value : Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}.${walk(v)}`)[0] ?? '';
  return walk(snapshot.value);
}
