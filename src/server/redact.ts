/**
 * Shortening for log fields. Public keys are not secret, but logs are copied around and a short
 * prefix is enough to tell keys apart; client-chosen strings (method names, error messages) are
 * cut so one connection cannot flood the log.
 */

/**
 * The first 10 characters of a key, enough to recognise it.
 * @example shortKey('04a1b2c3d4e5f6…'); // '04a1b2c3d4…'
 */
export function shortKey(key: string): string {
  return key.length <= 10 ? key : `${key.slice(0, 10)}…`;
}

/**
 * A client-chosen string cut to `max` characters.
 * @example shortText('x'.repeat(100), 3); // 'xxx…'
 */
export function shortText(text: string, max = 64): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
