/**
 * Hostile clients against the reference server (issue 12, the server half). The server runs in
 * a child process of its own, each attack in another, and a real CircleWsClient in this process
 * calls `play` every 50 ms while the attack runs. Each test prints its figures as `[figure]`
 * lines; the bounds are loose on purpose (a busy 2-core machine), the figures are the record.
 */
import { loadavg } from 'node:os';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { ensureBuilt } from '../cli/helpers.js';
import { killAll, MB, realClient, startAttack, startServer, type AttackReport, type PlayFigures, type ServerStats } from './hostile-support.js';

beforeAll(() => ensureBuilt(), 120_000);
afterEach(() => killAll());

/**
 * The real client's p99 must stay under this while an attack runs (published in
 * docs/reliability.md). Loose on purpose: on a 2-core machine shared with other work (a load
 * average of 20 when these tests were written, the server getting ~10% of a core) the scheduler
 * alone adds seconds; the printed figures, with the load average and the server's CPU share,
 * are the record. Before the limits, the same attacks made calls fail and stalled the server 14 s.
 */
const P99_BOUND_MS = 5_000;
/** Growth of the server's resident memory allowed during an attack. */
const RSS_GROWTH_BOUND = 100 * MB;
/** How long the real client is measured during each attack. */
const MEASURE_MS = 3_000;

function print(name: string, figures: PlayFigures, stats: ServerStats, report: AttackReport, extra = ''): void {
  console.info(
    `[figure] ${name}: play p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms, ${figures.failed}/${figures.calls} failed; ` +
      `server peak RSS ${(stats.peakRss / MB).toFixed(0)} MB, longest loop stall ${stats.maxLagMs} ms, CPU ${Math.round(stats.cpuShare * 100)}% of a core, ${stats.connections} open; ` +
      `attacker: ${report.connections} connections, ${report.frames} frames, closes ${JSON.stringify(report.closes)}, refusals ${JSON.stringify(report.refusals)}${extra}; load average ${loadavg()[0]!.toFixed(1)}`,
  );
}

function expectServed(figures: PlayFigures): void {
  expect(figures.calls).toBeGreaterThan(10);
  expect(figures.failed).toBe(0);
  expect(figures.p99).toBeLessThan(P99_BOUND_MS);
}

it('baseline: no attack', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  await server.stats();
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  console.info(`[figure] baseline: play p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms, ${figures.failed}/${figures.calls} failed; server RSS ${(stats.rss / MB).toFixed(0)} MB, longest loop stall ${stats.maxLagMs} ms; load average ${loadavg()[0]!.toFixed(1)}`);
  expectServed(figures);
  await real.disconnect();
}, 60_000);

it('clients that ask and never read: reading pauses, the server RSS stays bounded, others are served', async () => {
  // The rate limit lifted, so the flood is held by backpressure alone.
  const server = await startServer({ maxRequestsPerSecond: 1_000_000, requestBurst: 1_000_000 });
  const real = await realClient(server.url);
  const before = await server.stats();
  const attack = await startAttack('never-read', server.url, { connections: 4 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  const growth = stats.peakRss - before.rss;
  print('4 authenticated clients flooding whoami, never reading', figures, stats, report, `; server RSS growth ${(growth / MB).toFixed(1)} MB`);
  expectServed(figures);
  // The attacker is held back: its frames stop once the server stops reading.
  expect(report.frames).toBeGreaterThan(1000);
  // 4 × (1 MiB pause mark + one socket read of replies) plus garbage-collector slack.
  expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
  await real.disconnect();
}, 60_000);

it('200 connections sending garbage (closed after ten malformed frames, reconnecting): others are served', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  const before = await server.stats();
  const attack = await startAttack('garbage', server.url, { connections: 200 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print('200 connections sending garbage (reconnecting when closed)', figures, stats, report);
  expectServed(figures);
  expect(stats.peakRss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);
  // How soon each is closed (1008 after ten malformed frames) depends on how much CPU the machine
  // leaves the server; test/server/limits.test.ts asserts the close itself.
  expect(report.frames).toBeGreaterThan(2000);
  await real.disconnect();
}, 60_000);

it('frames just under the limits, nested deep: refused cheaply, others are served', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  const before = await server.stats();
  const attack = await startAttack('near-limit', server.url, { connections: 20, authenticated: 4 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print('20 unauthenticated connections sending 4,000-byte nested frames, 4 authenticated sending 1 MiB nested frames', figures, stats, report);
  expectServed(figures);
  expect(stats.peakRss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);
  expect(report.frames).toBeGreaterThan(0);
  await real.disconnect();
}, 60_000);

it('a fetch_nonce flood before authentication: closed at the rate, others are served', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  const before = await server.stats();
  const attack = await startAttack('nonce-flood', server.url, { connections: 10 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print('10 unauthenticated connections flooding fetch_nonce', figures, stats, report);
  expectServed(figures);
  expect(stats.peakRss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);
  expect(report.closes['1013'] ?? 0).toBeGreaterThan(0);
  await real.disconnect();
}, 60_000);

it('idle connections up to the cap: the rest are refused with 503 and Retry-After, the connected client is served', async () => {
  const maxConnections = 500;
  const server = await startServer({ maxConnections });
  const real = await realClient(server.url);
  const before = await server.stats();
  const attack = await startAttack('idle-flood', server.url, { connections: maxConnections + 100, rampMs: 2_000 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print(`${maxConnections + 100} idle connections against maxConnections ${maxConnections}`, figures, stats, report);
  expectServed(figures);
  expect(stats.peakRss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);
  expect(stats.connections).toBe(maxConnections);
  expect(report.refusals['503'] ?? 0).toBeGreaterThan(0);
  expect(report.retryAfter).toBe('5');
  await real.disconnect();
}, 90_000);

it('unfinished fragmented messages: held to the 4 KiB limit before authentication and dropped at the handshake deadline', async () => {
  const handshakeTimeoutMs = 1_500;
  const server = await startServer({ handshakeTimeoutMs });
  const real = await realClient(server.url);
  const before = await server.stats();
  const attack = await startAttack('fragments', server.url, { connections: 200, bytes: 4000 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print(`200 connections holding a 4,000-byte unfinished message (handshakeTimeoutMs ${handshakeTimeoutMs})`, figures, stats, report, `; server RSS growth ${((stats.peakRss - before.rss) / MB).toFixed(1)} MB`);
  expectServed(figures);
  expect(stats.peakRss - before.rss).toBeLessThan(RSS_GROWTH_BOUND);
  expect(report.closes['1008'] ?? 0).toBeGreaterThan(0);
  // Nothing the attacker opened outlives the deadline: once it stops coming back, only the real
  // client is left (the deadline, then the close handshake's grace at most).
  await expect.poll(async () => (await server.stats()).connections, { timeout: handshakeTimeoutMs + 15_000, interval: 250 }).toBe(1);
  await real.disconnect();
}, 60_000);
