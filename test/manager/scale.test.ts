/**
 * Many circles on one reference server: no thundering herd when the server restarts (the clients'
 * jitter spreads their reconnections), and a thousand circles in one process all reach ready.
 * Times here are checked against generous, load-proof bounds; the figures are in the benchmark.
 */
import { afterEach, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { CircleWsManager, defaultReconnectPolicy, generateKeypair } from '../../src/index.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serve(keys: string[], port = 0): Promise<CircleServer> {
  // A thousand handshakes at once on a loaded 2-core machine can take longer than the 30 s default.
  const server = await createCircleServer({ circles: keys, port, maxConnections: keys.length + 100, handshakeTimeoutMs: 120_000 });
  cleanup.push(() => server.close());
  return server;
}

it('100 circles reconnect after a server restart spread over their first backoff window, and all come back', async () => {
  const keys = Array.from({ length: 100 }, () => generateKeypair().publicKeyCompressed);
  const first = await serve(keys);
  const me = generateKeypair();
  // The default policy: full jitter over a first window of 500 ms.
  const window = defaultReconnectPolicy.initialDelayMs;
  expect(window).toBe(500);
  const manager = CircleWsManager.builder()
    .withKeypair(me.privateKey)
    .withClient((b) => b.withKeepAlive(false))
    .withCircle(keys.map((k) => first.urlFor(k)))
    .build();
  cleanup.push(() => manager.disconnectAll());
  const report = await manager.connectAll({ timeoutMs: 60_000 });
  expect(Object.values(report).filter((r) => !r.ok)).toEqual([]);

  // The first reconnection attempt of each circle after the drop, in ms since the drop.
  const attempts = new Map<string, number>();
  let droppedAt = 0;
  manager.on('status', (url, status, previous) => {
    if (previous === 'backoff' && status === 'connecting' && !attempts.has(url)) attempts.set(url, performance.now() - droppedAt);
  });
  const port = first.port;
  droppedAt = performance.now();
  await first.close();
  await serve(keys, port);
  await waitFor(manager.actor, (s) => s.matches({ running: 'ready' }), { timeout: 60_000 });

  expect(attempts.size).toBe(100);
  const times = [...attempts.values()];
  const spread = Math.max(...times) - Math.min(...times);
  // In one burst they would all come within a few ms of each other.
  expect(spread).toBeGreaterThanOrEqual(window / 2);
  expect(manager.status.counts.authenticated).toBe(100);
}, 120_000);

it('1,000 circles in one process against one server all reach ready, and all disconnect', async () => {
  const keys = Array.from({ length: 1_000 }, () => generateKeypair().publicKeyCompressed);
  const server = await serve(keys);
  const manager = CircleWsManager.builder()
    .withKeypair(generateKeypair().privateKey)
    // The deadlines are generous: the server checks a thousand signatures at once (a bench run on a
    // loaded machine saw 433 of 1,000 handshakes pass the default 10 s).
    .withClient((b) => b.withKeepAlive(false).withTimeouts({ connectMs: 120_000, authMs: 120_000 }))
    .withCircle(keys.map((k) => server.urlFor(k)))
    .build();
  cleanup.push(() => manager.disconnectAll());
  const report = await manager.connectAll({ timeoutMs: 180_000 });
  expect(Object.values(report).filter((r) => !r.ok)).toEqual([]);
  expect(manager.status.state).toBe('ready');
  expect(manager.status.counts.authenticated).toBe(1_000);
  expect(server.connections).toBe(1_000);
  await manager.disconnectAll();
  for (let i = 0; i < 200 && server.connections > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(server.connections).toBe(0);
}, 300_000);
