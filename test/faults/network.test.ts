/**
 * Faults 2 and 4, through the fault-injecting proxy: a half-open link (bytes stop flowing both
 * ways, nothing closes) and a slow link (2 s each way).
 */
import { afterEach, expect, it } from 'vitest';
import { CircleWsClient, generateKeypair, OutcomeUnknownError, TimeoutError } from '../../src/index.js';
import { createCircleServer } from '../../src/server/index.js';
import { FaultProxy } from '../../src/testing/node.js';
import { waitForStatus } from '../support/client.js';
import { leakCheck, settle } from './support.js';

const circle = generateKeypair();
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serverBehindProxy() {
  const server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port } });
  cleanup.push(() => server.close(), () => proxy.close());
  return { server, proxy, url: proxy.url('ws', `/${circle.publicKeyCompressed}`) };
}

it('2. a half-open link is detected within keep-alive interval + timeout (+20 %), and the client recovers', async () => {
  const leaks = leakCheck();
  const { server, proxy, url } = await serverBehindProxy();
  const keepAlive = { intervalMs: 2_000, timeoutMs: 1_000 };
  const client = CircleWsClient.builder(url)
    .withKeypair(generateKeypair().privateKey)
    .withKeepAlive(keepAlive)
    .withTimeouts({ connectMs: 1_000, authMs: 1_000 })
    .withReconnect({ initialDelayMs: 100, maxDelayMs: 500 })
    .build();
  await client.connect();
  await client.whoami(); // the last inbound frame before the cut
  proxy.blackhole(true);
  const cutAt = Date.now();
  const write = settle(client.play('1 + 1', { timeoutMs: 30_000 }));
  const read = settle(client.whoami({ timeoutMs: 30_000 }));
  await waitForStatus(client, 'backoff', 10_000);
  const detectedIn = Date.now() - cutAt;
  const bound = (keepAlive.intervalMs + keepAlive.timeoutMs) * 1.2;
  console.info(`[figure] half-open link detected in ${detectedIn} ms (interval ${keepAlive.intervalMs} + timeout ${keepAlive.timeoutMs}; bound ${bound})`);
  expect(detectedIn).toBeLessThanOrEqual(bound);
  expect(detectedIn).toBeGreaterThanOrEqual(keepAlive.intervalMs + keepAlive.timeoutMs - 100);
  expect(client.lastError?.message).toContain('keep-alive');
  // The write's outcome is unknown (it may have reached the server); the read waits for the next session.
  expect((await write as { error?: unknown }).error).toBeInstanceOf(OutcomeUnknownError);
  proxy.blackhole(false);
  await waitForStatus(client, 'authenticated', 15_000);
  expect(await read).toMatchObject({ ok: true });
  expect(await client.play('2 + 2')).toBe('4');
  await client.disconnect();
  await proxy.close();
  await server.close();
  await leaks.check();
}, 40_000);

it('4. a slow link (2 s each way): the connect timeout and call timeouts are honoured, then the client recovers', async () => {
  const leaks = leakCheck();
  const { server, proxy, url } = await serverBehindProxy();
  proxy.latency(2_000);
  const client = CircleWsClient.builder(url)
    .withKeypair(generateKeypair().privateKey)
    .withKeepAlive(false)
    .withTimeouts({ connectMs: 1_000, authMs: 1_000 })
    .withReconnect({ initialDelayMs: 100, maxDelayMs: 200 })
    .build();
  const started = Date.now();
  const connecting = settle(client.connect({ timeoutMs: 30_000 }));
  await waitForStatus(client, 'backoff', 10_000);
  const timedOutIn = Date.now() - started;
  console.info(`[figure] connect timeout (1000 ms) on a 2 s link fired after ${timedOutIn} ms`);
  expect(timedOutIn).toBeGreaterThanOrEqual(1_000);
  expect(timedOutIn).toBeLessThan(3_000);
  expect(client.lastError).toBeInstanceOf(TimeoutError);

  // The link speeds up: the client gets in, then the link slows down again under a call.
  proxy.latency(0);
  await waitForStatus(client, 'authenticated', 15_000);
  expect(await connecting).toMatchObject({ ok: true });
  proxy.latency(2_000);
  const callStarted = Date.now();
  const slow = await settle(client.play('1', { timeoutMs: 1_000 }));
  const callTook = slow.at - callStarted;
  console.info(`[figure] call timeout (1000 ms) on a 2 s link fired after ${callTook} ms`);
  expect(slow.ok).toBe(false);
  expect((slow as { error: unknown }).error).toBeInstanceOf(TimeoutError);
  expect(callTook).toBeGreaterThanOrEqual(1_000);
  expect(callTook).toBeLessThan(2_500);
  // A patient call on the same slow link still gets its answer.
  expect(await client.play('3 * 3', { timeoutMs: 15_000 })).toBe('9');
  expect(client.status).toBe('authenticated');
  await client.disconnect();
  await proxy.close();
  await server.close();
  await leaks.check();
}, 60_000);
