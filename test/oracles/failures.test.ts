/**
 * What the chart records as the last failure, code and message, for each way a session ends,
 * written out. The model-based tests take codes and targets from the chart itself; these take
 * them from here.
 */
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { circleWsMachine, type SocketClosed } from '../../machines/connection.js';
import { nobleCrypto, type Signer, signNonce } from '../../src/auth/crypto.js';
import { AuthError } from '../../src/errors.js';
import type { CircleWsClientBuilder } from '../../src/index.js';
import { fakeKey, fakeSession, flush, handshake } from '../support/fake-session.js';

/** The failure recorded after the server (or the network) ends the first socket as `close` says. */
async function failureAfterClose(close: SocketClosed, opened = true) {
  const s = fakeSession((b) => b.withReconnect(false));
  s.client.connect().catch(() => {});
  if (opened) s.fake.current.open();
  await flush();
  s.fake.current.serverClose(close);
  await flush();
  return s.client.actor.getSnapshot().context.lastFailure;
}

describe('closes', () => {
  it('a plain close, with and without a reason and a network error', async () => {
    expect(await failureAfterClose({ code: 4000, reason: 'bye' })).toEqual({ code: 'CONNECTION_LOST', message: 'the connection closed with code 4000 (bye)', closeCode: 4000 });
    expect(await failureAfterClose({ code: 1006, reason: '', error: 'read ECONNRESET' })).toEqual({
      code: 'CONNECTION_LOST',
      message: 'the connection closed with code 1006: read ECONNRESET',
      closeCode: 1006,
    });
  });

  it('1009 from the server, and 1009 from the client over its inbound limit', async () => {
    expect(await failureAfterClose({ code: 1009, reason: '' })).toEqual({
      code: 'CONNECTION_LOST',
      message: 'the connection closed with code 1009 (message too big: the server refused a frame the client sent)',
      closeCode: 1009,
    });
    expect(await failureAfterClose({ code: 1009, reason: 'Max payload size exceeded' })).toMatchObject({
      message: 'the connection closed with code 1009 (Max payload size exceeded)',
    });
    expect(await failureAfterClose({ code: 1009, reason: 'inbound frame too large', inboundTooLarge: true })).toEqual({
      code: 'FRAME_TOO_LARGE',
      message: "the server sent a frame over the client's inbound limit; the client closed the connection with 1009",
      closeCode: 1009,
    });
  });

  it('1008 locks the client out', async () => {
    expect(await failureAfterClose({ code: 1008, reason: 'too many failed authentications' })).toEqual({
      code: 'AUTH_LOCKED',
      message: 'the connection closed with code 1008 (too many failed authentications)',
      closeCode: 1008,
    });
  });

  it('refused upgrades: the status, a Retry-After rounded up to seconds, a redirect and where to', async () => {
    expect(await failureAfterClose({ code: 1006, reason: '', status: 503, retryAfterMs: 4_200 }, false)).toEqual({
      code: 'CONNECTION_LOST',
      message: 'the server refused the WebSocket upgrade with HTTP 503 (Retry-After: 5 s)',
      closeCode: 1006,
      status: 503,
      retryAfterMs: 4_200,
    });
    expect(await failureAfterClose({ code: 1006, reason: '', status: 404 }, false)).toEqual({
      code: 'CONNECTION_FAILED',
      message: 'the server refused the WebSocket upgrade with HTTP 404',
      closeCode: 1006,
      status: 404,
    });
    expect(await failureAfterClose({ code: 1006, reason: '', status: 301, location: 'wss://elsewhere/x' }, false)).toEqual({
      code: 'CONNECTION_FAILED',
      message: 'the server redirected the WebSocket upgrade with HTTP 301 to wss://elsewhere/x; redirects are not followed: connect to that URL if you trust it',
      closeCode: 1006,
      status: 301,
    });
    expect(await failureAfterClose({ code: 1006, reason: '', status: 302 }, false)).toMatchObject({
      message: 'the server redirected the WebSocket upgrade with HTTP 302 to (no Location header); redirects are not followed: connect to that URL if you trust it',
    });
    // The edges of the redirect range, described as what they are.
    expect(await failureAfterClose({ code: 1006, reason: '', status: 300 }, false)).toMatchObject({
      message: 'the server redirected the WebSocket upgrade with HTTP 300 to (no Location header); redirects are not followed: connect to that URL if you trust it',
    });
    expect(await failureAfterClose({ code: 1006, reason: '', status: 400 }, false)).toMatchObject({
      message: 'the server refused the WebSocket upgrade with HTTP 400',
    });
    for (const status of [408, 429, 500]) {
      expect((await failureAfterClose({ code: 1006, reason: '', status }, false))?.code, `HTTP ${status}`).toBe('CONNECTION_LOST');
    }
    for (const status of [300, 399, 400, 499]) {
      expect((await failureAfterClose({ code: 1006, reason: '', status }, false))?.code, `HTTP ${status}`).toBe('CONNECTION_FAILED');
    }
  });
});

describe('deadlines', () => {
  const timeouts = { connectMs: 1_000, authMs: 2_000 };

  it('each step names itself and its limit', async () => {
    const s = fakeSession((b) => b.withReconnect(false).withTimeouts(timeouts));
    s.client.connect().catch(() => {});
    s.clock.advance(1_000);
    await flush();
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'TIMEOUT', message: 'opening the socket took longer than 1000 ms' });

    for (const [answered, step] of [
      [[], 'fetch_nonce'],
      [['fetch_nonce'], 'authenticate'],
    ] as const) {
      const t = fakeSession((b) => b.withReconnect(false).withTimeouts(timeouts));
      t.client.connect().catch(() => {});
      t.fake.current.open();
      await flush();
      for (const method of answered) {
        t.fake.current.reply(method, 'nonce-1');
        await flush();
      }
      t.clock.advance(2_000);
      await flush();
      expect(t.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'TIMEOUT', message: `${step} took longer than 2000 ms` });
    }
  });

  it('a signer slower than the handshake step', async () => {
    const never = new Promise<string>(() => {});
    const s = fakeSession((b) =>
      b.withReconnect(false).withTimeouts(timeouts).withCrypto({ derivePublicKey: nobleCrypto.derivePublicKey, signNonce: () => never }),
    );
    s.client.connect().catch(() => {});
    s.fake.current.open();
    await flush();
    s.fake.current.reply('fetch_nonce', 'nonce-1');
    await flush();
    s.clock.advance(2_000);
    await flush();
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'TIMEOUT', message: 'signing the nonce took longer than 2000 ms' });
  });

  it('signing has its own deadline: authMs for a key pair unless signMs is given, 120 s for withSigner', async () => {
    const never = new Promise<string>(() => {});
    const slowCrypto = { derivePublicKey: nobleCrypto.derivePublicKey, signNonce: () => never };
    const external: Signer = { publicKey: fakeKey.publicKey, sign: () => never };
    for (const [configure, ms] of [
      [(b: CircleWsClientBuilder) => b.withTimeouts({ ...timeouts, signMs: 3_000 }).withCrypto(slowCrypto), 3_000],
      [(b: CircleWsClientBuilder) => b.withSigner(external), 120_000],
      [(b: CircleWsClientBuilder) => b.withSigner(external).withTimeouts({ signMs: 4_000 }), 4_000],
    ] as const) {
      const s = fakeSession((b) => configure(b.withReconnect(false)));
      s.client.connect().catch(() => {});
      s.fake.current.open();
      await flush();
      s.fake.current.reply('fetch_nonce', 'nonce-1');
      await flush();
      s.clock.advance(ms - 1);
      await flush();
      expect(s.client.status).toBe('signing');
      s.clock.advance(1);
      await flush();
      expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'TIMEOUT', message: `signing the nonce took longer than ${ms} ms` });
    }
  });

  it('a probe nobody answers', async () => {
    const s = fakeSession((b) => b.withReconnect(false).withKeepAlive({ intervalMs: 1_000, timeoutMs: 500 }), { supportsPing: true });
    s.client.connect().catch(() => {});
    await handshake(s);
    s.clock.advance(1_000);
    s.clock.advance(500);
    s.clock.advance(0);
    await flush();
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'LINK_DEAD', message: 'no answer to the keep-alive probe within 500 ms' });
  });
});

describe('the signer', () => {
  it('declined by its user: SIGNING_DECLINED, terminal', async () => {
    const declining: Signer = {
      publicKey: fakeKey.publicKey,
      sign: async () => {
        throw new AuthError('SIGNING_DECLINED', 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)');
      },
    };
    const s = fakeSession((b) => b.withSigner(declining));
    s.client.connect().catch(() => {});
    s.fake.current.open();
    await flush();
    s.fake.current.reply('fetch_nonce', 'nonce-1');
    await flush();
    expect(s.client.status).toBe('failed');
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({
      code: 'SIGNING_DECLINED',
      message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)',
    });
  });

  it('a drop after this connect() signed, with withSigner: disconnected, the drop kept', async () => {
    const signer: Signer = { publicKey: fakeKey.publicKey, sign: async (nonce) => signNonce(fakeKey.privateKey, nonce) };
    const s = fakeSession((b) => b.withSigner(signer));
    s.client.connect().catch(() => {});
    await handshake(s);
    s.fake.current.serverClose({ code: 1001, reason: 'restarting' });
    await flush();
    expect(s.client.status).toBe('disconnected');
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({ code: 'CONNECTION_LOST', message: 'the connection closed with code 1001 (restarting)', closeCode: 1001 });
    await s.client.disconnect();
  });
});

describe('the bare machine', () => {
  it('says which implementation was not provided', () => {
    const actor = createActor(circleWsMachine, {
      input: { url: 'ws://x/y', publicKey: null, reconnect: null, keepAlive: null, connectTimeoutMs: 1_000, authTimeoutMs: 1_000, stableAfterMs: 5_000 },
    });
    const errors: unknown[] = [];
    actor.subscribe({ error: (error) => errors.push(error) });
    actor.start();
    actor.send({ type: 'connect' });
    expect(String(errors[0])).toContain('circleWsMachine: the "openSocket" implementation was not provided');
  });
});

describe('attempts', () => {
  it('run out: how many, and the last failure', async () => {
    const s = fakeSession((b) => b.withReconnect({ maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, jitter: 0 }));
    s.client.connect().catch(() => {});
    for (let i = 0; i < 3; i++) {
      s.fake.current.serverClose({ code: 1006, reason: '', error: `refused ${i}` });
      await flush();
      s.clock.advance(10);
      await flush();
    }
    expect(s.client.status).toBe('failed');
    expect(s.client.actor.getSnapshot().context.lastFailure).toEqual({
      code: 'RECONNECT_EXHAUSTED',
      message: 'gave up after 2 reconnection attempts; last failure: the connection closed with code 1006: refused 2',
    });
    await s.client.disconnect();
  });
});
