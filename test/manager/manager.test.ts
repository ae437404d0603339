/**
 * CircleWsManager against the real reference server on 127.0.0.1: isolation of a refused,
 * unknown or unreachable circle, one identity for every circle, the lazy policy, run-time
 * add/remove, fan-out reports, and cleanup with real sockets.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthError,
  CircleWsManager,
  ConnectionFailedError,
  generateKeypair,
  NotConnectedError,
  type Signer,
  signNonce,
  UnknownCircleError,
} from '../../src/index.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';

const circleA = generateKeypair();
const circleB = generateKeypair();
const notServed = generateKeypair();
const me = generateKeypair();

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function startServer(): Promise<CircleServer> {
  const server = await createCircleServer({ circles: [circleA.publicKeyCompressed, circleB.publicKeyCompressed] });
  cleanup.push(() => server.close());
  return server;
}

function track(manager: CircleWsManager): CircleWsManager {
  cleanup.push(() => manager.disconnectAll());
  return manager;
}

/** A signer that counts its signatures (the key stays in this closure). */
function countingSigner(privateKey: string, publicKey: string): Signer & { count: () => number } {
  let signed = 0;
  return {
    publicKey,
    sign: async (nonce: string) => {
      signed += 1;
      return signNonce(privateKey, nonce);
    },
    count: () => signed,
  };
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const fast = { initialDelayMs: 20, maxDelayMs: 50 };

describe('CircleWsManager against the reference server', () => {
  it('connects every circle with one identity and fans a script out', async () => {
    const server = await startServer();
    const signer = countingSigner(me.privateKey, me.publicKey);
    const a = server.urlFor(circleA.publicKeyCompressed);
    const b = server.urlFor(circleB.publicKeyCompressed);
    const manager = track(CircleWsManager.builder().withSigner(signer).withCircle([a, b]).build());
    expect(manager.status.state).toBe('idle');
    expect(manager.status.counts.disconnected).toBe(2);

    const report = await manager.connectAll({ timeoutMs: 10_000 });
    expect(report).toEqual({ [a]: { ok: true, value: undefined }, [b]: { ok: true, value: undefined } });
    // One signer, one signature per circle's handshake.
    expect(signer.count()).toBe(2);
    expect(manager.status.state).toBe('ready');
    expect(manager.status.counts.authenticated).toBe(2);
    expect(await manager.play(a, 'let x = 10; x * 2')).toBe('20');
    expect(await manager.playAll('1 + 1')).toEqual({ [a]: { ok: true, value: '2' }, [b]: { ok: true, value: '2' } });
    expect((await manager.client(b).whoami()).pubkey).toBe(me.publicKey);
  });

  it('reports a refused key, an unknown circle and an unreachable server for that circle alone', async () => {
    const server = await startServer();
    const good = server.urlFor(circleA.publicKeyCompressed);
    const unknown = server.urlFor(notServed.publicKeyCompressed);
    const refused = server.urlFor(circleB.publicKeyCompressed);
    const unreachable = `ws://127.0.0.1:${await closedPort()}/${circleA.publicKeyCompressed}`;
    // Claims one key, signs with another: the server refuses it.
    const impostor: Signer = { publicKey: me.publicKey, sign: async (nonce) => signNonce(generateKeypair().privateKey, nonce) };
    const manager = track(
      CircleWsManager.builder()
        .withKeypair(me.privateKey)
        .withClient((b) => b.withReconnect({ ...fast, maxAttempts: 2 }))
        .withCircle([good, unknown, unreachable])
        .withCircle(refused, { signer: impostor })
        .build(),
    );
    const report = await manager.connectAll({ timeoutMs: 10_000 });
    expect(report[good]).toEqual({ ok: true, value: undefined });
    const notFound = report[unknown];
    expect(notFound?.ok).toBe(false);
    if (notFound?.ok === false) {
      expect(notFound.error).toBeInstanceOf(ConnectionFailedError);
      expect((notFound.error as ConnectionFailedError).status).toBe(404);
    }
    const refusal = report[refused];
    expect(refusal?.ok).toBe(false);
    if (refusal?.ok === false) {
      expect(refusal.error).toBeInstanceOf(AuthError);
      expect(refusal.error.code).toBe('AUTH_REFUSED');
    }
    const gone = report[unreachable];
    expect(gone?.ok).toBe(false);
    if (gone?.ok === false) {
      expect(gone.error).toBeInstanceOf(ConnectionFailedError);
      expect(gone.error.message).toMatch(/^gave up after 2 reconnection attempts/);
    }
    expect(manager.status.circles[unreachable]?.lastFailure?.code).toBe('RECONNECT_EXHAUSTED');

    expect(manager.status.state).toBe('degraded');
    expect(manager.status.counts).toMatchObject({ authenticated: 1, failed: 3 });
    expect(manager.status.circles[refused]?.lastFailure?.code).toBe('AUTH_REFUSED');
    // The good circle works as if the others did not exist.
    const results = await manager.playAll('40 + 2', { timeoutMs: 5_000 });
    expect(results[good]).toEqual({ ok: true, value: '42' });
    for (const url of [unknown, refused, unreachable]) expect(results[url]?.ok).toBe(false);
  });

  it('rejects a call to a circle it does not have with an error naming the URL', async () => {
    const manager = track(CircleWsManager.builder().withCircle('ws://127.0.0.1:1/a').build());
    const stranger = 'ws://127.0.0.1:1/nobody';
    const error = await manager.play(stranger, '1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownCircleError);
    expect((error as UnknownCircleError).code).toBe('UNKNOWN_CIRCLE');
    expect((error as UnknownCircleError).url).toBe(stranger);
    expect((error as Error).message).toContain(stranger);
    await expect(manager.call(stranger, 'whoami')).rejects.toBeInstanceOf(UnknownCircleError);
    await expect(manager.remove(stranger)).rejects.toBeInstanceOf(UnknownCircleError);
    expect(() => manager.client(stranger)).toThrow(UnknownCircleError);
  });

  it('with the lazy policy, connects a circle on its first call and no other', async () => {
    const server = await startServer();
    const a = server.urlFor(circleA.publicKeyCompressed);
    const b = server.urlFor(circleB.publicKeyCompressed);
    const manager = track(CircleWsManager.builder().withKeypair(me.privateKey).withConnect('lazy').withCircle([a, b]).build());
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.connections).toBe(0);
    expect(await manager.play(a, '2 * 3')).toBe('6');
    expect(manager.client(a).status).toBe('authenticated');
    expect(manager.client(b).status).toBe('disconnected');
    expect(server.connections).toBe(1);
    expect(manager.status.state).toBe('converging');
  });

  it('adds and removes circles at run time; remove() disconnects that client and settles its calls', async () => {
    const server = await startServer();
    const a = server.urlFor(circleA.publicKeyCompressed);
    const b = server.urlFor(circleB.publicKeyCompressed);
    const manager = track(CircleWsManager.builder().withKeypair(me.privateKey).withCircle(a).build());
    await manager.connectAll();
    const added = manager.add(b);
    expect(manager.urls).toEqual([a, b]);
    // Eager and running: the added circle connects by itself.
    await added.connect({ timeoutMs: 10_000 });
    expect(manager.status.counts.authenticated).toBe(2);
    expect(() => manager.add(b)).toThrow(/already/);

    const waiting = manager.client(a).call('whoami', {}, { timeoutMs: 10_000 });
    await manager.remove(a);
    expect(manager.urls).toEqual([b]);
    expect(manager.status.circles[a]).toBeUndefined();
    expect(manager.status.counts.authenticated).toBe(1);
    // The removed client is disconnected; its call settled one way or the other, never hanging.
    expect(await waiting.then(() => 'answered', (e: unknown) => (e instanceof NotConnectedError ? 'rejected' : String(e)))).toMatch(/answered|rejected/);
    await expect(manager.play(a, '1')).rejects.toBeInstanceOf(UnknownCircleError);
  });

  it('disconnectAll() closes every socket and leaves the manager idle; connectAll() starts again', async () => {
    const server = await startServer();
    const urls = [server.urlFor(circleA.publicKeyCompressed), server.urlFor(circleB.publicKeyCompressed)];
    const manager = track(CircleWsManager.builder().withKeypair(me.privateKey).withCircle(urls).build());
    await manager.connectAll();
    expect(server.connections).toBe(2);
    const pending = manager.playAll('1 + 1');
    await manager.disconnectAll();
    await expect(pending).resolves.toBeDefined();
    expect(manager.status.state).toBe('idle');
    expect(manager.status.counts.disconnected).toBe(2);
    for (let i = 0; i < 100 && server.connections > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.connections).toBe(0);
    await expect(manager.play(urls[0]!, '1')).rejects.toBeInstanceOf(NotConnectedError);

    const again = await manager.connectAll();
    expect(Object.values(again).every((r) => r.ok)).toBe(true);
    expect(manager.status.state).toBe('ready');
  });

  it('a flapping circle and one closed with 1008 change nothing for a good circle', async () => {
    const server = await startServer();
    const good = server.urlFor(circleA.publicKeyCompressed);
    // Accepts every connection and drops it at once; and one that closes every connection with 1008.
    const flapping = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    flapping.on('connection', (ws) => ws.terminate());
    const locking = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    locking.on('connection', (ws) => ws.close(1008, 'locked out'));
    cleanup.push(() => new Promise<void>((resolve) => flapping.close(() => resolve())));
    cleanup.push(() => new Promise<void>((resolve) => locking.close(() => resolve())));
    await Promise.all([flapping, locking].map((wss) => new Promise((resolve) => (wss.address() ? resolve(undefined) : wss.once('listening', resolve)))));
    const flapUrl = `ws://127.0.0.1:${(flapping.address() as AddressInfo).port}/${circleB.publicKeyCompressed}`;
    const lockUrl = `ws://127.0.0.1:${(locking.address() as AddressInfo).port}/${circleB.publicKeyCompressed}`;
    const manager = track(
      CircleWsManager.builder()
        .withKeypair(me.privateKey)
        .withClient((b) => b.withReconnect({ initialDelayMs: 10, maxDelayMs: 40 }))
        .withCircle([good, flapUrl, lockUrl])
        .build(),
    );
    const report = await manager.connectAll({ timeoutMs: 2_000 });
    expect(report[good]).toEqual({ ok: true, value: undefined });
    const flap = report[flapUrl];
    expect(flap?.ok).toBe(false);
    // Still trying: the flapping circle keeps backing off and reconnecting, the deadline ends only the wait.
    if (flap?.ok === false) expect(flap.error.code).toBe('TIMEOUT');
    const lock = report[lockUrl];
    expect(lock?.ok).toBe(false);
    if (lock?.ok === false) expect(lock.error.code).toBe('AUTH_LOCKED');
    expect(manager.status.state).toBe('degraded');
    for (let i = 0; i < 5; i += 1) expect(await manager.play(good, `${i} + 1`)).toBe(String(i + 1));
    expect(manager.client(good).status).toBe('authenticated');
    expect(manager.status.circles[flapUrl]!.attempt).toBeGreaterThan(1);
  });
});
