import { afterEach, describe, expect, it } from 'vitest';
import { generateKeypair, signNonce } from '../../src/auth/crypto.js';
import { RpcErrorCode } from '../../src/errors.js';
import type { PlaySession } from '../../src/server/index.js';
import { authenticate, CIRCLE, cleanup, connect, startServer } from './helpers.js';

afterEach(cleanup);

/** Re-encodes a 65-byte hex signature with a different v byte. */
function withV(signature: string, v: (recovery: number) => number): string {
  const recovery = parseInt(signature.slice(128), 16) - 27;
  return signature.slice(0, 128) + v(recovery).toString(16).padStart(2, '0');
}

async function session(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer(options);
  const client = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
  return { server, client, keys: generateKeypair() };
}

describe('authentication', () => {
  it('authenticates, then whoami and play succeed', async () => {
    const { client, keys } = await session();
    expect(await client.result('whoami')).toEqual({
      authenticated: false,
      pubkey: null,
      circle: CIRCLE.publicKeyCompressed,
    });
    const nonce = await client.result('fetch_nonce', { pubkey: keys.publicKey });
    expect(nonce).toMatch(/^[0-9a-f]{64}$/);
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce as string) });
    expect(reply).toEqual({ jsonrpc: '2.0', id: reply.id, result: true });
    expect(await client.result('whoami')).toEqual({ authenticated: true, pubkey: keys.publicKey, circle: CIRCLE.publicKeyCompressed });
    expect(await client.result('play', { script: 'let x = 10; x * 2' })).toEqual({ output: '20' });
  });

  it('issues a different nonce on every fetch', async () => {
    const { client, keys } = await session();
    const a = await client.result('fetch_nonce', { pubkey: keys.publicKey });
    const b = await client.result('fetch_nonce', { pubkey: keys.publicKey });
    expect(a).not.toBe(b);
  });

  it('-32602 for fetch_nonce without a pubkey or with a malformed one', async () => {
    const { client, keys } = await session();
    for (const params of [{}, { pubkey: 42 }, { pubkey: 'zz' }, { pubkey: keys.publicKey.slice(0, 128) }, { pubkey: `05${keys.publicKey.slice(2)}` }]) {
      const reply = await client.call('fetch_nonce', params);
      expect(reply.error?.code, JSON.stringify(params)).toBe(RpcErrorCode.InvalidParams);
      expect(reply.error?.message).toMatch(/^Invalid params: /);
    }
  });

  it('-32602 for authenticate with a malformed pubkey or a non-string signature, without consuming the nonce', async () => {
    const { client, keys } = await session();
    const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    expect((await client.call('authenticate', { pubkey: 'nope', signature: 'ab' })).error?.code).toBe(RpcErrorCode.InvalidParams);
    expect((await client.call('authenticate', { pubkey: keys.publicKey })).error?.code).toBe(RpcErrorCode.InvalidParams);
    expect((await client.call('authenticate', { pubkey: keys.publicKey, signature: 7 })).error?.code).toBe(RpcErrorCode.InvalidParams);
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(reply.result).toBe(true);
  });

  it('-32002 Invalid Credentials for a signature by another key', async () => {
    const { client, keys } = await session();
    const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(generateKeypair().privateKey, nonce) });
    expect(reply.error).toEqual({ code: RpcErrorCode.InvalidCredentials, message: 'Invalid Credentials', data: { reason: 'bad_signature', attemptsLeft: 4 } });
    expect(await client.result('whoami')).toMatchObject({ authenticated: false, pubkey: null });
  });

  it('-32002 for a malformed signature string', async () => {
    const { client, keys } = await session();
    await client.result('fetch_nonce', { pubkey: keys.publicKey });
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: 'not hex at all' });
    expect(reply.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'bad_signature' } });
  });

  it('refuses a reused nonce', async () => {
    const { client, keys } = await session();
    const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const signature = signNonce(keys.privateKey, nonce);
    expect((await client.call('authenticate', { pubkey: keys.publicKey, signature })).result).toBe(true);
    const again = await client.call('authenticate', { pubkey: keys.publicKey, signature });
    expect(again.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'no_nonce' } });
    // A refused attempt does not undo the earlier success.
    expect(await client.result('whoami')).toMatchObject({ authenticated: true });
  });

  it('refuses a nonce fetched on another connection', async () => {
    const { server, client, keys } = await session();
    const other = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    const nonce = (await other.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(reply.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'no_nonce' } });
    // …and it is still good on the connection it was issued to.
    expect((await other.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) })).result).toBe(true);
  });

  it('a new fetch_nonce replaces the pending nonce', async () => {
    const { client, keys } = await session();
    const first = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const second = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const stale = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, first) });
    expect(stale.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'bad_signature' } });
    // The failed attempt consumed the second nonce too.
    const late = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, second) });
    expect(late.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'no_nonce' } });
  });

  it('a failed authenticate consumes the nonce', async () => {
    const { client, keys } = await session();
    const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    const wrong = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, `${nonce}x`) });
    expect(wrong.error?.code).toBe(RpcErrorCode.InvalidCredentials);
    const right = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(right.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'no_nonce' } });
  });

  it('refuses a nonce issued to another public key', async () => {
    const { client, keys } = await session();
    const other = generateKeypair();
    const nonce = (await client.result('fetch_nonce', { pubkey: other.publicKey })) as string;
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(reply.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'pubkey_mismatch' } });
  });

  it('refuses an expired nonce (injected clock)', async () => {
    let clock = 1_000_000;
    const { client, keys } = await session({ now: () => clock, nonceTtlMs: 60_000 });
    let nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    clock += 60_000;
    const expired = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(expired.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { reason: 'expired' } });
    nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
    clock += 59_999;
    const inTime = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(inTime.result).toBe(true);
  });

  it('treats compressed and uncompressed forms of a key as the same key', async () => {
    const { client, keys } = await session();
    // Nonce fetched with the compressed form, authenticated with the uncompressed one.
    const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKeyCompressed })) as string;
    const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(reply.result).toBe(true);
    expect(await client.result('whoami')).toMatchObject({ pubkey: keys.publicKey });
    // And the other way round, with 0x and upper case.
    expect((await authenticate(client, keys, `0x${keys.publicKeyCompressed.toUpperCase()}`)).result).toBe(true);
  });

  it('accepts v as 0/1 as well as 27/28, with 0x and in upper case', async () => {
    const { client, keys } = await session();
    for (const encode of [
      (sig: string) => withV(sig, (recovery) => recovery),
      (sig: string) => `0x${sig.toUpperCase()}`,
      (sig: string) => `0X${withV(sig, (recovery) => recovery)}`,
    ]) {
      const nonce = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as string;
      const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: encode(signNonce(keys.privateKey, nonce)) });
      expect(reply.result).toBe(true);
    }
  });

  it('answers the fifth refused authenticate, then closes with 1008', async () => {
    const { client, keys } = await session();
    for (let attempt = 1; attempt <= 5; attempt++) {
      const reply = await client.call('authenticate', { pubkey: keys.publicKey, signature: '00'.repeat(65) });
      expect(reply.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, data: { attemptsLeft: 5 - attempt } });
    }
    expect(await client.closed).toEqual({ code: 1008, reason: 'too many failed authentications' });
  });

  it('counts refusals over the connection, not per nonce or per key', async () => {
    const { client, keys } = await session();
    for (let attempt = 1; attempt <= 4; attempt++) {
      const other = generateKeypair();
      const nonce = (await client.result('fetch_nonce', { pubkey: other.publicKey })) as string;
      await client.call('authenticate', { pubkey: other.publicKey, signature: signNonce(keys.privateKey, nonce) });
    }
    expect((await authenticate(client, keys)).result).toBe(true);
    const fifth = await client.call('authenticate', { pubkey: keys.publicKey, signature: 'ab' });
    expect(fifth.error?.code).toBe(RpcErrorCode.InvalidCredentials);
    expect((await client.closed).code).toBe(1008);
  });

  it('authentication is lost with the connection', async () => {
    const { server, client, keys } = await session();
    expect((await authenticate(client, keys)).result).toBe(true);
    client.ws.close();
    await client.closed;
    const again = await connect(server.urlFor(CIRCLE.publicKeyCompressed));
    expect(await again.result('whoami')).toMatchObject({ authenticated: false });
    expect((await again.call('play', { script: '1' })).error?.code).toBe(RpcErrorCode.AuthenticationRequired);
  });
});

describe('play', () => {
  it('-32001 before authentication (checked before params)', async () => {
    const { client } = await session();
    for (const params of [{ script: '1 + 1' }, {}]) {
      const reply = await client.call('play', params);
      expect(reply.error?.code).toBe(RpcErrorCode.AuthenticationRequired);
      expect(reply.error?.message).toMatch(/^Authentication Required/);
    }
  });

  it('-32602 for a missing or non-string script', async () => {
    const { client, keys } = await session();
    await authenticate(client, keys);
    for (const params of [{}, { script: 42 }, { script: null }]) {
      expect((await client.call('play', params)).error?.code).toBe(RpcErrorCode.InvalidParams);
    }
  });

  it('-32000 with what went wrong for a failing script', async () => {
    const { client, keys } = await session();
    await authenticate(client, keys);
    const reply = await client.call('play', { script: 'let x = 0; 10 / x' });
    expect(reply.error).toEqual({
      code: RpcErrorCode.ExecutionError,
      message: 'division by zero at line 1, column 15',
      data: { kind: 'runtime', line: 1, column: 15 },
    });
    const syntax = await client.call('play', { script: '1 +' });
    expect(syntax.error?.code).toBe(RpcErrorCode.ExecutionError);
    expect(syntax.error?.message).toMatch(/^syntax error: .* at line 1, column 4$/);
  });

  it('works without authentication when auth is disabled', async () => {
    const { client, keys } = await session({ auth: false });
    expect(await client.result('play', { script: '6 * 7' })).toEqual({ output: '42' });
    expect(await client.result('whoami')).toMatchObject({ authenticated: false, pubkey: null });
    // Authentication still works for clients that have keys.
    expect((await authenticate(client, keys)).result).toBe(true);
  });

  it('passes the session to a custom play handler and reports its failures as -32000', async () => {
    const seen: PlaySession[] = [];
    const { client, keys } = await session({
      play: async (script, s) => {
        seen.push(s);
        if (script === 'boom') throw new Error('the handler exploded');
        return script.toUpperCase();
      },
    });
    await authenticate(client, keys);
    expect(await client.result('play', { script: 'hello' })).toEqual({ output: 'HELLO' });
    expect(seen).toEqual([{ circle: CIRCLE.publicKeyCompressed, pubkey: keys.publicKey, authenticated: true }]);
    expect((await client.call('play', { script: 'boom' })).error).toEqual({ code: RpcErrorCode.ExecutionError, message: 'the handler exploded' });
  });

  it('-32603 when the play handler resolves with something that is not a string', async () => {
    const { client } = await session({ auth: false, play: async () => 42 as unknown as string });
    const reply = await client.call('play', { script: 'x' });
    expect(reply.error).toEqual({ code: RpcErrorCode.InternalError, message: 'Internal error' });
  });
});
