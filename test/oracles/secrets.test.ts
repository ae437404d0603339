/** The key-piece search of test/support/secrets.ts finds what the security tests need it to find. */
import { describe, expect, it } from 'vitest';
import { chanceOfFalseAlarm, secretPiecesIn } from '../support/secrets.js';

// A fixed key, so the expectations are literals.
const key = '4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

describe('secretPiecesIn', () => {
  it('finds a 12-character prefix logged in a message', () => {
    expect(secretPiecesIn(`signing with key 4c0883a69102… done`, key)).toEqual(['4c0883a69102']);
  });

  it('finds an 8-character piece from the middle, in upper case', () => {
    expect(secretPiecesIn('x=5DBB6204y', key)).toEqual(['5dbb6204']);
  });

  it('finds mixed case and a 0x-prefixed whole key', () => {
    expect(secretPiecesIn('0X4C0883A69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318', key)[0]).toBe(key);
    expect(secretPiecesIn('…3f362318', key)).toEqual(['3f362318']);
    expect(secretPiecesIn('aE468D01', key)).toEqual(['ae468d01']);
  });

  it('finds a key split in two halves', () => {
    const pieces = secretPiecesIn(`a=${key.slice(0, 32)} b=${key.slice(32)}`, key);
    expect(pieces).toContain(key.slice(0, 32));
    expect(pieces).toContain(key.slice(32));
  });

  it('ignores pieces shorter than 8 characters and unrelated hex', () => {
    expect(secretPiecesIn('4c0883a', key)).toEqual([]);
    expect(secretPiecesIn('deadbeefdeadbeefcafebabe0123456789', key)).toEqual([]);
  });

  it('estimates the chance that random hex matches by accident', () => {
    // One distinct run of 10,000 hex characters: 9,993 windows against 57 key windows.
    expect(chanceOfFalseAlarm('ab'.repeat(5_000))).toBeCloseTo((57 * 9_993) / 16 ** 8, 12);
    // The same run a hundred times over is still one chance.
    expect(chanceOfFalseAlarm(`${'0123456789abcdef'.repeat(4)} `.repeat(100))).toBeCloseTo((57 * 57) / 16 ** 8, 12);
  });
});
