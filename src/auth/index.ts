/** Authentication crypto: EIP-191 nonce signing and verification over secp256k1 (protocol section 5). */
export {
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
} from './crypto.js';
export type { AuthCredentials, CryptoService, KeyPair, Signer } from './crypto.js';
export { AuthError } from '../errors.js';
export { checkNonce, compileNonceRule, defaultNonceRule, maxNonceLength } from './nonce-rule.js';
export type { CompiledNonceRule, NonceRule } from './nonce-rule.js';
