/**
 * Writes the figures of a bench run into docs/performance.md, between the markers
 *   <!-- bench:begin --> … <!-- bench:end -->
 * leaving the hand-written text around them alone.
 *
 *   node bench/docs.mjs                       # from bench/results/latest.json (+ profile.json and
 *                                             # profile-connect.json, when present)
 *   node bench/docs.mjs --results FILE        # another results file
 *   node bench/docs.mjs --results A --runs A,B,C
 *                                             # the tables of A, and the spread of every figure
 *                                             # and target over the full runs A, B and C
 *
 * A --quick run is refused: the document carries the figures of a full run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { OURS, PEER, RAW } from './lib/contenders.mjs';
import { rowsOf, targetRows } from './lib/report.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOC = resolve(ROOT, 'docs/performance.md');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';

const { values } = parseArgs({
  options: {
    results: { type: 'string', default: resolve(ROOT, 'bench/results/latest.json') },
    profile: { type: 'string', default: resolve(ROOT, 'bench/results/profile.json') },
    'profile-connect': { type: 'string', default: resolve(ROOT, 'bench/results/profile-connect.json') },
    runs: { type: 'string' },
    'allow-quick': { type: 'boolean', default: false },
  },
});

const report = JSON.parse(readFileSync(values.results, 'utf8'));
if (report.mode !== 'full' && !values['allow-quick']) throw new Error(`${values.results} is a ${report.mode} run; docs/performance.md takes a full run`);
const runFiles = values.runs ? values.runs.split(',').map((path) => resolve(path)) : [resolve(values.results)];
const runs = runFiles.map((path) => JSON.parse(readFileSync(path, 'utf8')));
for (const [i, run] of runs.entries()) if (run.mode !== 'full' && !values['allow-quick']) throw new Error(`${runFiles[i]} is a ${run.mode} run`);
const readIfThere = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null);
const profile = readIfThere(values.profile);
const profileConnect = readIfThere(values['profile-connect']);

function table(header, rows) {
  const escape = (cell) => String(cell).replaceAll('|', '\\|');
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

const m = report.machine;
const f = report.figures;
const lines = [];
const dirty = report.package.uncommittedSourceChanges ? ' (dist/ built with uncommitted work of others in src/ or machines/)' : '';
lines.push(`Run of ${report.date.slice(0, 16).replace('T', ' ')} UTC (${report.mode} mode, ${report.durationSeconds} s), commit \`${report.package.commit ?? 'unknown'}\`${dirty}, command \`${report.command}\`.`);
lines.push('');
lines.push(`Machine: ${m.cpus} × ${m.cpuModel}, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node} (V8 ${m.v8}), open-files limit ${m.openFilesLimit}, load average ${m.loadAverageAtStart.join(' / ')} at the start and ${(m.loadAverageAtEnd ?? []).join(' / ')} at the end (1/5/15 min; the machine is shared). ` +
  `ws ${report.environment.ws}, xstate ${report.environment.xstate}, rpc-websockets ${report.contenders[PEER].version}.`);
lines.push('');
const { header, rows } = rowsOf(report);
lines.push(table(header, rows));
lines.push('');
lines.push('Targets (issue 11), judged on this run:');
lines.push('');
lines.push(table(['target', 'limit', 'this run', ''], targetRows(report).map((row) => [...row.slice(0, 3), row[3] === 'met' ? 'met' : '**not met**'])));
lines.push('');
const details = [];
if (f.connect) details.push(`Figure 1: ${f.connect.results[RAW].n} connections per contender. ${f.connect.notes}`);
if (f.connectNoVerify) details.push(`Figure 1, second line: ${f.connectNoVerify.results[RAW].n} connections per contender. ${f.connectNoVerify.notes}`);
if (f.sequential) details.push(`Figure 2: ${f.sequential.results[RAW].n} calls per contender.`);
if (f.throughput) {
  const depth = Object.keys(f.throughput.byDepth).at(-1);
  const r = f.throughput.byDepth[depth].results;
  details.push(`Figures 3–4: ${r[RAW].calls} calls per contender and depth, in ${r[RAW].rounds} rounds; medians over rounds (at ${depth} in flight, raw ranged ${Math.round(r[RAW].min)}–${Math.round(r[RAW].max)} calls/s, ${OURS} ${Math.round(r[OURS].min)}–${Math.round(r[OURS].max)}).`);
}
if (f.memory) details.push(`Figure 5: ${f.memory.notes}`);
if (f.memory?.unconnected) details.push(`Figure 5, never-connected client: ${f.memory.unconnected.count} instances each; ${f.memory.unconnected.notes}`);
if (f.reconnect) {
  details.push(`Figure 6: ${f.reconnect.results[RAW].n} restarts per contender; backoff in force: ${f.reconnect.backoff}. The server child took ${f.reconnect.serverDownP50.toFixed(0)} ms (p50) from the kill to listening again. ${f.reconnect.notes}`);
}
if (f.bundle) {
  if (f.bundle.available) {
    const parts = (key) =>
      Object.entries(f.bundle.results[key].composition ?? {})
        .filter(([name]) => name !== 'entry')
        .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`)
        .join(', ');
    details.push(`Figure 7: esbuild ${f.bundle.esbuild}; ${f.bundle.notes} Minified bytes by package: ${OURS} bundle: ${parts(OURS)}; ${PEER} bundle: ${parts(PEER)}.`);
  } else details.push(`Figure 7: n/a (${f.bundle.reason}).`);
}
for (const detail of details) lines.push(`- ${detail}`);

/** The number in a formatted cell ("1.05×", "49,811", "3.2 KiB"), or null. */
const numberIn = (cell) => {
  const match = /-?[\d,]*\.?\d+/.exec(String(cell ?? ''));
  return match ? Number(match[0].replaceAll(',', '')) : null;
};
const range = (xs, digits) => {
  const present = xs.filter((x) => x !== null && Number.isFinite(x));
  if (present.length === 0) return 'n/a';
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  const show = (x) => (Math.abs(x) >= 10_000 ? Math.round(x).toLocaleString('en-US') : x.toFixed(digits));
  return lo === hi ? show(lo) : `${show(lo)}–${show(hi)}`;
};
if (runs.length > 1) {
  lines.push('');
  lines.push(
    `Spread over ${runs.length} full runs (${runs.map((run) => `${run.date.slice(11, 16)} UTC, load ${run.machine.loadAverageAtStart[0]}→${(run.machine.loadAverageAtEnd ?? ['?'])[0]}`).join('; ')}): ` +
      `each figure of ${OURS} and its ratio to raw, min–max over the runs, and the ratio of each run in order. ` +
      'Within a run, figures 3–4 are medians over rounds and their per-round paired ratios are in the JSON (`pairedRatios`, `perRound`).',
  );
  lines.push('');
  const byRun = runs.map((run) => new Map(rowsOf(run).rows.map((row) => [row[0], row])));
  const spreadRows = [];
  for (const [label] of byRun[0]) {
    const cells = byRun.map((rows) => rows.get(label));
    if (cells.some((row) => row === undefined)) continue;
    const ours = cells.map((row) => numberIn(row[2]));
    const ratios = cells.map((row) => (String(row[3]).endsWith('×') ? numberIn(row[3]) : null));
    if (ours.every((x) => x === null)) continue;
    const largest = Math.max(...ours.filter((x) => x !== null).map((x) => Math.abs(x)));
    const digits = largest >= 100 ? 0 : largest >= 10 ? 1 : 2;
    spreadRows.push([label, range(ours, digits), range(ratios, 2), ratios.every((x) => x === null) ? '' : ratios.map((x) => (x === null ? 'n/a' : x.toFixed(2))).join(', ')]);
  }
  lines.push(table(['figure', `${OURS} (min–max)`, '÷ raw (min–max)', '÷ raw, run by run'], spreadRows));
  lines.push('');
  const targetsBy = runs.map((run) => new Map(run.targets.map((t) => [t.id, t])));
  const targetSpread = report.targets.map((t) => {
    const values = targetsBy.map((m) => m.get(t.id)?.value ?? null);
    const met = targetsBy.map((m) => m.get(t.id)?.met);
    const unit = t.unit === 'KiB' ? ' KiB' : '×';
    return [t.label, `${t.comparison === '>=' ? '≥' : '≤'} ${t.limit}${unit}`, `${range(values, 2)}${unit}`, `${met.filter(Boolean).length} of ${runs.length}`];
  });
  lines.push(`Targets over the ${runs.length} runs:`);
  lines.push('');
  lines.push(table(['target', 'limit', 'min–max', 'met in'], targetSpread));
}

/**
 * A profile row's function and file, without the line number: the sources move (the client is
 * being split up), and a line number in a document goes stale where a name does not.
 */
function named(row) {
  const file = String(row.source).replace(/:\d+(:\d+)?$/, '');
  const fn = row.function === '(anonymous)' ? '(an anonymous function)' : row.function === '<instance_members_initializer>' ? '(class field initialisers)' : row.function;
  return [fn, file];
}

/** The profile tables of one case (pipelined or connect). */
function profileSection(summary, what) {
  const out = [];
  out.push(`Profile of ${what} (\`${summary.case === 'connect' ? 'node bench/profile.mjs --case connect' : 'npm run bench:profile'}\`, ${summary.date.slice(0, 16).replace('T', ' ')} UTC, \`node --cpu-prof\`, the raw floor profiled the same way): self time per ${summary.unit} by category:`);
  out.push('');
  out.push(table(['category', `raw µs/${summary.unit}`, `${OURS} µs/${summary.unit}`, `${OURS} share`], summary.categories.map((c) => [c.category, c['raw µs/op'], c['ours µs/op'], `${c['ours %']} %`])));
  out.push('');
  const ours = summary.profiles[OURS].analysis;
  const attributed = new Map(ours.packageAttributed.map((row) => [`${row.function} ${row.source}`, row]));
  out.push(`The package's own functions by self time ("+ callees" adds the builtins and Node internals each calls directly: timers, Map, Promise, JSON):`);
  out.push('');
  out.push(table(['function', 'file', 'self ms', 'self %', '+ callees ms'], ours.packageSelf.slice(0, 12).map((row) => [...named(row), row.ms, `${row.percent} %`, attributed.get(`${row.function} ${row.source}`)?.ms ?? ''])));
  if (summary.case === 'connect') {
    out.push('');
    out.push('xstate functions by self time:');
    out.push('');
    out.push(table(['function', 'file', 'self ms', 'self %'], ours.xstateSelf.slice(0, 8).map((row) => [...named(row), row.ms, `${row.percent} %`])));
  }
  return out;
}

if (profile) {
  lines.push('');
  lines.push(...profileSection(profile, `${profile.count} pipelined calls with ${profile.depth} in flight`));
}
if (profileConnect) {
  lines.push('');
  lines.push(...profileSection(profileConnect, `${profileConnect.count} connect-and-authenticate + disconnect in a row (build() included)`));
}

const sources = [...new Set([resolve(values.results), ...runFiles])].map((path) => relative(ROOT, path)).join(', ');
const generated = `${BEGIN}\n<!-- Generated by \`node bench/docs.mjs\` from ${sources}; edit the text outside these markers. -->\n\n${lines.join('\n')}\n\n${END}`;
const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : `# Performance\n\n${BEGIN}\n${END}\n`;
const start = current.indexOf(BEGIN);
const end = current.indexOf(END);
if (start === -1 || end === -1 || end < start) throw new Error(`${DOC} has no ${BEGIN} … ${END} section`);
writeFileSync(DOC, current.slice(0, start) + generated + current.slice(end + END.length));
console.log(`wrote ${DOC}`);
