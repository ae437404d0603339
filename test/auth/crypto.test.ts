import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  createSigner,
  derivePublicKey,
  eip191Digest,
  generateKeypair,
  nobleCrypto,
  normalizePublicKey,
  parsePrivateKey,
  recoverPublicKey,
  signNonce,
  verifySignature,
} from '../../src/auth/index.js';
import type { CryptoService } from '../../src/auth/index.js';

interface Vector {
  privateKey: string;
  publicKeyUncompressed: string;
  publicKeyCompressed: string;
  nonce: string;
  nonceUtf8ByteLength: number;
  eip191Digest: string;
  signature: string;
}

// A copy of the project's shared vectors (../shared/vectors/eth-sign.json beside the checkout),
// kept in the repository so a clean clone can test them; a test below keeps the copy true.
const vectorFile = new URL('../vectors/eth-sign.json', import.meta.url);
const sharedFile = new URL('../../../shared/vectors/eth-sign.json', import.meta.url);
const { vectors } = JSON.parse(readFileSync(vectorFile, 'utf8')) as { vectors: Vector[] };

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const hex64 = (n: bigint): string => n.toString(16).padStart(64, '0');

/** Replaces the trailing v byte of a 130-hex signature. */
const withV = (signature: string, v: number): string => signature.slice(0, 128) + v.toString(16).padStart(2, '0');

/** Runs `fn` and returns the AuthError it throws (failing the test if it throws anything else). */
function authErrorOf(fn: () => unknown): AuthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected an AuthError, nothing was thrown');
}

describe('shared vectors (eth-sign.json)', () => {
  it('has vectors to check', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(8);
  });

  it.runIf(existsSync(sharedFile))('keeps its copy identical to the shared vectors', () => {
    expect(readFileSync(vectorFile, 'utf8')).toBe(readFileSync(sharedFile, 'utf8'));
  });

  describe.each(vectors.map((v, i) => [i, JSON.stringify(v.nonce).slice(0, 40), v] as const))(
    'vector %i (%s)',
    (_i, _label, v) => {
      it('derives both public-key forms byte for byte', () => {
        expect(derivePublicKey(v.privateKey)).toBe(v.publicKeyUncompressed);
        expect(derivePublicKey(v.privateKey, { compressed: false })).toBe(v.publicKeyUncompressed);
        expect(derivePublicKey(v.privateKey, { compressed: true })).toBe(v.publicKeyCompressed);
        expect(derivePublicKey(`0x${v.privateKey.toUpperCase()}`)).toBe(v.publicKeyUncompressed);
      });

      it('computes the EIP-191 digest over the UTF-8 byte length', () => {
        expect(new TextEncoder().encode(v.nonce).length).toBe(v.nonceUtf8ByteLength);
        const digest = eip191Digest(v.nonce);
        expect(digest).toBeInstanceOf(Uint8Array);
        expect(digest.length).toBe(32);
        expect(bytesToHex(digest)).toBe(v.eip191Digest);
      });

      it('reproduces the signature byte for byte, whatever the key spelling', () => {
        expect(signNonce(v.privateKey, v.nonce)).toBe(v.signature);
        expect(signNonce(`0x${v.privateKey}`, v.nonce)).toBe(v.signature);
        expect(signNonce(v.privateKey.toUpperCase(), v.nonce)).toBe(v.signature);
      });

      it('recovers the public key in both forms', () => {
        expect(recoverPublicKey(v.nonce, v.signature)).toBe(v.publicKeyUncompressed);
        expect(recoverPublicKey(v.nonce, v.signature, { compressed: true })).toBe(v.publicKeyCompressed);
      });

      it('recovers from every liberal spelling of the signature', () => {
        const v01 = withV(v.signature, parseInt(v.signature.slice(128), 16) - 27);
        const spellings = [
          v.signature,
          v01,
          `0x${v.signature}`,
          `0X${v.signature}`,
          v.signature.toUpperCase(),
          `0x${v01.toUpperCase()}`,
        ];
        for (const signature of spellings) {
          expect(recoverPublicKey(v.nonce, signature)).toBe(v.publicKeyUncompressed);
          expect(verifySignature(v.nonce, signature, v.publicKeyUncompressed)).toBe(true);
        }
      });

      it('verifies against every spelling of the public key', () => {
        const keys = [
          v.publicKeyUncompressed,
          v.publicKeyCompressed,
          `0x${v.publicKeyUncompressed}`,
          `0x${v.publicKeyCompressed}`,
          v.publicKeyUncompressed.toUpperCase(),
          `0X${v.publicKeyCompressed.toUpperCase()}`,
        ];
        for (const key of keys) expect(verifySignature(v.nonce, v.signature, key)).toBe(true);
      });

      it('does not verify for another nonce or another key', () => {
        expect(verifySignature(`${v.nonce}.`, v.signature, v.publicKeyUncompressed)).toBe(false);
        const other = vectors.find((w) => w.privateKey !== v.privateKey)!;
        expect(verifySignature(v.nonce, v.signature, other.publicKeyUncompressed)).toBe(false);
        expect(verifySignature(v.nonce, v.signature, other.publicKeyCompressed)).toBe(false);
      });
    },
  );
});

describe('eip191Digest', () => {
  it('writes L as the decimal UTF-8 byte count, not the UTF-16 length', () => {
    const nonce = 'é😀'; // 3 UTF-16 code units, 6 UTF-8 bytes
    const expected = keccak_256(new TextEncoder().encode(`\x19Ethereum Signed Message:\n6${nonce}`));
    expect(bytesToHex(eip191Digest(nonce))).toBe(bytesToHex(expected));
  });

  it('never hex-decodes a nonce that looks like hex', () => {
    const expected = keccak_256(new TextEncoder().encode('\x19Ethereum Signed Message:\n100xdeadbeef'));
    expect(bytesToHex(eip191Digest('0xdeadbeef'))).toBe(bytesToHex(expected));
  });
});

describe('signatures', () => {
  const v = vectors[0]!;

  it('are 130 lowercase hex, low-s, with v of 27 or 28', () => {
    const signature = signNonce(v.privateKey, 'some nonce');
    expect(signature).toMatch(/^[0-9a-f]{130}$/);
    expect(BigInt(`0x${signature.slice(64, 128)}`) <= N / 2n).toBe(true);
    expect(['1b', '1c']).toContain(signature.slice(128));
  });

  const malformed: [string, string][] = [
    ['too short', v.signature.slice(0, 128)],
    ['too long', `${v.signature}00`],
    ['empty', ''],
    ['only 0x', '0x'],
    ['not hex', `${v.signature.slice(0, 129)}g`],
    ['whitespace', ` ${v.signature.slice(1)}`],
    ['v = 29', withV(v.signature, 29)],
    ['v = 2', withV(v.signature, 2)],
    ['v = 37 (EIP-155)', withV(v.signature, 37)],
    ['r = 0', `${'0'.repeat(64)}${v.signature.slice(64)}`],
    ['s = 0', `${v.signature.slice(0, 64)}${'0'.repeat(64)}${v.signature.slice(128)}`],
    ['r = n', `${hex64(N)}${v.signature.slice(64)}`],
    ['s = n', `${v.signature.slice(0, 64)}${hex64(N)}${v.signature.slice(128)}`],
    // x = 5 is not the x coordinate of any secp256k1 point (5³ + 7 = 132 is not a square mod p).
    ['r not on the curve', `${hex64(5n)}${v.signature.slice(64)}`],
  ];

  it.each(malformed)('recoverPublicKey rejects a malformed signature (%s) with INVALID_SIGNATURE', (_, signature) => {
    const error = authErrorOf(() => recoverPublicKey(v.nonce, signature));
    expect(error.code).toBe('INVALID_SIGNATURE');
  });

  it.each(malformed)('verifySignature answers false for a malformed signature (%s)', (_, signature) => {
    expect(verifySignature(v.nonce, signature, v.publicKeyUncompressed)).toBe(false);
  });

  it('rejects the high-s twin of a valid signature (the scheme is low-s)', () => {
    const s = BigInt(`0x${v.signature.slice(64, 128)}`);
    const flippedV = v.signature.endsWith('1b') ? 28 : 27;
    const twin = withV(`${v.signature.slice(0, 64)}${hex64(N - s)}00`, flippedV);
    expect(authErrorOf(() => recoverPublicKey(v.nonce, twin)).code).toBe('INVALID_SIGNATURE');
    expect(verifySignature(v.nonce, twin, v.publicKeyUncompressed)).toBe(false);
  });

  it('rejects non-string signatures', () => {
    const notString = 42 as unknown as string;
    expect(authErrorOf(() => recoverPublicKey(v.nonce, notString)).code).toBe('INVALID_SIGNATURE');
    expect(verifySignature(v.nonce, notString, v.publicKeyUncompressed)).toBe(false);
  });
});

describe('public keys', () => {
  const v = vectors[0]!;

  it('normalizes every accepted spelling to uncompressed lowercase', () => {
    for (const key of [
      v.publicKeyUncompressed,
      v.publicKeyCompressed,
      `0x${v.publicKeyCompressed}`,
      v.publicKeyUncompressed.toUpperCase(),
      `0X${v.publicKeyCompressed.toUpperCase()}`,
    ]) {
      expect(normalizePublicKey(key)).toBe(v.publicKeyUncompressed);
    }
  });

  it('normalizes odd-y compressed keys too', () => {
    const odd = vectors.find((w) => w.publicKeyCompressed.startsWith('03'));
    const { publicKey, publicKeyCompressed } = odd
      ? { publicKey: odd.publicKeyUncompressed, publicKeyCompressed: odd.publicKeyCompressed }
      : generateOddKey();
    expect(normalizePublicKey(publicKeyCompressed)).toBe(publicKey);
  });

  const badY = (BigInt(`0x${v.publicKeyUncompressed.slice(66)}`) ^ 1n).toString(16).padStart(64, '0');
  const malformedKeys: [string, unknown][] = [
    ['empty', ''],
    ['too short', v.publicKeyUncompressed.slice(0, 128)],
    ['64 hex (raw X‖Y without 04 is not SEC1)', v.publicKeyUncompressed.slice(2, 66)],
    ['not hex', `${v.publicKeyCompressed.slice(0, 65)}z`],
    ['unknown prefix 05', `05${v.publicKeyUncompressed.slice(2)}`],
    ['hybrid prefix 06', `06${v.publicKeyUncompressed.slice(2)}`],
    ['compressed prefix on 65 bytes', `02${v.publicKeyUncompressed.slice(2)}`],
    ['uncompressed point off the curve', `${v.publicKeyUncompressed.slice(0, 66)}${badY}`],
    ['compressed x with no point', `02${hex64(5n)}`],
    ['x = p', `02${'f'.repeat(56)}fffffc2f`],
    ['not a string', 1234],
  ];

  it.each(malformedKeys)('normalizePublicKey rejects %s with INVALID_PUBLIC_KEY', (_, key) => {
    expect(authErrorOf(() => normalizePublicKey(key as string)).code).toBe('INVALID_PUBLIC_KEY');
  });

  it.each(malformedKeys)('verifySignature throws INVALID_PUBLIC_KEY for %s', (_, key) => {
    expect(authErrorOf(() => verifySignature(v.nonce, v.signature, key as string)).code).toBe('INVALID_PUBLIC_KEY');
  });

  it('reports a malformed public key even when the signature is malformed too', () => {
    expect(authErrorOf(() => verifySignature(v.nonce, 'junk', 'junk')).code).toBe('INVALID_PUBLIC_KEY');
  });
});

function generateOddKey(): { publicKey: string; publicKeyCompressed: string } {
  for (;;) {
    const pair = generateKeypair();
    if (pair.publicKeyCompressed.startsWith('03')) return pair;
  }
}

describe('parsePrivateKey', () => {
  const good = vectors[0]!.privateKey;

  it('accepts 64 hex characters with or without 0x, in any case', () => {
    const bytes = hexToBytes(good);
    expect(parsePrivateKey(good)).toEqual(bytes);
    expect(parsePrivateKey(`0x${good}`)).toEqual(bytes);
    expect(parsePrivateKey(`0X${good.toUpperCase()}`)).toEqual(bytes);
    expect(parsePrivateKey(hex64(1n))).toEqual(hexToBytes(hex64(1n)));
    expect(parsePrivateKey(hex64(N - 1n))).toEqual(hexToBytes(hex64(N - 1n)));
  });

  const cases: [string, unknown, string][] = [
    ['undefined', undefined, 'private key must be a string of 64 hexadecimal characters, got a value of type undefined'],
    ['null', null, 'private key must be a string of 64 hexadecimal characters, got null'],
    ['a number', 12345, 'private key must be a string of 64 hexadecimal characters, got a value of type number'],
    ['a Uint8Array', hexToBytes(good), 'private key must be a string of 64 hexadecimal characters, got a Uint8Array'],
    ['an array', [1, 2], 'private key must be a string of 64 hexadecimal characters, got an array'],
    [
      'empty',
      '',
      'private key must be 64 hexadecimal characters (optionally prefixed with 0x), got 0 characters',
    ],
    [
      'one character short',
      good.slice(1),
      'private key must be 64 hexadecimal characters (optionally prefixed with 0x), got 63 characters',
    ],
    [
      'one character long after 0x',
      `0x${good}0`,
      'private key must be 64 hexadecimal characters (optionally prefixed with 0x), got 65 characters after the 0x prefix',
    ],
    [
      'a trailing newline',
      `${good}\n`,
      'private key must be 64 hexadecimal characters (optionally prefixed with 0x), got 65 characters',
    ],
    [
      'a public key by mistake',
      vectors[0]!.publicKeyCompressed,
      'private key must be 64 hexadecimal characters (optionally prefixed with 0x), got 66 characters',
    ],
    ['not hexadecimal', `${good.slice(0, 63)}g`, 'private key must contain only hexadecimal characters (0-9, a-f, A-F)'],
    ['a double 0x', `0x0x${good.slice(2)}`, 'private key must contain only hexadecimal characters (0-9, a-f, A-F)'],
    ['zero', '0'.repeat(64), 'private key must not be zero'],
    ['zero with 0x', `0x${'0'.repeat(64)}`, 'private key must not be zero'],
    ['the curve order', hex64(N), 'private key must be below the secp256k1 curve order n'],
    ['above the curve order', 'f'.repeat(64), 'private key must be below the secp256k1 curve order n'],
  ];

  it.each(cases)('rejects %s with a precise INVALID_KEY message', (_, key, message) => {
    const error = authErrorOf(() => parsePrivateKey(key as string));
    expect(error.code).toBe('INVALID_KEY');
    expect(error.name).toBe('AuthError');
    expect(error.message).toBe(message);
    expect(error.cause).toBeUndefined();
  });

  it.each(cases)('every key-taking function rejects %s the same way', (_, key, message) => {
    for (const fn of [
      () => derivePublicKey(key as string),
      () => signNonce(key as string, 'n'),
      () => createSigner(key as string),
    ]) {
      const error = authErrorOf(fn);
      expect(error.code).toBe('INVALID_KEY');
      expect(error.message).toBe(message);
    }
  });

  it('never puts the key, or any 6-character run of it, in the message (property)', () => {
    const hexChar = fc.constantFrom(...'0123456789abcdefABCDEF');
    const hexString = (min: number, max: number) => fc.string({ unit: hexChar, minLength: min, maxLength: max });
    const wrongLength = hexString(6, 200).filter((s) => s.length !== 64);
    const notHex = fc
      .tuple(hexString(0, 63), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }))
      .filter(([, c]) => !/[0-9a-fA-F]/.test(c))
      .chain(([prefix, c]) =>
        hexString(63 - prefix.length, 63 - prefix.length).map((suffix) => prefix + c + suffix),
      );
    const tooBig = fc.bigInt(N, 2n ** 256n - 1n).map(hex64);
    const zero = fc.constantFrom('0'.repeat(64));
    const badKey = fc
      .tuple(fc.oneof(wrongLength, notHex, tooBig, zero), fc.constantFrom('', '0x', '0X'))
      .map(([key, prefix]) => prefix + key);
    const templates = [
      /^private key must be 64 hexadecimal characters \(optionally prefixed with 0x\), got \d+ characters( after the 0x prefix)?$/,
      /^private key must contain only hexadecimal characters \(0-9, a-f, A-F\)$/,
      /^private key must not be zero$/,
      /^private key must be below the secp256k1 curve order n$/,
    ];

    fc.assert(
      fc.property(badKey, (key) => {
        const error = authErrorOf(() => parsePrivateKey(key));
        expect(error.code).toBe('INVALID_KEY');
        expect(templates.some((t) => t.test(error.message))).toBe(true);
        const haystack = `${error.message}\n${error.stack ?? ''}`.toLowerCase();
        const body = key.replace(/^0x/i, '').toLowerCase();
        for (let i = 0; i + 6 <= body.length; i++) {
          expect(haystack.includes(body.slice(i, i + 6))).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('round trips (property)', () => {
  const privateKey = fc.bigInt(1n, N - 1n).map(hex64);
  const nonce = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 64 }),
    fc.string({ unit: 'binary', maxLength: 64 }),
    fc.string({ maxLength: 64 }),
  );

  it('signs, recovers and verifies random keys and full-Unicode nonces; never verifies for another nonce or key', () => {
    fc.assert(
      fc.property(privateKey, privateKey, nonce, nonce, (key, otherKey, message, otherMessage) => {
        fc.pre(key !== otherKey && message !== otherMessage);
        const publicKey = derivePublicKey(key);
        const compressed = derivePublicKey(key, { compressed: true });
        const signature = signNonce(key, message);

        expect(signature).toMatch(/^[0-9a-f]{128}1[bc]$/);
        expect(BigInt(`0x${signature.slice(64, 128)}`) <= N / 2n).toBe(true);
        expect(signNonce(key, message)).toBe(signature);

        expect(recoverPublicKey(message, signature)).toBe(publicKey);
        expect(recoverPublicKey(message, signature, { compressed: true })).toBe(compressed);
        expect(verifySignature(message, signature, publicKey)).toBe(true);
        expect(verifySignature(message, signature, compressed)).toBe(true);

        expect(verifySignature(otherMessage, signature, publicKey)).toBe(false);
        expect(verifySignature(message, signature, derivePublicKey(otherKey))).toBe(false);
        expect(verifySignature(message, signNonce(otherKey, message), publicKey)).toBe(false);
      }),
      { numRuns: 200 },
    );
    // About 3,000 curve operations in pure JavaScript: 17 s alone on this 2-core machine, 26 s under load.
  }, 120_000);
});

describe('generateKeypair', () => {
  it('returns a fresh, self-consistent key pair in the protocol forms', () => {
    const a = generateKeypair();
    const b = generateKeypair();
    expect(a.privateKey).toMatch(/^[0-9a-f]{64}$/);
    expect(a.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    expect(a.publicKeyCompressed).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(derivePublicKey(a.privateKey)).toBe(a.publicKey);
    expect(derivePublicKey(a.privateKey, { compressed: true })).toBe(a.publicKeyCompressed);
    expect(normalizePublicKey(a.publicKeyCompressed)).toBe(a.publicKey);
    expect(b.privateKey).not.toBe(a.privateKey);
    expect(verifySignature('n', signNonce(a.privateKey, 'n'), a.publicKey)).toBe(true);
  });
});

describe('createSigner', () => {
  const v = vectors[1]!;
  const keySpellings = [v.privateKey, v.privateKey.toUpperCase(), `0x${v.privateKey}`];

  it('exposes the uncompressed public key and signs like signNonce', async () => {
    for (const key of keySpellings) {
      const signer = createSigner(key);
      expect(signer.publicKey).toBe(v.publicKeyUncompressed);
      await expect(signer.sign(v.nonce)).resolves.toBe(v.signature);
    }
  });

  it('never reveals the key through JSON, String, inspect or its own properties', () => {
    for (const key of keySpellings) {
      const signer = createSigner(key);
      const views = [
        JSON.stringify(signer),
        String(signer),
        `${signer as unknown as string}`,
        inspect(signer),
        inspect(signer, { showHidden: true, depth: Infinity, getters: true }),
        JSON.stringify(Object.getOwnPropertyNames(signer).map((name) => String(Reflect.get(signer, name)))),
        JSON.stringify(Object.getOwnPropertySymbols(signer).map((s) => String(Reflect.get(signer, s)))),
      ];
      for (const view of views) {
        expect(view.toLowerCase()).not.toContain(v.privateKey);
        expect(view.toLowerCase()).not.toContain(v.privateKey.slice(0, 16));
      }
      expect(Object.keys(signer).sort()).toEqual(['publicKey', 'sign']);
      expect(Object.isFrozen(signer)).toBe(true);
    }
  });

  it('hands a custom crypto service the key in one canonical spelling and accepts async signing', async () => {
    const seen: string[] = [];
    const service: CryptoService = {
      derivePublicKey: (key, options) => {
        seen.push(key);
        return nobleCrypto.derivePublicKey(key, options);
      },
      signNonce: async (key, nonce) => {
        seen.push(key);
        return nobleCrypto.signNonce(key, nonce);
      },
    };
    const signer = createSigner(`0x${v.privateKey.toUpperCase()}`, service);
    await expect(signer.sign(v.nonce)).resolves.toBe(v.signature);
    expect(seen).toEqual([v.privateKey, v.privateKey]);
  });

  it('normalizes a compressed public key from a custom service to the uncompressed form', () => {
    const signer = createSigner(v.privateKey, { ...nobleCrypto, derivePublicKey: () => v.publicKeyCompressed });
    expect(signer.publicKey).toBe(v.publicKeyUncompressed);
  });

  it.each([
    ['throws synchronously', (key: string): string => {
      throw new Error(`hardware token refused key ${key}`);
    }],
    ['rejects', async (key: string): Promise<string> => {
      throw new Error(`hardware token refused key ${key}`);
    }],
  ])('rejects with SIGNING_FAILED, without the key in the message, when the service %s', async (_, signNonceImpl) => {
    const signer = createSigner(v.privateKey, { ...nobleCrypto, signNonce: signNonceImpl });
    const error = await signer.sign(v.nonce).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe('SIGNING_FAILED');
    expect((error as AuthError).message.toLowerCase()).not.toContain(v.privateKey.slice(0, 8));
  });

  it('rejects with SIGNING_FAILED when the service returns something that is not a string', async () => {
    const signer = createSigner(v.privateKey, {
      ...nobleCrypto,
      signNonce: () => undefined as unknown as string,
    });
    await expect(signer.sign(v.nonce)).rejects.toMatchObject({ code: 'SIGNING_FAILED' });
  });

  it('validates the key at once, before any signing', () => {
    let calls = 0;
    const service: CryptoService = {
      derivePublicKey: () => {
        calls++;
        return v.publicKeyUncompressed;
      },
      signNonce: () => {
        calls++;
        return '';
      },
    };
    const error = authErrorOf(() => createSigner('0x1234', service));
    expect(error.code).toBe('INVALID_KEY');
    expect(calls).toBe(0);
  });
});
