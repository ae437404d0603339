/**
 * Faults 3, 5, 6, 8: a flapping server, refused credentials and close 1008, a nonce that expires
 * before authenticate, a circle refused with 404. Each against a real server on 127.0.0.1.
 */
import { afterEach, expect, it } from 'vitest';
import {
  AuthError,
  backoffDelay,
  CircleWsClient,
  ConnectionFailedError,
  type CryptoService,
  derivePublicKey,
  generateKeypair,
  nobleCrypto,
} from '../../src/index.js';
import { createCircleServer } from '../../src/server/index.js';
import { noncesIn, recordingTransport, waitForStatus } from '../support/client.js';
import { leakCheck, ScriptedServer } from './support.js';

const me = generateKeypair();
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** A seeded generator (mulberry32), so jitter draws are reproducible and recordable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it('3. a server that accepts and closes at once, 50 times: attempts follow the backoff formula, no storm', async () => {
  const leaks = leakCheck();
  let flapping = true;
  const server = await ScriptedServer.start({
    onConnection: (socket) => {
      if (!flapping) return;
      socket.close(1011, 'flapping');
      return false;
    },
  });
  cleanup.push(() => server.close());
  const policy = { initialDelayMs: 10, maxDelayMs: 160, multiplier: 2, jitter: 1, maxAttempts: Number.POSITIVE_INFINITY };
  const random = seeded(42);
  const draws: number[] = [];
  const client = CircleWsClient.builder(server.url())
    .withKeypair(me.privateKey)
    .withReconnect(policy)
    .withRandom(() => {
      const r = random();
      draws.push(r);
      return r;
    })
    .build();
  cleanup.push(() => client.disconnect());
  const connecting = client.connect({ timeoutMs: 60_000 });
  await expect.poll(() => server.connectedAt.length, { timeout: 30_000, interval: 20 }).toBeGreaterThanOrEqual(50);
  flapping = false;
  await connecting;
  expect(client.status).toBe('authenticated');
  // Gap k (between connection k and k+1) is at least the delay drawn for attempt k+1.
  const gaps = server.connectedAt.slice(1, 50).map((t, i) => t - (server.connectedAt[i] as number));
  const expected = gaps.map((_, i) => backoffDelay(i + 1, policy, () => draws[i] as number));
  for (const [i, gap] of gaps.entries()) {
    expect(gap, `gap ${i + 1}`).toBeGreaterThanOrEqual((expected[i] as number) - 2);
    // Generous: a busy machine may be late, never early.
    expect(gap, `gap ${i + 1}`).toBeLessThan((expected[i] as number) + 1_000);
  }
  const lateness = gaps.map((g, i) => g - (expected[i] as number));
  console.info(`[figure] flapping server: 50 connections over ${(server.connectedAt[49] as number) - (server.connectedAt[0] as number)} ms; every gap ≥ its drawn delay; lateness median ${[...lateness].sort((a, b) => a - b)[24]} ms, max ${Math.max(...lateness)} ms`);
  // The ceiling doubles and then stays at the cap: later delays are drawn from [0, 160].
  expect(Math.max(...expected)).toBeLessThanOrEqual(160);
  await client.disconnect();
  await server.close();
  await leaks.check();
});

it('5a. refused credentials: failed after exactly one connection, no retries; connect() after the fix succeeds', async () => {
  const leaks = leakCheck();
  let refuse = true;
  const server = await ScriptedServer.start({});
  cleanup.push(() => server.close());
  // A signer that signs with another key while refusing is on: the server's signature check fails.
  const other = generateKeypair();
  const crypto: CryptoService = {
    derivePublicKey: (k, o) => derivePublicKey(k, o),
    signNonce: (k, nonce) => nobleCrypto.signNonce(refuse ? other.privateKey : k, nonce),
  };
  const client = CircleWsClient.builder(server.url()).withKeypair(me.privateKey).withCrypto(crypto).withReconnect({ initialDelayMs: 5 }).build();
  cleanup.push(() => client.disconnect());
  await expect(client.connect()).rejects.toMatchObject({ code: 'AUTH_REFUSED' });
  await new Promise((r) => setTimeout(r, 300));
  expect(server.connectedAt.length).toBe(1);
  expect(client.status).toBe('failed');
  refuse = false;
  await client.connect();
  expect(client.status).toBe('authenticated');
  await client.disconnect();
  await server.close();
  await leaks.check();
});

it('5b. close 1008: failed (AUTH_LOCKED) after exactly one connection, no retries; connect() after the fix succeeds', async () => {
  const leaks = leakCheck();
  let locked = true;
  const server = await ScriptedServer.start({
    onConnection: (socket) => {
      if (!locked) return;
      socket.close(1008, 'too many failed authentications');
      return false;
    },
  });
  cleanup.push(() => server.close());
  const client = CircleWsClient.builder(server.url()).withKeypair(me.privateKey).withReconnect({ initialDelayMs: 5 }).build();
  cleanup.push(() => client.disconnect());
  const error = await client.connect().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AuthError);
  expect(error).toMatchObject({ code: 'AUTH_LOCKED' });
  await new Promise((r) => setTimeout(r, 300));
  expect(server.connectedAt.length).toBe(1);
  expect(client.status).toBe('failed');
  locked = false;
  await client.connect();
  expect(client.status).toBe('authenticated');
  await client.disconnect();
  await server.close();
  await leaks.check();
});

it('6. a nonce that expires between fetch_nonce and authenticate: a fresh nonce on the same socket, then success', async () => {
  const leaks = leakCheck();
  const circle = generateKeypair();
  const server = await createCircleServer({ circles: [circle.publicKeyCompressed], nonceTtlMs: 150 });
  cleanup.push(() => server.close());
  let slow = true;
  // The first signature takes longer than the nonce lives (a wallet prompt, say).
  const crypto: CryptoService = {
    derivePublicKey: (k, o) => derivePublicKey(k, o),
    signNonce: async (k, nonce) => {
      if (slow) {
        slow = false;
        await new Promise((r) => setTimeout(r, 400));
      }
      return nobleCrypto.signNonce(k, nonce);
    },
  };
  const recorder = recordingTransport();
  const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
    .withKeypair(me.privateKey)
    .withCrypto(crypto)
    .withTransport(recorder.factory)
    .build();
  cleanup.push(() => client.disconnect());
  await client.connect();
  expect(client.status).toBe('authenticated');
  expect(recorder.opened()).toBe(1);
  const nonces = noncesIn(recorder.inbound);
  expect(nonces).toHaveLength(2);
  expect(nonces[0]).not.toBe(nonces[1]);
  expect(await client.play('2 + 2')).toBe('4');
  await client.disconnect();
  await server.close();
  await leaks.check();
});

it('8. the circle path refused with 404: failed, no retries', async () => {
  const leaks = leakCheck();
  const circle = generateKeypair();
  const server = await createCircleServer({ circles: [circle.publicKeyCompressed] });
  const recorder = recordingTransport();
  const client = CircleWsClient.builder(server.urlFor(generateKeypair().publicKeyCompressed))
    .withKeypair(me.privateKey)
    .withTransport(recorder.factory)
    .withReconnect({ initialDelayMs: 5 })
    .build();
  const error = await client.connect().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionFailedError);
  expect(error).toMatchObject({ status: 404 });
  await new Promise((r) => setTimeout(r, 300));
  expect(recorder.opened()).toBe(1);
  expect(client.status).toBe('failed');
  await client.disconnect();
  await server.close();
  await leaks.check();
});
