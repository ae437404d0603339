/**
 * Fault 1: the server process (`circle-ws serve`, a real child process) killed with SIGKILL while
 * 1,000 calls are in flight, then started again on the same port.
 */
import { afterEach, beforeAll, expect, it } from 'vitest';
import { CircleWsClient, generateKeypair, OutcomeUnknownError } from '../../src/index.js';
import { ensureBuilt, killChildren, startCli } from '../cli/helpers.js';
import { waitForStatus } from '../support/client.js';
import { expectAllTyped, leakCheck, settle } from './support.js';

beforeAll(() => ensureBuilt(), 120_000);
afterEach(() => killChildren());

const circle = generateKeypair();

async function serve(port: number): Promise<{ url: string; freeze: () => void; kill: () => Promise<void> }> {
  const running = startCli(['serve', '--port', String(port), '--circle', circle.publicKeyCompressed]);
  const [, url] = (await running.waitFor(/^listening on (\S+)$/m, 15_000)) as unknown as [string, string];
  return {
    url,
    // A stopped process still has its socket accepting bytes: calls sent now are in flight for sure.
    freeze: () => running.child.kill('SIGSTOP'),
    kill: async () => {
      running.child.kill('SIGKILL');
      await running.exited;
    },
  };
}

it('1. SIGKILL with 1,000 calls in flight: every call settles, reads are re-sent, the client re-authenticates', async () => {
  const leaks = leakCheck();
  const first = await serve(0);
  const port = Number(new URL(first.url).port);
  const client = CircleWsClient.builder(`${first.url}/${circle.publicKeyCompressed}`)
    .withKeypair(generateKeypair().privateKey)
    .withReconnect({ initialDelayMs: 50, maxDelayMs: 500 })
    .withRequestTimeout(30_000)
    .build();
  await client.connect();

  // 100 plays answered before anything goes wrong: their results must be the real ones.
  const before = await Promise.all(Array.from({ length: 100 }, (_, i) => settle(client.play(`${i} + 1`))));
  const started = Date.now();
  first.freeze();
  // A frozen server answers nothing: these 900 plays and 100 reads are in flight for sure when it is killed.
  const plays = Array.from({ length: 900 }, (_, i) => settle(client.play(`${i + 100} + 1`)));
  const reads = Array.from({ length: 100 }, () => settle(client.whoami()));
  await new Promise((r) => setTimeout(r, 100)); // let the frames leave the client
  await first.kill();
  await waitForStatus(client, 'backoff', 10_000);
  const second = await serve(port);
  await waitForStatus(client, 'authenticated', 20_000);

  const playResults = await Promise.all(plays);
  const readResults = await Promise.all(reads);
  expectAllTyped(playResults);
  // Every call settled within its deadline.
  for (const r of [...playResults, ...readResults]) expect(r.at - started).toBeLessThan(30_000);
  for (const [i, r] of before.entries()) expect(r).toMatchObject({ ok: true, value: String(i + 1) });
  // A play sent to the frozen server has an unknown outcome: it is never re-sent.
  for (const r of playResults) {
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toBeInstanceOf(OutcomeUnknownError);
  }
  console.info(`[figure] SIGKILL with 1,000 calls in flight: 900/900 plays OutcomeUnknownError, ${readResults.filter((r) => r.ok).length}/100 whoami answered (re-sent after re-authentication); all settled in ${Math.max(...[...playResults, ...readResults].map((r) => r.at)) - started} ms`);
  // whoami is safe to repeat: all of them succeed, before the kill or after the restart.
  for (const r of readResults) expect(r).toMatchObject({ ok: true });
  expect(await client.play('6 * 7')).toBe('42');
  await client.disconnect();
  await second.kill();
  await leaks.check();
}, 90_000);
