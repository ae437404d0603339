/**
 * The results as rows (shared by the stdout table and docs/performance.md).
 */
import { OURS, PEER, RAW } from './contenders.mjs';

const KiB = 1024;

function fmt(value, digits = 3) {
  if (value === null || value === undefined) return 'n/a';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 10_000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(digits - 2);
  if (abs >= 1) return value.toFixed(digits - 1);
  return value.toFixed(digits);
}

function ratio(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return `${value.toFixed(2)}×`;
}

/**
 * One row per measured quantity: [figure, raw, ours, ours ÷ raw, peer, peer ÷ raw].
 * @returns {{ header: string[], rows: string[][] }}
 */
export function rowsOf(report) {
  const f = report.figures;
  const rows = [];
  for (const [figure, label] of [
    [f.connect, '1. connect + authenticate'],
    [f.connectNoVerify, '1. connect + authenticate, server not verifying,'],
  ]) {
    if (!figure) continue;
    const { results: r, ratios: q } = figure;
    rows.push([`${label} p50 (ms)`, fmt(r[RAW].p50), fmt(r[OURS].p50), ratio(q[OURS].p50), 'n/a', 'n/a']);
    rows.push([`${label} p99 (ms)`, fmt(r[RAW].p99), fmt(r[OURS].p99), ratio(q[OURS].p99), 'n/a', 'n/a']);
  }
  if (f.sequential) {
    const { results: r, ratios: q } = f.sequential;
    for (const p of ['p50', 'p99']) {
      rows.push([`2. sequential round trip ${p} (µs)`, fmt(r[RAW][p] * 1000), fmt(r[OURS][p] * 1000), ratio(q[OURS][p]), fmt(r[PEER][p] * 1000), ratio(q[PEER][p])]);
    }
  }
  if (f.throughput) {
    for (const [depth, { results: r, ratios: q }] of Object.entries(f.throughput.byDepth)) {
      rows.push([`3. pipelined, ${depth} in flight (calls/s)`, fmt(r[RAW].median), fmt(r[OURS].median), ratio(q[OURS]), fmt(r[PEER].median), ratio(q[PEER])]);
    }
  }
  if (f.cpu) {
    for (const [depth, { results: r, ratios: q }] of Object.entries(f.cpu.byDepth)) {
      const mark = Number(depth) === f.cpu.depth ? '4.' : '  ';
      rows.push([`${mark} client CPU per call, ${depth} in flight (µs)`, fmt(r[RAW].median), fmt(r[OURS].median), ratio(q[OURS]), fmt(r[PEER].median), ratio(q[PEER])]);
    }
  }
  if (f.memory) {
    for (const [count, { results: r, ratios: q }] of Object.entries(f.memory.byCount)) {
      const ka = `${OURS}+keepalive`;
      rows.push([`5. heap per idle client, ${count} clients (KiB)`, fmt(r[RAW].heapPerClient / KiB), fmt(r[OURS].heapPerClient / KiB), ratio(q[OURS].heapPerClient), 'n/a', 'n/a']);
      rows.push([`5.   heap, keep-alive on, ${count} clients (KiB)`, fmt(r[RAW].heapPerClient / KiB), fmt(r[ka].heapPerClient / KiB), ratio(q[ka].heapPerClient), 'n/a', 'n/a']);
      rows.push([`5. RSS per idle client, ${count} clients (KiB)`, fmt(r[RAW].rssPerClient / KiB), fmt(r[OURS].rssPerClient / KiB), ratio(q[OURS].rssPerClient), 'n/a', 'n/a']);
      rows.push([`5.   RSS, keep-alive on, ${count} clients (KiB)`, fmt(r[RAW].rssPerClient / KiB), fmt(r[ka].rssPerClient / KiB), ratio(q[ka].rssPerClient), 'n/a', 'n/a']);
    }
    const u = f.memory.unconnected;
    if (u) {
      rows.push([`5. heap per built, never-connected client (KiB)`, 'n/a', fmt(u.client.heapPerInstance / KiB), '', 'n/a', 'n/a']);
      rows.push([`5.   one started bare actor of the machine (KiB)`, 'n/a', fmt(u.actor.heapPerInstance / KiB), '', 'n/a', 'n/a']);
      rows.push([`5.   client above its actor (KiB)`, 'n/a', fmt(u.heapAboveActor / KiB), '', 'n/a', 'n/a']);
    }
  }
  if (f.reconnect) {
    const { results: r, ratios: q } = f.reconnect;
    rows.push([`6. reconnect, kill → ready p50 (ms)`, fmt(r[RAW].killToReadyP50), fmt(r[OURS].killToReadyP50), ratio(q[OURS].killToReadyP50), fmt(r[PEER].killToReadyP50), ratio(q[PEER].killToReadyP50)]);
    rows.push([`6. reconnect, listening → ready p50 (ms)`, fmt(r[RAW].listenToReadyP50), fmt(r[OURS].listenToReadyP50), ratio(q[OURS].listenToReadyP50), fmt(r[PEER].listenToReadyP50), ratio(q[PEER].listenToReadyP50)]);
    rows.push([`6. reconnect attempts p50 (delay ${r[RAW].delayMs} ms each)`, fmt(r[RAW].attemptsP50), fmt(r[OURS].attemptsP50), '', fmt(r[PEER].attemptsP50), '']);
  }
  if (f.bundle) {
    if (f.bundle.available) {
      const r = f.bundle.results;
      const toPeer = f.bundle.ratios[`${OURS} to ${PEER}`].gzipped;
      rows.push(['7. browser bundle, min+gzip (bytes)', 'n/a', fmt(r[OURS].gzipped), 'n/a', fmt(r[PEER].gzipped), `ours ${toPeer.toFixed(2)}× peer`]);
      rows.push(['7.   minified (bytes)', 'n/a', fmt(r[OURS].minified), 'n/a', fmt(r[PEER].minified), '']);
      rows.push(["7.   the package's own code, gzipped (bytes)", 'n/a', fmt(r[OURS].ownCode.gzippedMarginal), 'n/a', '', '']);
      rows.push(['7.   its dependency imports alone, min+gzip (bytes)', 'n/a', fmt(r[OURS].ownCode.dependenciesAloneGzipped), 'n/a', '', '']);
      rows.push(["7.   the package's modules alone, deps external, min+gzip (bytes)", 'n/a', fmt(r[OURS].ownCode.ownAloneGzipped), 'n/a', '', '']);
      rows.push(['7.   whole entry, min+gzip (bytes)', 'n/a', fmt(r[`${OURS} (whole entry)`].gzipped), 'n/a', '', '']);
    } else {
      rows.push(['7. browser bundle, min+gzip (bytes)', 'n/a', 'n/a', 'n/a', 'n/a', `(${f.bundle.reason})`]);
    }
  }
  if (f.manyCircles) {
    // Information, no target: the manager against as many raw clients, one reference server.
    const { results: r, ratios: q, circles } = f.manyCircles;
    const n = circles.toLocaleString('en-US');
    rows.push([`8. connectAll, ${n} circles, to all ready p50 (ms)`, fmt(r[RAW].connectAllMs.median), fmt(r[OURS].connectAllMs.median), ratio(q[OURS].connectAllMs), 'n/a', 'n/a']);
    rows.push([`8.   client CPU per circle while connecting (µs)`, fmt(r[RAW].cpuMsPerCircle * 1000), fmt(r[OURS].cpuMsPerCircle * 1000), ratio(q[OURS].cpuPerCircle), 'n/a', 'n/a']);
    rows.push([`8. heap per ready idle circle, ${n} circles (KiB)`, fmt(r[RAW].heapPerCircle / KiB), fmt(r[OURS].heapPerCircle / KiB), ratio(q[OURS].heapPerCircle), 'n/a', 'n/a']);
    rows.push([`8.   RSS per ready idle circle, ${n} circles (KiB)`, fmt(r[RAW].rssPerCircle / KiB), fmt(r[OURS].rssPerCircle / KiB), ratio(q[OURS].rssPerCircle), 'n/a', 'n/a']);
  }
  return { header: ['figure', RAW, OURS, '÷ raw', PEER, '÷ raw'], rows };
}

/** One row per target: [target, limit, this run's value, met or NOT met]. */
export function targetRows(report) {
  const shown = (t, value) => (t.unit === 'KiB' ? `${value.toFixed(2)} KiB` : ratio(value));
  return report.targets.map((t) => [
    t.label + (t.clients ? ` (${t.clients} clients)` : ''),
    `${t.comparison === '>=' ? '≥' : '≤'} ${t.unit === 'KiB' ? `${t.limit} KiB` : `${t.limit}×`}`,
    shown(t, t.value),
    t.met ? 'met' : 'NOT met',
  ]);
}

function pad(table) {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => [...(row[i] ?? '')].length)));
  return table.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ')).join('\n');
}

export function printTable(report) {
  const { header, rows } = rowsOf(report);
  const m = report.machine;
  console.log(`\ncircle-ws-client bench (${report.mode}) — ${report.date}`);
  console.log(`${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.os}\n`);
  console.log(pad([header, ...rows]));
  const many = report.figures.manyCircles;
  if (many) {
    const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
    console.log(
      `\nFigure 8 is information, no target: ${OURS} is a CircleWsManager; every circle ready in every round (checked). ` +
        `Load average (1, 5, 15 min) ${load(many.loadAverage.atStart)} at its start, ${load(many.loadAverage.atEnd)} at its end.`,
    );
  }
  if (report.targets.length) {
    console.log('\nTargets (this run):');
    console.log(pad([['target', 'limit', 'this run', ''], ...targetRows(report)]));
  }
  console.log('');
}
