/**
 * A hostile server tries to use the client as a signing oracle (issue 12, item 4): it answers
 * `fetch_nonce` with text that is not a nonce (a Sign-In-With-Ethereum login message, a nonce far
 * too long) and would accept whatever signature comes back. The server is a real WebSocket server
 * on 127.0.0.1 that records every request it receives, so "nothing was signed and nothing was sent"
 * is observed on the wire, not inferred from the client's state.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  AuthError,
  CircleWsClient,
  CircleWsError,
  type CryptoService,
  derivePublicKey,
  generateKeypair,
  nobleCrypto,
  verifySignature,
} from '../../src/index.js';
import { leakCheck } from './support.js';

interface Received {
  connection: number;
  method: string;
  params: Record<string, unknown>;
}

/** A server that hands out `nonceFor(connection)` as the nonce and accepts any `authenticate`. */
class HostileServer {
  readonly received: Received[] = [];
  connections = 0;
  private constructor(readonly wss: WebSocketServer) {}

  static async start(nonceFor: (connection: number) => string): Promise<HostileServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    const server = new HostileServer(wss);
    wss.on('connection', (socket) => {
      const connection = server.connections++;
      socket.on('error', () => {});
      socket.on('message', (data) => {
        const request = JSON.parse(data.toString()) as { id: string; method: string; params: Record<string, unknown> };
        server.received.push({ connection, method: request.method, params: request.params });
        // Built by concatenation so a 100 MB nonce is not copied through JSON.stringify twice.
        const reply = (resultJson: string) => socket.send(`{"jsonrpc":"2.0","id":${JSON.stringify(request.id)},"result":${resultJson}}`);
        if (request.method === 'fetch_nonce') reply(JSON.stringify(nonceFor(connection)));
        else if (request.method === 'authenticate') reply('true');
        else reply('{"authenticated":true,"pubkey":null}');
      });
    });
    return server;
  }

  url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/02aa`;
  }

  methods(): string[] {
    return this.received.map((r) => r.method);
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

const me = generateKeypair();

/** A crypto service that counts what it is asked to sign. */
function countingCrypto(): { crypto: CryptoService; signed: string[] } {
  const signed: string[] = [];
  return {
    signed,
    crypto: {
      derivePublicKey: (k, o) => derivePublicKey(k, o),
      signNonce: (k, nonce) => {
        signed.push(nonce);
        return nobleCrypto.signNonce(k, nonce);
      },
    },
  };
}

/** A login message of the kind a wallet signs for another service: under 256 characters, with lines and spaces. */
const siweMessage = [
  'app.example.org wants you to sign in with your Ethereum account:',
  '0x71C7656EC7ab88b098defB751B7401B5f6d8976F',
  '',
  'Sign in to Example App.',
  '',
  'URI: https://app.example.org',
  'Version: 1',
  'Chain ID: 1',
  'Nonce: 32891756',
  'Issued At: 2026-11-30T10:00:00Z',
].join('\n');

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function hostile(nonceFor: (connection: number) => string): Promise<HostileServer> {
  const server = await HostileServer.start(nonceFor);
  cleanup.push(() => server.close());
  return server;
}

describe('a hostile server cannot use the client as a signing oracle', () => {
  it('a SIWE login message as the nonce: refused before signing, no authenticate frame, failed (no retries)', async () => {
    // Short enough for the length bound: the character set is what must refuse it.
    expect(siweMessage.length).toBeLessThan(256);
    const leaks = leakCheck();
    const server = await hostile(() => siweMessage);
    const { crypto, signed } = countingCrypto();
    const client = CircleWsClient.builder(server.url())
      .withKeypair(me.privateKey)
      .withCrypto(crypto)
      .withReconnect({ initialDelayMs: 10, maxDelayMs: 20 })
      .build();
    cleanup.push(() => client.disconnect());

    const error = await client.connect({ timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('NONCE_REJECTED');
    expect(client.status).toBe('failed');
    expect(client.lastError).toMatchObject({ code: 'NONCE_REJECTED' });
    // The message says why without repeating the text it refused to sign.
    expect((error as Error).message).toMatch(/character 16 is U\+0020/);
    expect((error as Error).message).not.toContain('wants you to sign in');

    // Terminal: well past the 10–20 ms backoff, still one connection and no second attempt.
    await new Promise((r) => setTimeout(r, 300));
    expect(server.connections).toBe(1);
    expect(server.methods()).toEqual(['fetch_nonce']);
    expect(signed).toEqual([]);
    await client.disconnect();
    await server.close();
    await leaks.check();
  });

  it('length bound: a nonce-shaped nonce of 256 characters is signed, one of 257 (or 512 KiB) is not', async () => {
    const at = (n: number) => `nonce_${'f'.repeat(n - 6)}`;
    const lengths = [256, 257, 512 * 1024];
    const server = await hostile((connection) => at(lengths[connection] as number));
    const outcomes: Array<{ length: number; code: string; methods: string[]; signed: number }> = [];
    for (const length of lengths) {
      const { crypto, signed } = countingCrypto();
      const client = CircleWsClient.builder(server.url()).withKeypair(me.privateKey).withCrypto(crypto).withReconnect(false).build();
      cleanup.push(() => client.disconnect());
      const before = server.received.length;
      const error = await client.connect({ timeoutMs: 10_000 }).catch((e: unknown) => e);
      outcomes.push({
        length,
        code: error === undefined ? 'ready' : (error as CircleWsError).code,
        methods: server.received.slice(before).map((r) => r.method),
        signed: signed.length,
      });
      await client.disconnect();
    }
    expect(outcomes).toEqual([
      { length: 256, code: 'ready', methods: ['fetch_nonce', 'authenticate'], signed: 1 },
      { length: 257, code: 'NONCE_REJECTED', methods: ['fetch_nonce'], signed: 0 },
      { length: 512 * 1024, code: 'NONCE_REJECTED', methods: ['fetch_nonce'], signed: 0 },
    ]);
    // The signature that did go out is a real one over the 256-character nonce (the observation can see a signing).
    const sent = server.received.find((r) => r.method === 'authenticate');
    expect(verifySignature(at(256), String(sent?.params.signature), me.publicKey)).toBe(true);
  });

  it('a ~100 MB nonce is never signed and no authenticate frame is sent (figures printed)', async () => {
    const huge = 'a'.repeat(100_000_000);
    const server = await hostile(() => huge);
    const { crypto, signed } = countingCrypto();
    // A handshake-step deadline long enough for 100 MB to cross loopback on a busy machine, so
    // what stops the handshake is the nonce, not the clock.
    const client = CircleWsClient.builder(server.url())
      .withKeypair(me.privateKey)
      .withCrypto(crypto)
      .withReconnect(false)
      .withTimeouts({ authMs: 150_000 })
      .build();
    cleanup.push(() => client.disconnect());
    const rssBefore = process.memoryUsage().rss;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    const error = await client.connect({ timeoutMs: 150_000 }).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    loop.disable();
    const rssAfter = process.memoryUsage().rss;
    // A client with an inbound frame limit may stop the frame before it is parsed (a close, then
    // no retry with reconnection off); without one, the nonce rule refuses it. Either way: a typed
    // error, nothing signed, nothing sent.
    expect(error).toBeInstanceOf(CircleWsError);
    expect((error as CircleWsError).code).not.toBe('TIMEOUT');
    if (error instanceof AuthError) expect(error.code).toBe('NONCE_REJECTED');
    expect((error as Error).message.length).toBeLessThan(500);
    expect(signed).toEqual([]);
    expect(server.methods()).toEqual(['fetch_nonce']);
    console.log(
      `100 MB nonce: refused with ${(error as CircleWsError).code} after ${elapsed.toFixed(0)} ms; ` +
        `longest event-loop stall ${(loop.max / 1e6).toFixed(0)} ms; ` +
        `RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB (server in the same process)`,
    );
  }, 200_000);

  it('withNonceRule relaxes the rule for a server whose nonces differ, and only as far as asked', async () => {
    const base64 = 'q83vEjRWeJCrze8SNFZ4kA==';
    const server = await hostile(() => base64);
    const run = async (configure: (b: ReturnType<typeof CircleWsClient.builder>) => ReturnType<typeof CircleWsClient.builder>) => {
      const { crypto, signed } = countingCrypto();
      const client = configure(CircleWsClient.builder(server.url()).withKeypair(me.privateKey).withCrypto(crypto).withReconnect(false)).build();
      cleanup.push(() => client.disconnect());
      const error = await client.connect({ timeoutMs: 10_000 }).catch((e: unknown) => e);
      await client.disconnect();
      return { code: error === undefined ? 'ready' : (error as CircleWsError).code, signed };
    };
    expect(await run((b) => b)).toEqual({ code: 'NONCE_REJECTED', signed: [] });
    expect(await run((b) => b.withNonceRule({ pattern: /[A-Za-z0-9+/=]+/ }))).toEqual({ code: 'ready', signed: [base64] });
    // Relaxing the characters keeps the default length bound.
    expect(await run((b) => b.withNonceRule({ pattern: /[A-Za-z0-9+/=]+/, maxLength: 16 }))).toEqual({ code: 'NONCE_REJECTED', signed: [] });
    expect(server.methods().filter((m) => m === 'authenticate')).toHaveLength(1);
  });
});
