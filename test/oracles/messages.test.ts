/**
 * What each error of the facade says, written out. "Every bad input gets a clear, typed error that
 * says what was wrong": these literals are that promise, so a message that loses its method name,
 * its limit or its reason fails here.
 */
import { describe, expect, it } from 'vitest';
import type { Signer } from '../../src/auth/crypto.js';
import { AuthError } from '../../src/errors.js';
import { type FakeSession, fakeKey, fakeSession, flush, handshake } from '../support/fake-session.js';

const shortKey = `${fakeKey.publicKey.slice(0, 10)}…`;

/** The error a promise rejected with (the test fails if it resolved). */
async function errorOf(promise: Promise<unknown>): Promise<{ name: string; code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code: string; message: string };
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('expected a rejection');
}

describe('bad arguments', () => {
  it('say which argument and what it should be', async () => {
    const { client } = fakeSession();
    expect(await errorOf(client.call(''))).toEqual({ name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', message: 'the method must be a non-empty string' });
    expect(await errorOf(client.call('m', [] as unknown as Record<string, unknown>))).toEqual({
      name: 'InvalidArgumentError',
      code: 'INVALID_ARGUMENT',
      message: 'params of m must be an object (named parameters)',
    });
    expect(await errorOf(client.play(1 as unknown as string))).toMatchObject({ code: 'INVALID_ARGUMENT', message: 'play takes the script as a string' });
    expect(() => client.on('nope' as 'status', () => {})).toThrow('unknown event "nope": expected "status" or "notification"');
    expect(() => client.on('status', 1 as unknown as () => void)).toThrow('the status listener must be a function');
    expect(() => client.on('notification', null as unknown as () => void)).toThrow('the notification listener must be a function');
  });

  it('a call over the frame limit says its size and the limit', async () => {
    const { client } = fakeSession((b) => b.withMaxFrameBytes(1024));
    const error = await errorOf(client.call('m', { text: 'x'.repeat(2000) }));
    expect(error).toEqual({
      name: 'FrameTooLargeError',
      code: 'FRAME_TOO_LARGE',
      message: 'm would be a 2060-byte frame, over the 1024-byte limit (withMaxFrameBytes); it was not sent',
    });
  });
});

// Sizes below: the request frame is {"jsonrpc":"2.0","id":"N","method":"M","params":{"text":"…"}},
// 57 bytes around a one-character method and a one-digit id, plus the text.
describe('calls that do not get an answer', () => {
  it('a call before connect()', async () => {
    const { client } = fakeSession();
    expect(await errorOf(client.call('m'))).toEqual({ name: 'NotConnectedError', code: 'NOT_CONNECTED', message: 'the client is not connected: call connect() first' });
  });

  it('a deadline passed before the call was sent names the state it waited in', async () => {
    const s = fakeSession();
    s.client.connect().catch(() => {});
    const call = s.client.call('m', {}, { timeoutMs: 100 });
    s.clock.advance(100);
    expect(await errorOf(call)).toEqual({ name: 'TimeoutError', code: 'TIMEOUT', message: 'm got no answer within 100 ms (never sent: the session was connecting)' });
    await s.client.disconnect();
  });

  it('a deadline passed after it was sent', async () => {
    const s = fakeSession((b) => b.withKeepAlive(false));
    s.client.connect().catch(() => {});
    await handshake(s);
    const call = s.client.call('m', {}, { timeoutMs: 100 });
    s.clock.advance(100);
    expect(await errorOf(call)).toEqual({ name: 'TimeoutError', code: 'TIMEOUT', message: 'm got no answer within 100 ms' });
    await s.client.disconnect();
  });

  it('aborted before it was sent, and while it waited', async () => {
    const s = fakeSession();
    expect(await errorOf(s.client.call('m', {}, { signal: AbortSignal.abort() }))).toEqual({ name: 'AbortError', code: 'ABORTED', message: 'm was aborted before it was sent' });
    s.client.connect().catch(() => {});
    const controller = new AbortController();
    const call = s.client.call('m', {}, { signal: controller.signal });
    controller.abort();
    expect(await errorOf(call)).toEqual({ name: 'AbortError', code: 'ABORTED', message: 'm was aborted' });
    await s.client.disconnect();
  });

  it('disconnect() with calls in flight and queued', async () => {
    const s = fakeSession((b) => b.withKeepAlive(false));
    s.client.connect().catch(() => {});
    await handshake(s);
    const inFlight = errorOf(s.client.call('m'));
    await flush();
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    const queued = errorOf(s.client.call('q'));
    await s.client.disconnect();
    expect(await inFlight).toMatchObject({ code: 'OUTCOME_UNKNOWN' });
    expect(await queued).toEqual({ name: 'NotConnectedError', code: 'NOT_CONNECTED', message: 'the client was disconnected' });

    const t = fakeSession((b) => b.withKeepAlive(false));
    t.client.connect().catch(() => {});
    await handshake(t);
    const sent = t.client.call('m');
    await flush();
    await t.client.disconnect();
    expect(await errorOf(sent)).toEqual({ name: 'NotConnectedError', code: 'NOT_CONNECTED', message: 'the client was disconnected while m was in flight' });
  });

  it('a write in flight at a drop is not re-sent, and says why', async () => {
    const s = fakeSession((b) => b.withKeepAlive(false));
    s.client.connect().catch(() => {});
    await handshake(s);
    const call = s.client.call('m');
    await flush();
    s.fake.current.serverClose({ code: 1006, reason: '' });
    expect(await errorOf(call)).toEqual({
      name: 'OutcomeUnknownError',
      code: 'OUTCOME_UNKNOWN',
      message: 'm was in flight when the connection dropped; the server may or may not have run it, and it was not re-sent because it is not marked safe to repeat',
    });
    await s.client.disconnect();
  });

  it('a 1009 close: the largest call is blamed, the others are not re-sent', async () => {
    const s = fakeSession((b) => b.withKeepAlive(false));
    s.client.connect().catch(() => {});
    await handshake(s);
    const big = s.client.call('big', { text: 'x'.repeat(500) });
    const small = s.client.whoami();
    await flush();
    s.fake.current.serverClose({ code: 1009, reason: '' });
    expect(await errorOf(big)).toEqual({
      name: 'FrameTooLargeError',
      code: 'FRAME_TOO_LARGE',
      message: 'the server closed the connection with 1009 (message too big) while big (562 bytes, the largest call in flight) was in flight; it was not re-sent',
    });
    expect(await errorOf(small)).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      message: 'whoami was in flight when the connection dropped; the server may or may not have run it, and it was not re-sent because calls in flight at a 1009 close (message too big) are never re-sent',
    });
    await s.client.disconnect();
  });

  it('a 1009 close because a frame from the server was too big re-sends nothing either', async () => {
    const s = fakeSession((b) => b.withKeepAlive(false));
    s.client.connect().catch(() => {});
    await handshake(s);
    const call = s.client.whoami();
    await flush();
    s.fake.current.serverClose({ code: 1009, reason: 'inbound frame too large', inboundTooLarge: true });
    expect(await errorOf(call)).toMatchObject({
      code: 'OUTCOME_UNKNOWN',
      message:
        'whoami was in flight when the connection dropped; the server may or may not have run it, and it was not re-sent because a frame from the server was over the inbound limit (1009): an answer too big would fail the same way again',
    });
    await s.client.disconnect();
  });
});

describe('connect()', () => {
  it('not ready in time: the state, and the last failure when there is one', async () => {
    const s = fakeSession();
    const first = s.client.connect({ timeoutMs: 100 });
    s.clock.advance(100);
    expect(await errorOf(first)).toEqual({ name: 'TimeoutError', code: 'TIMEOUT', message: 'not ready after 100 ms (state connecting)' });
    s.fake.current.serverClose({ code: 1006, reason: '', error: 'connect ECONNREFUSED' });
    await flush();
    // withRandom(() => 0): the jittered delay is 0, so the client is already trying again.
    const second = s.client.connect({ timeoutMs: 100 });
    s.clock.advance(100);
    expect(await errorOf(second)).toEqual({
      name: 'TimeoutError',
      code: 'TIMEOUT',
      message: 'not ready after 100 ms (state connecting; last failure: the connection closed with code 1006: connect ECONNREFUSED)',
    });
    await s.client.disconnect();
  });

  it('aborted, before and during', async () => {
    const s = fakeSession();
    expect(await errorOf(s.client.connect({ signal: AbortSignal.abort() }))).toEqual({ name: 'AbortError', code: 'ABORTED', message: 'connect() was aborted' });
    const controller = new AbortController();
    const pending = s.client.connect({ signal: controller.signal });
    controller.abort();
    expect(await errorOf(pending)).toEqual({ name: 'AbortError', code: 'ABORTED', message: 'connect() was aborted' });
    await s.client.disconnect();
  });
});

/** Opens the socket and answers `fetch_nonce`: the client then signs and sends `authenticate`. */
async function answerNonce(s: FakeSession): Promise<void> {
  s.fake.current.open();
  await flush();
  s.fake.current.reply('fetch_nonce', 'nonce-1');
  await flush();
}

describe('the handshake', () => {
  it('a nonce the server will not issue', async () => {
    const s = fakeSession();
    const connected = s.client.connect();
    s.fake.current.open();
    await flush();
    s.fake.current.replyError('fetch_nonce', -32000, 'unknown key');
    expect(await errorOf(connected)).toEqual({ name: 'AuthError', code: 'NONCE_REFUSED', message: 'the server would not issue a nonce: unknown key (JSON-RPC error -32000)' });
  });

  it('refused credentials name the key by its first ten characters only', async () => {
    const s = fakeSession();
    const connected = s.client.connect();
    await answerNonce(s);
    s.fake.current.replyError('authenticate', -32001, 'bad signature');
    expect(await errorOf(connected)).toEqual({ name: 'AuthError', code: 'AUTH_REFUSED', message: `the server refused the credentials of ${shortKey}: bad signature (JSON-RPC error -32001)` });
  });

  it('an answer of false is a refusal too', async () => {
    const s = fakeSession();
    const connected = s.client.connect();
    await answerNonce(s);
    s.fake.current.reply('authenticate', false);
    expect(await errorOf(connected)).toEqual({ name: 'AuthError', code: 'AUTH_REFUSED', message: `the server refused the credentials of ${shortKey}` });
  });

  it('a nonce that expired twice', async () => {
    const s = fakeSession();
    const connected = s.client.connect();
    s.fake.current.open();
    for (const n of [1, 2]) {
      await flush();
      s.fake.current.reply('fetch_nonce', `nonce-${n}`);
      await flush();
      s.fake.current.replyError('authenticate', -32001, 'nonce expired');
    }
    expect(await errorOf(connected)).toEqual({
      name: 'AuthError',
      code: 'NONCE_EXPIRED',
      message: 'the nonce expired before the signature reached the server: nonce expired (JSON-RPC error -32001)',
    });
  });

  it('a signature the user declined in the wallet', async () => {
    const declining: Signer = {
      publicKey: fakeKey.publicKey,
      sign: async () => {
        throw new AuthError('SIGNING_DECLINED', 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)');
      },
    };
    const s = fakeSession((b) => b.withSigner(declining));
    // Caught from the start: the rejection comes while the server's answer is being played.
    const connected = errorOf(s.client.connect());
    await answerNonce(s);
    expect(await connected).toEqual({ name: 'AuthError', code: 'SIGNING_DECLINED', message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)' });
    expect(await errorOf(s.client.call('m'))).toEqual({ name: 'AuthError', code: 'SIGNING_DECLINED', message: 'the user declined to sign the nonce in the wallet (EIP-1193 error 4001)' });
  });

  it('a signer that fails otherwise', async () => {
    const failing: Signer = {
      publicKey: fakeKey.publicKey,
      sign: async () => {
        throw new Error('device unplugged');
      },
    };
    const s = fakeSession((b) => b.withSigner(failing));
    // Caught from the start: the rejection comes while the server's answer is being played.
    const connected = errorOf(s.client.connect());
    await answerNonce(s);
    expect(await connected).toEqual({ name: 'AuthError', code: 'SIGNING_FAILED', message: 'the signer failed to sign the nonce' });
  });

  it("the server's internal error is retried, and says so", async () => {
    const s = fakeSession((b) => b.withReconnect(false));
    const connected = s.client.connect();
    s.fake.current.open();
    await flush();
    s.fake.current.replyError('fetch_nonce', -32603, 'database down');
    expect(await errorOf(connected)).toEqual({
      name: 'ServerError',
      code: 'SERVER_ERROR',
      message: 'the server failed internally while answering fetch_nonce (database down (JSON-RPC error -32603)); retrying with backoff',
    });
  });

  it('the same for authenticate', async () => {
    const s = fakeSession((b) => b.withReconnect(false));
    const connected = s.client.connect();
    await answerNonce(s);
    s.fake.current.replyError('authenticate', -32603, 'oops');
    expect(await errorOf(connected)).toMatchObject({
      code: 'SERVER_ERROR',
      message: 'the server failed internally while answering authenticate (oops (JSON-RPC error -32603)); retrying with backoff',
    });
  });

  it('a handshake request lost with its socket', async () => {
    const s = fakeSession((b) => b.withReconnect(false));
    const connected = s.client.connect();
    s.fake.current.open();
    await flush();
    s.fake.current.serverClose({ code: 1006, reason: '' });
    expect(await errorOf(connected)).toMatchObject({ code: 'CONNECTION_LOST', message: 'the connection closed with code 1006' });
  });
});
