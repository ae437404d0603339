/**
 * Searching a haystack (logs, inspection events, errors, serialised state) for any piece of a
 * secret. Any substring of 8 or more characters of the key contains one of its 8-character
 * windows, so checking every window, case-folded on both sides, covers every substring of every
 * length ≥ 8 in every mix of upper and lower case (a `0x` prefix or a split key included).
 */
import { expect } from 'vitest';

/** The shortest piece of a key that counts as a leak. */
export const minimumLeak = 8;

/** Every piece of `secret` (hex, any case, optional `0x`) of `minLength` or more characters found in `haystack`, longest first. */
export function secretPiecesIn(haystack: string, secret: string, minLength = minimumLeak): string[] {
  const key = secret.replace(/^0x/i, '').toLowerCase();
  const folded = haystack.toLowerCase();
  const found: string[] = [];
  let coveredUntil = 0;
  for (let start = 0; start + minLength <= key.length; start++) {
    // Inside a piece already reported: its tail is not a new leak.
    if (start + minLength <= coveredUntil) continue;
    const window = key.slice(start, start + minLength);
    if (!folded.includes(window)) continue;
    // Report the longest piece starting here, so the failure message shows what leaked.
    let end = start + minLength;
    while (end < key.length && folded.includes(key.slice(start, end + 1))) end++;
    found.push(key.slice(start, end));
    coveredUntil = end;
  }
  return found.sort((a, b) => b.length - a.length);
}

/** Fails, naming the length and position of each leaked piece (never the piece itself), when any piece of `secret` is in `haystack`. */
export function expectNoSecretPiece(haystack: string, secret: string, label = 'private key', minLength = minimumLeak): void {
  const key = secret.replace(/^0x/i, '').toLowerCase();
  const pieces = secretPiecesIn(haystack, secret, minLength).map((p) => `${p.length} characters at offset ${key.indexOf(p)}`);
  expect(pieces, `pieces of the ${label} found in ${haystack.length} characters`).toEqual([]);
}

/**
 * How likely random hex in a haystack is to match some `minLength`-character window of a
 * 64-character key by chance: about (64 - minLength + 1) × (hex characters) / 16^minLength,
 * counting each distinct run of hex once (a nonce repeated in a hundred events is one chance).
 */
export function chanceOfFalseAlarm(haystack: string, minLength = minimumLeak, keyLength = 64): number {
  const runs = new Set((haystack.match(new RegExp(`[0-9a-f]{${minLength},}`, 'gi')) ?? []).map((r) => r.toLowerCase()));
  const hexChars = [...runs].reduce((sum, run) => sum + run.length - minLength + 1, 0);
  return ((keyLength - minLength + 1) * hexChars) / 16 ** minLength;
}
