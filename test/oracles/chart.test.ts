/**
 * What the chart promises in the README and docs/architecture.md, for the transitions the model
 * tests cannot judge on their own (the model follows the chart, so a transition written wrong in
 * the chart is "expected" there too): leaving `failed` and `backoff` on the application's or the
 * network's word, the offline probe, what a refused upgrade below 300 means, the bare machine's
 * defaults, and `statusOf` on a snapshot. Every expected value is written out.
 */
import { describe, expect, it } from 'vitest';
import { createActor, fromPromise } from 'xstate';
import { type CircleWsInput, circleWsMachine, statusOf } from '../../machines/connection.js';
import { fakeSession, flush, handshake } from '../support/fake-session.js';

const input: CircleWsInput = {
  url: 'ws://x/y',
  publicKey: '04'.padEnd(130, '1'),
  reconnect: { initialDelayMs: 1_000, maxDelayMs: 30_000, multiplier: 2, jitter: 0, maxAttempts: 5 },
  keepAlive: null,
  connectTimeoutMs: 1_000,
  authTimeoutMs: 1_000,
  stableAfterMs: 5_000,
};

/** The bare machine with only the socket provided (a no-op): every other default is its own. */
function bare() {
  const actor = createActor(circleWsMachine.provide({ actions: { openSocket: () => {} } }), { input });
  actor.start();
  return actor;
}

describe('the bare machine', () => {
  it.each([
    ['fetchNonce', []],
    ['signNonce', ['fetchNonce']],
    ['authenticate', ['fetchNonce', 'signNonce']],
  ] as const)('a step with no implementation (%s) fails the handshake, saying which, and backs off', async (missing, provided) => {
    // The steps before the missing one succeed at once.
    const resolving = Object.fromEntries(provided.map((name) => [name, fromPromise(async () => true)]));
    const actor = createActor(circleWsMachine.provide({ actions: { openSocket: () => {} }, actors: resolving as never }), { input });
    actor.start();
    actor.send({ type: 'connect' });
    actor.send({ type: 'socket.opened' });
    await flush();
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('backoff');
    expect(snapshot.context.lastFailure).toEqual({ code: 'CONNECTION_LOST', message: `circleWsMachine: the "${missing}" implementation was not provided` });
    actor.stop();
  });

  it('draws the next delay itself: with no jitter, the first delay is initialDelayMs', () => {
    const actor = bare();
    actor.send({ type: 'connect' });
    actor.send({ type: 'socket.closed', code: 1006, reason: '' });
    expect(actor.getSnapshot().value).toBe('backoff');
    expect(actor.getSnapshot().context).toMatchObject({ attempt: 1, retryDelayMs: 1_000 });
    actor.stop();
  });

  it('records a plain close with no HTTP status and no Retry-After keys at all', () => {
    const actor = bare();
    actor.send({ type: 'connect' });
    actor.send({ type: 'socket.closed', code: 1006, reason: '' });
    expect(actor.getSnapshot().context.lastFailure).toStrictEqual({ code: 'CONNECTION_LOST', message: 'the connection closed with code 1006', closeCode: 1006 });
    actor.stop();
  });
});

describe('leaving failed (README: connect() starts again, disconnect() stops)', () => {
  async function failedSession() {
    const s = fakeSession((b) => b.withReconnect({ maxAttempts: 0, initialDelayMs: 10, maxDelayMs: 10, jitter: 0 }).withKeepAlive(false));
    s.client.connect().catch(() => {});
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(s.client.status).toBe('failed');
    expect(s.client.lastError?.code).toBe('CONNECTION_FAILED');
    return s;
  }

  it('connect() from failed opens a new socket, with attempt 0 and no last error', async () => {
    const s = await failedSession();
    const sockets = s.fake.sockets.length;
    s.client.connect().catch(() => {});
    expect(s.client.status).toBe('connecting');
    expect(s.fake.sockets.length).toBe(sockets + 1);
    expect(s.client.actor.getSnapshot().context.attempt).toBe(0);
    expect(s.client.lastError).toBeNull();
    await s.client.disconnect();
  });

  it('disconnect() from failed rests in disconnected, the failure forgotten', async () => {
    const s = await failedSession();
    await s.client.disconnect();
    expect(s.client.status).toBe('disconnected');
    expect(s.client.lastError).toBeNull();
  });
});

describe('the network says so (README: online retries at once, offline probes at once)', () => {
  it('online during backoff: a new socket at once, without waiting for the delay', async () => {
    const network = new EventTarget();
    const s = fakeSession((b) => b.withNetworkEvents(network).withReconnect({ initialDelayMs: 60_000, maxDelayMs: 60_000, jitter: 0 }).withKeepAlive(false));
    s.client.connect().catch(() => {});
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(s.client.status).toBe('backoff');
    const sockets = s.fake.sockets.length;
    network.dispatchEvent(new Event('online'));
    expect(s.client.status).toBe('connecting');
    expect(s.fake.sockets.length).toBe(sockets + 1);
    // The attempt counter is kept (only a stable session resets it).
    expect(s.client.actor.getSnapshot().context.attempt).toBe(1);
    await s.client.disconnect();
  });

  it('offline while ready, keep-alive on: the link is probed at once', async () => {
    const network = new EventTarget();
    const s = fakeSession((b) => b.withNetworkEvents(network).withKeepAlive({ intervalMs: 60_000, timeoutMs: 5_000 }).withRequestTimeout(600_000), { supportsPing: true });
    s.client.connect().catch(() => {});
    await handshake(s);
    expect(s.client.status).toBe('authenticated');
    expect(s.fake.current.pings).toBe(0);
    network.dispatchEvent(new Event('offline'));
    expect(s.fake.current.pings).toBe(1);
    expect(s.client.actor.getSnapshot().matches({ session: { authenticated: 'probing' } })).toBe(true);
    await s.client.disconnect();
  });
});

describe('a refused upgrade below 300 (an HTTP 200 where 101 was due)', () => {
  it('is neither a redirect nor final: described as a refusal, and retried', async () => {
    const actor = bare();
    actor.send({ type: 'connect' });
    actor.send({ type: 'socket.closed', code: 1006, reason: '', status: 200 });
    const snapshot = actor.getSnapshot();
    expect(snapshot.value).toBe('backoff');
    expect(snapshot.context.lastFailure).toEqual({
      code: 'CONNECTION_LOST',
      message: 'the server refused the WebSocket upgrade with HTTP 200',
      closeCode: 1006,
      status: 200,
    });
    actor.stop();
  });
});

describe('statusOf', () => {
  it('reads a snapshot as well as a state value', () => {
    const actor = bare();
    actor.send({ type: 'connect' });
    expect(statusOf(actor.getSnapshot())).toBe('connecting');
    expect(statusOf({ session: { authenticated: 'idle' } })).toBe('authenticated');
    expect(statusOf('backoff')).toBe('backoff');
    actor.stop();
  });
});
