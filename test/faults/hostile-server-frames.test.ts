/**
 * Hostile peers, the client's frame limits (issue 12, items 5 and 6), on real sockets:
 * - a call too large for the reference server (which closes with 1009) is never re-sent, and the
 *   session recovers for the other calls; with the default limit it is never sent at all;
 * - a server in its own process sends a 64 MiB frame: the client refuses it from the frame header,
 *   closes with 1009 and backs off, and its RSS barely moves (the figure is printed, with the
 *   figure for a client whose limit lets the frame in);
 * - the same server answers `fetch_nonce` with a 64 MiB nonce: nothing is signed, nothing sent.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { CircleWsClient, FrameTooLargeError, generateKeypair, type TransportFactory } from '../../src/index.js';
import { createCircleServer } from '../../src/server/index.js';
import { nodeTransport } from '../../src/transport/node.js';
import { waitForStatus } from '../support/client.js';
import { leakCheck } from './support.js';

const MiB = 1024 * 1024;
const circle = generateKeypair();
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** The Node transport, counting the frames the client sent that are over `bytes`. */
function countingTransport(bytes: number): { factory: TransportFactory; large: () => number; sockets: () => number } {
  let large = 0;
  let sockets = 0;
  const factory: TransportFactory = (url, handlers, options) => {
    sockets += 1;
    const transport = nodeTransport(url, handlers, options);
    return {
      ...transport,
      send: (data) => {
        if (Buffer.byteLength(data) > bytes) large += 1;
        transport.send(data);
      },
      get bufferedAmount() {
        return transport.bufferedAmount;
      },
    };
  };
  return { factory, large: () => large, sockets: () => sockets };
}

describe('a call too large for the reference server (1 MiB, close 1009)', () => {
  it('with the limit raised past the server: rejected with FrameTooLargeError after the 1009, sent once, never re-sent; other calls go on', async () => {
    const leaks = leakCheck();
    const server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
    cleanup.push(() => server.close());
    const counted = countingTransport(MiB);
    const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withKeypair(generateKeypair().privateKey)
      .withTransport(counted.factory)
      .withMaxFrameBytes(4 * MiB)
      .withReconnect({ initialDelayMs: 50, maxDelayMs: 200 })
      .build();
    cleanup.push(() => client.disconnect());
    await client.connect();

    // Safe to repeat by its own account: before the fix it was re-sent first on every reconnect.
    const big = client.call('play', { script: `"${'x'.repeat(2 * MiB)}"` }, { idempotent: true, timeoutMs: 20_000 });
    const error = await big.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(error).toMatchObject({ code: 'FRAME_TOO_LARGE', direction: 'outbound' });
    expect((error as Error).message).toMatch(/1009/);
    expect(client.actor.getSnapshot().context.lastClose).toMatchObject({ code: 1009 });

    // Other calls are unaffected: they wait out the backoff and run on the next session.
    expect(await client.play('40 + 2')).toBe('42');
    expect(await client.whoami()).toMatchObject({ authenticated: true });
    expect(counted.sockets()).toBe(2);
    expect(counted.large()).toBe(1);
    await client.disconnect();
    await server.close();
    await leaks.check();
  });

  it('with the default limit (1 MiB): rejected at once, never sent, and the session stays up', async () => {
    const server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
    cleanup.push(() => server.close());
    const counted = countingTransport(MiB);
    const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withKeypair(generateKeypair().privateKey)
      .withTransport(counted.factory)
      .build();
    cleanup.push(() => client.disconnect());
    await client.connect();
    const error = await client.play('x'.repeat(2 * MiB)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(error).toMatchObject({ limit: MiB, direction: 'outbound' });
    expect(counted.large()).toBe(0);
    expect(client.status).toBe('authenticated');
    expect(await client.play('1 + 1')).toBe('2');
    expect(counted.sockets()).toBe(1);
  });
});

/**
 * A hostile server in its own process (so the client's RSS is the client's alone). `flood` sends a
 * 64 MiB notification on every connection; `nonce` answers `fetch_nonce` with a 64 MiB nonce and
 * reports on stdout any `authenticate` it receives.
 */
const hostileServer = `
import { WebSocketServer } from 'ws';
const mode = process.argv[1];
const huge = 'a'.repeat(${64 * MiB});
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
wss.on('listening', () => console.log('PORT ' + wss.address().port));
wss.on('connection', (socket) => {
  socket.on('error', () => {});
  console.log('CONNECTION');
  if (mode === 'flood') socket.send('{"jsonrpc":"2.0","method":"flood","params":"' + huge + '"}');
  socket.on('message', (data) => {
    const request = JSON.parse(data.toString());
    console.log('REQUEST ' + request.method);
    if (request.method === 'fetch_nonce') socket.send('{"jsonrpc":"2.0","id":' + JSON.stringify(request.id) + ',"result":"' + huge + '"}');
  });
});
`;

async function startHostile(mode: 'flood' | 'nonce'): Promise<{ url: string; lines: string[]; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', hostileServer, mode], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(async () => {
    if (child.exitCode === null) {
      child.kill();
      await once(child, 'exit');
    }
  });
  const lines: string[] = [];
  let buffered = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the hostile server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (line.startsWith('PORT ')) resolve(Number(line.slice(5)));
      }
    });
  });
  return { url: `ws://127.0.0.1:${port}/02aa`, lines, child };
}

const rssMiB = () => process.memoryUsage().rss / MiB;

describe('a server that sends a 64 MiB frame', () => {
  it('is refused from the frame header: close 1009, backoff with FRAME_TOO_LARGE, RSS barely moves', async () => {
    const leaks = leakCheck();
    const hostile = await startHostile('flood');
    const client = CircleWsClient.builder(hostile.url).withKeepAlive(false).withReconnect({ initialDelayMs: 60_000, maxDelayMs: 60_000 }).build();
    cleanup.push(() => client.disconnect());
    const before = rssMiB();
    const started = performance.now();
    client.connect().catch(() => {});
    await waitForStatus(client, 'backoff', 20_000);
    const elapsed = performance.now() - started;
    const after = rssMiB();
    console.info(
      `[figure] 64 MiB frame, default inbound limit (4 MiB): client RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB (${(after - before).toFixed(1)} MiB), refused ${elapsed.toFixed(0)} ms after connect()`,
    );
    expect(client.actor.getSnapshot().context.lastFailure).toMatchObject({ code: 'FRAME_TOO_LARGE', closeCode: 1009 });
    expect(client.lastError).toBeInstanceOf(FrameTooLargeError);
    expect(client.lastError).toMatchObject({ direction: 'inbound' });
    // Generous: the frame itself is 64 MiB, and it is never buffered.
    expect(after - before).toBeLessThan(40);
    await client.disconnect();

    // For comparison, a client whose limit lets the frame in (as `ws`'s own 100 MiB default did).
    const open = CircleWsClient.builder(hostile.url).withKeepAlive(false).withMaxInboundFrameBytes(128 * MiB).build();
    cleanup.push(() => open.disconnect());
    let notified = false;
    open.on('notification', () => {
      notified = true;
    });
    const beforeOpen = rssMiB();
    await open.connect();
    for (let i = 0; i < 400 && !notified; i++) await new Promise((r) => setTimeout(r, 50));
    const afterOpen = rssMiB();
    console.info(`[figure] 64 MiB frame, inbound limit raised to 128 MiB: client RSS ${beforeOpen.toFixed(0)} → ${afterOpen.toFixed(0)} MiB (${(afterOpen - beforeOpen).toFixed(1)} MiB)`);
    expect(notified).toBe(true);
    await open.disconnect();
    // Neither client left a socket or a timer behind (the 60 s backoff timer included).
    await leaks.check();
  });

  it('as a nonce: refused before parsing, so nothing is signed and no authenticate is sent', async () => {
    const hostile = await startHostile('nonce');
    const client = CircleWsClient.builder(hostile.url)
      .withKeypair(generateKeypair().privateKey)
      .withKeepAlive(false)
      .withReconnect({ initialDelayMs: 60_000, maxDelayMs: 60_000 })
      .build();
    cleanup.push(() => client.disconnect());
    const seen: string[] = [];
    client.on('status', (s) => seen.push(s));
    client.connect().catch(() => {});
    await waitForStatus(client, 'backoff', 20_000);
    expect(seen).toEqual(['connecting', 'fetchingNonce', 'backoff']);
    expect(client.actor.getSnapshot().context.lastFailure).toMatchObject({ code: 'FRAME_TOO_LARGE' });
    await client.disconnect();
    expect(hostile.lines.filter((l) => l.startsWith('REQUEST'))).toEqual(['REQUEST fetch_nonce']);
  });
});
