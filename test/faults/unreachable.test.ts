/**
 * Fault 9: the server unreachable (connection refused) for a long stretch of simulated time,
 * then back. The clock is a manual one; the sockets are real.
 */
import { createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { backoffCeiling, CircleWsClient, defaultReconnectPolicy, generateKeypair, TimeoutError } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { waitForStatus } from '../support/client.js';
import { leakCheck, ScriptedServer, settle } from './support.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A port nobody listens on (bound once, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

it('9. connection refused for six simulated hours: bounded, jittered retries; back to authenticated when the server returns', async () => {
  const leaks = leakCheck();
  const port = await freePort();
  const clock = new ManualClock();
  const client = CircleWsClient.builder(`ws://127.0.0.1:${port}/02aa`)
    .withKeypair(generateKeypair().privateKey)
    .withClock(clock)
    .withKeepAlive(false)
    .build();
  cleanup.push(() => client.disconnect());
  const connecting = settle(client.connect({ timeoutMs: 60_000 }));
  const shortCall = settle(client.whoami({ timeoutMs: 5_000 }));
  const longCall = settle(client.whoami({ timeoutMs: 7 * 3600_000 }));

  const started = clock.now();
  const delays: number[] = [];
  while (clock.now() - started < 6 * 3600_000) {
    await waitForStatus(client, 'backoff', 10_000);
    const before = clock.now();
    // Fire the earliest timer: the reconnect delay, or a call/connect deadline falling due first.
    while (client.status === 'backoff') {
      const next = clock.pending()[0];
      if (!next) throw new Error('backoff with no timer scheduled');
      clock.runNext();
    }
    delays.push(clock.now() - before);
  }
  console.info(`[figure] six simulated hours of refused connections: ${delays.length} attempts, mean delay ${Math.round(delays.reduce((a, b) => a + b, 0) / delays.length)} ms, max ${Math.max(...delays)} ms`);
  // One attempt per delay; each within the cap; the cap is reached and the delays are spread.
  expect(delays.length).toBeGreaterThan((6 * 3600_000) / defaultReconnectPolicy.maxDelayMs);
  expect(Math.max(...delays)).toBeLessThanOrEqual(defaultReconnectPolicy.maxDelayMs);
  expect(new Set(delays).size).toBeGreaterThan(delays.length / 2);
  expect(delays[0]).toBeLessThanOrEqual(backoffCeiling(1, defaultReconnectPolicy));
  // Deadlines that passed have settled with typed errors; the long one is still waiting.
  expect(await connecting).toMatchObject({ ok: false });
  expect((await connecting as { error: unknown }).error).toBeInstanceOf(TimeoutError);
  expect((await shortCall as { error: unknown }).error).toBeInstanceOf(TimeoutError);

  const server = await ScriptedServer.start({ port });
  cleanup.push(() => server.close());
  await waitForStatus(client, 'backoff', 10_000).catch(() => {});
  while (client.status === 'backoff') clock.runNext();
  await waitForStatus(client, 'authenticated', 10_000);
  expect(await longCall).toMatchObject({ ok: true });
  expect(server.connectedAt.length).toBe(1);
  await client.disconnect();
  await server.close();
  expect(clock.pending()).toEqual([]);
  await leaks.check();
}, 120_000);
