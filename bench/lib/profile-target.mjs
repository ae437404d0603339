/**
 * The workload profiled by bench/profile.mjs (run under `node --cpu-prof`): one client
 * (circle-ws-client from dist/, or the raw floor for comparison), warmed up, then either
 * pipelined echo calls with `depth` in flight, or `count` connect-and-authenticate + close in a row.
 *   node --cpu-prof bench/lib/profile-target.mjs --url ws://… [--case pipelined|connect] [--count N] [--depth 256] [--contender raw]
 */
import { parseArgs } from 'node:util';
import { generateKeypair } from 'circle-ws-client';
import { contenders, OURS } from './contenders.mjs';
import { pipelined } from './figures.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    case: { type: 'string', default: 'pipelined' },
    count: { type: 'string', default: '300000' },
    depth: { type: 'string', default: '256' },
    contender: { type: 'string', default: OURS },
  },
});
const count = Number(values.count);
const depth = Number(values.depth);
const contender = contenders[values.contender];
const { privateKey, publicKey } = generateKeypair();
const options = { privateKey, publicKey };

async function connects(n) {
  for (let i = 0; i < n; i++) {
    const session = contender.create(values.url, options);
    await session.connect();
    await session.close();
  }
}

let work;
if (values.case === 'connect') {
  await connects(Math.min(100, count));
  work = () => connects(count);
} else {
  const session = contender.create(values.url, options);
  await session.connect();
  await pipelined(session, Math.min(20_000, count), depth);
  work = async () => {
    await pipelined(session, count, depth);
    await session.close();
  };
}
const cpuBefore = process.cpuUsage();
const started = performance.now();
await work();
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
process.send?.({ type: 'result', contender: values.contender, case: values.case, count, depth, elapsedMs, cpuMicrosPerOp: (cpu.user + cpu.system) / count });
