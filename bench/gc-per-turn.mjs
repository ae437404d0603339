/**
 * How many scavenges one pipelined turn holds, per contender: the reason rounds must be long
 * enough for the forced GC between turns not to matter (a turn that holds a single scavenge or
 * none leaves most of its garbage to be collected outside its own CPU window).
 *
 *   npm run build && node bench/gc-per-turn.mjs [--calls 5000,10000,20000] [--depth 256]
 *
 * Counts garbage collections with a PerformanceObserver ('gc' entries: minor = scavenge) during
 * each turn, after a forced GC, on the verifying bench server as in the bench.
 */
process.env.WS_NO_BUFFER_UTIL ??= '1';
process.env.WS_NO_UTF_8_VALIDATE ??= '1';

const { PerformanceObserver, constants } = await import('node:perf_hooks');
const { parseArgs } = await import('node:util');
const { generateKeypair } = await import('circle-ws-client');
const { OURS, RAW } = await import('./lib/contenders.mjs');
const { openSessions, pipelined } = await import('./lib/figures.mjs');
const { startServer } = await import('./lib/server-process.mjs');
const { collectGarbage, exposeGc } = await import('./lib/stats.mjs');

const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000,10000,20000' }, depth: { type: 'string', default: '256' } } });
exposeGc();
const keypair = generateKeypair();
const server = await startServer({ verify: true });
const ctx = { url: `ws://127.0.0.1:${server.port}/${keypair.publicKeyCompressed}`, keypair: { privateKey: keypair.privateKey, publicKey: keypair.publicKey } };
let minor = 0;
let major = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
    else major++;
  }
});
try {
  const sessions = await openSessions(ctx, [RAW, OURS]);
  for (const name of [RAW, OURS]) await pipelined(sessions[name], 20_000, Number(values.depth));
  observer.observe({ entryTypes: ['gc'] });
  for (const calls of values.calls.split(',').map(Number)) {
    for (const name of [RAW, OURS]) {
      collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 20)); // let the forced GCs' entries arrive first
      minor = 0;
      major = 0;
      const heapBefore = process.memoryUsage().heapUsed;
      await pipelined(sessions[name], calls, Number(values.depth));
      const heapAfter = process.memoryUsage().heapUsed;
      await new Promise((resolve) => setTimeout(resolve, 20));
      console.log(`${name.padEnd(16)} ${String(calls).padStart(6)} calls: ${minor} scavenges, ${major} other GCs during the turn; heap grew ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB net`);
    }
  }
  observer.disconnect();
  for (const session of Object.values(sessions)) await session.close();
} finally {
  await server.stop();
}
process.exit(0);
