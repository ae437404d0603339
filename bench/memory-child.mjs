/**
 * Figure 5, in a fresh process per contender: memory per authenticated idle client, or per
 * never-connected instance. Started by the bench with `--expose-gc`:
 *   node --expose-gc bench/memory-child.mjs --contender raw|circle-ws-client --count N --url ws://… [--keep-alive] [--idle-ms MS]
 *   node --expose-gc bench/memory-child.mjs --contender actor|unconnected --count N --url ws://…
 *
 * Connected contenders: it warms the code paths up (a few clients opened and closed), measures
 * heap and RSS after garbage collection, opens N authenticated clients (at most 50 handshakes at
 * a time), lets them sit idle for `--idle-ms` (the bench passes 6 s: past the client's 5 s
 * stable-session timer, so the memory of a settled session is what is sampled, not that of one
 * with the timer still pending), collects garbage again and reports (after − before) / N over IPC.
 *
 * Never-connected instances: `actor` is one started bare actor of the package's machine
 * (`createActor(circleWsMachine, { input }).start()`, from `circle-ws-client/machine`, with the
 * input a default client with a key pair gives it); `unconnected` is a client built with
 * `CircleWsClient.builder(url).withKeypair(key).build()` and never connected. The bench divides
 * the two: what the facade holds above the actor it drives.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircleWsClient, generateKeypair } from 'circle-ws-client';
import { circleWsMachine, defaultReconnectPolicy } from 'circle-ws-client/machine';
import { createActor } from 'xstate';
import { contenders } from './lib/contenders.mjs';

const { values } = parseArgs({
  options: {
    contender: { type: 'string' },
    count: { type: 'string' },
    url: { type: 'string' },
    'keep-alive': { type: 'boolean', default: false },
    'idle-ms': { type: 'string', default: '6000' },
  },
});

if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const count = Number(values.count);
const idleMs = Number(values['idle-ms']);
const keypair = generateKeypair();
const options = { ...keypair, keepAlive: values['keep-alive'] };

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

/** N connected, authenticated sessions of a bench contender. */
async function openAll(contender, n) {
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

/** The input a client built with defaults and a key pair hands its actor (src/client: the client's constructor). */
const actorInput = {
  url: values.url,
  publicKey: keypair.publicKey,
  reconnect: defaultReconnectPolicy,
  keepAlive: { intervalMs: 30_000, timeoutMs: 10_000 },
  connectTimeoutMs: 10_000,
  authTimeoutMs: 10_000,
  stableAfterMs: 5_000,
  instance: 0,
};

/** N never-connected instances: bare started actors, or built clients. */
function makeAll(kind, n) {
  const made = [];
  for (let i = 0; i < n; i++) {
    made.push(
      kind === 'actor'
        ? createActor(circleWsMachine, { input: { ...actorInput, instance: i } }).start()
        : CircleWsClient.builder(values.url).withKeypair(keypair.privateKey).build(),
    );
  }
  return made;
}

let result;
if (values.contender === 'actor' || values.contender === 'unconnected') {
  const kind = values.contender;
  makeAll(kind, 20); // warm-up, dropped
  await settle();
  const before = sample();
  const made = makeAll(kind, count);
  await settle();
  const after = sample();
  result = {
    contender: kind,
    count: made.length,
    heapPerInstance: (after.heapUsed - before.heapUsed) / made.length,
    rssPerInstance: (after.rss - before.rss) / made.length,
  };
  if (kind === 'unconnected') for (const client of made) await client.disconnect();
} else {
  const contender = contenders[values.contender];
  if (!contender) throw new Error(`unknown contender ${values.contender}`);
  // Warm-up: every code path compiled and every lazy module state created before the baseline.
  for (const session of await openAll(contender, 20)) await session.close();
  await settle();
  const before = sample();
  const sessions = await openAll(contender, count);
  await sleep(idleMs);
  await settle();
  const after = sample();
  result = {
    contender: values.contender,
    keepAlive: values['keep-alive'],
    count: sessions.length,
    idleMs,
    heapPerClient: (after.heapUsed - before.heapUsed) / sessions.length,
    rssPerClient: (after.rss - before.rss) / sessions.length,
    externalPerClient: (after.external - before.external) / sessions.length,
  };
}
if (process.send) process.send({ type: 'result', result }, () => process.exit(0));
else {
  console.log(JSON.stringify(result));
  process.exit(0);
}
