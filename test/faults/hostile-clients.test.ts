/**
 * Hostile clients against the reference server (issue 12, the server half). The server runs in
 * a child process of its own, each attack in another, and a real CircleWsClient in this process
 * calls `play` every 50 ms while the attack runs. Each test prints its figures as `[figure]`
 * lines; the bounds are loose on purpose (a busy 2-core machine), the figures are the record.
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import { ensureBuilt } from '../cli/helpers.js';
import { killAll, MB, realClient, startAttack, startServer, type AttackReport, type PlayFigures, type ServerStats } from './hostile-support.js';

beforeAll(() => ensureBuilt(), 120_000);
afterEach(() => killAll());

/** The real client's p99 must stay under this while an attack runs (published in docs/reliability.md). */
const P99_BOUND_MS = 1_000;
/** How long the real client is measured during each attack. */
const MEASURE_MS = 3_000;

function print(name: string, figures: PlayFigures, stats: ServerStats, report: AttackReport, extra = ''): void {
  console.info(
    `[figure] ${name}: play p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms, ${figures.failed}/${figures.calls} failed; ` +
      `server peak RSS ${(stats.peakRss / MB).toFixed(0)} MB, longest loop stall ${stats.maxLagMs} ms, ${stats.connections} open; ` +
      `attacker: ${report.connections} connections, ${report.frames} frames, closes ${JSON.stringify(report.closes)}, refusals ${JSON.stringify(report.refusals)}${extra}`,
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
  console.info(`[figure] baseline: play p50 ${figures.p50} ms, p99 ${figures.p99} ms, max ${figures.max} ms, ${figures.failed}/${figures.calls} failed; server RSS ${(stats.rss / MB).toFixed(0)} MB, longest loop stall ${stats.maxLagMs} ms`);
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
  expect(growth).toBeLessThan(100 * MB);
  await real.disconnect();
}, 60_000);

it('200 connections sending garbage: each is closed (1008 malformed run, 1013 rate), others are served', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  await server.stats();
  const attack = await startAttack('garbage', server.url, { connections: 200 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print('200 connections sending garbage (reconnecting when closed)', figures, stats, report);
  expectServed(figures);
  expect((report.closes['1008'] ?? 0) + (report.closes['1013'] ?? 0)).toBeGreaterThan(0);
  await real.disconnect();
}, 60_000);

it('frames just under the limits, nested deep: refused cheaply, others are served', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  await server.stats();
  const attack = await startAttack('near-limit', server.url, { connections: 20, authenticated: 4 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print('20 unauthenticated connections sending 4,000-byte nested frames, 4 authenticated sending 1 MiB nested frames', figures, stats, report);
  expectServed(figures);
  expect(report.frames).toBeGreaterThan(0);
  await real.disconnect();
}, 60_000);

it('a fetch_nonce flood before authentication: closed at the rate, others are served', async () => {
  const server = await startServer();
  const real = await realClient(server.url);
  await server.stats();
  const attack = await startAttack('nonce-flood', server.url, { connections: 10 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print('10 unauthenticated connections flooding fetch_nonce', figures, stats, report);
  expectServed(figures);
  expect(report.closes['1013'] ?? 0).toBeGreaterThan(0);
  await real.disconnect();
}, 60_000);

it('idle connections up to the cap: the rest are refused with 503 and Retry-After, the connected client is served', async () => {
  const maxConnections = 500;
  const server = await startServer({ maxConnections });
  const real = await realClient(server.url);
  await server.stats();
  const attack = await startAttack('idle-flood', server.url, { connections: maxConnections + 100, rampMs: 2_000 });
  const figures = await real.measure(MEASURE_MS);
  const stats = await server.stats();
  const report = await attack.stop();
  print(`${maxConnections + 100} idle connections against maxConnections ${maxConnections}`, figures, stats, report);
  expectServed(figures);
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
  // Every holder was closed at the deadline (and came back, to be closed again).
  expect(report.closes['1008'] ?? 0).toBeGreaterThanOrEqual(200);
  await real.disconnect();
}, 60_000);
