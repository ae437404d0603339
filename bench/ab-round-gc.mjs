/**
 * A/B of the forced garbage collection before each contender's turn in the pipelined rounds
 * (figures 3–4): does it move the client-CPU-per-call ratio (circle-ws-client ÷ raw, 256 in
 * flight) by more than ±0.05? Rounds so short that a contender's garbage is collected inside the
 * next contender's turn (or never) make the ratio depend on it; rounds long enough to hold
 * several scavenges of their own do not care.
 *
 *   npm run build && node bench/ab-round-gc.mjs                      # shapes 20×5000, 5×20000, 4×50000
 *   node bench/ab-round-gc.mjs --shapes 20x5000,5x20000 --repeats 2
 *
 * On a shared machine, load moves run-to-run ratios by more than 0.05, so the A and the B are not
 * separate runs: in one process, with the same two sessions (on the verifying bench server, as
 * in the bench), every round runs raw and ours with the GC and raw and ours without it, in an
 * order rotating from round to round. Per shape and mode: the ratio of the medians over rounds
 * (what the bench reports) and the median of the per-round paired ratios. Writes
 * bench/results/ab-round-gc.json.
 */
process.env.WS_NO_BUFFER_UTIL ??= '1';
process.env.WS_NO_UTF_8_VALIDATE ??= '1';

const { writeFileSync, mkdirSync } = await import('node:fs');
const { loadavg } = await import('node:os');
const { resolve } = await import('node:path');
const { fileURLToPath } = await import('node:url');
const { parseArgs } = await import('node:util');
const { generateKeypair } = await import('circle-ws-client');
const { OURS, RAW } = await import('./lib/contenders.mjs');
const { openSessions, pipelined, rotation, withDeadline } = await import('./lib/figures.mjs');
const { startServer } = await import('./lib/server-process.mjs');
const { collectGarbage, exposeGc, median, pairedRatio } = await import('./lib/stats.mjs');

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = resolve(ROOT, 'bench/results/ab-round-gc.json');
const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: '20x5000,5x20000,4x50000' },
    repeats: { type: 'string', default: '1' },
    depth: { type: 'string', default: '256' },
  },
});
const shapes = values.shapes.split(',').map((shape) => shape.split('x').map(Number));
const repeats = Number(values.repeats);
const depth = Number(values.depth);
exposeGc();

const keypair = generateKeypair();
const server = await startServer({ verify: true });
const url = `ws://127.0.0.1:${server.port}/${keypair.publicKeyCompressed}`;
const names = [RAW, OURS];
const ctx = { url, keypair: { privateKey: keypair.privateKey, publicKey: keypair.publicKey } };
const report = { date: new Date().toISOString(), node: process.version, depth, loadAverageAtStart: loadavg(), shapes: [] };
try {
  const sessions = await openSessions(ctx, names);
  for (const name of names) await pipelined(sessions[name], 20_000, depth); // warm-up
  // The four turns of a round: each contender with the forced GC before its turn and without.
  const turns = names.flatMap((name) => [{ name, gc: true }, { name, gc: false }]);
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const [rounds, perRound] of shapes) {
      const cpu = { true: { [RAW]: [], [OURS]: [] }, false: { [RAW]: [], [OURS]: [] } };
      const rate = { true: { [RAW]: [], [OURS]: [] }, false: { [RAW]: [], [OURS]: [] } };
      const load = loadavg()[0];
      for (let round = 0; round < rounds; round++) {
        for (const turn of rotation(turns, round)) {
          if (turn.gc) collectGarbage();
          const before = process.cpuUsage();
          const elapsed = await withDeadline(pipelined(sessions[turn.name], perRound, depth), 300_000, `${turn.name} pipelined`);
          const used = process.cpuUsage(before);
          cpu[turn.gc][turn.name].push((used.user + used.system) / perRound);
          rate[turn.gc][turn.name].push((perRound / elapsed) * 1000);
        }
      }
      const summary = (gc) => ({
        cpuRatio: median(cpu[gc][OURS]) / median(cpu[gc][RAW]),
        cpuPairedRatio: pairedRatio(cpu[gc][OURS], cpu[gc][RAW]),
        throughputRatio: median(rate[gc][OURS]) / median(rate[gc][RAW]),
        cpuPerCallMedian: { [RAW]: median(cpu[gc][RAW]), [OURS]: median(cpu[gc][OURS]) },
      });
      const entry = { repeat, rounds, perRound, load1AtStart: Math.round(load * 100) / 100, gcOn: summary(true), gcOff: summary(false) };
      entry.cpuRatioDifference = entry.gcOn.cpuRatio - entry.gcOff.cpuRatio;
      entry.cpuPairedRatioDifference = entry.gcOn.cpuPairedRatio - entry.gcOff.cpuPairedRatio;
      report.shapes.push(entry);
      const f = (x) => x.toFixed(3);
      console.log(
        `${rounds}×${perRound} (load ${entry.load1AtStart}): CPU ratio GC on ${f(entry.gcOn.cpuRatio)}, off ${f(entry.gcOff.cpuRatio)}, difference ${f(entry.cpuRatioDifference)}; ` +
          `paired ${f(entry.gcOn.cpuPairedRatio)} vs ${f(entry.gcOff.cpuPairedRatio)}; throughput ratio ${f(entry.gcOn.throughputRatio)} vs ${f(entry.gcOff.throughputRatio)}`,
      );
    }
  }
  for (const session of Object.values(sessions)) await session.close();
} finally {
  await server.stop();
}
report.loadAverageAtEnd = loadavg();
mkdirSync(resolve(ROOT, 'bench/results'), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${OUT}`);
process.exit(0);
