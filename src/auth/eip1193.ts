/**
 * A {@link Signer} backed by an Ethereum wallet through its EIP-1193 provider (`window.ethereum`,
 * WalletConnect, a hardware wallet's bridge): the wallet holds the key and asks its user before
 * each signature, with `personal_sign`, which is the protocol's EIP-191 personal message.
 *
 * Kept in a module of its own, imported by nothing else in the package, so an application that
 * does not use it does not bundle it (the package is `sideEffects: false`).
 */
import * as secp from '@noble/secp256k1';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { AuthError, InvalidArgumentError } from '../errors.js';
import { recoverPublicKey, type Signer, verifySignature } from './crypto.js';

/** The one method of an EIP-1193 provider this signer uses. */
export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown>;
}

/**
 * What the wallet is asked to sign, once, so the client can learn the account's public key (an
 * address is only a hash of it, and the protocol sends the key). Worded for the person reading the
 * prompt, and not shaped like a nonce (it has spaces), so a client never signs it in a handshake.
 */
export const eip1193IdentityMessage =
  'circle-ws-client: share this account\'s public key with the app.\n\n' +
  'Signing this message lets the app read the public key of your account. It does not log you in anywhere, ' +
  'approves no transaction and costs nothing.';

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
/** EIP-1193: "User Rejected Request". */
const USER_REJECTED = 4001;

/**
 * A {@link Signer} for `withSigner` that signs nonces with an Ethereum wallet's `personal_sign`.
 * It learns the account's public key first, by asking the wallet to sign
 * {@link eip1193IdentityMessage} once and recovering the key from that signature; the key's
 * address must be `address`. Each nonce is then one wallet prompt. When the user refuses (EIP-1193
 * error 4001) it throws `AuthError('SIGNING_DECLINED')`, which leaves a client `failed` until
 * `connect()` is called again; any other wallet failure is `AuthError('SIGNING_FAILED')`.
 * @param provider an EIP-1193 provider, such as `window.ethereum`
 * @param address the account to sign with, `0x` and 40 hex characters (any case), as `eth_requestAccounts` returns it
 * @example
 * const [account] = (await window.ethereum.request({ method: 'eth_requestAccounts' })) as string[];
 * const client = CircleWsClient.builder(url).withSigner(await eip1193Signer(window.ethereum, account)).build();
 */
export async function eip1193Signer(provider: Eip1193Provider, address: string): Promise<Signer> {
  if (typeof provider?.request !== 'function') {
    throw new InvalidArgumentError(`eip1193Signer takes an EIP-1193 provider with a request() function (such as window.ethereum), got ${describe(provider)}`);
  }
  // The text is not shown: whatever was passed by mistake (a private key?) stays out of the message.
  if (typeof address !== 'string' || !ADDRESS.test(address)) {
    const got = typeof address === 'string' ? `${address.length} characters that are not that` : describe(address);
    throw new InvalidArgumentError(`eip1193Signer takes the account's address, 0x and 40 hexadecimal characters, got ${got}`);
  }
  const account = address.toLowerCase();
  const signature = await personalSign(provider, eip1193IdentityMessage, account, 'the message that shares your public key');
  const publicKey = recoverPublicKey(eip1193IdentityMessage, signature);
  const signedBy = addressOf(publicKey);
  if (signedBy !== account) {
    throw new AuthError(
      'SIGNING_FAILED',
      `the wallet signed with the account ${signedBy}, not ${account}: select that account in the wallet`,
    );
  }
  return Object.freeze({
    publicKey,
    async sign(nonce: string): Promise<string> {
      const signed = await personalSign(provider, nonce, account, 'the nonce');
      // Checked here, where the cause is known, rather than left to the server as a refusal: the
      // user may have switched accounts, or the wallet signed the hex as text.
      if (!verifySignature(nonce, signed, publicKey)) {
        throw new AuthError(
          'SIGNING_FAILED',
          `the wallet's signature of the nonce is not by ${account}: another account is selected, or the wallet signed the hex as text`,
        );
      }
      return signed;
    },
  });
}

/**
 * `personal_sign` of `text`'s UTF-8 bytes, returned as the protocol sends it. The message goes as
 * `0x` + hex: wallets sign such a parameter as bytes, and the EIP-191 digest must be over the
 * text's UTF-8 bytes (protocol section 5); passed as plain text, a wallet might hex-decode a nonce
 * that happens to look like hex.
 */
async function personalSign(provider: Eip1193Provider, text: string, account: string, what: string): Promise<string> {
  const message = `0x${secp.etc.bytesToHex(new TextEncoder().encode(text))}`;
  let result: unknown;
  try {
    result = await provider.request({ method: 'personal_sign', params: [message, account] });
  } catch (cause) {
    // The wallet's own message is not repeated: it may quote what it was asked to sign.
    const code = typeof cause === 'object' && cause !== null && 'code' in cause ? (cause as { code: unknown }).code : undefined;
    if (code === USER_REJECTED) throw new AuthError('SIGNING_DECLINED', `the user declined to sign ${what} in the wallet (EIP-1193 error 4001)`, { cause });
    const which = typeof code === 'number' ? ` (EIP-1193 error ${code})` : '';
    throw new AuthError('SIGNING_FAILED', `the wallet failed to sign ${what}${which}`, { cause });
  }
  return normalizeSignature(result);
}

/**
 * A wallet's signature as the protocol sends it: 130 lowercase hex characters `r ‖ s ‖ v`, v 27 or
 * 28. Some wallets (Ledger's, some hardware bridges) return v as 0 or 1.
 */
function normalizeSignature(result: unknown): string {
  if (typeof result !== 'string') {
    throw new AuthError('SIGNING_FAILED', `the wallet answered personal_sign with ${describe(result)}, not a signature string`);
  }
  const hex = result.startsWith('0x') || result.startsWith('0X') ? result.slice(2) : result;
  if (hex.length !== 130 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new AuthError('SIGNING_FAILED', `the wallet's signature must be 65 bytes (130 hexadecimal characters), got ${hex.length} characters`);
  }
  const v = Number.parseInt(hex.slice(128), 16);
  if (v === 0 || v === 1 || v === 27 || v === 28) return hex.slice(0, 128).toLowerCase() + ((v % 27) + 27).toString(16);
  throw new AuthError('SIGNING_FAILED', `the wallet's signature has v = ${v}, not 27, 28, 0 or 1`);
}

/** The Ethereum address of an uncompressed public key: the last 20 bytes of Keccak-256 of X ‖ Y. */
function addressOf(publicKeyHex: string): string {
  const point = secp.etc.hexToBytes(publicKeyHex).subarray(1);
  return `0x${secp.etc.bytesToHex(keccak_256(point).subarray(12))}`;
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}
