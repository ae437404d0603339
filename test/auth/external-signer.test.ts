/**
 * `adoptSigner`, what `withSigner` does to an application's signer: checked once, wrapped so it
 * fails the way the package's own signer fails, and left alone when the package made it.
 */
import { describe, expect, it } from 'vitest';
import { adoptSigner, AuthError, createSigner, generateKeypair, InvalidArgumentError, type Signer, signNonce } from '../../src/index.js';

const key = generateKeypair();

async function rejection(promise: Promise<unknown>): Promise<{ name: string; code: string; message: string; cause: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code: string; message: string; cause?: unknown };
    return { name: e.name, code: e.code, message: e.message, cause: e.cause };
  }
  throw new Error('expected a rejection');
}

describe('adoptSigner', () => {
  it.each([
    ['null', null],
    ['a number', 7],
    ['no sign', { publicKey: key.publicKey }],
    ['sign not a function', { publicKey: key.publicKey, sign: 'yes' }],
  ])('refuses %s, saying what it takes', (_name, bad) => {
    expect(() => adoptSigner(bad as unknown as Signer)).toThrow(new InvalidArgumentError('withSigner takes { publicKey, sign(nonce) }'));
  });

  it('refuses a public key that is not one, and makes a compressed one uncompressed', () => {
    expect(() => adoptSigner({ publicKey: 'abc', sign: async () => '' })).toThrow(AuthError);
    expect(adoptSigner({ publicKey: key.publicKeyCompressed, sign: async () => '' }).publicKey).toBe(key.publicKey);
  });

  it('signs through the application\'s function', async () => {
    const adopted = adoptSigner({ publicKey: key.publicKey, sign: async (nonce) => signNonce(key.privateKey, nonce) });
    expect(await adopted.sign('nonce_1')).toBe(signNonce(key.privateKey, 'nonce_1'));
  });

  it('a signer that throws: SIGNING_FAILED with its error as the cause; an AuthError passes through', async () => {
    const boom = new Error('HSM offline');
    const failing = adoptSigner({
      publicKey: key.publicKey,
      sign: async () => {
        throw boom;
      },
    });
    const e = await rejection(failing.sign('nonce_1'));
    expect(e).toMatchObject({ name: 'AuthError', code: 'SIGNING_FAILED', message: 'the signer failed to sign the nonce' });
    expect(e.cause).toBe(boom);
    const declined = new AuthError('SIGNING_DECLINED', 'the user declined');
    const declining = adoptSigner({
      publicKey: key.publicKey,
      sign: async () => {
        throw declined;
      },
    });
    await expect(declining.sign('nonce_1')).rejects.toBe(declined);
  });

  it('a signer that returns something else than a string: SIGNING_FAILED, naming the type', async () => {
    const odd = adoptSigner({ publicKey: key.publicKey, sign: async () => 42 as unknown as string });
    expect(await rejection(odd.sign('nonce_1'))).toMatchObject({
      code: 'SIGNING_FAILED',
      message: 'the signer returned a value of type number, not a signature string',
    });
  });

  it('adopts a signer once: adopting the result again, or a signer the package made, returns it as it is', () => {
    const adopted = adoptSigner({ publicKey: key.publicKey, sign: async () => '' });
    expect(adoptSigner(adopted)).toBe(adopted);
    const own = createSigner(key.privateKey);
    expect(adoptSigner(own)).toBe(own);
    // Not adopted: a fresh application signer is wrapped, so the result is another object.
    const fresh: Signer = { publicKey: key.publicKey, sign: async () => '' };
    expect(adoptSigner(fresh)).not.toBe(fresh);
  });
});
