/**
 * What the client does with a server's advice and faults: `Retry-After` on a 429/503 upgrade
 * refusal (exact delays on the manual clock, and a real HTTP server on 127.0.0.1), redirects
 * (terminal, naming the Location), and internal errors answering the handshake (transient) as
 * against refusals (terminal).
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  CircleWsClient,
  ConnectionFailedError,
  generateKeypair,
  RpcErrorCode,
  ServerError,
  backoffDelay,
  defaultReconnectPolicy,
} from '../../src/index.js';
import { parseRetryAfter, printableLocation } from '../../src/transport/http-refusal.js';
import type { FakeTransport } from '../../src/testing/index.js';
import { waitForStatus } from '../support/client.js';
import { fakeClient, flush } from '../support/fake-client.js';

const key = generateKeypair();
/** Flushes until `check` holds (signing runs on a later turn), failing clearly if it never does. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (check()) return;
    await flush();
  }
  throw new Error(`never happened: ${what}`);
}

function setup(options: { keyed?: boolean; maxDelayMs?: number } = {}) {
  const s = fakeClient((builder) => {
    const b = builder.withReconnect({ initialDelayMs: 100, maxDelayMs: options.maxDelayMs ?? 10_000, multiplier: 2, jitter: 1 });
    return options.keyed ? b.withKeypair(key.privateKey) : b;
  });
  s.client.connect().catch(() => {});
  return s;
}

describe('Retry-After on a refused upgrade', () => {
  it.each([429, 503])('HTTP %i with Retry-After: the backoff waits exactly that long', async (status) => {
    const { client, clock, transport } = setup();
    transport.current.serverClose({ code: 1006, reason: '', status, retryAfterMs: 5_000 });
    await flush();
    expect(client.status).toBe('backoff');
    expect(client.actor.getSnapshot().context).toMatchObject({ retryDelayMs: 5_000, lastFailure: { status, retryAfterMs: 5_000 } });
    expect(client.lastError?.message).toMatch(`HTTP ${status} (Retry-After: 5 s)`);
    clock.advance(4_999);
    await flush();
    expect(transport.sockets.length).toBe(1);
    clock.advance(1);
    await flush();
    expect(transport.sockets.length).toBe(2);
    expect(client.status).toBe('connecting');
    await client.disconnect();
  });

  it('is capped by maxDelayMs, and never shortens the drawn backoff', async () => {
    const { client, transport } = setup({ maxDelayMs: 10_000 });
    transport.current.serverClose({ code: 1006, reason: '', status: 503, retryAfterMs: 3_600_000 });
    await flush();
    expect(client.actor.getSnapshot().context.retryDelayMs).toBe(10_000);
    await client.disconnect();

    const second = setup();
    second.transport.current.serverClose({ code: 1006, reason: '', status: 429, retryAfterMs: 20 });
    await flush();
    // random() = 0 draws the full ceiling of the first attempt: 100 ms, more than the server asked.
    expect(second.client.actor.getSnapshot().context.retryDelayMs).toBe(100);
    await second.client.disconnect();
  });

  it('applies to the next delay only: a later failure without it backs off as usual', async () => {
    const { client, clock, transport } = setup();
    transport.current.serverClose({ code: 1006, reason: '', status: 429, retryAfterMs: 5_000 });
    await flush();
    clock.advance(5_000);
    transport.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(client.actor.getSnapshot().context).toMatchObject({ attempt: 2, retryDelayMs: 200 });
    await client.disconnect();
  });

  it('backoffDelay: the floor, the cap and the plain draw', () => {
    const policy = { ...defaultReconnectPolicy, maxDelayMs: 30_000 };
    expect(backoffDelay(1, policy, () => 0.5, 5_000)).toBe(5_000);
    expect(backoffDelay(1, policy, () => 0.5, 86_400_000)).toBe(30_000);
    expect(backoffDelay(5, policy, () => 0, 1_000)).toBe(8_000);
    expect(backoffDelay(1, policy, () => 0.5)).toBe(250);
    expect(backoffDelay(1, policy, () => 0.5, Number.NaN)).toBe(250);
  });

  it('parseRetryAfter reads delta-seconds and HTTP dates, and nothing else', () => {
    const now = Date.parse('2026-11-30T10:00:00Z');
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter(['7', '9'], now)).toBe(7_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 09:00:00 GMT', now)).toBe(0);
    for (const bad of [undefined, '', '-5', '1.5', 'soon', '2026-11-30', '9'.repeat(65)]) expect(parseRetryAfter(bad, now), String(bad)).toBeUndefined();
  });

  it('printableLocation strips control characters and bounds the length', () => {
    expect(printableLocation('wss://b.example/02aa')).toBe('wss://b.example/02aa');
    expect(printableLocation('wss://b.example/\u0007\u001b[2Jx')).toBe('wss://b.example/[2Jx');
    expect(printableLocation(`wss://${'a'.repeat(500)}`)).toHaveLength(201);
    expect(printableLocation(undefined)).toBeUndefined();
    expect(printableLocation('\u0000')).toBeUndefined();
  });
});

describe('redirects are terminal', () => {
  it.each([301, 302, 307, 308])('HTTP %i: failed, with a ConnectionFailedError naming the Location', async (status) => {
    const { client, clock, transport } = setup();
    transport.current.serverClose({ code: 1006, reason: '', status, location: 'wss://elsewhere.example/02aa' });
    await flush();
    expect(client.status).toBe('failed');
    const error = client.lastError;
    expect(error).toBeInstanceOf(ConnectionFailedError);
    expect(error).toMatchObject({ status });
    expect(error?.message).toContain('wss://elsewhere.example/02aa');
    await expect(client.whoami()).rejects.toBeInstanceOf(ConnectionFailedError);
    clock.advance(60_000);
    await flush();
    expect(transport.sockets.length).toBe(1);
    await client.disconnect();
  });
});

describe('the handshake: a server fault backs off, a refusal is final', () => {
  it('-32603 answering fetch_nonce, then authenticate, backs off each time and then authenticates', async () => {
    const { client, clock, transport } = setup({ keyed: true });
    transport.current.open();
    await until(() => transport.current.lastRequest('fetch_nonce') !== undefined, 'fetch_nonce sent');
    transport.current.replyError('fetch_nonce', RpcErrorCode.InternalError, 'Internal error');
    await flush();
    expect(client.status).toBe('backoff');
    expect(client.lastError).toBeInstanceOf(ServerError);
    expect(client.lastError).toMatchObject({ code: 'SERVER_ERROR' });
    expect(client.lastError?.message).toMatch(/fetch_nonce .*-32603/);

    clock.advance(100);
    transport.current.open();
    await until(() => transport.current.lastRequest('fetch_nonce') !== undefined, 'fetch_nonce sent again');
    transport.current.reply('fetch_nonce', 'nonce_1700000000000_abcdef');
    await until(() => transport.current.lastRequest('authenticate') !== undefined, 'authenticate sent');
    transport.current.replyError('authenticate', RpcErrorCode.InternalError, 'Internal error');
    await flush();
    expect(client.status).toBe('backoff');
    expect(client.lastError).toBeInstanceOf(ServerError);
    expect(client.lastError?.message).toMatch(/authenticate/);

    clock.advance(200);
    transport.current.open();
    await until(() => transport.current.lastRequest('fetch_nonce') !== undefined, 'third fetch_nonce');
    transport.current.reply('fetch_nonce', 'nonce_1700000000001_abcdef');
    await until(() => transport.current.lastRequest('authenticate') !== undefined, 'third authenticate');
    transport.current.reply('authenticate', true);
    await flush();
    expect(client.status).toBe('authenticated');
    expect(transport.sockets.length).toBe(3);
    await client.disconnect();
  });

  it.each([
    ['-32002', (s: FakeTransport) => s.current.replyError('authenticate', RpcErrorCode.InvalidCredentials, 'Invalid Credentials')],
    ['false', (s: FakeTransport) => s.current.reply('authenticate', false)],
  ])('a refusal (%s) stays terminal', async (_name, refuse) => {
    const { client, clock, transport } = setup({ keyed: true });
    transport.current.open();
    await until(() => transport.current.lastRequest('fetch_nonce') !== undefined, 'fetch_nonce sent');
    transport.current.reply('fetch_nonce', 'nonce_1700000000000_abcdef');
    await until(() => transport.current.lastRequest('authenticate') !== undefined, 'authenticate sent');
    refuse(transport);
    await flush();
    expect(client.status).toBe('failed');
    expect(client.lastError).toBeInstanceOf(AuthError);
    expect(client.lastError).toMatchObject({ code: 'AUTH_REFUSED' });
    clock.advance(60_000);
    await flush();
    expect(transport.sockets.length).toBe(1);
    await client.disconnect();
  });
});

/** An HTTP server on 127.0.0.1 that refuses every WebSocket upgrade with `response`, counting the attempts. */
async function refusingServer(response: () => string): Promise<{ server: Server; url: string; attempts: number[] }> {
  const attempts: number[] = [];
  const server = createServer((_req, res) => res.end());
  server.on('upgrade', (_req, socket) => {
    attempts.push(performance.now());
    socket.end(response());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/02aa`, attempts };
}

describe('against a real HTTP server on 127.0.0.1', () => {
  let servers: Server[] = [];
  let clients: CircleWsClient[] = [];
  afterEach(async () => {
    for (const client of clients) await client.disconnect();
    for (const server of servers) await new Promise((r) => server.close(r));
    servers = [];
    clients = [];
  });
  const build = (url: string) => {
    const client = CircleWsClient.builder(url)
      .withRandom(() => 0)
      .withReconnect({ initialDelayMs: 10, maxDelayMs: 5_000 })
      .withKeepAlive(false)
      .build();
    clients.push(client);
    return client;
  };

  it('429 with Retry-After: 1 holds the next attempt back a second (the backoff alone would wait 10 ms)', async () => {
    const http = await refusingServer(() => 'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    servers.push(http.server);
    const client = build(http.url);
    client.connect().catch(() => {});
    await waitForStatus(client, 'backoff');
    expect(client.actor.getSnapshot().context).toMatchObject({ retryDelayMs: 1_000, lastFailure: { status: 429, retryAfterMs: 1_000 } });
    await waitForStatus(client, 'connecting');
    await waitForStatus(client, 'backoff');
    const [first, second] = http.attempts;
    const gap = (second ?? 0) - (first ?? 0);
    console.info(`[figure] 429 Retry-After: 1 → the second upgrade came ${gap.toFixed(0)} ms after the first`);
    // Timers never fire early by more than a rounding millisecond; late is fine on a busy machine.
    expect(gap).toBeGreaterThanOrEqual(990);
  });

  it('503 with Retry-After as an HTTP date', async () => {
    const http = await refusingServer(
      () => `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${new Date(Date.now() + 3_000).toUTCString()}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    servers.push(http.server);
    const client = build(http.url);
    client.connect().catch(() => {});
    await waitForStatus(client, 'backoff');
    const { retryDelayMs, lastFailure } = client.actor.getSnapshot().context;
    expect(lastFailure).toMatchObject({ status: 503 });
    // The date has whole seconds: 3 s ahead, less the truncated milliseconds and the round trip.
    expect(retryDelayMs).toBeGreaterThanOrEqual(1_000);
    expect(retryDelayMs).toBeLessThanOrEqual(3_000);
  });

  it('302 with Location: connect() rejects with ConnectionFailedError naming it, and no second attempt is made', async () => {
    const http = await refusingServer(() => 'HTTP/1.1 302 Found\r\nLocation: wss://other.example:9443/02aa\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    servers.push(http.server);
    const client = build(http.url);
    const error = await client.connect({ timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionFailedError);
    expect(error).toMatchObject({ status: 302, code: 'CONNECTION_FAILED' });
    expect((error as Error).message).toContain('wss://other.example:9443/02aa');
    expect(client.status).toBe('failed');
    // Far longer than the 10 ms backoff: nothing else arrives.
    await new Promise((r) => setTimeout(r, 300));
    expect(http.attempts.length).toBe(1);
  });
});
