/**
 * The server's nonce slot against protocol section 4, with literal times: single use, bound to
 * one public key, expired from the exact millisecond of its deadline, replaced by a new fetch,
 * forgotten when the connection closes.
 */
import { describe, expect, it } from 'vitest';
import { NonceSlot } from '../../src/server/nonces.js';

function slot(ttlMs = 30_000): { slot: NonceSlot; at: (ms: number) => void } {
  let now = 1_000;
  return { slot: new NonceSlot(ttlMs, () => now), at: (ms) => (now = ms) };
}

describe('NonceSlot', () => {
  it('issues 64 lowercase hex characters, expiring ttl after now', () => {
    const { slot: s } = slot();
    const issued = s.issue('04aa');
    expect(issued.nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.expiresAtMs).toBe(31_000);
    expect(s.issue('04aa').nonce).not.toBe(issued.nonce);
  });

  it('is single use: the first take succeeds, the second finds nothing', () => {
    const { slot: s } = slot();
    const { nonce } = s.issue('04aa');
    expect(s.take('04aa')).toEqual({ ok: true, nonce });
    expect(s.take('04aa')).toEqual({ ok: false, reason: 'no_nonce' });
  });

  it('is accepted up to the millisecond before its deadline, refused from the deadline on', () => {
    const a = slot();
    const { nonce } = a.slot.issue('04aa');
    a.at(30_999);
    expect(a.slot.take('04aa')).toEqual({ ok: true, nonce });
    const b = slot();
    b.slot.issue('04aa');
    b.at(31_000);
    expect(b.slot.take('04aa')).toEqual({ ok: false, reason: 'expired' });
  });

  it('is bound to the key it was issued to, and a refused take still consumes it', () => {
    const { slot: s } = slot();
    s.issue('04aa');
    expect(s.take('04bb')).toEqual({ ok: false, reason: 'pubkey_mismatch' });
    expect(s.take('04aa')).toEqual({ ok: false, reason: 'no_nonce' });
  });

  it('a new fetch replaces the pending nonce', () => {
    const { slot: s } = slot();
    s.issue('04aa');
    const second = s.issue('04bb');
    expect(s.take('04bb')).toEqual({ ok: true, nonce: second.nonce });
  });

  it('clear() forgets the pending nonce', () => {
    const { slot: s } = slot();
    s.issue('04aa');
    s.clear();
    expect(s.take('04aa')).toEqual({ ok: false, reason: 'no_nonce' });
  });
});
