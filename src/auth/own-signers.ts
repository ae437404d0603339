/**
 * Which signers this package made from a key it holds (`createSigner`), as opposed to signers an
 * application brings (`withSigner`): a signer of our own signs at once, with no person to ask, so
 * the client may sign again by itself after a drop and needs no long signing deadline. A manager
 * shares one such signer between its clients through `withSigner` and keeps that behaviour.
 */
import type { Signer } from './crypto.js';

const own = new WeakSet<Signer>();

/** Records a signer `createSigner` made. */
export function markOwnSigner(signer: Signer): Signer {
  own.add(signer);
  return signer;
}

/** Whether `createSigner` made this signer (it holds the key in this process). */
export function isOwnSigner(signer: Signer): boolean {
  return own.has(signer);
}
