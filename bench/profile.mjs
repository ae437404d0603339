/**
 * Profiles circle-ws-client (dist/) on the pipelined case (256 in flight) with `node --cpu-prof`
 * and lists where its CPU goes, most of all the self time of the package's own functions
 * (mapped back to the TypeScript sources), apart from ws, xstate, JSON and Node internals.
 *
 *   npm run bench:profile                          # build, then 300,000 pipelined calls
 *   node bench/profile.mjs --count 100000          # on an existing build
 *   node bench/profile.mjs --case connect          # 2,000 connect-and-authenticate + close instead
 *
 * The raw floor client is profiled the same way first, for comparison. Writes
 * bench/results/{raw,circle-ws-client}-pipelined-256.cpuprofile (open them in Chrome DevTools or
 * speedscope) and bench/results/profile.json (the tables printed). The bench server runs in its
 * own, unprofiled child process.
 */
process.env.WS_NO_BUFFER_UTIL ??= '1';
process.env.WS_NO_UTF_8_VALIDATE ??= '1';

const { fork } = await import('node:child_process');
const { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
const { SourceMap } = await import('node:module');
const { relative, resolve } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { parseArgs } = await import('node:util');
const { startServer } = await import('./lib/server-process.mjs');

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RESULTS = resolve(ROOT, 'bench/results');
const { values } = parseArgs({
  options: {
    case: { type: 'string', default: 'pipelined' },
    count: { type: 'string' },
    depth: { type: 'string', default: '256' },
    top: { type: 'string', default: '15' },
  },
});
if (!['pipelined', 'connect'].includes(values.case)) throw new Error('--case takes pipelined or connect');
const COUNT = values.count ?? (values.case === 'connect' ? '2000' : '300000');
const CASE = values.case === 'connect' ? 'connect' : `pipelined-${values.depth}`;
const UNIT = values.case === 'connect' ? 'connect' : 'call';
const TOP = Number(values.top);

/** Which part of the process a call frame belongs to. */
function categoryOf(frame) {
  const { url, functionName } = frame;
  if (url.includes('/dist/src/') || url.includes('/dist/machines/')) return 'circle-ws-client';
  if (url.includes('/node_modules/xstate/')) return 'xstate';
  if (url.includes('/node_modules/ws/')) return 'ws';
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url.includes('/bench/lib/contenders.mjs')) return 'raw client / adapters';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(program)' || functionName === '(root)') return 'V8 (program)';
    return 'V8 builtins (JSON, Map, Promise…)';
  }
  return 'other';
}

const sourceMaps = new Map();
/** `src/client/client.ts:123` for a frame of dist/, when its source map says so. */
function sourceOf(frame) {
  if (!frame.url.startsWith('file://')) return frame.url;
  const path = fileURLToPath(frame.url);
  let map = sourceMaps.get(path);
  if (map === undefined) {
    map = null;
    try {
      if (existsSync(`${path}.map`)) map = new SourceMap(JSON.parse(readFileSync(`${path}.map`, 'utf8')));
    } catch {
      map = null;
    }
    sourceMaps.set(path, map);
  }
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry?.originalSource) {
    const original = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : resolve(path, '..', entry.originalSource);
    return `${relative(ROOT, original)}:${entry.originalLine + 1}`;
  }
  return `${relative(ROOT, path)}:${frame.lineNumber + 1}`;
}

function analyse(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfByNode = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + dt);
  });
  const key = (frame) => `${frame.functionName || '(anonymous)'}\u0000${frame.url}\u0000${frame.lineNumber}\u0000${frame.columnNumber}`;
  const self = new Map();
  const attributed = new Map();
  const inclusive = new Map();
  const categories = new Map();
  for (const [id, micros] of selfByNode) {
    const node = byId.get(id);
    const frame = node.callFrame;
    const category = categoryOf(frame);
    categories.set(category, (categories.get(category) ?? 0) + micros);
    if (category === 'idle') continue;
    total += micros;
    const k = key(frame);
    self.set(k, { frame, category, micros: (self.get(k)?.micros ?? 0) + micros });
    // Attributed: builtins and Node internals are charged to the nearest JavaScript caller of a library.
    let owner = node;
    while (owner && ['V8 builtins (JSON, Map, Promise…)', 'node internals'].includes(categoryOf(owner.callFrame))) {
      owner = byId.get(parentOf.get(owner.id));
    }
    if (owner && categoryOf(owner.callFrame) === 'circle-ws-client') {
      const ok = key(owner.callFrame);
      attributed.set(ok, { frame: owner.callFrame, category: 'circle-ws-client', micros: (attributed.get(ok)?.micros ?? 0) + micros });
    }
    // Inclusive: every package function on the stack, once.
    const seen = new Set();
    for (let at = node; at; at = byId.get(parentOf.get(at.id))) {
      if (categoryOf(at.callFrame) !== 'circle-ws-client') continue;
      const ik = key(at.callFrame);
      if (seen.has(ik)) continue;
      seen.add(ik);
      inclusive.set(ik, { frame: at.callFrame, category: 'circle-ws-client', micros: (inclusive.get(ik)?.micros ?? 0) + micros });
    }
  }
  const rows = (map, filter = () => true, limit = TOP) =>
    [...map.values()]
      .filter(filter)
      .sort((a, b) => b.micros - a.micros)
      .slice(0, limit)
      .map(({ frame, category, micros }) => ({
        function: frame.functionName || '(anonymous)',
        source: sourceOf(frame),
        category,
        ms: Math.round(micros / 100) / 10,
        percent: Math.round((micros / total) * 1000) / 10,
      }));
  return {
    busyMs: Math.round(total / 1000),
    categories: [...categories.entries()]
      .filter(([name]) => name !== 'idle')
      .sort((a, b) => b[1] - a[1])
      .map(([name, micros]) => ({ category: name, ms: Math.round(micros / 1000), percent: Math.round((micros / total) * 1000) / 10 })),
    packageSelf: rows(self, (row) => row.category === 'circle-ws-client'),
    // Longer, so every function of the self-time list can be looked up in it.
    packageAttributed: rows(attributed, () => true, 4 * TOP),
    packageInclusive: rows(inclusive),
    xstateSelf: rows(self, (row) => row.category === 'xstate'),
    overallSelf: rows(self),
  };
}

function print(title, list, columns) {
  console.log(`\n${title}`);
  if (list.length === 0) {
    console.log('  (none)');
    return;
  }
  const table = [columns, ...list.map((row) => columns.map((c) => String(row[c])))];
  const widths = columns.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  for (const row of table) console.log(`  ${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')}`);
}

/** Runs the workload of one contender under the profiler; resolves with its numbers. */
async function profileOne(contender, port) {
  const name = `${contender}-${CASE}.cpuprofile`;
  rmSync(resolve(RESULTS, name), { force: true });
  const target = fileURLToPath(new URL('./lib/profile-target.mjs', import.meta.url));
  const child = fork(target, ['--url', `ws://127.0.0.1:${port}/bench`, '--case', values.case, '--count', COUNT, '--depth', values.depth, '--contender', contender], {
    execArgv: ['--cpu-prof', `--cpu-prof-dir=${RESULTS}`, `--cpu-prof-name=${name}`, '--cpu-prof-interval=200'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let run;
  child.on('message', (message) => {
    if (message?.type === 'result') run = message;
  });
  const code = await new Promise((resolveExit) => child.once('exit', resolveExit));
  if (code !== 0 || !run) throw new Error(`the profiled process (${contender}) exited with code ${code}`);
  return { run, file: `bench/results/${name}`, analysis: analyse(JSON.parse(readFileSync(resolve(RESULTS, name), 'utf8'))) };
}

mkdirSync(RESULTS, { recursive: true });
const server = await startServer();
const profiles = {};
try {
  // The floor first, then the package: the same workload, the same server.
  for (const contender of ['raw', 'circle-ws-client']) profiles[contender] = await profileOne(contender, server.port);
} finally {
  await server.stop();
}

const ours = profiles['circle-ws-client'];
const raw = profiles.raw;
const perOp = (ms, run) => Math.round(((ms * 1000) / run.count) * 100) / 100;
const categories = [...new Set([...ours.analysis.categories, ...raw.analysis.categories].map((c) => c.category))].map((category) => {
  const o = ours.analysis.categories.find((c) => c.category === category)?.ms ?? 0;
  const r = raw.analysis.categories.find((c) => c.category === category)?.ms ?? 0;
  return { category, 'raw µs/op': perOp(r, raw.run), 'ours µs/op': perOp(o, ours.run), 'ours %': ours.analysis.categories.find((c) => c.category === category)?.percent ?? 0 };
});
const summary = { date: new Date().toISOString(), node: process.version, case: values.case, unit: UNIT, count: Number(COUNT), depth: values.case === 'connect' ? null : Number(values.depth), categories, profiles };
writeFileSync(resolve(RESULTS, values.case === 'connect' ? 'profile-connect.json' : 'profile.json'), `${JSON.stringify(summary, null, 2)}\n`);

for (const [name, { run }] of Object.entries(profiles)) {
  const what = values.case === 'connect' ? `${run.count} connect-and-authenticate + close` : `${run.count} pipelined calls with ${run.depth} in flight`;
  console.log(`${name}: ${what}, ${Math.round((run.count / run.elapsedMs) * 1000)}/s, ${run.cpuMicrosPerOp.toFixed(1)} µs CPU per ${UNIT} (under the profiler)`);
}
console.log('(self time is sampled over the whole process, start-up included; the raw client lives in bench/lib/contenders.mjs)');
print(`Self time by category, per ${UNIT}`, categories, ['category', 'raw µs/op', 'ours µs/op', 'ours %']);
print('circle-ws-client: package functions by self time (JSON.parse/stringify run inside decodeFrame/encodeRequest)', ours.analysis.packageSelf, ['function', 'source', 'ms', 'percent']);
print('circle-ws-client: package functions by self time + the builtins and Node internals they call directly', ours.analysis.packageAttributed.slice(0, TOP), ['function', 'source', 'ms', 'percent']);
print('circle-ws-client: package functions by inclusive time', ours.analysis.packageInclusive, ['function', 'source', 'ms', 'percent']);
print('circle-ws-client: xstate functions by self time', ours.analysis.xstateSelf, ['function', 'source', 'ms', 'percent']);
print('circle-ws-client: everything by self time', ours.analysis.overallSelf, ['function', 'source', 'category', 'ms', 'percent']);
print('raw: everything by self time', raw.analysis.overallSelf, ['function', 'source', 'category', 'ms', 'percent']);
console.log(`\nwrote ${raw.file}, ${ours.file} and bench/results/${values.case === 'connect' ? 'profile-connect.json' : 'profile.json'}`);
