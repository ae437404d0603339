/**
 * What the crypto and the nonce rule say when they refuse something, written out: the code, the
 * class and the exact message (never the key). The curve's numbers are written here from SEC 2,
 * not read from the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  createSigner,
  type CryptoService,
  generateKeypair,
  InvalidArgumentError,
  normalizePublicKey,
  recoverPublicKey,
  signNonce,
  verifySignature,
} from '../../src/index.js';
import { checkNonce, compileNonceRule } from '../../src/auth/nonce-rule.js';

/** secp256k1's group order n and the x coordinate of its generator G (SEC 2, section 2.4.1). */
const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const gx = '79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';
const hex64 = (value: bigint): string => value.toString(16).padStart(64, '0');

function refusal(fn: () => unknown): { name: string; code: string; message: string; cause: unknown } {
  try {
    fn();
  } catch (error) {
    const e = error as { name: string; code: string; message: string; cause?: unknown };
    return { name: e.name, code: e.code, message: e.message, cause: e.cause };
  }
  throw new Error('expected a throw');
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; code: string; message: string; cause: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; code: string; message: string; cause?: unknown };
    return { name: e.name, code: e.code, message: e.message, cause: e.cause };
  }
  throw new Error('expected a rejection');
}

const key = generateKeypair();
const nonce = 'nonce_1700000000000_abcdef';
const signature = signNonce(key.privateKey, nonce);

describe('public keys', () => {
  // Short test names: a long value in a test's name is cut by vitest, and a mutation runner that
  // selects tests by name would then not find the test.
  it.each([
    ['not a string', 1234, 'public key must be a hex string, got a value of type number'],
    ['68 characters', `02${'ab'.repeat(32)}cd`, 'public key must be 66 (compressed) or 130 (uncompressed) hexadecimal characters, got 68'],
    ['not hex', `02${'zz'.repeat(32)}`, 'public key must contain only hexadecimal characters'],
  ])('%s', (_name, bad, message) => {
    expect(refusal(() => normalizePublicKey(bad as string))).toMatchObject({ name: 'AuthError', code: 'INVALID_PUBLIC_KEY', message });
  });

  it('a point off the curve says so, and keeps the parser\'s complaint as its cause', () => {
    // x = 5 has no y on secp256k1 (5³ + 7 = 132 is not a square modulo p).
    const e = refusal(() => normalizePublicKey(`02${hex64(5n)}`));
    expect(e).toMatchObject({ code: 'INVALID_PUBLIC_KEY', message: 'public key is not a valid secp256k1 point in SEC1 encoding' });
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('signatures', () => {
  const r = signature.slice(0, 64);
  it.each([
    ['not a string', 42, 'signature must be a hex string, got a value of type number'],
    ['128 characters', 'ab'.repeat(64), 'signature must be 130 hexadecimal characters, got 128'],
    ['not hex', `${'zz'.repeat(64)}1b`, 'signature must contain only hexadecimal characters'],
    ['v of 37', `${signature.slice(0, 128)}25`, 'signature recovery byte v must be 27, 28, 0 or 1, got 37'],
    ['r of 0', `${hex64(0n)}${signature.slice(64, 128)}1b`, 'signature r and s must be between 1 and the curve order'],
    ['s of n - 1', `${r}${hex64(n - 1n)}1b`, 'signature s is not in the lower half of the curve order (not low-s)'],
  ])('%s', (_name, bad, message) => {
    expect(refusal(() => recoverPublicKey(nonce, bad as string))).toMatchObject({ name: 'AuthError', code: 'INVALID_SIGNATURE', message });
    // verifySignature treats every malformed signature as simply not valid.
    expect(verifySignature(nonce, bad as string, key.publicKey)).toBe(false);
  });

  it('r and s out of range keep the parser\'s complaint as the cause', () => {
    expect(refusal(() => recoverPublicKey(nonce, `${hex64(0n)}${signature.slice(64, 128)}1b`)).cause).toBeInstanceOf(Error);
  });

  it('s of exactly ⌊n/2⌋ is low-s: accepted, and some key is recovered', () => {
    const edge = `${gx}${hex64(n >> 1n)}1b`;
    expect(recoverPublicKey(nonce, edge)).toMatch(/^04[0-9a-f]{128}$/);
    // ⌊n/2⌋ + 1 is the first high s.
    expect(refusal(() => recoverPublicKey(nonce, `${gx}${hex64((n >> 1n) + 1n)}1b`)).message).toBe(
      'signature s is not in the lower half of the curve order (not low-s)',
    );
  });

  it('an r that is no point\'s x: no key can be recovered, said so, the cause kept', () => {
    // x = 5 has no y on secp256k1 (5³ + 7 = 132 is not a square modulo p).
    const e = refusal(() => recoverPublicKey(nonce, `${hex64(5n)}${signature.slice(64, 128)}1b`));
    expect(e).toMatchObject({ name: 'AuthError', code: 'INVALID_SIGNATURE', message: 'no public key can be recovered from this signature' });
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('the digest is recovered as given: the vector key comes back, not a key of a hash of it', () => {
    expect(recoverPublicKey(nonce, signature)).toBe(key.publicKey);
    expect(verifySignature(nonce, signature, key.publicKeyCompressed)).toBe(true);
  });
});

describe('createSigner with a custom crypto service', () => {
  it('a service that cannot derive the public key: SIGNING_FAILED, its error as the cause', () => {
    const boom = new Error('device unplugged');
    const service: CryptoService = {
      derivePublicKey: () => {
        throw boom;
      },
      signNonce: () => '',
    };
    const e = refusal(() => createSigner(key.privateKey, service));
    expect(e).toMatchObject({ name: 'AuthError', code: 'SIGNING_FAILED', message: 'the crypto service could not derive the public key' });
    expect(e.cause).toBe(boom);
  });

  it("a service's own AuthError passes through unchanged", () => {
    const own = new AuthError('INVALID_KEY', 'the device refuses this key');
    const service: CryptoService = {
      derivePublicKey: () => {
        throw own;
      },
      signNonce: () => '',
    };
    expect(() => createSigner(key.privateKey, service)).toThrow(own);
  });

  it('a signer asked to sign something that is not a string, a failing service, a non-string result', async () => {
    const failure = new Error('HSM busy');
    const failing = createSigner(key.privateKey, { derivePublicKey: () => key.publicKey, signNonce: () => Promise.reject(failure) });
    expect(await rejection(failing.sign(42 as unknown as string))).toMatchObject({
      name: 'InvalidArgumentError',
      code: 'INVALID_ARGUMENT',
      message: 'nonce must be a string, got a value of type number',
    });
    const e = await rejection(failing.sign(nonce));
    expect(e).toMatchObject({ name: 'AuthError', code: 'SIGNING_FAILED', message: 'the crypto service failed to sign the nonce' });
    expect(e.cause).toBe(failure);
    const odd = createSigner(key.privateKey, { derivePublicKey: () => key.publicKey, signNonce: () => [1, 2] as unknown as string });
    expect(await rejection(odd.sign(nonce))).toMatchObject({
      code: 'SIGNING_FAILED',
      message: 'the crypto service returned an array, not a signature string',
    });
  });
});

describe('the nonce rule', () => {
  it.each([
    ['null', null, 'withNonceRule takes { maxLength?, pattern? }'],
    ['a number', 5, 'withNonceRule takes { maxLength?, pattern? }'],
    ['maxLength 0', { maxLength: 0 }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 0'],
    ['maxLength 1.5', { maxLength: 1.5 }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 1.5'],
    ['maxLength as text', { maxLength: '9' }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 9'],
    ['maxLength 65537', { maxLength: 65_537 }, 'nonceRule.maxLength must be a whole number from 1 to 65536, got 65537'],
    ['pattern as text', { pattern: '[a-z]+' }, 'nonceRule.pattern must be a RegExp (matched against the whole nonce)'],
  ])('%s', (_name, rule, message) => {
    expect(refusal(() => compileNonceRule(rule as never))).toMatchObject({ name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', message });
    expect(() => compileNonceRule(rule as never)).toThrow(InvalidArgumentError);
  });

  it('the edges of maxLength are accepted; a maxLength of 0 given as such is not replaced by the default', () => {
    expect(compileNonceRule({ maxLength: 1 }).maxLength).toBe(1);
    expect(compileNonceRule({ maxLength: 65_536 }).maxLength).toBe(65_536);
    expect(compileNonceRule({}).maxLength).toBe(256);
    expect(compileNonceRule({ maxLength: 12 }).pattern.source).toBe('[A-Za-z0-9_.:-]+');
  });

  it('a refused nonce under a long custom pattern names the pattern cut at 80 characters', () => {
    const long = new RegExp(`(?:${'a'.repeat(90)})`);
    const e = refusal(() => checkNonce('b', compileNonceRule({ pattern: long })));
    expect(e.message).toBe(`the server sent a nonce that does not match the nonce rule ${long.source.slice(0, 80)}…; it was not signed`);
    const exactly80 = new RegExp('a'.repeat(80));
    expect(refusal(() => checkNonce('b', compileNonceRule({ pattern: exactly80 }))).message).toBe(
      `the server sent a nonce that does not match the nonce rule ${'a'.repeat(80)}; it was not signed`,
    );
  });

  it('under the default rule, the first odd character is named by position and code point', () => {
    expect(refusal(() => checkNonce('ab cd', compileNonceRule())).message).toBe(
      'the server sent a nonce that does not match the nonce rule [A-Za-z0-9_.:-]+ (character 3 is U+0020); it was not signed',
    );
    // Too long is said before anything else.
    expect(refusal(() => checkNonce('a'.repeat(257), compileNonceRule())).message).toBe(
      'the server sent a nonce of 257 characters, more than the 256 this client signs; it was not signed',
    );
  });
});
