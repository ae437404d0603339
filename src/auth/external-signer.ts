/**
 * Signers that hold their key outside this package (a wallet, a hardware device, a remote
 * service): `withSigner(signer)` takes one, and the private key never enters the process.
 */
import { AuthError, InvalidArgumentError } from '../errors.js';
import { normalizePublicKey, type Signer } from './crypto.js';
import { isOwnSigner } from './own-signers.js';

/** Signers already checked and wrapped. */
const adopted = new WeakSet<Signer>();

/**
 * Checks an application's {@link Signer} and wraps it so it behaves like the package's own: its
 * public key is validated and made uncompressed once, and a signer that throws, or returns
 * something that is not a string, fails with `AuthError('SIGNING_FAILED')`. An `AuthError` it
 * throws (such as `SIGNING_DECLINED`) passes through unchanged.
 * @example const signer = adoptSigner({ publicKey, sign: (nonce) => wallet.signMessage(nonce) });
 */
export function adoptSigner(signer: Signer): Signer {
  // One signer shared by many clients (a manager's) is checked and wrapped once; the package's own are checked already.
  if (adopted.has(signer) || isOwnSigner(signer)) return signer;
  if (typeof signer !== 'object' || signer === null || typeof signer.sign !== 'function') {
    throw new InvalidArgumentError('withSigner takes { publicKey, sign(nonce) }');
  }
  const publicKey = normalizePublicKey(signer.publicKey);
  const sign = signer.sign.bind(signer);
  const wrapped: Signer = Object.freeze({
    publicKey,
    async sign(nonce: string): Promise<string> {
      let signature: unknown;
      try {
        signature = await sign(nonce);
      } catch (cause) {
        if (cause instanceof AuthError) throw cause;
        throw new AuthError('SIGNING_FAILED', 'the signer failed to sign the nonce', { cause });
      }
      if (typeof signature !== 'string') {
        throw new AuthError('SIGNING_FAILED', `the signer returned a value of type ${typeof signature}, not a signature string`);
      }
      return signature;
    },
  });
  adopted.add(wrapped);
  return wrapped;
}
