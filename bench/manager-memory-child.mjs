/**
 * Figure 8's memory half, in a fresh process per contender: heap per circle once every circle of
 * a many-circle set is authenticated and idle. Started by the bench with `--expose-gc`:
 *   node --expose-gc bench/manager-memory-child.mjs --contender raw|manager --urls FILE [--idle-ms MS]
 * FILE holds a JSON array of circle URLs (one reference server, one circle key per URL).
 *
 * As bench/memory-child.mjs does: warm the code paths up (the first few circles connected and
 * disconnected), sample heap and RSS after garbage collection, connect every circle, sit idle for
 * `--idle-ms` (past the client's 5 s stable-session timer), collect garbage, sample again, and
 * report (after − before) / N over IPC. Unlike it, every circle connects at once: that is what
 * `connectAll()` does, and the raw clients do the same (`Promise.all` of N connects).
 *
 * manager: `CircleWsManager` with one key pair, keep-alive and reconnection off (like for like with
 * raw, which has neither). raw: N hand-written clients (bench/lib/contenders.mjs), one per URL,
 * sharing the key pair. The child fails (exit 1) unless every circle is ready after the idle time.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { generateKeypair } from 'circle-ws-client';
import { RawClient } from './lib/contenders.mjs';
import { buildManager, readyCount } from './lib/many-circles.mjs';

const { values } = parseArgs({
  options: {
    contender: { type: 'string' },
    urls: { type: 'string' },
    'idle-ms': { type: 'string', default: '6000' },
    warmup: { type: 'string', default: '20' },
  },
});

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
if (values.contender !== 'raw' && values.contender !== 'manager') throw new Error(`unknown contender ${values.contender}`);
const urls = JSON.parse(readFileSync(values.urls, 'utf8'));
const idleMs = Number(values['idle-ms']);
const keypair = generateKeypair();

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

/** Every circle of `list` connected at once; resolves with what holds them (and a way to count the ready ones). */
async function openAll(list) {
  if (values.contender === 'manager') {
    const manager = buildManager(keypair.privateKey, list);
    const report = await manager.connectAll({ timeoutMs: 120_000 });
    const failed = Object.entries(report).filter(([, result]) => !result.ok);
    if (failed.length) throw new Error(`${failed.length} circles failed, the first: ${failed[0][1].error.message}`);
    return { held: manager, ready: () => readyCount(manager), close: () => manager.disconnectAll() };
  }
  const clients = list.map((url) => new RawClient(url, keypair));
  await Promise.all(clients.map((client) => client.connect()));
  // A raw client is ready from its resolved connect until its socket closes; none may have closed.
  return { held: clients, ready: () => clients.filter((client) => client.isOpen).length, close: () => Promise.all(clients.map((client) => client.close())) };
}

const warm = await openAll(urls.slice(0, Number(values.warmup)));
await warm.close();
await settle();
const before = sample();
const open = await openAll(urls);
await sleep(idleMs);
await settle();
const after = sample();
const ready = open.ready();
if (ready !== urls.length) throw new Error(`${values.contender}: ${ready} of ${urls.length} circles ready after ${idleMs} ms idle`);
const result = {
  contender: values.contender,
  circles: urls.length,
  ready,
  idleMs,
  heapPerCircle: (after.heapUsed - before.heapUsed) / urls.length,
  rssPerCircle: (after.rss - before.rss) / urls.length,
  externalPerCircle: (after.external - before.external) / urls.length,
};
if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
else {
  console.log(JSON.stringify(result));
  process.exit(0);
}
