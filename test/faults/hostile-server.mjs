// The reference server in a child process of its own, for the hostile-peer tests: started with
// the options given as JSON in argv[2] (from the built package), it prints `listening on URL`,
// then answers each `stats` line on stdin with one `stats {json}` line: resident memory, the
// longest event-loop stall since the previous `stats`, and the open connections.
import { createInterface } from 'node:readline';
import { createCircleServer } from '../../dist/src/server/index.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const server = await createCircleServer({ host: '127.0.0.1', port: 0, ...options });

// A 10 ms timer that measures how late it fires: the stall the event loop imposed on it.
let maxLagMs = 0;
let peakRss = process.memoryUsage.rss();
let expected = performance.now() + 10;
setInterval(() => {
  const now = performance.now();
  maxLagMs = Math.max(maxLagMs, now - expected);
  expected = now + 10;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 10);

let cpu = process.cpuUsage();
let since = performance.now();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stats') return;
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  // CPU time used since the previous stats, as a share of one core: near 100% means the server
  // itself was the bottleneck; far below it with long stalls means the machine was busy elsewhere.
  const used = process.cpuUsage(cpu);
  const cpuShare = (used.user + used.system) / 1000 / (performance.now() - since);
  cpu = process.cpuUsage();
  since = performance.now();
  process.stdout.write(`stats ${JSON.stringify({ rss, peakRss, maxLagMs: Math.round(maxLagMs), cpuShare: Math.round(cpuShare * 100) / 100, connections: server.connections })}\n`);
  maxLagMs = 0;
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write(`listening on ${server.url}\n`);
