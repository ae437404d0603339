/**
 * The bench's driver: settings, the bench server, the figures in order, the report.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, totalmem, type } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateKeypair } from 'circle-ws-client';
import { contenderNames, OURS, PEER, RAW } from './contenders.mjs';
import {
  figureBundle,
  figureConnect,
  figureManyCircles,
  figureMemory,
  figurePipelined,
  figureReconnect,
  figureSequential,
  openSessions,
  warmUp,
} from './figures.mjs';
import { printTable } from './report.mjs';
import { startServer } from './server-process.mjs';
import { exposeGc } from './stats.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SETTINGS = {
  full: {
    // Many short rounds: on a noisy machine, contenders alternating quickly see the same conditions.
    connect: { rounds: 20, perRound: 10 },
    sequential: { rounds: 20, perRound: 500 },
    // Fewer, longer rounds for figures 3–4: a turn of 20,000 calls holds 4–5 scavenges of its own
    // (node bench/gc-per-turn.mjs), so the forced GC before it takes little of its garbage out of its
    // CPU window; a 5,000-call turn held 0 (raw) or 1 (ours). See "Pipelined rounds" in docs/performance.md.
    pipelined: { depths: [1, 16, 256], rounds: 5, perRound: 20_000 },
    // idleMs: past the client's stable-session timer (stableAfterMs, 5 s in src/client/options.ts).
    memory: { counts: [1_000, 5_000], idleMs: 6_000, unconnectedCount: 5_000 },
    reconnect: { restarts: 50, delayMs: 50 },
    warmup: { sequential: 2_000, pipelined: 10_000, connects: 20 },
    // Figure 8 (information, no target): idleMs as figure 5's, past the 5 s stable-session timer.
    manyCircles: { circles: 1_000, rounds: 3, warmupCircles: 20, idleMs: 6_000 },
  },
  quick: {
    connect: { rounds: 4, perRound: 5 },
    sequential: { rounds: 5, perRound: 100 },
    pipelined: { depths: [1, 16, 256], rounds: 5, perRound: 1_000 },
    memory: { counts: [200], idleMs: 6_000, unconnectedCount: 500 },
    reconnect: { restarts: 3, delayMs: 50 },
    warmup: { sequential: 200, pipelined: 1_000, connects: 3 },
    manyCircles: { circles: 100, rounds: 1, warmupCircles: 10, idleMs: 6_000 },
  },
};

/**
 * The targets of issue 11, judged on this run. `unit: 'ratio'` is ours ÷ raw measured side by
 * side; `unit: 'KiB'` an absolute size. A target that is not met is printed as such.
 */
export const TARGETS = [
  { id: 'memoryHeapKeepAlive', label: 'heap per idle authenticated client (keep-alive on, the default)', comparison: '<=', limit: 2.2, unit: 'ratio' },
  { id: 'memoryHeap', label: 'heap per idle authenticated client (keep-alive off)', comparison: '<=', limit: 2.2, unit: 'ratio' },
  { id: 'unconnectedAboveActor', label: 'built, never-connected client above its started bare actor', comparison: '<=', limit: 1.5, unit: 'KiB' },
  { id: 'connectP50', label: 'connect-and-authenticate p50 (server verifying)', comparison: '<=', limit: 1.1, unit: 'ratio' },
  { id: 'throughput256', label: 'pipelined throughput at 256 in flight', comparison: '>=', limit: 0.92, unit: 'ratio' },
  { id: 'cpu256', label: 'client CPU per pipelined call (256 in flight)', comparison: '<=', limit: 1.08, unit: 'ratio' },
  { id: 'sequentialP50', label: 'sequential round-trip p50', comparison: '<=', limit: 1.1, unit: 'ratio' },
  { id: 'bundleGzip', label: 'browser bundle of { CircleWsClient, generateKeypair }, min+gzip', comparison: '<=', limit: 26, unit: 'KiB' },
  { id: 'bundleOwnGzip', label: "  of which the package's own code, gzipped", comparison: '<=', limit: 6.5, unit: 'KiB' },
];

const FIGURES = ['1', '2', '3', '4', '5', '6', '7', '8'];

function machineInfo() {
  const list = cpus();
  const ulimit = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    node: process.version,
    v8: process.versions.v8,
    os: `${type()} ${release()} (${platform()}/${arch()})`,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    openFilesLimit: ulimit.status === 0 ? ulimit.stdout.trim() : 'unknown',
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function versionOf(name) {
  try {
    return JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

function gitCommit() {
  const result = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

/** Whether dist/ was built from sources that differ from the commit (work in progress in src/ or machines/). */
function sourcesDirty() {
  const result = spawnSync('git', ['status', '--porcelain', '--', 'src', 'machines'], { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().length > 0 : null;
}

/** The figure each target is judged on, from this run (targets whose figure was not run are left out). */
export function judgeTargets(figures) {
  const memory = figures.memory;
  const largest = memory ? Math.max(...Object.keys(memory.byCount).map(Number)) : null;
  const memoryRatios = memory?.byCount[largest]?.ratios;
  const bundle = figures.bundle?.available ? figures.bundle.results[OURS] : undefined;
  const kib = (bytes) => (bytes === undefined ? undefined : bytes / 1024);
  const valueOf = {
    throughput256: figures.throughput?.byDepth[256]?.ratios[OURS],
    cpu256: figures.cpu?.byDepth[256]?.ratios[OURS],
    sequentialP50: figures.sequential?.ratios[OURS]?.p50,
    connectP50: figures.connect?.ratios[OURS]?.p50,
    memoryHeap: memoryRatios?.[OURS]?.heapPerClient,
    memoryHeapKeepAlive: memoryRatios?.[`${OURS}+keepalive`]?.heapPerClient,
    unconnectedAboveActor: kib(memory?.unconnected?.heapAboveActor),
    bundleGzip: kib(bundle?.gzipped),
    bundleOwnGzip: kib(bundle?.ownCode?.gzippedMarginal),
  };
  return TARGETS.filter((target) => valueOf[target.id] !== undefined).map((target) => {
    const value = valueOf[target.id];
    const met = target.comparison === '>=' ? value >= target.limit : value <= target.limit;
    return { ...target, value, met, ...(target.id.startsWith('memory') ? { clients: largest } : {}) };
  });
}

export async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      out: { type: 'string' },
      // For the A/B of the pipelined rounds (docs/performance.md): override their shape, or turn
      // the forced garbage collection before each contender's turn off.
      'pipelined-rounds': { type: 'string' },
      'pipelined-per-round': { type: 'string' },
      'pipelined-depths': { type: 'string' },
      'round-gc': { type: 'string', default: 'on' },
    },
  });
  const mode = values.quick ? 'quick' : 'full';
  const settings = structuredClone(SETTINGS[mode]);
  if (values['pipelined-rounds']) settings.pipelined.rounds = Number(values['pipelined-rounds']);
  if (values['pipelined-per-round']) settings.pipelined.perRound = Number(values['pipelined-per-round']);
  if (values['pipelined-depths']) settings.pipelined.depths = values['pipelined-depths'].split(',').map(Number);
  if (!['on', 'off'].includes(values['round-gc'])) throw new Error('--round-gc takes on or off');
  settings.pipelined.roundGc = values['round-gc'] === 'on';
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : FIGURES;
  for (const figure of only) if (!FIGURES.includes(figure)) throw new Error(`--only takes figure numbers 1–8, not ${figure}`);
  const out = resolve(values.out ?? (values.only ? 'bench/results/partial.json' : 'bench/results/latest.json'));
  exposeGc();

  const started = Date.now();
  const machine = machineInfo();
  const keypair = generateKeypair();
  const circle = keypair.publicKeyCompressed;
  const log = (message) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)} s] ${message}\n`);
  log(`${mode} mode; ${machine.cpus} × ${machine.cpuModel}; Node ${machine.node}; open files limit ${machine.openFilesLimit}`);

  // Two servers, both faced by every contender: one verifies each signature, as a real Circle server
  // does (figure 1, figure 6 and the sessions of figures 2–4); the other accepts a well-formed
  // signature unchecked, for the second line of figure 1 (the clients' own handshake cost, with
  // 3–4 ms of server ECDSA taken out) and for figure 5 (thousands of handshakes, where only memory counts).
  const server = await startServer({ verify: true });
  const plainServer = await startServer({ verify: false });
  const url = `ws://127.0.0.1:${server.port}/${circle}`;
  const plainUrl = `ws://127.0.0.1:${plainServer.port}/${circle}`;
  const ctx = { settings, url, plainUrl, circle, verify: true, keypair: { privateKey: keypair.privateKey, publicKey: keypair.publicKey }, log };
  const figures = {};
  try {
    const needsSessions = only.some((figure) => ['2', '3', '4'].includes(figure));
    const needsWarmUp = needsSessions || only.includes('1');
    let sessions = null;
    if (needsWarmUp) {
      sessions = await openSessions(ctx, contenderNames);
      log('warm-up');
      await warmUp(ctx, sessions);
    }
    if (only.includes('1')) {
      log('figure 1: connect and authenticate, server verifying');
      figures.connect = await figureConnect(ctx, { url: ctx.url, verify: true });
      log('figure 1: connect and authenticate, server not verifying');
      figures.connectNoVerify = await figureConnect(ctx, { url: ctx.plainUrl, verify: false });
    }
    if (only.includes('2')) {
      log('figure 2: sequential calls');
      figures.sequential = await figureSequential(ctx, sessions);
    }
    if (only.includes('3') || only.includes('4')) {
      log('figures 3 and 4: pipelined throughput and client CPU');
      const { throughput, cpu } = await figurePipelined(ctx, sessions);
      figures.throughput = throughput;
      figures.cpu = cpu;
    }
    if (sessions) for (const session of Object.values(sessions)) await session.close();
    if (only.includes('5')) {
      log(`figure 5: memory per idle client (${settings.memory.counts.join(', ')} clients)`);
      figures.memory = await figureMemory(ctx);
    }
  } finally {
    await server.stop();
    await plainServer.stop();
  }
  if (only.includes('6')) {
    log(`figure 6: reconnect (${settings.reconnect.restarts} restarts per contender)`);
    figures.reconnect = await figureReconnect(ctx);
  }
  if (only.includes('7')) {
    log('figure 7: browser bundle');
    figures.bundle = await figureBundle();
  }
  if (only.includes('8')) {
    log(`figure 8: ${settings.manyCircles.circles} circles in one process (manager and raw), one reference server; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    figures.manyCircles = await figureManyCircles(ctx);
  }

  machine.loadAverageAtEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  const report = {
    schema: 1,
    date: new Date().toISOString(),
    mode,
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    machine,
    package: { name: 'circle-ws-client', version: versionOf('../'), commit: gitCommit(), uncommittedSourceChanges: sourcesDirty() },
    contenders: {
      [RAW]: { description: 'minimal hand-written ws client: string ids, a Map of pending promises, JSON.stringify/parse; connect = fetch_nonce, signNonce (from dist), authenticate' },
      [OURS]: { description: 'this package from dist/, authenticated; keep-alive on (default), reconnection off except in figure 6; figure 8: a CircleWsManager, keep-alive and reconnection off', version: versionOf('../') },
      [PEER]: { description: 'rpc-websockets Client (Node), plain calls, no authentication', version: versionOf('rpc-websockets') },
    },
    environment: { ws: versionOf('ws'), xstate: versionOf('xstate'), WS_NO_BUFFER_UTIL: process.env.WS_NO_BUFFER_UTIL ?? null },
    server: {
      process: 'child process (bench/server.mjs), ws, no compression',
      authentication:
        'figure 8: the package\'s reference server (createCircleServer, verifying every signature) serving one key per circle, in bench/reference-server.mjs; ' +
      'figures 1, 2–4 and 6: verifySignature (from dist) on every authenticate; figure 1 second line and figure 5: a second server that accepts a well-formed signature for the key that fetched the nonce without verifying it',
    },
    settings,
    figures,
    targets: judgeTargets(figures),
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  printTable(report);
  log(`wrote ${out}`);
}
