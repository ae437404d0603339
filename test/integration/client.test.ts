/**
 * The client against real servers on 127.0.0.1: the reference server in both protocol versions,
 * and a raw `ws` server for a link that stops answering.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  AuthError,
  CircleWsClient,
  ConnectionFailedError,
  ConnectionLostError,
  type CryptoService,
  derivePublicKey,
  generateKeypair,
  NotConnectedError,
  OutcomeUnknownError,
  RpcError,
  RpcErrorCode,
  signNonce,
} from '../../src/index.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';
import { noncesIn, recordingTransport, recordStatuses, waitForStatus } from '../support/client.js';

const circle = generateKeypair();
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function startServer(options: Parameters<typeof createCircleServer>[0] = {}): Promise<CircleServer> {
  const server = await createCircleServer({ circles: [circle.publicKeyCompressed], ...options });
  cleanup.push(() => server.close());
  return server;
}

function track(client: CircleWsClient): CircleWsClient {
  cleanup.push(() => client.disconnect());
  return client;
}

describe.each(['v2', 'v1'] as const)('against the reference server (compat %s)', (compat) => {
  it('connects, authenticates, plays and answers whoami', async () => {
    const server = await startServer({ compat });
    const me = generateKeypair();
    const client = track(CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed)).withKeypair(me.privateKey).build());
    const seen = recordStatuses(client);
    await client.connect();
    expect(seen).toEqual(['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated']);
    expect(client.isConnected()).toBe(true);
    expect(await client.play('let x = 10; x * 2')).toBe('20');
    if (compat === 'v2') {
      const who = await client.whoami();
      expect(who).toMatchObject({ authenticated: true, pubkey: me.publicKey });
    } else {
      // v1 has no whoami: the server says so with -32601, and the client reports it as such.
      await expect(client.whoami()).rejects.toMatchObject({ rpcCode: RpcErrorCode.MethodNotFound });
    }
  });

  it('re-authenticates with a fresh nonce after the server restarts', async () => {
    const server = await startServer({ compat });
    const port = server.port;
    const me = generateKeypair();
    const recorder = recordingTransport();
    const client = track(
      CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
        .withKeypair(me.privateKey)
        .withTransport(recorder.factory)
        .withReconnect({ initialDelayMs: 50, maxDelayMs: 200 })
        .build(),
    );
    await client.connect();
    const seen = recordStatuses(client);
    await server.close();
    await waitForStatus(client, 'backoff');
    await startServer({ compat, port });
    await waitForStatus(client, 'authenticated');
    expect(seen.slice(0, 1)).toEqual(['backoff']);
    expect(seen.slice(-4)).toEqual(['fetchingNonce', 'signing', 'authenticating', 'authenticated']);
    expect(await client.play('1 + 1')).toBe('2');
    const nonces = noncesIn(recorder.inbound);
    expect(nonces.length).toBe(2);
    expect(nonces[0]).not.toBe(nonces[1]);
  });
});

it('goes to failed after exactly one connection when the credentials are refused', async () => {
  const server = await startServer();
  const me = generateKeypair();
  const other = generateKeypair();
  // A signer that signs with another key than the one it announces: the server must refuse it.
  const lying: CryptoService = { derivePublicKey: (k, o) => derivePublicKey(k, o), signNonce: (_k, nonce) => signNonce(other.privateKey, nonce) };
  const recorder = recordingTransport();
  const client = track(
    CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withKeypair(me.privateKey)
      .withCrypto(lying)
      .withTransport(recorder.factory)
      .withReconnect({ initialDelayMs: 10 })
      .build(),
  );
  const error = await client.connect().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AuthError);
  expect(error).toMatchObject({ code: 'AUTH_REFUSED' });
  expect(String((error as Error).message)).not.toContain(me.privateKey);
  expect(client.status).toBe('failed');
  // No retry storm: give a retry every chance to happen, then count connections.
  await new Promise((r) => setTimeout(r, 200));
  expect(recorder.opened()).toBe(1);
  await expect(client.play('1')).rejects.toBeInstanceOf(AuthError);
});

it('refuses an unknown circle at the upgrade: failed with the HTTP status, no retries', async () => {
  const server = await startServer();
  const recorder = recordingTransport();
  const client = track(
    CircleWsClient.builder(server.urlFor(generateKeypair().publicKeyCompressed))
      .withKeypair(generateKeypair().privateKey)
      .withTransport(recorder.factory)
      .withReconnect({ initialDelayMs: 10 })
      .build(),
  );
  const error = await client.connect().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConnectionFailedError);
  expect(error).toMatchObject({ status: 404 });
  await new Promise((r) => setTimeout(r, 200));
  expect(recorder.opened()).toBe(1);
  expect(client.status).toBe('failed');
});

it('settles every call when the server goes away during traffic, re-sends only idempotent ones, and comes back', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  cleanup.push(() => release());
  // play waits on a gate, so the calls are in flight when the server goes down.
  const server = await startServer({ play: async () => {
    await gate;
    return 'late';
  } });
  const port = server.port;
  const client = track(
    CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed))
      .withKeypair(generateKeypair().privateKey)
      .withReconnect({ initialDelayMs: 50, maxDelayMs: 200 })
      .build(),
  );
  await client.connect();
  const plays = Array.from({ length: 50 }, (_, i) => client.play(`${i}`).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  ));
  // Let the 50 frames reach the server before it goes.
  await client.call('whoami');
  const closing = server.close();
  const results = await Promise.all(plays);
  for (const r of results) {
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(OutcomeUnknownError);
      expect(r.error).toBeInstanceOf(ConnectionLostError);
    }
  }
  await closing;
  // A read made while the server is down waits for the next session and succeeds there.
  const who = client.whoami({ timeoutMs: 10_000 });
  await startServer({ port });
  await waitForStatus(client, 'authenticated');
  await expect(who).resolves.toMatchObject({ authenticated: true });
  expect(await client.play('6 * 7')).toBe('42');
});

it('detects a server that stops answering without closing the socket (keep-alive)', async () => {
  // A server that accepts, never answers a ping (autoPong off) and never replies to a frame.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
  await once(wss, 'listening');
  cleanup.push(() => new Promise<void>((resolve) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => resolve());
  }));
  const { port } = wss.address() as AddressInfo;
  const client = track(
    CircleWsClient.builder(`ws://127.0.0.1:${port}/${circle.publicKeyCompressed}`)
      .withKeepAlive({ intervalMs: 200, timeoutMs: 200 })
      .withReconnect({ initialDelayMs: 5_000 })
      .build(),
  );
  await client.connect();
  expect(client.status).toBe('connected');
  const pending = client.call('anything', {}, { timeoutMs: 20_000 });
  const started = Date.now();
  await waitForStatus(client, 'backoff', 5_000);
  const detectedIn = Date.now() - started;
  expect(detectedIn).toBeGreaterThanOrEqual(300);
  expect(client.lastError).toMatchObject({ code: 'CONNECTION_LOST' });
  expect(client.lastError?.message).toContain('keep-alive');
  await expect(pending).rejects.toBeInstanceOf(OutcomeUnknownError);
});

it('rejects calls with NotConnectedError after disconnect, and leaves nothing behind', async () => {
  const server = await startServer();
  const client = CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed)).withKeypair(generateKeypair().privateKey).build();
  await client.connect();
  await client.disconnect();
  await client.disconnect();
  expect(client.status).toBe('disconnected');
  await expect(client.play('1')).rejects.toBeInstanceOf(NotConnectedError);
  expect(server.connections).toBe(0);
});

it('surfaces server errors as RpcError with the hero codes', async () => {
  const server = await startServer({ auth: false });
  const client = track(CircleWsClient.builder(server.urlFor(circle.publicKeyCompressed)).build());
  await client.connect();
  expect(client.status).toBe('connected');
  const error = await client.play('1 / 0').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RpcError);
  expect(error).toMatchObject({ rpcCode: RpcErrorCode.ExecutionError });
  await expect(client.call('nope')).rejects.toMatchObject({ rpcCode: RpcErrorCode.MethodNotFound });
});
