/**
 * The workload profiled by bench/profile.mjs (run under `node --cpu-prof`): one authenticated
 * client (circle-ws-client from dist/, or the raw floor for comparison), warmed up, then
 * pipelined echo calls with 256 in flight.
 *   node --cpu-prof bench/lib/profile-target.mjs --url ws://… --calls N [--contender raw]
 */
import { parseArgs } from 'node:util';
import { generateKeypair } from 'circle-ws-client';
import { contenders, OURS } from './contenders.mjs';
import { pipelined } from './figures.mjs';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    calls: { type: 'string', default: '300000' },
    depth: { type: 'string', default: '256' },
    contender: { type: 'string', default: OURS },
  },
});
const calls = Number(values.calls);
const depth = Number(values.depth);
const session = contenders[values.contender].create(values.url, generateKeypair());
await session.connect();
await pipelined(session, Math.min(20_000, calls), depth);
const cpuBefore = process.cpuUsage();
const elapsed = await pipelined(session, calls, depth);
const cpu = process.cpuUsage(cpuBefore);
await session.close();
process.send?.({ type: 'result', contender: values.contender, calls, depth, elapsedMs: elapsed, cpuMicrosPerCall: (cpu.user + cpu.system) / calls });
