/**
 * Figure 5, in a fresh process per contender: memory per authenticated idle client.
 * Started by the bench with `--expose-gc`:
 *   node --expose-gc bench/memory-child.mjs --contender raw|circle-ws-client --count N --url ws://… [--keep-alive]
 * It warms the code paths up (a few clients opened and closed), measures heap and RSS after
 * garbage collection, opens N authenticated clients (at most 50 handshakes at a time), lets
 * them sit idle, collects garbage again and reports (after − before) / N over IPC.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKeypair } from 'circle-ws-client';
import { contenders } from './lib/contenders.mjs';

const { values } = parseArgs({
  options: {
    contender: { type: 'string' },
    count: { type: 'string' },
    url: { type: 'string' },
    'keep-alive': { type: 'boolean', default: false },
  },
});

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const contender = contenders[values.contender];
if (!contender) throw new Error(`unknown contender ${values.contender}`);
const count = Number(values.count);
const options = { ...generateKeypair(), keepAlive: values['keep-alive'] };

async function settle() {
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await sleep(50);
  }
}

function sample() {
  const usage = process.memoryUsage();
  return { heapUsed: usage.heapUsed, rss: usage.rss, external: usage.external };
}

async function openAll(n) {
  const sessions = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const session = contender.create(values.url, options);
      await session.connect();
      sessions.push(session);
    }
  };
  await Promise.all(Array.from({ length: Math.min(50, n) }, worker));
  return sessions;
}

// Warm-up: every code path compiled and every lazy module state created before the baseline.
for (const session of await openAll(20)) await session.close();
await settle();
const before = sample();
const sessions = await openAll(count);
await sleep(500);
await settle();
const after = sample();
const result = {
  contender: values.contender,
  keepAlive: values['keep-alive'],
  count: sessions.length,
  heapPerClient: (after.heapUsed - before.heapUsed) / sessions.length,
  rssPerClient: (after.rss - before.rss) / sessions.length,
  externalPerClient: (after.external - before.external) / sessions.length,
};
if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
else {
  console.log(JSON.stringify(result));
  process.exit(0);
}
