import { createServer as createNetServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { createCircleServer } from '../../src/server/index.js';
import { CIRCLE, cleanup, connect, startServer, upgradeStatus } from './helpers.js';

afterEach(cleanup);

describe('routing by circle', () => {
  it('refuses a circle the server does not serve with HTTP 404', async () => {
    const server = await startServer({ circles: [CIRCLE.publicKeyCompressed] });
    expect(await upgradeStatus(server.urlFor(generateKeypair().publicKeyCompressed))).toBe(404);
  });

  it('serves a listed circle under its compressed and its uncompressed key', async () => {
    const server = await startServer({ circles: [CIRCLE.publicKey] });
    const compressed = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect(await compressed.result('whoami')).toMatchObject({ circle: CIRCLE.publicKeyCompressed });
    const uncompressed = await connect(`${server.url}/${CIRCLE.publicKey.toUpperCase()}`);
    expect(await uncompressed.result('whoami')).toMatchObject({ circle: CIRCLE.publicKey });
  });

  it.each([
    ['no path', ''],
    ['the root path', '/'],
    ['a short key', `/${'02'.padEnd(64, 'a')}`],
    ['a 0x prefix', `/0x${CIRCLE.publicKeyCompressed}`],
    ['a trailing slash', `/${CIRCLE.publicKeyCompressed}/`],
    ['a second segment', `/${CIRCLE.publicKeyCompressed}/x`],
    ['non-hex characters', `/${CIRCLE.publicKeyCompressed.slice(0, 64)}zz`],
    ['a point not on the curve', `/04${'00'.repeat(64)}`],
  ])('refuses a malformed path (%s) with HTTP 404 when serving any circle', async (_name, path) => {
    const server = await startServer();
    expect(await upgradeStatus(`${server.url}${path}`)).toBe(404);
  });

  it('ignores a query string after the circle key', async () => {
    const server = await startServer();
    const client = await connect(`${server.urlFor(CIRCLE.publicKeyCompressed)}?client=test`);
    expect(await client.result('whoami')).toMatchObject({ circle: CIRCLE.publicKeyCompressed });
  });

  it('answers plain HTTP requests with 426 Upgrade Required', async () => {
    const server = await startServer();
    const res = await fetch(`http://127.0.0.1:${server.port}/${CIRCLE.publicKeyCompressed}`);
    expect(res.status).toBe(426);
    await res.text();
  });
});

describe('frames', () => {
  it('closes with 1009 on a frame larger than maxFrameBytes', async () => {
    const server = await startServer({ maxFrameBytes: 1024 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    // Exactly at the limit is fine.
    const padding = (size: number) => JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'whoami', params: { pad: '' } }).length - size;
    const atLimit = JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'whoami', params: { pad: 'a'.repeat(-padding(1024)) } });
    expect(atLimit.length).toBe(1024);
    client.sendRaw(atLimit);
    expect(await client.next()).toMatchObject({ id: 'x', result: { authenticated: false } });
    client.sendRaw(`${atLimit} `);
    expect((await client.closed).code).toBe(1009);
  });

  it('the default limit is 1 MiB', async () => {
    const server = await startServer();
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    client.sendRaw(' '.repeat(1024 * 1024 + 1));
    expect((await client.closed).code).toBe(1009);
  });

  it('closes with 1003 on a binary frame', async () => {
    const server = await startServer();
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    client.sendRaw(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: '1', method: 'whoami', params: {} })));
    expect(await client.closed).toEqual({ code: 1003, reason: 'binary frames are not supported' });
  });
});

describe('liveness', () => {
  it('pings clients and keeps one that answers', async () => {
    const server = await startServer({ pingIntervalMs: 50 });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    // Wait for five pings: the client has then been idle (apart from pongs) for 5 intervals.
    await new Promise<void>((resolve) => {
      const onPing = () => {
        if (client.pings.length >= 5) {
          client.ws.off('ping', onPing);
          resolve();
        }
      };
      client.ws.on('ping', onPing);
    });
    expect(server.connections).toBe(1);
    expect(await client.result('whoami')).toMatchObject({ authenticated: false });
  });

  it('drops a client that sends nothing (no pong) for two intervals', async () => {
    const interval = 100;
    const server = await startServer({ pingIntervalMs: interval });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed), { autoPong: false });
    const started = Date.now();
    const { code } = await client.closed;
    const elapsed = Date.now() - started;
    expect(code).toBe(1006); // terminated: no close frame
    expect(client.pings.length).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeGreaterThanOrEqual(2 * interval - 20);
    expect(elapsed).toBeLessThan(3 * interval + 1000);
    await expect.poll(() => server.connections).toBe(0);
  });

  it('counts any inbound frame as a sign of life', async () => {
    const interval = 100;
    const server = await startServer({ pingIntervalMs: interval });
    const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed), { autoPong: false });
    // Answer every ping with a request instead of a pong, for well over two intervals.
    let replies = 0;
    await new Promise<void>((resolve, reject) => {
      client.ws.on('ping', () => {
        client.call('whoami').then(() => {
          if (++replies === 6) resolve();
        }, reject);
      });
      void client.closed.then(() => reject(new Error('the server dropped a client that was talking')));
    });
    expect(server.connections).toBe(1);
  });
});

describe('lifecycle', () => {
  it('close() closes every client with 1001 and releases the port', async () => {
    const server = await startServer();
    const clients = await Promise.all([1, 2, 3].map(() => connect(server.urlFor(CIRCLE.publicKeyCompressed))));
    expect(server.connections).toBe(3);
    await server.close();
    const closes = await Promise.all(clients.map((c) => c.closed));
    expect(closes).toEqual(closes.map(() => ({ code: 1001, reason: 'server shutting down' })));
    expect(server.connections).toBe(0);
    // The port is free again: something else can listen on it.
    const probe = createNetServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(server.port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('close() is idempotent and works with no clients', async () => {
    const server = await startServer();
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
  });

  it('counts open connections', async () => {
    const server = await startServer();
    expect(server.connections).toBe(0);
    const a = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    await connect(server.urlFor(CIRCLE.publicKey));
    expect(server.connections).toBe(2);
    a.ws.close();
    await a.closed;
    // The server sees the close after the client does; wait for its bookkeeping.
    await expect.poll(() => server.connections).toBe(1);
  });

  it('exposes url, host, port and urlFor', async () => {
    const server = await startServer();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
    expect(server.urlFor(CIRCLE.publicKeyCompressed)).toBe(`${server.url}/${CIRCLE.publicKeyCompressed}`);
    expect(server.urlFor(`0x${CIRCLE.publicKey.toUpperCase()}`)).toBe(`${server.url}/${CIRCLE.publicKey}`);
    expect(() => server.urlFor('abc')).toThrow(InvalidArgumentError);
  });

  it('rejects when the port is taken', async () => {
    const server = await startServer();
    await expect(createCircleServer({ port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });

  it.each([
    [{ port: -1 }, /port must be an integer from 0 to 65535/],
    [{ port: 1.5 }, /port must be an integer/],
    [{ host: '' }, /host must be a non-empty string/],
    [{ circles: 'abc' }, /circles must be an array/],
    [{ circles: ['abc'] }, /circles\[0\] is not a valid secp256k1 public key/],
    [{ auth: 'yes' }, /auth must be a boolean/],
    [{ play: 'eval' }, /play must be a function/],
    [{ nonceTtlMs: 0 }, /nonceTtlMs must be an integer/],
    [{ maxFrameBytes: 10 }, /maxFrameBytes must be an integer from 64/],
    [{ pingIntervalMs: -5 }, /pingIntervalMs must be an integer/],
    [{ compat: 'v3' }, /compat must be 'v2' or 'v1'/],
    [{ logger: console.log }, /logger must have debug, info, warn and error methods/],
    [{ now: 5 }, /now must be a function/],
    [{ prot: 8080 }, /unknown option 'prot'/],
  ])('rejects bad options: %j', async (options, message) => {
    const attempt = createCircleServer(options as never);
    await expect(attempt).rejects.toThrow(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(message);
  });
});
