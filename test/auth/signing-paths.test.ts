/**
 * The two signing paths behind the package's `#sign` import: synchronous noble with
 * `@noble/hashes`' HMAC (the `node` condition, and the public `signNonce` everywhere) and noble's
 * `signAsync` with WebCrypto's HMAC (`browser` and `default`, so a browser bundle has no HMAC or
 * SHA-256 code). Both must give the vectors' bytes: RFC 6979 deterministic, low-s.
 *
 * Here `#sign` is mocked to the WebCrypto module, so `nobleCrypto` and `createSigner` are checked
 * as a browser bundle builds them (Node 20 has WebCrypto on `globalThis.crypto`).
 */
import { readFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { signRecovered as signRecoveredWebCrypto } from '../../src/auth/sign-webcrypto.js';
import { signRecoveredSync } from '../../src/auth/sign-sync.js';

const recorded: Uint8Array[] = [];

// `#sign` is an alias of sign-sync.ts in the test config, so the mock stands for that module: its
// synchronous signer stays (the public signNonce uses it), `signRecovered` becomes WebCrypto's.
vi.mock('#sign', async (importOriginal) => {
  const webcrypto = await import('../../src/auth/sign-webcrypto.js');
  return {
    ...(await importOriginal<typeof import('../../src/auth/sign-sync.js')>()),
    signRecovered(digest: Uint8Array, secret: Uint8Array): Promise<Uint8Array> {
      recorded.push(secret);
      return webcrypto.signRecovered(digest, secret);
    },
  };
});

// Imported after the mock is declared (vi.mock is hoisted anyway): these see the WebCrypto path.
const { AuthError, createSigner, nobleCrypto, signNonce, verifySignature } = await import('../../src/auth/index.js');

interface Vector {
  privateKey: string;
  publicKeyUncompressed: string;
  nonce: string;
  eip191Digest: string;
  signature: string;
}

const { vectors } = JSON.parse(readFileSync(new URL('../vectors/eth-sign.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

/** noble's `recid ‖ r ‖ s` as the protocol's `r ‖ s ‖ v`. */
const ethereum = (sig: Uint8Array): string => bytesToHex(sig.subarray(1)) + (27 + (sig[0] as number)).toString(16);

afterEach(() => {
  vi.unstubAllGlobals();
  recorded.length = 0;
});

describe.each(vectors.map((v, i) => [i, JSON.stringify(v.nonce).slice(0, 40), v] as const))('vector %i (%s)', (_i, _nonce, v) => {
  it('the synchronous and the WebCrypto paths give the same bytes, the vector\'s', async () => {
    const digest = hexToBytes(v.eip191Digest);
    const sync = signRecoveredSync(digest, hexToBytes(v.privateKey));
    const webcrypto = await signRecoveredWebCrypto(digest, hexToBytes(v.privateKey));
    expect(bytesToHex(webcrypto)).toBe(bytesToHex(sync));
    expect(ethereum(sync)).toBe(v.signature);
    expect(ethereum(webcrypto)).toBe(v.signature);
  });

  it('nobleCrypto (browser build) resolves to the signature signNonce returns at once', async () => {
    const pending = nobleCrypto.signNonce(v.privateKey, v.nonce);
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toBe(v.signature);
    expect(signNonce(v.privateKey, v.nonce)).toBe(v.signature);
    expect(verifySignature(v.nonce, await pending, v.publicKeyUncompressed)).toBe(true);
  });
});

describe('the WebCrypto path', () => {
  const v = vectors[1]!;

  it('signs through createSigner with the default service', async () => {
    const signer = createSigner(`0x${v.privateKey.toUpperCase()}`);
    await expect(signer.sign(v.nonce)).resolves.toBe(v.signature);
  });

  it('wipes the key bytes once the signature is settled', async () => {
    await nobleCrypto.signNonce(v.privateKey, v.nonce);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]!.every((byte) => byte === 0)).toBe(true);
  });

  it('refuses a bad key or nonce as the synchronous path does, before signing', async () => {
    expect(() => nobleCrypto.signNonce('zz', v.nonce)).toThrow(AuthError);
    expect(() => nobleCrypto.signNonce(v.privateKey, 42 as unknown as string)).toThrow(/nonce must be a string/);
    expect(recorded).toEqual([]);
  });

  it('without crypto.subtle (a page that is not a secure context), fails with SIGNING_FAILED saying why, never the key', async () => {
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    const signer = createSigner(v.privateKey);
    const error = await signer.sign(v.nonce).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: 'SIGNING_FAILED' });
    const cause = (error as Error).cause as Error;
    expect(cause.message).toMatch(/secure context/);
    expect(cause.message).toMatch(/withCrypto\(\{ derivePublicKey, signNonce \}\)/);
    for (const text of [(error as Error).message, cause.message]) expect(text).not.toContain(v.privateKey.slice(0, 8));
    expect(recorded[0]!.every((byte) => byte === 0)).toBe(true);
    // The way out the message names: the synchronous signNonce needs no WebCrypto.
    const { derivePublicKey } = await import('../../src/auth/index.js');
    await expect(createSigner(v.privateKey, { derivePublicKey, signNonce }).sign(v.nonce)).resolves.toBe(v.signature);
  });
});

describe('under Node (`#sign` unmocked)', () => {
  it('nobleCrypto signs synchronously, as before', async () => {
    vi.doUnmock('#sign');
    vi.resetModules();
    const node = await import('../../src/auth/index.js');
    const v = vectors[0]!;
    expect(node.nobleCrypto.signNonce(v.privateKey, v.nonce)).toBe(v.signature);
  });
});
