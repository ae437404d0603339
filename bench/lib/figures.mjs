/**
 * The eight figures (8: many circles, information only). Every timed figure runs its contenders in the same process, alternating
 * within each round (the starting contender rotates from round to round), after a warm-up.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { contenders, OURS, PEER, RAW, RawClient } from './contenders.mjs';
import { buildManager, circleKeys, readyCount } from './many-circles.mjs';
import { collectGarbage, median, pairedRatio, pairedRatios, percentile } from './stats.mjs';
import { startReferenceServer, startServer } from './server-process.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MEMORY_CHILD = fileURLToPath(new URL('../memory-child.mjs', import.meta.url));
const MANY_MEMORY_CHILD = fileURLToPath(new URL('../manager-memory-child.mjs', import.meta.url));

/** The contenders of round `round`, the first one rotating. */
export function rotation(names, round) {
  const k = round % names.length;
  return [...names.slice(k), ...names.slice(0, k)];
}

/** Fails a stuck step instead of hanging the bench. */
export function withDeadline(promise, ms, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** `total` echo calls with at most `depth` in flight; resolves with the elapsed ms. */
export function pipelined(session, total, depth) {
  return new Promise((resolve, reject) => {
    let issued = 0;
    let done = 0;
    const start = performance.now();
    const onDone = () => {
      done++;
      if (done === total) resolve(performance.now() - start);
      else if (issued < total) issue();
    };
    const issue = () => {
      const n = issued++;
      session.call('echo', { n }).then(onDone, reject);
    };
    for (let i = 0; i < Math.min(depth, total); i++) issue();
  });
}

async function sequential(session, count, samples) {
  for (let n = 0; n < count; n++) {
    const start = performance.now();
    await session.call('echo', { n });
    samples.push(performance.now() - start);
  }
}

/** Opens one ready session per contender (authenticated where the contender authenticates). */
export async function openSessions(ctx, names) {
  const sessions = {};
  for (const name of names) {
    const session = contenders[name].create(ctx.url, ctx.keypair);
    await withDeadline(session.connect(), 10_000, `${name} connect`);
    sessions[name] = session;
  }
  return sessions;
}

/** Warm-up: every contender's code paths compiled before anything is measured. */
export async function warmUp(ctx, sessions) {
  const { warmup } = ctx.settings;
  for (const [name, session] of Object.entries(sessions)) {
    // A correctness check as well: the echo comes back to the call that sent it.
    for (let n = 0; n < warmup.sequential; n++) {
      const result = await session.call('echo', { n });
      if (result?.n !== n) throw new Error(`${name}: echo ${n} answered ${JSON.stringify(result)}`);
    }
    for (const depth of ctx.settings.pipelined.depths) {
      await withDeadline(pipelined(session, warmup.pipelined, depth), 120_000, `${name} warm-up`);
    }
    if (contenders[name].authenticates) {
      for (let i = 0; i < warmup.connects; i++) {
        const extra = contenders[name].create(ctx.url, ctx.keypair);
        await extra.connect();
        await extra.close();
      }
    }
  }
}

/**
 * Figure 1: connect and authenticate, latency to ready (raw and ours; the peer does not
 * authenticate), against the server at `url` (verifying signatures or not).
 */
export async function figureConnect(ctx, { url, verify }) {
  const names = [RAW, OURS];
  const { rounds, perRound } = ctx.settings.connect;
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const roundP50 = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of rotation(names, round)) {
      collectGarbage();
      const times = [];
      for (let i = 0; i < perRound; i++) {
        const session = contenders[name].create(url, ctx.keypair);
        const start = performance.now();
        await withDeadline(session.connect(), 10_000, `${name} connect`);
        times.push(performance.now() - start);
        await session.close();
      }
      samples[name].push(...times);
      roundP50[name].push(median(times));
    }
  }
  const results = {};
  for (const name of names) {
    results[name] = { n: samples[name].length, p50: percentile(samples[name], 50), p99: percentile(samples[name], 99) };
  }
  results[PEER] = null;
  return {
    title: verify ? 'Connect and authenticate: latency to ready (server verifying)' : 'Connect and authenticate: latency to ready (server not verifying)',
    verify,
    unit: 'ms',
    better: 'lower',
    results,
    ratios: {
      [OURS]: {
        p50: results[OURS].p50 / results[RAW].p50,
        p99: results[OURS].p99 / results[RAW].p99,
        pairedP50: pairedRatio(roundP50[OURS], roundP50[RAW]),
        roundP50Ratios: pairedRatios(roundP50[OURS], roundP50[RAW]),
      },
      [PEER]: null,
    },
    notes: verify
      ? 'The bench server verifies every signature with verifySignature, as a Circle server does (3–4 ms of server CPU per connection, in its own process).'
      : 'A second bench server accepts a well-formed signature for the key that fetched the nonce without verifying it, so the line shows the clients’ own handshake cost.',
  };
}

/** Figure 2: sequential calls, round-trip latency (all three). */
export async function figureSequential(ctx, sessions) {
  const names = Object.keys(sessions);
  const { rounds, perRound } = ctx.settings.sequential;
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const roundP50 = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of rotation(names, round)) {
      collectGarbage();
      const times = [];
      await withDeadline(sequential(sessions[name], perRound, times), 120_000, `${name} sequential`);
      samples[name].push(...times);
      roundP50[name].push(median(times));
    }
  }
  const results = {};
  const ratios = {};
  for (const name of names) {
    results[name] = { n: samples[name].length, p50: percentile(samples[name], 50), p99: percentile(samples[name], 99) };
  }
  for (const name of names) {
    if (name === RAW) continue;
    ratios[name] = {
      p50: results[name].p50 / results[RAW].p50,
      p99: results[name].p99 / results[RAW].p99,
      pairedP50: pairedRatio(roundP50[name], roundP50[RAW]),
    };
  }
  return { title: 'Sequential calls: round-trip latency', unit: 'ms', better: 'lower', results, ratios };
}

/** Figures 3 and 4: pipelined throughput at each depth, and client CPU per call (all three). */
export async function figurePipelined(ctx, sessions) {
  const names = Object.keys(sessions);
  const { depths, rounds, perRound } = ctx.settings.pipelined;
  const throughput = { title: 'Pipelined throughput', unit: 'calls/s', better: 'higher', byDepth: {} };
  const cpu = { title: 'Client CPU time per call (pipelined)', unit: 'µs/call', better: 'lower', depth: depths.at(-1), byDepth: {} };
  for (const depth of depths) {
    const perSecond = Object.fromEntries(names.map((name) => [name, []]));
    const cpuPerCall = Object.fromEntries(names.map((name) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const name of rotation(names, round)) {
        if (ctx.settings.pipelined.roundGc !== false) collectGarbage();
        const cpuBefore = process.cpuUsage();
        const elapsed = await withDeadline(pipelined(sessions[name], perRound, depth), 300_000, `${name} pipelined ${depth}`);
        const used = process.cpuUsage(cpuBefore);
        perSecond[name].push((perRound / elapsed) * 1000);
        cpuPerCall[name].push((used.user + used.system) / perRound);
      }
    }
    throughput.byDepth[depth] = summarise(names, perSecond, perRound * rounds);
    cpu.byDepth[depth] = summarise(names, cpuPerCall, perRound * rounds);
  }
  return { throughput, cpu };
}

/** Median over rounds per contender, and its ratio to raw's. */
function summarise(names, perRound, calls) {
  const results = {};
  const ratios = {};
  for (const name of names) {
    const values = perRound[name];
    results[name] = { calls, rounds: values.length, median: median(values), min: Math.min(...values), max: Math.max(...values), perRound: values };
  }
  // The ratio reported and judged: of the medians. The median of the per-round (paired) ratios is kept beside it.
  const pairedRatios = {};
  for (const name of names) {
    if (name === RAW) continue;
    ratios[name] = results[name].median / results[RAW].median;
    pairedRatios[name] = pairedRatio(perRound[name], perRound[RAW]);
  }
  return { results, ratios, pairedRatios };
}

/** Figure 5: memory per authenticated idle client, a fresh child process per contender and count. */
export async function figureMemory(ctx) {
  const variants = [
    { key: RAW, contender: RAW, keepAlive: false },
    { key: OURS, contender: OURS, keepAlive: false },
    { key: `${OURS}+keepalive`, contender: OURS, keepAlive: true },
  ];
  const byCount = {};
  for (const count of ctx.settings.memory.counts) {
    const results = {};
    for (const variant of variants) {
      results[variant.key] = await runMemoryChild(ctx.plainUrl, variant, count, ctx.settings.memory.idleMs);
    }
    const ratios = {};
    for (const variant of variants) {
      if (variant.key === RAW) continue;
      ratios[variant.key] = {
        heapPerClient: results[variant.key].heapPerClient / results[RAW].heapPerClient,
        rssPerClient: results[variant.key].rssPerClient / results[RAW].rssPerClient,
      };
    }
    results[PEER] = null;
    ratios[PEER] = null;
    byCount[count] = { results, ratios };
  }
  // A built client that never connected, above one started bare actor of the same machine.
  const { unconnectedCount } = ctx.settings.memory;
  const actor = await runMemoryChild(ctx.plainUrl, { key: 'actor', contender: 'actor', keepAlive: false }, unconnectedCount, 0);
  const unconnected = await runMemoryChild(ctx.plainUrl, { key: 'unconnected', contender: 'unconnected', keepAlive: false }, unconnectedCount, 0);
  return {
    title: 'Memory per authenticated idle client',
    unit: 'bytes/client',
    better: 'lower',
    byCount,
    idleMs: ctx.settings.memory.idleMs,
    unconnected: {
      count: unconnectedCount,
      actor,
      client: unconnected,
      heapAboveActor: unconnected.heapPerInstance - actor.heapPerInstance,
      rssAboveActor: unconnected.rssPerInstance - actor.rssPerInstance,
      notes:
        "actor: createActor(circleWsMachine, { input }).start() from 'circle-ws-client/machine', with the input a default client with a key pair gives it; " +
        'client: CircleWsClient.builder(url).withKeypair(key).build(), never connected. One fresh process each, --expose-gc, (after − before) / N after garbage collection.',
    },
    notes:
      `${OURS}: keep-alive off (like for like with raw, which has none); ${OURS}+keepalive: the default keep-alive (30 s interval). ` +
      `Reconnection off for both. Sampled after ${ctx.settings.memory.idleMs / 1000} s idle (past the client's 5 s stable-session timer, so the session has settled). ` +
      'One fresh process per contender and count, run with --expose-gc; garbage collected before each sample.',
  };
}

function runMemoryChild(url, variant, count, idleMs) {
  const args = ['--contender', variant.contender, '--count', String(count), '--url', url, '--idle-ms', String(idleMs)];
  if (variant.keepAlive) args.push('--keep-alive');
  const child = fork(MEMORY_CHILD, args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let result = null;
  child.on('message', (message) => {
    if (message?.type === 'result') result = message.result;
  });
  const done = new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`the memory child (${variant.key}, ${count}) exited with code ${code}`));
    });
  });
  return withDeadline(done, 300_000, `memory ${variant.key} ${count}`).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
}

/** Figure 6: server restart to ready again, with a known constant backoff delay. */
export async function figureReconnect(ctx) {
  const names = [RAW, OURS, PEER];
  const { restarts, delayMs } = ctx.settings.reconnect;
  let server = await startServer({ verify: ctx.verify });
  const port = server.port;
  const url = `ws://127.0.0.1:${port}/${ctx.circle}`;
  const killToReady = Object.fromEntries(names.map((name) => [name, []]));
  const listenToReady = Object.fromEntries(names.map((name) => [name, []]));
  const attempts = Object.fromEntries(names.map((name) => [name, []]));
  const serverDown = [];
  try {
    for (let restart = 0; restart < restarts; restart++) {
      for (const name of rotation(names, restart)) {
        const session = contenders[name].create(url, { ...ctx.keypair, reconnectDelayMs: delayMs });
        await withDeadline(session.connect(), 10_000, `${name} connect`);
        const readyAt = [];
        session.onReady(() => readyAt.push(performance.now()));
        const attemptsBefore = session.attempts;
        const killedAt = await server.kill();
        server = await startServer({ port, verify: ctx.verify });
        serverDown.push(server.listeningAt - killedAt);
        await withDeadline(
          (async () => {
            while (!readyAt.some((at) => at > killedAt)) await new Promise((resolve) => setTimeout(resolve, 1));
          })(),
          20_000,
          `${name} reconnect`,
        );
        const readyTime = readyAt.find((at) => at > killedAt);
        killToReady[name].push(readyTime - killedAt);
        listenToReady[name].push(readyTime - server.listeningAt);
        attempts[name].push(session.attempts - attemptsBefore);
        await session.close();
      }
    }
  } finally {
    await server.stop();
  }
  const results = {};
  const ratios = {};
  for (const name of names) {
    results[name] = {
      n: killToReady[name].length,
      killToReadyP50: median(killToReady[name]),
      listenToReadyP50: median(listenToReady[name]),
      attemptsP50: median(attempts[name]),
      delayMs,
    };
  }
  for (const name of names) {
    if (name === RAW) continue;
    ratios[name] = {
      killToReadyP50: results[name].killToReadyP50 / results[RAW].killToReadyP50,
      listenToReadyP50: results[name].listenToReadyP50 / results[RAW].listenToReadyP50,
    };
  }
  return {
    title: 'Reconnect: server restart to ready again',
    unit: 'ms',
    better: 'lower',
    backoff: `a constant ${delayMs} ms before every attempt, no jitter (${OURS}: withReconnect({ initialDelayMs: ${delayMs}, maxDelayMs: ${delayMs}, multiplier: 1, jitter: 0 }); raw: the same; ${PEER}: reconnect_interval ${delayMs})`,
    serverDownP50: median(serverDown),
    results,
    ratios,
    notes: `Restart = SIGKILL of the server child, then a new child on the same port. ${PEER} is ready when its socket is open (it does not authenticate).`,
  };
}

const loadNow = () => loadavg().map((x) => Math.round(x * 100) / 100);

/**
 * One contender connecting every circle of `urls` at once, timed from the first connect to the
 * last circle ready; fails unless every circle is ready. Then everything is closed and the server
 * drained, outside the timing. Resolves with the wall time and the client CPU time, in ms.
 */
async function connectEveryCircle(name, urls, keypair, server) {
  let elapsed;
  let cpu;
  if (name === RAW) {
    const clients = urls.map((url) => new RawClient(url, keypair));
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    await Promise.all(clients.map((client) => client.connect()));
    elapsed = performance.now() - start;
    cpu = process.cpuUsage(cpuBefore);
    const ready = clients.filter((client) => client.isOpen).length;
    if (ready !== urls.length) throw new Error(`raw: ${ready} of ${urls.length} circles ready`);
    await Promise.all(clients.map((client) => client.close()));
  } else {
    const manager = buildManager(keypair.privateKey, urls);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const report = await manager.connectAll({ timeoutMs: 120_000 });
    elapsed = performance.now() - start;
    cpu = process.cpuUsage(cpuBefore);
    const failed = Object.values(report).filter((result) => !result.ok);
    if (failed.length) throw new Error(`${OURS}: ${failed.length} of ${urls.length} circles failed, the first: ${failed[0].error.message}`);
    const ready = readyCount(manager);
    if (ready !== urls.length) throw new Error(`${OURS}: the manager is ${manager.status.state} with ${ready} of ${urls.length} circles authenticated`);
    await manager.disconnectAll();
  }
  await server.drained();
  return { elapsed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function runManyMemoryChild(contender, urlsFile, idleMs, warmup) {
  const args = ['--contender', contender, '--urls', urlsFile, '--idle-ms', String(idleMs), '--warmup', String(warmup)];
  const child = fork(MANY_MEMORY_CHILD, args, { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let result = null;
  child.on('message', (message) => {
    if (message?.type === 'result') result = message.result;
  });
  const done = new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`the many-circles memory child (${contender}) exited with code ${code}`));
    });
  });
  return withDeadline(done, 300_000, `many-circles memory ${contender}`).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
}

/**
 * Figure 8: many circles in one process against one reference server serving every circle's key.
 * (a) `connectAll()` of a manager of N circles until every circle is ready, against N raw clients
 * connecting at once, alternating, in this process; (b) heap per circle once all are ready and
 * idle, in a fresh child process per contender. Information only: no target.
 */
export async function figureManyCircles(ctx) {
  const { circles: count, rounds, warmupCircles, idleMs } = ctx.settings.manyCircles;
  const names = [RAW, OURS];
  const loadAtStart = loadNow();
  const keys = circleKeys(count);
  // The margin: a socket the server has not yet seen close must not get a round's last circle refused (503).
  const maxConnections = count + 100;
  const server = await startReferenceServer({ circles: keys, maxConnections });
  const urls = keys.map((key) => `ws://127.0.0.1:${server.port}/${key}`);
  const dir = mkdtempSync(join(tmpdir(), 'circle-ws-bench-'));
  const urlsFile = join(dir, 'urls.json');
  writeFileSync(urlsFile, JSON.stringify(urls));
  const wall = Object.fromEntries(names.map((name) => [name, []]));
  const cpuMs = Object.fromEntries(names.map((name) => [name, []]));
  const memory = {};
  try {
    for (const name of names) await connectEveryCircle(name, urls.slice(0, warmupCircles), ctx.keypair, server);
    for (let round = 0; round < rounds; round++) {
      for (const name of rotation(names, round)) {
        collectGarbage();
        const { elapsed, cpuMs: used } = await withDeadline(connectEveryCircle(name, urls, ctx.keypair, server), 300_000, `${name} ${count} circles`);
        wall[name].push(elapsed);
        cpuMs[name].push(used);
        ctx.log?.(`figure 8: round ${round + 1}, ${name}: ${count} circles ready in ${elapsed.toFixed(0)} ms (client CPU ${used.toFixed(0)} ms)`);
      }
    }
    for (const name of names) {
      memory[name] = await runManyMemoryChild(name === RAW ? 'raw' : 'manager', urlsFile, idleMs, warmupCircles);
      ctx.log?.(`figure 8: memory, ${name}: ${(memory[name].heapPerCircle / 1024).toFixed(2)} KiB heap per circle`);
      await server.drained();
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const results = {};
  for (const name of names) {
    results[name] = {
      circles: count,
      ready: memory[name].ready,
      connectAllMs: { median: median(wall[name]), min: Math.min(...wall[name]), max: Math.max(...wall[name]), perRound: wall[name] },
      cpuMsPerCircle: median(cpuMs[name]) / count,
      heapPerCircle: memory[name].heapPerCircle,
      rssPerCircle: memory[name].rssPerCircle,
      idleMs,
    };
  }
  results[PEER] = null;
  return {
    title: `Many circles in one process: ${count} circles, one reference server`,
    unit: 'ms, bytes/circle',
    better: 'lower',
    target: null,
    circles: count,
    rounds,
    allReady: true,
    server: { maxConnections, circles: count, handshakeTimeoutMs: 120_000, process: 'child process (bench/reference-server.mjs): createCircleServer from dist/, verifying every signature' },
    loadAverage: { atStart: loadAtStart, atEnd: loadNow() },
    results,
    ratios: {
      [OURS]: {
        connectAllMs: results[OURS].connectAllMs.median / results[RAW].connectAllMs.median,
        pairedConnectAllMs: pairedRatio(wall[OURS], wall[RAW]),
        cpuPerCircle: results[OURS].cpuMsPerCircle / results[RAW].cpuMsPerCircle,
        heapPerCircle: results[OURS].heapPerCircle / results[RAW].heapPerCircle,
        rssPerCircle: results[OURS].rssPerCircle / results[RAW].rssPerCircle,
      },
      [PEER]: null,
    },
    notes:
      `${OURS}: a CircleWsManager of ${count} circles with one key pair, keep-alive and reconnection off, connect and handshake deadlines 120 s (the raw client has none; the default 10 s is too short for the last of ${count} handshakes queued at one server on a loaded machine), connectAll({ timeoutMs: 120000 }); ` +
      `raw: ${count} hand-written clients (bench/lib/contenders.mjs) sharing the key pair, connected at once with Promise.all. ` +
      'Timed from the first connect to every circle ready (every circle checked: the figure fails otherwise); client CPU = process.cpuUsage() over the same span. ' +
      `${rounds} rounds alternating, after a warm-up of ${warmupCircles} circles each. ` +
      `Memory: a fresh --expose-gc process per contender (bench/manager-memory-child.mjs), every circle connected at once, ${idleMs / 1000} s idle, garbage collected, (after − before) / N. No target: information only.`,
  };
}

/** Minified bytes in the bundle per package (this package's own files as "circle-ws-client"). */
function compositionOf(metafile) {
  const bytes = {};
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const owner = match ? match[1] : path.startsWith('dist/') ? OURS : 'entry';
      bytes[owner] = (bytes[owner] ?? 0) + bytesInOutput;
    }
  }
  return Object.fromEntries(Object.entries(bytes).sort((a, b) => b[1] - a[1]));
}

/**
 * How a browser bundler resolves this package: the `browser` condition of its `exports` (and of
 * `#transport` in its `imports`), as Vite and webpack do. esbuild with platform browser already
 * matches `browser`, `import` and `default`; `module` is the extra condition both bundlers add,
 * and mainFields browser/module/main is their order for packages without `exports`.
 */
const BROWSER_RESOLUTION = { platform: 'browser', conditions: ['module'], mainFields: ['browser', 'module', 'main'] };
/** The package's runtime dependencies: external when the package's own code is measured alone. */
const DEPENDENCIES = ['xstate', '@noble/hashes', '@noble/secp256k1'];

async function bundleOf(esbuild, contents, { minify = true, external = [] } = {}) {
  const output = await esbuild.build({
    stdin: { contents, resolveDir: ROOT, sourcefile: 'bench-entry.mjs', loader: 'js' },
    bundle: true,
    minify,
    format: 'esm',
    target: 'es2022',
    ...BROWSER_RESOLUTION,
    external: external.flatMap((name) => [name, `${name}/*`]),
    write: false,
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  const code = output.outputFiles[0].contents;
  return { code, text: output.outputFiles[0].text, minified: code.length, gzipped: gzipSync(code, { level: 9 }).length, metafile: output.metafile };
}

/**
 * An entry importing, from the package's dependencies, exactly what the package's code kept in a
 * bundle imports from them: read from the import statements esbuild leaves when the dependencies
 * are external (only those that survived tree shaking; a namespace import becomes the members
 * the code reads from it).
 */
export function dependencyEntry(externalBundleText) {
  const lines = [];
  const kept = [];
  let n = 0;
  const local = () => `d${n++}`;
  for (const match of externalBundleText.matchAll(/^import\s+(.+?)\s+from\s+"([^"]+)";$/gm)) {
    const [, clause, source] = match;
    const specifiers = [];
    let rest = clause.trim();
    const namespace = /^\*\s+as\s+([\w$]+)$/.exec(rest);
    if (namespace) {
      const members = new Set([...externalBundleText.matchAll(new RegExp(`(?<![\\w$.])${namespace[1].replace('$', '\\$')}\\.([\\w$]+)`, 'g'))].map((m) => m[1]));
      for (const member of members) specifiers.push(member);
    } else {
      const defaultName = /^([\w$]+)\s*(,|$)/.exec(rest);
      if (defaultName) {
        specifiers.push('default');
        rest = rest.slice(defaultName[0].length).trim();
      }
      const named = /^\{([^}]*)\}$/.exec(rest);
      if (named) for (const part of named[1].split(',').map((x) => x.trim()).filter(Boolean)) specifiers.push(part.split(/\s+as\s+/)[0]);
    }
    if (specifiers.length === 0) {
      lines.push(`import ${JSON.stringify(source)};`);
      continue;
    }
    const pairs = specifiers.map((name) => [name, local()]);
    lines.push(`import { ${pairs.map(([name, as]) => `${name} as ${as}`).join(', ')} } from ${JSON.stringify(source)};`);
    kept.push(...pairs.map(([, as]) => as));
  }
  lines.push(`globalThis.bench = [${kept.join(', ')}];`);
  return `${lines.join('\n')}\n`;
}

/** Figure 7: browser bundle, minified and gzipped (needs esbuild), resolved as Vite and webpack resolve it. */
export async function figureBundle() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return { title: 'Browser bundle (minified, gzipped)', unit: 'bytes', available: false, reason: 'esbuild is not installed' };
  }
  const entries = {
    [OURS]: {
      description: "import { CircleWsClient, generateKeypair } from 'circle-ws-client' (tree-shaken)",
      contents: `import { CircleWsClient, generateKeypair } from 'circle-ws-client';\nglobalThis.bench = [CircleWsClient, generateKeypair];\n`,
    },
    [`${OURS} (whole entry)`]: { description: "export * from 'circle-ws-client'", contents: `export * from 'circle-ws-client';\n` },
    [PEER]: { description: "import { Client } from 'rpc-websockets' (its browser build)", contents: `import { Client } from 'rpc-websockets';\nglobalThis.bench = Client;\n` },
  };
  const results = {};
  for (const [key, entry] of Object.entries(entries)) {
    const bundle = await bundleOf(esbuild, entry.contents);
    results[key] = { description: entry.description, minified: bundle.minified, gzipped: bundle.gzipped, composition: compositionOf(bundle.metafile) };
  }
  // The package's own code, gzipped: the whole bundle less a bundle of the same dependency
  // imports alone (what gzip charges for the package's code next to its dependencies). Beside it,
  // the package's modules bundled alone with the dependencies external.
  const ours = entries[OURS].contents;
  const withExternals = await bundleOf(esbuild, ours, { minify: false, external: DEPENDENCIES });
  const dependenciesEntry = dependencyEntry(withExternals.text);
  const dependenciesAlone = await bundleOf(esbuild, dependenciesEntry);
  const ownAlone = await bundleOf(esbuild, ours, { external: DEPENDENCIES });
  results[OURS].ownCode = {
    gzippedMarginal: results[OURS].gzipped - dependenciesAlone.gzipped,
    dependenciesAloneGzipped: dependenciesAlone.gzipped,
    dependenciesAloneMinified: dependenciesAlone.minified,
    ownAloneGzipped: ownAlone.gzipped,
    ownAloneMinified: ownAlone.minified,
    dependencyImports: dependenciesEntry,
  };
  results[RAW] = null;
  return {
    title: 'Browser bundle (minified, gzipped)',
    unit: 'bytes',
    better: 'lower',
    available: true,
    esbuild: esbuild.version,
    resolution: BROWSER_RESOLUTION,
    results,
    ratios: { [OURS]: null, [`${OURS} to ${PEER}`]: { gzipped: results[OURS].gzipped / results[PEER].gzipped } },
    notes:
      "esbuild, ESM, minified, target es2022, gzip level 9, resolved as Vite and webpack resolve a browser build (platform browser: the `browser`, `import` and `default` conditions, plus `module`; mainFields browser, module, main), the package imported by its name. " +
      "The package's own code, gzipped = gzip(bundle) − gzip(a bundle of the same dependency imports alone). The raw client has no browser build (n/a).",
  };
}
