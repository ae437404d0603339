/**
 * `#sign` under the `browser` and `default` conditions: noble's asynchronous signing, whose
 * RFC 6979 HMAC-SHA-256 is WebCrypto's, so a browser bundle carries no HMAC or SHA-256 code of its
 * own. The signature bytes are those of the synchronous path (same key, same digest, same k).
 */
import * as secp from '@noble/secp256k1';

/**
 * Signs a 32-byte digest: RFC 6979 deterministic, low-s, noble's recovered format `recid ‖ r ‖ s`.
 * WebCrypto's `subtle` exists only in secure contexts (https, localhost): elsewhere the failure
 * says so and names the way out, the synchronous `signNonce` as the crypto service.
 */
export async function signRecovered(digest: Uint8Array, secret: Uint8Array): Promise<Uint8Array> {
  if (globalThis.crypto?.subtle === undefined) {
    throw new Error('crypto.subtle is missing (not a secure context: serve the page over https or from localhost, or build with withCrypto({ derivePublicKey, signNonce }))');
  }
  return secp.signAsync(digest, secret, { prehash: false, lowS: true, format: 'recovered' });
}
