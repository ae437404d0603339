/**
 * The benchmark harness runs end to end: `node bench/run.mjs --quick` (what `npm run bench --
 * --quick` runs after building; vitest's global setup has built dist/) exits 0 and writes a well-formed bench/results/latest.json. Not a timing test:
 * no figure is compared with any target here, only checked to be present and a usable number.
 */
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'bench/results/latest.json');
const RAW = 'raw';
const OURS = 'circle-ws-client';
const PEER = 'rpc-websockets';

type Json = Record<string, unknown>;

function runBench(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS; // nothing of the test runner's loaders in the bench processes
    // The bench script itself (not `npm run bench`, which rebuilds dist/ while other test files use it).
    const child = spawn(process.execPath, ['bench/run.mjs', '--quick'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

function object(value: unknown, where: string): Json {
  expect(value, `${where} is an object`).toBeTypeOf('object');
  expect(value, `${where} is not null`).not.toBeNull();
  return value as Json;
}

function positive(value: unknown, where: string): number {
  expect(value, `${where} is a number`).toBeTypeOf('number');
  const n = value as number;
  expect(Number.isFinite(n), `${where} = ${n} is finite`).toBe(true);
  expect(n, `${where} is positive`).toBeGreaterThan(0);
  return n;
}

/** Every number anywhere in the report is finite (no NaN or Infinity slipped through JSON as null either). */
function allFinite(value: unknown, where: string): void {
  if (typeof value === 'number') expect(Number.isFinite(value), `${where} is finite`).toBe(true);
  else if (Array.isArray(value)) value.forEach((item, i) => allFinite(item, `${where}[${i}]`));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) allFinite(item, `${where}.${key}`);
}

describe('npm run bench -- --quick', () => {
  it('exits 0 and writes a well-formed bench/results/latest.json', { timeout: 300_000 }, async () => {
    const startedAt = Date.now();
    const { code, output } = await runBench();
    expect(code, output.slice(-4000)).toBe(0);
    expect(statSync(RESULTS).mtimeMs).toBeGreaterThanOrEqual(startedAt - 1000);

    const report = object(JSON.parse(readFileSync(RESULTS, 'utf8')), 'report');
    allFinite(report, 'report');
    expect(report.mode).toBe('quick');
    expect(Number.isNaN(Date.parse(String(report.date)))).toBe(false);
    const machine = object(report.machine, 'machine');
    positive(machine.cpus, 'machine.cpus');
    expect(machine.node).toBe(process.version);
    expect(String(machine.os).length).toBeGreaterThan(0);

    const figures = object(report.figures, 'figures');
    for (const name of ['connect', 'connectNoVerify', 'sequential', 'throughput', 'cpu', 'memory', 'reconnect', 'bundle', 'manyCircles']) {
      expect(figures, `figure ${name}`).toHaveProperty(name);
    }

    // 1. connect and authenticate: raw and ours; the peer does not authenticate.
    const connect = object(figures.connect, 'connect');
    for (const name of [RAW, OURS]) {
      const r = object(object(connect.results, 'connect.results')[name], `connect ${name}`);
      positive(r.p50, `connect ${name} p50`);
      positive(r.p99, `connect ${name} p99`);
    }
    expect(object(connect.results, 'connect.results')[PEER]).toBeNull();
    expect(connect.verify, 'figure 1 is judged against the verifying server').toBe(true);
    const connectNoVerify = object(figures.connectNoVerify, 'connectNoVerify');
    expect(connectNoVerify.verify).toBe(false);
    for (const name of [RAW, OURS]) positive(object(object(connectNoVerify.results, 'connectNoVerify.results')[name], name).p50, `connect (not verifying) ${name} p50`);
    const connectRatio = object(object(connect.ratios, 'connect.ratios')[OURS], 'connect ratio');
    positive(connectRatio.p50, 'connect ratio p50');
    positive(connectRatio.p99, 'connect ratio p99');

    // 2. sequential calls: all three.
    const sequential = object(figures.sequential, 'sequential');
    for (const name of [RAW, OURS, PEER]) {
      const r = object(object(sequential.results, 'sequential.results')[name], `sequential ${name}`);
      positive(r.p50, `sequential ${name} p50`);
      positive(r.p99, `sequential ${name} p99`);
    }
    for (const name of [OURS, PEER]) positive(object(object(sequential.ratios, 'sequential.ratios')[name], name).p50, `sequential ratio ${name}`);

    // 3 and 4. pipelined throughput and CPU per call at 1, 16 and 256 in flight: all three.
    for (const figure of ['throughput', 'cpu']) {
      const byDepth = object(object(figures[figure], figure).byDepth, `${figure}.byDepth`);
      expect(Object.keys(byDepth).sort()).toEqual(['1', '16', '256']);
      for (const [depth, entry] of Object.entries(byDepth)) {
        const { results, ratios } = object(entry, `${figure} ${depth}`);
        for (const name of [RAW, OURS, PEER]) positive(object(object(results, 'results')[name], name).median, `${figure} ${depth} ${name}`);
        for (const name of [OURS, PEER]) positive(object(ratios, 'ratios')[name], `${figure} ${depth} ratio ${name}`);
      }
    }

    // 5. memory per idle client: raw and ours (keep-alive off and on).
    const byCount = object(object(figures.memory, 'memory').byCount, 'memory.byCount');
    expect(Object.keys(byCount).length).toBeGreaterThan(0);
    for (const [count, entry] of Object.entries(byCount)) {
      const { results, ratios } = object(entry, `memory ${count}`);
      // RSS moves in whole pages and arenas and can even shrink over the idle period at the quick
      // run's few clients: only heap must come out positive; RSS must be a number.
      for (const name of [RAW, OURS, `${OURS}+keepalive`]) {
        const r = object(object(results, 'results')[name], `memory ${count} ${name}`);
        positive(r.heapPerClient, `memory ${count} ${name} heap`);
        expect(r.rssPerClient, `memory ${count} ${name} rss`).toBeTypeOf('number');
        expect(r.idleMs, `memory ${count} ${name} idle time`).toBeGreaterThan(5_000);
      }
      for (const name of [OURS, `${OURS}+keepalive`]) {
        const q = object(object(ratios, 'ratios')[name], `memory ratio ${name}`);
        positive(q.heapPerClient, `memory ${count} ratio ${name} heap`);
        expect(q.rssPerClient, `memory ${count} ratio ${name} rss`).toBeTypeOf('number');
      }
    }
    // A built, never-connected client and one bare actor of the machine, each in its own process.
    const unconnected = object(object(figures.memory, 'memory').unconnected, 'memory.unconnected');
    positive(object(unconnected.actor, 'memory.unconnected.actor').heapPerInstance, 'heap per bare actor');
    positive(object(unconnected.client, 'memory.unconnected.client').heapPerInstance, 'heap per unconnected client');
    expect(unconnected.heapAboveActor).toBeTypeOf('number');

    // 6. reconnect: all three, with the backoff in force.
    const reconnect = object(figures.reconnect, 'reconnect');
    expect(String(reconnect.backoff)).toMatch(/50 ms/);
    for (const name of [RAW, OURS, PEER]) {
      const r = object(object(reconnect.results, 'reconnect.results')[name], `reconnect ${name}`);
      positive(r.killToReadyP50, `reconnect ${name} kill → ready`);
      positive(r.listenToReadyP50, `reconnect ${name} listening → ready`);
      expect(r.delayMs).toBe(50);
    }
    for (const name of [OURS, PEER]) positive(object(object(reconnect.ratios, 'reconnect.ratios')[name], name).killToReadyP50, `reconnect ratio ${name}`);

    // 7. browser bundle: sizes when esbuild is there, otherwise n/a with a reason.
    const bundle = object(figures.bundle, 'bundle');
    if (bundle.available === true) {
      for (const name of [OURS, PEER]) {
        const r = object(object(bundle.results, 'bundle.results')[name], `bundle ${name}`);
        positive(r.minified, `bundle ${name} minified`);
        positive(r.gzipped, `bundle ${name} gzipped`);
      }
      const own = object(object(object(bundle.results, 'bundle.results')[OURS], 'bundle ours').ownCode, 'bundle ownCode');
      positive(own.gzippedMarginal, "the package's own code, gzipped");
      positive(own.dependenciesAloneGzipped, 'the dependency imports alone, gzipped');
      positive(own.ownAloneGzipped, "the package's modules alone, gzipped");
    } else {
      expect(bundle.available).toBe(false);
      expect(String(bundle.reason).length).toBeGreaterThan(0);
    }

    // 8. many circles in one process (information, no target): raw and the manager, every circle ready.
    const many = object(figures.manyCircles, 'manyCircles');
    const circles = positive(many.circles, 'manyCircles.circles');
    expect(many.allReady).toBe(true);
    expect(many.target).toBeNull();
    for (const when of ['atStart', 'atEnd']) expect(object(many.loadAverage, 'manyCircles.loadAverage')[when]).toHaveLength(3);
    for (const name of [RAW, OURS]) {
      const r = object(object(many.results, 'manyCircles.results')[name], `manyCircles ${name}`);
      expect(r.ready, `manyCircles ${name}: every circle ready`).toBe(circles);
      positive(object(r.connectAllMs, `manyCircles ${name} connectAllMs`).median, `manyCircles ${name} connectAll`);
      positive(r.cpuMsPerCircle, `manyCircles ${name} CPU per circle`);
      positive(r.heapPerCircle, `manyCircles ${name} heap per circle`);
      expect(r.rssPerCircle, `manyCircles ${name} rss`).toBeTypeOf('number');
    }
    const manyRatios = object(object(many.ratios, 'manyCircles.ratios')[OURS], 'manyCircles ratio');
    positive(manyRatios.connectAllMs, 'manyCircles ratio connectAll');
    positive(manyRatios.heapPerCircle, 'manyCircles ratio heap');
    expect(output).toMatch(/Figure 8 is information, no target/);

    // Targets: each judged on a figure of this run (met or not is not this test's business).
    const targets = report.targets as unknown[];
    expect(Array.isArray(targets)).toBe(true);
    const ids = targets.map((target) => object(target, 'target').id);
    for (const id of ['memoryHeapKeepAlive', 'memoryHeap', 'unconnectedAboveActor', 'connectP50', 'throughput256', 'cpu256', 'sequentialP50']) {
      expect(ids, `target ${id}`).toContain(id);
    }
    if (bundle.available === true) for (const id of ['bundleGzip', 'bundleOwnGzip']) expect(ids, `target ${id}`).toContain(id);
    for (const target of targets) {
      const t = object(target, 'target');
      // A never-connected client may hold less than its actor once the facade is lean: any finite number.
      if (t.id === 'unconnectedAboveActor') expect(t.value).toBeTypeOf('number');
      else positive(t.value, `target ${String(t.id)} value`);
      positive(t.limit, `target ${String(t.id)} limit`);
      expect(['ratio', 'KiB']).toContain(t.unit);
      expect(t.met).toBeTypeOf('boolean');
    }
  });
});
