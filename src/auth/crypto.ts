/**
 * Crypto for Circle authentication (protocol section 5): EIP-191 personal-message digests with
 * Keccak-256, RFC 6979 low-s recoverable secp256k1 signatures encoded `r ‖ s ‖ v` (v = 27 + recid).
 *
 * Errors never carry a private key or any part of it: messages are fixed templates that at most
 * mention a length or a type.
 */
import { signRecovered } from '#sign';
import * as secp from '@noble/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { AuthError, InvalidArgumentError } from '../errors.js';
import { markOwnSigner } from './own-signers.js';
import { signRecoveredSync } from './sign-sync.js';

/** A secp256k1 key pair as lowercase hex without `0x`. */
export interface KeyPair {
  /** 64 hex characters. */
  privateKey: string;
  /** Uncompressed SEC1 `04 ‖ X ‖ Y`, 130 hex characters: the form the protocol sends. */
  publicKey: string;
  /** Compressed SEC1 `02|03 ‖ X`, 66 hex characters. */
  publicKeyCompressed: string;
}

/** What `authenticate` carries, plus the nonce that was signed. */
export interface AuthCredentials {
  pubkey: string;
  signature: string;
  nonce: string;
}

/**
 * The crypto the client signs with. Swappable so a key can live elsewhere (a hardware token,
 * a wallet, a worker) or tests can inject faults.
 */
export interface CryptoService {
  derivePublicKey(privateKeyHex: string, options?: { compressed?: boolean }): string;
  signNonce(privateKeyHex: string, nonce: string): string | Promise<string>;
}

/** Signs nonces with a key it never exposes. */
export interface Signer {
  /** Uncompressed SEC1 public key, 130 lowercase hex characters. */
  readonly publicKey: string;
  sign(nonce: string): Promise<string>;
}

const CURVE_ORDER = secp.Point.CURVE().n;
const HEX = /^[0-9a-fA-F]*$/;
const utf8 = new TextEncoder();

function stripHexPrefix(value: string): string {
  return value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value;
}

/** Names a value's type without ever stringifying the value (it may be a key). */
function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a Uint8Array';
  return `a value of type ${typeof value}`;
}

/**
 * Validates a private key given as 64 hex characters (with or without `0x`, any case) and
 * returns its 32 bytes. Throws `AuthError('INVALID_KEY')` naming the problem, never the key.
 *
 * @example
 * ```ts
 * const secret = parsePrivateKey('0x5238ae120b1447ead07c8e7835d6934e243677538086affad03ed75a7fa08555');
 * secret.length; // 32
 * ```
 */
export function parsePrivateKey(privateKeyHex: string): Uint8Array {
  if (typeof privateKeyHex !== 'string') {
    throw new AuthError(
      'INVALID_KEY',
      `private key must be a string of 64 hexadecimal characters, got ${describeType(privateKeyHex)}`,
    );
  }
  const hex = stripHexPrefix(privateKeyHex);
  if (hex.length !== 64) {
    const where = hex.length === privateKeyHex.length ? '' : ' after the 0x prefix';
    throw new AuthError(
      'INVALID_KEY',
      'private key must be 64 hexadecimal characters (optionally prefixed with 0x), ' +
        `got ${hex.length} characters${where}`,
    );
  }
  if (!HEX.test(hex)) {
    throw new AuthError('INVALID_KEY', 'private key must contain only hexadecimal characters (0-9, a-f, A-F)');
  }
  const scalar = BigInt(`0x${hex}`);
  if (scalar === 0n) throw new AuthError('INVALID_KEY', 'private key must not be zero');
  if (scalar >= CURVE_ORDER) {
    throw new AuthError('INVALID_KEY', 'private key must be below the secp256k1 curve order n');
  }
  return secp.etc.hexToBytes(hex);
}

/** Parses a SEC1 point, reporting any problem as INVALID_PUBLIC_KEY. */
function parsePublicKeyPoint(publicKeyHex: string): secp.Point {
  if (typeof publicKeyHex !== 'string') {
    throw new AuthError('INVALID_PUBLIC_KEY', `public key must be a hex string, got ${describeType(publicKeyHex)}`);
  }
  const hex = stripHexPrefix(publicKeyHex);
  if (hex.length !== 66 && hex.length !== 130) {
    throw new AuthError(
      'INVALID_PUBLIC_KEY',
      `public key must be 66 (compressed) or 130 (uncompressed) hexadecimal characters, got ${hex.length}`,
    );
  }
  if (!HEX.test(hex)) {
    throw new AuthError('INVALID_PUBLIC_KEY', 'public key must contain only hexadecimal characters');
  }
  try {
    return secp.Point.fromHex(hex);
  } catch (cause) {
    throw new AuthError('INVALID_PUBLIC_KEY', 'public key is not a valid secp256k1 point in SEC1 encoding', {
      cause,
    });
  }
}

/**
 * Validates a SEC1 public key (compressed or uncompressed, with or without `0x`, any case) and
 * returns it uncompressed in lowercase, the one form the protocol sends and compares.
 *
 * @example
 * ```ts
 * normalizePublicKey('0x028c6598d0700110ee2069d6bd1166bdbe838539ce32d255c1aa4cd7afcf104821');
 * // '048c6598…87ac7a' (130 hex characters)
 * ```
 */
export function normalizePublicKey(publicKeyHex: string): string {
  return parsePublicKeyPoint(publicKeyHex).toHex(false);
}

/**
 * Derives the public key of a private key; uncompressed (130 hex) unless `compressed` is set.
 *
 * @example
 * ```ts
 * derivePublicKey('5238ae12…7fa08555');                       // '048c6598…87ac7a'
 * derivePublicKey('5238ae12…7fa08555', { compressed: true }); // '028c6598…04821'
 * ```
 */
export function derivePublicKey(privateKeyHex: string, options: { compressed?: boolean } = {}): string {
  const secret = parsePrivateKey(privateKeyHex);
  try {
    return secp.etc.bytesToHex(secp.getPublicKey(secret, options.compressed ?? false));
  } finally {
    secret.fill(0);
  }
}

/**
 * Creates a fresh random key pair from the platform CSPRNG (`crypto.getRandomValues`).
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = generateKeypair();
 * // store privateKey securely; send publicKey to the server
 * ```
 */
export function generateKeypair(): KeyPair {
  const secret = secp.utils.randomSecretKey();
  try {
    return {
      privateKey: secp.etc.bytesToHex(secret),
      publicKey: secp.etc.bytesToHex(secp.getPublicKey(secret, false)),
      publicKeyCompressed: secp.etc.bytesToHex(secp.getPublicKey(secret, true)),
    };
  } finally {
    secret.fill(0);
  }
}

/**
 * Keccak-256 of the EIP-191 personal message for `nonce`. The length prefix counts UTF-8 bytes,
 * not UTF-16 code units, so non-ASCII nonces hash as Ethereum wallets hash them. Lone surrogates
 * become U+FFFD, exactly as `TextEncoder` encodes them on both client and server.
 *
 * @example
 * ```ts
 * bytesToHex(eip191Digest('x')); // keccak256("\x19Ethereum Signed Message:\n1x")
 * ```
 */
export function eip191Digest(nonce: string): Uint8Array {
  if (typeof nonce !== 'string') {
    throw new InvalidArgumentError(`nonce must be a string, got ${describeType(nonce)}`);
  }
  const body = utf8.encode(nonce);
  const prefix = utf8.encode(`\x19Ethereum Signed Message:\n${body.length}`);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix, 0);
  message.set(body, prefix.length);
  return keccak_256(message);
}

/**
 * Signs `nonce` as an Ethereum personal message: RFC 6979 deterministic, low-s, returned as
 * 130 lowercase hex `r ‖ s ‖ v` with v = 27 + recovery id. The same key and nonce always give
 * the same signature.
 *
 * @example
 * ```ts
 * const signature = signNonce(privateKey, 'nonce_1234567890_abcdef');
 * signature.length; // 130
 * ```
 */
export function signNonce(privateKeyHex: string, nonce: string): string {
  const secret = parsePrivateKey(privateKeyHex);
  try {
    return ethereumSignature(signRecoveredSync(eip191Digest(nonce), secret));
  } finally {
    secret.fill(0);
  }
}

/** noble's recovered format is `recid ‖ r ‖ s`; Ethereum puts the recovery byte last, as 27 + recid. */
function ethereumSignature(sig: Uint8Array): string {
  return secp.etc.bytesToHex(sig.subarray(1)) + (27 + (sig[0] as number)).toString(16);
}

/**
 * `signNonce` as the package's `#sign` import does it: synchronously under Node, through
 * WebCrypto's HMAC (a promise) in browsers, so that a browser bundle needs no HMAC code. Same
 * signature either way. The key bytes are wiped once the signature is settled.
 */
function signNonceByPlatform(privateKeyHex: string, nonce: string): string | Promise<string> {
  const secret = parsePrivateKey(privateKeyHex);
  let signed: Uint8Array | Promise<Uint8Array>;
  try {
    signed = signRecovered(eip191Digest(nonce), secret);
  } catch (error) {
    secret.fill(0);
    throw error;
  }
  if (signed instanceof Uint8Array) {
    secret.fill(0);
    return ethereumSignature(signed);
  }
  return signed.then(ethereumSignature).finally(() => secret.fill(0));
}

/** Turns any accepted spelling of a signature into noble's `recid ‖ r ‖ s` bytes. */
function parseSignature(signatureHex: string): Uint8Array {
  if (typeof signatureHex !== 'string') {
    throw new AuthError('INVALID_SIGNATURE', `signature must be a hex string, got ${describeType(signatureHex)}`);
  }
  const hex = stripHexPrefix(signatureHex);
  if (hex.length !== 130) {
    throw new AuthError('INVALID_SIGNATURE', `signature must be 130 hexadecimal characters, got ${hex.length}`);
  }
  if (!HEX.test(hex)) {
    throw new AuthError('INVALID_SIGNATURE', 'signature must contain only hexadecimal characters');
  }
  const bytes = secp.etc.hexToBytes(hex);
  const v = bytes[64] as number;
  // Protocol section 4 is liberal about v (27/28 as eth_sign, 0/1 as raw recid); anything else,
  // such as EIP-155 chain-id values, is not a personal-message signature.
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) {
    throw new AuthError('INVALID_SIGNATURE', `signature recovery byte v must be 27, 28, 0 or 1, got ${v}`);
  }
  let sig: secp.Signature;
  try {
    sig = secp.Signature.fromBytes(bytes.subarray(0, 64), 'compact');
  } catch (cause) {
    throw new AuthError('INVALID_SIGNATURE', 'signature r and s must be between 1 and the curve order', { cause });
  }
  // A high-s twin recovers the same key, but the scheme says low-s; refusing it keeps one
  // canonical signature per (key, nonce), as Ethereum does since EIP-2.
  if (sig.s > CURVE_ORDER >> 1n) {
    throw new AuthError('INVALID_SIGNATURE', 'signature s is not in the lower half of the curve order (not low-s)');
  }
  return sig.addRecoveryBit(recovery).toBytes('recovered');
}

function recoverPoint(nonce: string, signatureHex: string): secp.Point {
  const sig = parseSignature(signatureHex);
  const digest = eip191Digest(nonce);
  try {
    return secp.Point.fromBytes(secp.recoverPublicKey(sig, digest, { prehash: false, isCompressed: false }));
  } catch (cause) {
    throw new AuthError('INVALID_SIGNATURE', 'no public key can be recovered from this signature', { cause });
  }
}

/**
 * Recovers the public key that signed `nonce`; uncompressed unless `compressed` is set. Accepts
 * v as 27/28 or 0/1, with or without `0x`, any hex case. Throws `AuthError('INVALID_SIGNATURE')`
 * for a malformed signature. Any well-formed signature recovers *some* key: compare the result.
 *
 * @example
 * ```ts
 * const pubkey = recoverPublicKey('nonce_1234567890_abcdef', signature);
 * pubkey === normalizePublicKey(expected); // true when `expected` signed it
 * ```
 */
export function recoverPublicKey(
  nonce: string,
  signatureHex: string,
  options: { compressed?: boolean } = {},
): string {
  return recoverPoint(nonce, signatureHex).toHex(options.compressed ?? false);
}

/**
 * Whether `signatureHex` is a signature of `nonce` by `publicKeyHex`, comparing curve points so
 * compressed and uncompressed forms of one key are equal. A malformed signature is simply not
 * valid (false); a malformed public key is the caller's error (`AuthError('INVALID_PUBLIC_KEY')`).
 *
 * @example
 * ```ts
 * verifySignature(nonce, signNonce(privateKey, nonce), derivePublicKey(privateKey)); // true
 * verifySignature('another nonce', signNonce(privateKey, nonce), derivePublicKey(privateKey)); // false
 * ```
 */
export function verifySignature(nonce: string, signatureHex: string, publicKeyHex: string): boolean {
  const expected = parsePublicKeyPoint(publicKeyHex);
  let recovered: secp.Point;
  try {
    recovered = recoverPoint(nonce, signatureHex);
  } catch (error) {
    if (error instanceof AuthError && error.code === 'INVALID_SIGNATURE') return false;
    throw error;
  }
  return recovered.equals(expected);
}

/**
 * The default {@link CryptoService}, built on this module's noble-based functions. Its `signNonce`
 * returns the signature at once under Node and a promise of the same signature in browsers (where
 * it signs with WebCrypto's HMAC); `await` its result.
 *
 * @example
 * ```ts
 * const signer = createSigner(privateKey, nobleCrypto);
 * ```
 */
export const nobleCrypto: CryptoService = Object.freeze({
  derivePublicKey,
  signNonce: signNonceByPlatform,
});

/**
 * Wraps a private key in a {@link Signer}. The key is validated at once (`AuthError('INVALID_KEY')`)
 * and then held only in a closure, so logging, `JSON.stringify` or `util.inspect` of the signer
 * cannot reveal it. A failing crypto service rejects with `AuthError('SIGNING_FAILED')`.
 *
 * @example
 * ```ts
 * const signer = createSigner(process.env.CIRCLE_PRIVATE_KEY!);
 * const signature = await signer.sign(nonce); // send with signer.publicKey
 * ```
 */
export function createSigner(privateKeyHex: string, crypto: CryptoService = nobleCrypto): Signer {
  parsePrivateKey(privateKeyHex).fill(0);
  // One canonical spelling, so a custom service never has to cope with 0x or upper case.
  const key = stripHexPrefix(privateKeyHex).toLowerCase();

  let derived: string;
  try {
    derived = crypto.derivePublicKey(key);
  } catch (cause) {
    if (cause instanceof AuthError) throw cause;
    throw new AuthError('SIGNING_FAILED', 'the crypto service could not derive the public key', { cause });
  }
  // Checked here so a misbehaving service fails now, not later as a refusal by the server.
  const publicKey = normalizePublicKey(derived);
  // noble writes hex one byte at a time: a rope of 65 pieces (about 3 KiB) that V8 keeps until
  // something reads the string whole. A regular expression reads it whole (and flattens it) once, here.
  /^[0-9a-f]*$/.test(publicKey);

  return markOwnSigner(Object.freeze({
    publicKey,
    async sign(nonce: string): Promise<string> {
      if (typeof nonce !== 'string') {
        throw new InvalidArgumentError(`nonce must be a string, got ${describeType(nonce)}`);
      }
      let signature: unknown;
      try {
        signature = await crypto.signNonce(key, nonce);
      } catch (cause) {
        throw new AuthError('SIGNING_FAILED', 'the crypto service failed to sign the nonce', { cause });
      }
      if (typeof signature !== 'string') {
        throw new AuthError(
          'SIGNING_FAILED',
          `the crypto service returned ${describeType(signature)}, not a signature string`,
        );
      }
      return signature;
    },
  }));
}
