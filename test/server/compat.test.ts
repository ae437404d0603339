import { afterEach, describe, expect, it } from 'vitest';
import { generateKeypair, signNonce } from '../../src/auth/crypto.js';
import { RpcErrorCode } from '../../src/errors.js';
import { CIRCLE, cleanup, connect, startServer } from './helpers.js';

afterEach(cleanup);

describe("compat: 'v1' (Circles RPC v1.0.0 result shapes)", () => {
  async function v1(options: Parameters<typeof startServer>[0] = {}) {
    const server = await startServer({ compat: 'v1', ...options });
    return connect(server.urlFor(CIRCLE.publicKeyCompressed));
  }

  it('fetch_nonce returns { nonce, expires_at } in unix seconds', async () => {
    const clock = 1_700_000_000_500;
    const client = await v1({ now: () => clock, nonceTtlMs: 300_000 });
    const result = await client.result('fetch_nonce', { pubkey: generateKeypair().publicKey });
    expect(result).toEqual({ nonce: expect.stringMatching(/^[0-9a-f]{64}$/), expires_at: 1_700_000_300 });
  });

  it('authenticate returns { authenticated: true }, and refusals are still -32002', async () => {
    const client = await v1();
    const keys = generateKeypair();
    const { nonce } = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as { nonce: string };
    const ok = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(ok.result).toEqual({ authenticated: true });
    const refused = await client.call('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(refused.error).toMatchObject({ code: RpcErrorCode.InvalidCredentials, message: 'Invalid Credentials' });
  });

  it('whoami does not exist (-32601)', async () => {
    const client = await v1();
    expect((await client.call('whoami')).error).toEqual({ code: RpcErrorCode.MethodNotFound, message: 'Method not found: whoami' });
  });

  it('play returns a bare string; errors keep their codes', async () => {
    const client = await v1();
    expect((await client.call('play', { script: '1' })).error?.code).toBe(RpcErrorCode.AuthenticationRequired);
    const keys = generateKeypair();
    const { nonce } = (await client.result('fetch_nonce', { pubkey: keys.publicKey })) as { nonce: string };
    await client.result('authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
    expect(await client.result('play', { script: '2 + 3 * 4' })).toBe('14');
    expect((await client.call('play', { script: '1 / 0' })).error?.code).toBe(RpcErrorCode.ExecutionError);
  });

  it('play without authentication when auth is disabled', async () => {
    const client = await v1({ auth: false });
    expect(await client.result('play', { script: '-7 / 2' })).toBe('-3');
  });
});
