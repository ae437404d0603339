/**
 * Fault 7: a server that sends garbage. Every bad frame is reported through the logger, the
 * client stays authenticated, and calls in flight are unaffected.
 */
import { afterEach, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { CircleWsClient, generateKeypair, type Logger, ProtocolError } from '../../src/index.js';
import { leakCheck, ScriptedServer, settle } from './support.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A seeded generator (xorshift32): the fuzz run is the same every time. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** One random frame: broken JSON, random values, or JSON-RPC-looking messages with foreign ids. */
function fuzzFrame(next: () => number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  const randomString = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(next() * 0xd7ff))).join('');
  const randomValue = (depth = 0): unknown => {
    const kind = Math.floor(next() * (depth > 3 ? 5 : 7));
    switch (kind) {
      case 0: return null;
      case 1: return next() < 0.5;
      case 2: return Math.floor(next() * 1e9) - 5e8;
      case 3: return randomString(Math.floor(next() * 20));
      case 4: return next() * 1e300;
      case 5: return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: Math.floor(next() * 4) }, () => [randomString(3), randomValue(depth + 1)]));
    }
  };
  // Ids that can never match the client's pending calls (it numbers them 1, 2, 3, …).
  const foreignId = () => pick<unknown>([`x${Math.floor(next() * 1e6)}`, null, 1e12 + Math.floor(next() * 1e6), true, {}, []]);
  switch (Math.floor(next() * 6)) {
    case 0: return randomString(Math.floor(next() * 200));
    case 1: return JSON.stringify(randomValue()).slice(0, Math.max(1, Math.floor(next() * 40)));
    case 2: return JSON.stringify(randomValue());
    case 3: return JSON.stringify({ jsonrpc: '2.0', id: foreignId(), result: randomValue() });
    case 4: return JSON.stringify({ jsonrpc: '2.0', id: foreignId(), error: pick([randomValue(), { code: 'x' }, { code: -1, message: randomValue() }]) });
    default: return JSON.stringify({ jsonrpc: pick(['2.0', '1.0', 2]), method: pick([randomString(5), 5, null]), params: randomValue() });
  }
}

it('7. garbage, binary, a 10 MB frame, deep nesting, wrong types and 10,000 fuzzed frames: reported, still authenticated, calls unaffected', async () => {
  const leaks = leakCheck();
  const held: Array<{ id: unknown; socket: WebSocket; script: string }> = [];
  const server = await ScriptedServer.start({
    onRequest: (request, socket) => {
      // Hold every play until the garbage has been sent, so the calls are in flight throughout.
      held.push({ id: request.id, socket, script: String(request.params.script) });
      return null;
    },
  });
  cleanup.push(() => server.close());
  const warnings: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(`error: ${m}`) };
  // The 10 MB frame is garbage the client reads and drops, so this client's inbound limit (4 MiB by
  // default) is raised past it; a frame over the limit is test/faults/hostile-server-frames.test.ts.
  const client = CircleWsClient.builder(server.url())
    .withKeypair(generateKeypair().privateKey)
    .withLogger(logger)
    .withMaxInboundFrameBytes(16 * 1024 * 1024)
    .build();
  cleanup.push(() => client.disconnect());
  await client.connect();
  const statuses: string[] = [];
  client.on('status', (s) => statuses.push(s));

  const calls = Array.from({ length: 20 }, (_, i) => settle(client.play(`call ${i}`, { timeoutMs: 60_000 })));
  await expect.poll(() => held.length, { timeout: 10_000 }).toBe(20);

  const fixed: Array<[string | Buffer, boolean]> = [
    ['{not json', false],
    ['', false],
    ['[]', false],
    ['42', false],
    [JSON.stringify({ jsonrpc: '2.0', id: 'nobody', result: 1 }), false],
    [JSON.stringify({ jsonrpc: '2.0', result: 'no id' }), false],
    [JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'no id' } }), false],
    [Buffer.from([1, 2, 3]), true],
    [JSON.stringify({ jsonrpc: '2.0', id: 'big', result: 'x'.repeat(10 * 1024 * 1024) }), false],
    ['['.repeat(200_000) + ']'.repeat(200_000), false],
    [JSON.stringify({ jsonrpc: '2.0', id: 'zz', result: { output: 5 } }), false],
  ];
  for (const [frame, binary] of fixed) server.broadcast(frame, binary);
  const next = rng(20261127);
  for (let i = 0; i < 10_000; i++) server.broadcast(fuzzFrame(next));
  // A frame that follows all of it: when it arrives, everything before it was processed.
  await client.call('whoami');
  expect(warnings.length).toBeGreaterThanOrEqual(fixed.length);
  expect(warnings.some((w) => w.includes('binary'))).toBe(true);
  expect(warnings.some((w) => w.includes('malformed'))).toBe(true);
  expect(warnings.some((w) => w.includes('no pending call'))).toBe(true);
  expect(statuses).toEqual([]);
  expect(client.status).toBe('authenticated');

  // The held calls are answered now: all succeed but the one answered with a result of the wrong type.
  for (const [i, h] of held.entries()) {
    const result = i === 0 ? { output: 12345 } : { output: `ran ${h.script}` };
    h.socket.send(JSON.stringify({ jsonrpc: '2.0', id: h.id, result }));
  }
  const results = await Promise.all(calls);
  expect(results[0]).toMatchObject({ ok: false });
  expect((results[0] as { error: unknown }).error).toBeInstanceOf(ProtocolError);
  for (const [i, r] of results.slice(1).entries()) expect(r).toMatchObject({ ok: true, value: `ran call ${i + 1}` });
  await client.disconnect();
  await server.close();
  await leaks.check();
}, 60_000);
