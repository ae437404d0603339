/**
 * The pending authentication nonce of one connection (protocol section 4).
 *
 * A slot lives inside one connection's session and holds at most one nonce, which is how the
 * rules "bound to the connection" and "a new fetch replaces the pending nonce" are enforced
 * without any shared table: a nonce from another connection is simply not in this slot.
 * Taking the nonce always empties the slot, success or not, which makes nonces single-use and
 * lets a failed `authenticate` consume them.
 */
import { randomBytes } from 'node:crypto';

export interface IssuedNonce {
  /** The nonce string the client signs (64 lowercase hex characters: 32 random bytes). */
  nonce: string;
  /** When it stops being accepted, in milliseconds of the server clock. */
  expiresAtMs: number;
}

interface Pending extends IssuedNonce {
  /** The public key it was issued to, uncompressed lowercase hex. */
  pubkey: string;
}

/** Why a nonce could not be used. */
export type NonceRefusal = 'no_nonce' | 'expired' | 'pubkey_mismatch';

export type NonceCheck = { ok: true; nonce: string } | { ok: false; reason: NonceRefusal };

export class NonceSlot {
  private pending: Pending | undefined;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** Issues a fresh nonce for `pubkey` (already normalised), replacing any pending one. */
  issue(pubkey: string): IssuedNonce {
    const issued = { nonce: randomBytes(32).toString('hex'), expiresAtMs: this.now() + this.ttlMs };
    this.pending = { ...issued, pubkey };
    return issued;
  }

  /** Removes the pending nonce and says whether it may be used by `pubkey` (already normalised). */
  take(pubkey: string): NonceCheck {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return { ok: false, reason: 'no_nonce' };
    if (this.now() >= pending.expiresAtMs) return { ok: false, reason: 'expired' };
    if (pending.pubkey !== pubkey) return { ok: false, reason: 'pubkey_mismatch' };
    return { ok: true, nonce: pending.nonce };
  }

  /** Forgets the pending nonce (the connection closed). */
  clear(): void {
    this.pending = undefined;
  }
}
