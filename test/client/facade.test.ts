/**
 * The facade's own rules, with a fake transport and a manual clock: argument checks, the call
 * queue, deadlines, cancellation, replay by idempotency, notifications.
 */
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  AuthError,
  CircleWsClient,
  generateKeypair,
  InvalidArgumentError,
  NotConnectedError,
  OutcomeUnknownError,
  QueueFullError,
  RpcError,
  TimeoutError,
} from '../../src/index.js';
import { connectedFakeClient, fakeClient, flush } from '../support/fake-client.js';

const key = generateKeypair();
function setup(options: { keyed?: boolean; queueLimit?: number } = {}) {
  return fakeClient((builder) => {
    let b = builder;
    if (options.keyed) b = b.withKeypair(key.privateKey);
    if (options.queueLimit !== undefined) b = b.withQueueLimit(options.queueLimit);
    return b;
  });
}

/** Connects an anonymous fake client to `connected`. */
async function connected(options: { queueLimit?: number } = {}) {
  return connectedFakeClient(options.queueLimit === undefined ? undefined : (b) => b.withQueueLimit(options.queueLimit as number));
}

describe('builder arguments', () => {
  it.each([
    ['an empty URL', () => CircleWsClient.builder('')],
    ['an http URL', () => CircleWsClient.builder('http://example.com/x')],
    ['a non-URL', () => CircleWsClient.builder('not a url')],
    ['a negative keep-alive interval', () => CircleWsClient.builder('ws://x/1').withKeepAlive({ intervalMs: -1 })],
    ['a multiplier below 1', () => CircleWsClient.builder('ws://x/1').withReconnect({ multiplier: 0.5 })],
    ['jitter above 1', () => CircleWsClient.builder('ws://x/1').withReconnect({ jitter: 2 })],
    ['maxDelay below initialDelay', () => CircleWsClient.builder('ws://x/1').withReconnect({ initialDelayMs: 10, maxDelayMs: 5 })],
    ['a fractional maxAttempts', () => CircleWsClient.builder('ws://x/1').withReconnect({ maxAttempts: 1.5 })],
    ['a zero request timeout', () => CircleWsClient.builder('ws://x/1').withRequestTimeout(0)],
    ['a timeout beyond setTimeout', () => CircleWsClient.builder('ws://x/1').withRequestTimeout(2 ** 31)],
    ['a negative queue limit', () => CircleWsClient.builder('ws://x/1').withQueueLimit(-1)],
    ['a transport that is not a function', () => CircleWsClient.builder('ws://x/1').withTransport(42 as never)],
  ])('rejects %s with InvalidArgumentError', (_name, make) => {
    expect(make).toThrow(InvalidArgumentError);
  });

  it.each([
    ['too short', 'abcd', /64 hexadecimal characters/],
    ['not hex', 'z'.repeat(64), /hex/],
    ['zero', '0'.repeat(64), /zero/],
    ['not below the curve order', 'f'.repeat(64), /order/],
  ])('rejects a private key that is %s with AuthError INVALID_KEY, without echoing it', (_name, bad, pattern) => {
    let error: unknown;
    try {
      CircleWsClient.builder('ws://x/1').withKeypair(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'INVALID_KEY' });
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).not.toContain(bad);
  });
});

describe('calls', () => {
  it('refuses bad arguments with typed errors', async () => {
    const { client } = await connected();
    await expect(client.call('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.call('m', [] as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.call('m', {}, { timeoutMs: -5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.play(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(() => client.on('nope' as 'status', () => {})).toThrow(InvalidArgumentError);
    await client.disconnect();
  });

  it('fails fast with NotConnectedError before connect() and after disconnect()', async () => {
    const { client } = setup();
    await expect(client.whoami()).rejects.toBeInstanceOf(NotConnectedError);
    await expect(client.disconnect()).resolves.toBeUndefined();
  });

  it('matches responses by id in any order, with params always an object', async () => {
    const { client, transport } = await connected();
    const a = client.call('a');
    const b = client.call('b', { x: 1 });
    const [ra, rb] = transport.current.requests();
    expect(ra).toMatchObject({ jsonrpc: '2.0', method: 'a', params: {} });
    expect(typeof ra?.id).toBe('string');
    transport.current.receiveJson({ jsonrpc: '2.0', id: rb?.id, result: 'B' });
    transport.current.receiveJson({ jsonrpc: '2.0', id: ra?.id, error: { code: -32000, message: 'boom', data: { line: 1 } } });
    await expect(b).resolves.toBe('B');
    const error = await a.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toMatchObject({ rpcCode: -32000, data: { line: 1 } });
    await client.disconnect();
  });

  it('queues calls until the session is ready, sends them in order, and bounds the queue', async () => {
    const { client, transport } = setup({ queueLimit: 2 });
    const ready = client.connect();
    const first = client.call('first');
    const second = client.call('second');
    await expect(client.call('third')).rejects.toBeInstanceOf(QueueFullError);
    expect(transport.current.sent).toEqual([]);
    transport.current.open();
    await ready;
    expect(transport.current.requests().map((r) => r.method)).toEqual(['first', 'second']);
    for (const r of transport.current.requests()) transport.current.receiveJson({ jsonrpc: '2.0', id: r.id, result: r.method });
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
    await client.disconnect();
  });

  it('times out a queued call on its deadline, counted from when it was made', async () => {
    const { client, clock, transport } = setup();
    client.connect().catch(() => {});
    const call = client.call('slow', {}, { timeoutMs: 1_000 });
    clock.advance(999);
    await flush();
    transport.current.open();
    clock.advance(1);
    await expect(call).rejects.toBeInstanceOf(TimeoutError);
    await client.disconnect();
  });

  it('cancels through AbortSignal, releasing its timer', async () => {
    const { client, clock } = await connected();
    const controller = new AbortController();
    const before = clock.pending().length;
    const call = client.call('x', {}, { signal: controller.signal, timeoutMs: 7_000 });
    expect(clock.pending().map((t) => t.ms)).toContain(7_000);
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(AbortError);
    await expect(client.call('y', {}, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(clock.pending().length).toBe(before);
    await client.disconnect();
  });

  it('at a drop, re-sends idempotent calls after the next session and rejects the others with OutcomeUnknownError', async () => {
    const { client, clock, transport } = await connected();
    const write = client.play('x');
    const read = client.whoami();
    const marked = client.call('get', {}, { idempotent: true });
    transport.current.serverClose({ code: 1006, reason: '' });
    await expect(write).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect(client.status).toBe('backoff');
    clock.advance(100);
    transport.current.open();
    await flush();
    expect(client.status).toBe('connected');
    const resent = transport.current.requests();
    expect(resent.map((r) => r.method)).toEqual(['whoami', 'get']);
    transport.current.reply('whoami', { authenticated: false, pubkey: null });
    transport.current.reply('get', 7);
    await expect(read).resolves.toMatchObject({ authenticated: false });
    await expect(marked).resolves.toBe(7);
    await client.disconnect();
  });

  it('delivers server notifications to listeners until they unsubscribe', async () => {
    const { client, transport } = await connected();
    const seen: unknown[] = [];
    const off = client.on('notification', (n) => seen.push(n));
    transport.current.receiveJson({ jsonrpc: '2.0', method: 'circle.event', params: { n: 1 } });
    off();
    transport.current.receiveJson({ jsonrpc: '2.0', method: 'circle.event', params: { n: 2 } });
    expect(seen).toEqual([{ method: 'circle.event', params: { n: 1 } }]);
    await client.disconnect();
  });
});

describe('connect()', () => {
  it('rejects with TimeoutError naming the last failure, and keeps trying', async () => {
    const { client, clock, transport } = setup();
    const connecting = client.connect({ timeoutMs: 500 });
    transport.current.serverClose({ code: 1006, reason: '', error: 'connect ECONNREFUSED 127.0.0.1:1' });
    await flush();
    clock.advance(500);
    const error = await connecting.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(['backoff', 'connecting']).toContain(client.status);
    await client.disconnect();
    expect(clock.pending()).toEqual([]);
  });

  it('rejects a bad timeout with InvalidArgumentError, as a rejected promise', async () => {
    const { client } = setup();
    await expect(client.connect({ timeoutMs: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(client.status).toBe('disconnected');
  });

  it('rejects with NotConnectedError when disconnect() is called meanwhile', async () => {
    const { client } = setup();
    const connecting = client.connect();
    await client.disconnect();
    await expect(connecting).rejects.toBeInstanceOf(NotConnectedError);
  });

  it('is idempotent once ready, and `await using` disconnects', async () => {
    const s = await connected();
    await expect(s.client.connect()).resolves.toBeUndefined();
    {
      await using client = s.client;
      expect(client.isConnected()).toBe(true);
    }
    expect(s.client.status).toBe('disconnected');
    expect(s.transport.current.closedByClient).toEqual({ code: 1000, reason: 'client disconnected' });
  });
});
