/**
 * The reference server's limits on what one peer may cost it: rate, malformed runs, frame size
 * before authentication, the handshake deadline, the connection cap and the output backlog.
 * Each test drives a real server on 127.0.0.1 to its bound and checks what happens there.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { createCircleServer } from '../../src/server/index.js';
import { jsonDepthExceeds, TokenBucket } from '../../src/server/limits.js';
import { authenticate, CIRCLE, cleanup, connect, startServer, type RawClient } from './helpers.js';

afterEach(cleanup);

const whoami = (id: string): string => JSON.stringify({ jsonrpc: '2.0', id, method: 'whoami', params: {} });

/** Resolves with every reply until the socket closes, and the close. */
async function drain(client: RawClient): Promise<{ replies: number; code: number; reason: string }> {
  let replies = 0;
  client.ws.on('message', () => replies++);
  const { code, reason } = await client.closed;
  return { replies, code, reason };
}

describe('rate limit', () => {
  it('before authentication: the burst (twice the rate) is answered, the next frame closes with 1013', async () => {
    const server = await startServer({ maxRequestsPerSecondBeforeAuth: 5 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    const counted = drain(client);
    for (let i = 0; i < 11; i++) client.sendRaw(whoami(`w${i}`));
    const { code, reason, replies } = await counted;
    expect({ code, reason }).toEqual({ code: 1013, reason: 'rate limit exceeded' });
    // Ten tokens (plus at most one refilled while the frames arrived), then the close.
    expect(replies).toBeGreaterThanOrEqual(10);
    expect(replies).toBeLessThanOrEqual(11);
  });

  it('after authentication the larger budget applies', async () => {
    const server = await startServer({ maxRequestsPerSecondBeforeAuth: 2, maxRequestsPerSecond: 10, requestBurst: 50 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect((await authenticate(client, CIRCLE)).result).toBe(true);
    // 40 frames: far over the unauthenticated burst of 4, within the authenticated one.
    for (let i = 0; i < 40; i++) client.sendRaw(whoami(`a${i}`));
    for (let i = 0; i < 40; i++) expect(await client.next()).toMatchObject({ id: `a${i}`, result: { authenticated: true } });
    const counted = drain(client);
    for (let i = 0; i < 40; i++) client.sendRaw(whoami(`b${i}`));
    expect(await counted).toMatchObject({ code: 1013, reason: 'rate limit exceeded' });
  });

  it('with auth off every connection gets the authenticated rate', async () => {
    const server = await startServer({ auth: false, maxRequestsPerSecondBeforeAuth: 1 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    for (let i = 0; i < 100; i++) client.sendRaw(whoami(`p${i}`));
    for (let i = 0; i < 100; i++) expect(await client.next()).toMatchObject({ id: `p${i}` });
  });

  it('the bucket refills at its rate', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    now += 100; // one token
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000; // refills up to the burst only
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    bucket.reconfigure(1000, 5);
    expect(Array.from({ length: 6 }, () => bucket.take())).toEqual([true, true, true, false, false, false]);
  });
});

describe('malformed frames', () => {
  it('answers each until the run reaches maxMalformedFrames, then closes with 1008', async () => {
    const server = await startServer({ maxMalformedFrames: 3 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    client.sendRaw('{nope');
    client.sendRaw('[]');
    expect(await client.next()).toMatchObject({ error: { code: -32700 } });
    expect(await client.next()).toMatchObject({ error: { code: -32600 } });
    // A well-formed request ends the run.
    expect(await client.result('whoami')).toMatchObject({ authenticated: false });
    client.sendRaw('1');
    client.sendRaw('"x"');
    client.sendRaw('{');
    expect(await client.next()).toMatchObject({ error: { code: -32600 } });
    expect(await client.next()).toMatchObject({ error: { code: -32600 } });
    expect(await client.next()).toMatchObject({ error: { code: -32700 } });
    expect(await client.closed).toEqual({ code: 1008, reason: 'too many malformed frames' });
  });

  it('refuses JSON nested deeper than 32 levels without parsing it', async () => {
    const server = await startServer();
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    client.sendRaw(`${'['.repeat(33)}${']'.repeat(33)}`);
    expect(await client.next()).toMatchObject({ id: null, error: { code: -32700, message: 'Parse error: the frame nests deeper than 32 levels' } });
    // Brackets inside strings do not count.
    expect(await client.call('whoami', { note: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' })).toMatchObject({ result: { authenticated: false } });
  });

  it('measures what the scan saves on 1 MiB of nesting', () => {
    const half = 512 * 1024;
    // Decoded from bytes, as the server gets them (a flat string, not a concatenation).
    const flat = (text: string): string => Buffer.from(text).toString('utf8');
    const deepFirst = flat('['.repeat(half) + ']'.repeat(half));
    // The worst case for the scan: a flat string first, the nesting at the very end.
    const deepLast = flat(`{"a":"${'x'.repeat(1024 * 1024 - 200)}","b":${'['.repeat(90)}${']'.repeat(90)}}`);
    const time = (f: () => unknown): number => {
      const started = performance.now();
      f();
      return performance.now() - started;
    };
    // Warm the scan up as a server that has answered a few requests would have.
    for (let i = 0; i < 2000; i++) jsonDepthExceeds('{"jsonrpc":"2.0","id":"1","method":"whoami","params":{"a":"[x]"}}', 32);
    const verdicts: boolean[] = [];
    const scanFirst = time(() => verdicts.push(jsonDepthExceeds(deepFirst, 32)));
    const scanLast = time(() => verdicts.push(jsonDepthExceeds(deepLast, 32)));
    expect(verdicts).toEqual([true, true]);
    const parse = time(() => JSON.parse(deepFirst));
    console.info(
      `[figure] 1 MiB nested JSON: JSON.parse ${parse.toFixed(1)} ms; depth scan ${scanFirst.toFixed(2)} ms (nesting first), ${scanLast.toFixed(1)} ms (nesting after 1 MiB of string)`,
    );
  });

  it('the depth scan skips strings and escapes', () => {
    expect(jsonDepthExceeds('[[[1]]]', 2)).toBe(true);
    expect(jsonDepthExceeds('[[1],[2]]', 2)).toBe(false);
    expect(jsonDepthExceeds('{"a":"[[[[\\"[[["}', 1)).toBe(false);
    expect(jsonDepthExceeds('{"a":{"b":{"c":{}}}}', 3)).toBe(true);
  });
});

describe('frame limit before authentication', () => {
  it('closes with 1009 on a frame over maxFrameBytesBeforeAuth, and lifts the limit after authentication', async () => {
    const server = await startServer({ maxFrameBytesBeforeAuth: 1024 });
    const big = JSON.stringify({ jsonrpc: '2.0', id: 'big', method: 'whoami', params: { pad: 'a'.repeat(2000) } });
    const early = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    early.sendRaw(big);
    expect((await early.closed).code).toBe(1009);

    const later = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect((await authenticate(later, CIRCLE)).result).toBe(true);
    later.sendRaw(big);
    expect(await later.next()).toMatchObject({ id: 'big', result: { authenticated: true } });
  });

  it('counts the fragments of one message together', async () => {
    const server = await startServer({ maxFrameBytesBeforeAuth: 1024 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    client.ws.send('x'.repeat(600), { fin: false });
    client.ws.send('x'.repeat(600), { fin: false });
    expect((await client.closed).code).toBe(1009);
  });

  it('is refused when larger than maxFrameBytes, and capped at it by default', async () => {
    await expect(createCircleServer({ maxFrameBytes: 1024, maxFrameBytesBeforeAuth: 2048 })).rejects.toThrow(
      /maxFrameBytesBeforeAuth \(2048\) must not be larger than maxFrameBytes \(1024\)/,
    );
    const server = await startServer({ maxFrameBytes: 1024 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    client.sendRaw(' '.repeat(1025));
    expect((await client.closed).code).toBe(1009);
  });
});

describe('handshake deadline', () => {
  it('closes an unauthenticated connection with 1008 after handshakeTimeoutMs, with its unfinished fragment', async () => {
    const server = await startServer({ handshakeTimeoutMs: 200 });
    const idle = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    const fragment = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    fragment.ws.send('{"jsonrpc":"2.0",', { fin: false });
    const authed = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect((await authenticate(authed, CIRCLE)).result).toBe(true);
    const started = Date.now();
    expect(await idle.closed).toEqual({ code: 1008, reason: 'not authenticated in time' });
    expect(await fragment.closed).toEqual({ code: 1008, reason: 'not authenticated in time' });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect.poll(() => server.connections).toBe(1);
    // The authenticated one is not affected.
    await new Promise((r) => setTimeout(r, 300));
    expect(await authed.result('whoami')).toMatchObject({ authenticated: true });
  });

  it('0 turns the deadline off; auth off needs none', async () => {
    const off = await startServer({ handshakeTimeoutMs: 0 });
    const noAuth = await startServer({ auth: false, handshakeTimeoutMs: 100 });
    const a = await connect(off.urlFor(CIRCLE.publicKeyCompressed));
    const b = await connect(noAuth.urlFor(CIRCLE.publicKeyCompressed));
    await new Promise((r) => setTimeout(r, 400));
    expect(await a.result('whoami')).toMatchObject({ authenticated: false });
    expect(await b.result('whoami')).toMatchObject({ authenticated: false });
  });
});

describe('connection cap', () => {
  it('refuses the upgrade past maxConnections with 503 and Retry-After, and admits again once one leaves', async () => {
    const server = await startServer({ maxConnections: 2 });
    const url = server.urlFor(CIRCLE.publicKeyCompressed);
    const first = await connect(url);
    await connect(url);
    const refused = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
      const req = request(
        `http://127.0.0.1:${server.port}/${CIRCLE.publicKeyCompressed}`,
        { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
        },
      );
      req.on('upgrade', () => reject(new Error('upgraded past the cap')));
      req.on('error', reject);
      req.end();
    });
    expect(refused).toEqual({ status: 503, retryAfter: '5', body: 'too many connections, try again later\n' });
    first.ws.close();
    await expect.poll(() => server.connections).toBe(1);
    expect(await (await connect(url)).result('whoami')).toMatchObject({ authenticated: false });
  });
});

describe('output backlog', () => {
  it('pauses reading while replies are unread and closes with 1013 past maxBufferedBytes', async () => {
    // Each reply is about 1,000 times its request: 64 KiB of unread output after a few frames.
    const server = await startServer({ auth: false, maxBufferedBytes: 64 * 1024, play: async (s) => 'x'.repeat(Number(s)) });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    const [{ code, reason }] = await Promise.all([
      client.closed,
      (async () => {
        // Stop reading, then ask.
        (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        for (let i = 0; i < 200; i++) client.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: `p${i}`, method: 'play', params: { script: '30000' } }));
        await new Promise((r) => setTimeout(r, 500));
        (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      })(),
    ]);
    expect({ code, reason }).toEqual({ code: 1013, reason: 'too much unread output' });
  });

  it('stops reading requests while the output is over a quarter of the bound, and resumes once it drains', async () => {
    let handled = 0;
    const server = await startServer({
      auth: false,
      maxBufferedBytes: 16 * 1024 * 1024,
      play: async () => {
        handled++;
        return 'x'.repeat(100_000);
      },
    });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    // 400 requests in small batches, so they reach the server in many reads: 40 MB of replies,
    // far more than the kernel's buffers and the 4 MiB pause mark hold.
    for (let i = 0; i < 400; i++) {
      client.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: `p${i}`, method: 'play', params: { script: '' } }));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 300));
    const whilePaused = handled;
    console.info(`[figure] output backlog: ${whilePaused} of 400 requests read while the client did not read`);
    expect(whilePaused).toBeGreaterThan(0);
    expect(whilePaused).toBeLessThan(400);
    socket.resume();
    for (let i = 0; i < 400; i++) expect(await client.next()).toMatchObject({ id: `p${i}` });
    expect(handled).toBe(400);
  });

  it('a reader that catches up is served everything', async () => {
    const server = await startServer({ auth: false, maxBufferedBytes: 64 * 1024, play: async (s) => 'x'.repeat(Number(s)) });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    // 40 replies of 4 KB: over the pause mark (16 KiB) many times, never over the bound while read.
    for (let i = 0; i < 40; i++) client.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: `p${i}`, method: 'play', params: { script: '4000' } }));
    for (let i = 0; i < 40; i++) expect(await client.next()).toMatchObject({ id: `p${i}`, result: { output: 'x'.repeat(4000) } });
  });
});

describe('options', () => {
  it.each([
    [{ maxFrameBytesBeforeAuth: 10 }, /maxFrameBytesBeforeAuth must be an integer from 64/],
    [{ maxBufferedBytes: 1000 }, /maxBufferedBytes must be an integer from 16384/],
    [{ maxRequestsPerSecond: 0 }, /maxRequestsPerSecond must be an integer from 1/],
    [{ requestBurst: 0.5 }, /requestBurst must be an integer/],
    [{ maxRequestsPerSecondBeforeAuth: -1 }, /maxRequestsPerSecondBeforeAuth must be an integer/],
    [{ maxMalformedFrames: 0 }, /maxMalformedFrames must be an integer from 1/],
    [{ maxConnections: 0 }, /maxConnections must be an integer from 1/],
    [{ handshakeTimeoutMs: -1 }, /handshakeTimeoutMs must be an integer from 0/],
  ])('rejects %j', async (options, message) => {
    await expect(createCircleServer(options)).rejects.toThrow(InvalidArgumentError);
    await expect(createCircleServer(options)).rejects.toThrow(message);
  });
});

describe('unfinished messages after authentication', () => {
  it('closes with 1008 a connection that leaves a message unfinished for two ping intervals', async () => {
    const interval = 100;
    const server = await startServer({ pingIntervalMs: interval });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect((await authenticate(client, CIRCLE)).result).toBe(true);
    const started = Date.now();
    // The client keeps answering pings: only the unfinished message gives it away.
    client.ws.send('{"jsonrpc":"2.0",', { fin: false });
    expect(await client.closed).toEqual({ code: 1008, reason: 'message left unfinished' });
    const elapsed = Date.now() - started;
    console.info(`[figure] unfinished message after authentication closed after ${elapsed} ms (ping interval ${interval} ms)`);
    expect(elapsed).toBeGreaterThanOrEqual(2 * interval - 20);
    expect(elapsed).toBeLessThan(5_000);
  });

  it('drops a connection that leaves a single frame cut short', async () => {
    const server = await startServer({ pingIntervalMs: 100 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect((await authenticate(client, CIRCLE)).result).toBe(true);
    // A masked text frame whose header announces 1,000 bytes, followed by ten of them.
    const header = Buffer.from([0x81, 0x80 | 126, 0x03, 0xe8, 0, 0, 0, 0]);
    (client.ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.concat([header, Buffer.from('{"jsonrpc"')]));
    const started = Date.now();
    const { code } = await client.closed;
    // Its pongs now read as payload of the cut frame, so it is usually dropped as silent (1006)
    // before the unfinished-message check (1008) fires; either way it goes within three intervals.
    expect([1006, 1008]).toContain(code);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect.poll(() => server.connections).toBe(0);
  });

  it('keeps a connection that completes its fragmented messages', async () => {
    const server = await startServer({ pingIntervalMs: 100 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect((await authenticate(client, CIRCLE)).result).toBe(true);
    // Eight messages in two fragments each, over about 800 ms: a part is often waiting at a ping.
    for (let i = 0; i < 8; i++) {
      const text = whoami(`f${i}`);
      client.ws.send(text.slice(0, 20), { fin: false });
      await new Promise((r) => setTimeout(r, 100));
      client.ws.send(text.slice(20), { fin: true });
      expect(await client.next()).toMatchObject({ id: `f${i}`, result: { authenticated: true } });
    }
    expect(server.connections).toBe(1);
  });
});
