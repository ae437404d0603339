/**
 * What a nonce must look like before the client signs it (protocol section 4).
 *
 * The signature covers the nonce and nothing else, so a client that signs whatever text a server
 * sends is a signing oracle: a hostile server could send a Sign-In-With-Ethereum message or a
 * transaction description and get it signed with the user's key. Real nonces are short opaque
 * tokens, so the client signs only text of that shape and refuses anything else before the
 * signer ever sees it.
 */
import { AuthError, InvalidArgumentError } from '../errors.js';

/**
 * The shape of a nonce this client agrees to sign. Declarative rather than a predicate: the
 * length bound is always checked first (a 100 MB "nonce" never reaches a pattern or a callback),
 * the pattern is always applied to the whole nonce (a forgotten `^…$` cannot turn it into a
 * "contains" test), and a refusal can say which of the two failed.
 */
export interface NonceRule {
  /** Longest nonce signed, in UTF-16 code units (JavaScript string length). Default 256; at most 65,536. */
  maxLength: number;
  /**
   * Characters a nonce may contain, as a regular expression matched against the whole nonce
   * (it is anchored for you; the `g`, `y` and `m` flags are ignored). Default `/[A-Za-z0-9_.:-]+/`.
   */
  pattern: RegExp;
}

/** The protocol's nonce shape: at most 256 characters from `A-Z a-z 0-9 _ - . :`. */
export const defaultNonceRule: Readonly<NonceRule> = Object.freeze({ maxLength: 256, pattern: /[A-Za-z0-9_.:-]+/ });

/** Past this no rule may go: far above any real nonce, far below a frame that stalls the event loop. */
export const maxNonceLength = 65_536;

/** A nonce rule after validation, with its pattern anchored once. */
export interface CompiledNonceRule {
  readonly maxLength: number;
  /** The caller's pattern, as given (for messages and docs). */
  readonly pattern: RegExp;
  /** `^(?:pattern)$` with the caller's flags minus `g`, `y`, `m`. */
  readonly whole: RegExp;
}

/**
 * Validates a (partial) nonce rule, fills the defaults and anchors the pattern. Throws
 * `InvalidArgumentError` saying what was wrong.
 *
 * @example
 * ```ts
 * // A server that issues base64 nonces.
 * const rule = compileNonceRule({ pattern: /[A-Za-z0-9+/=]+/ });
 * checkNonce('q83vEjRWeJA=', rule); // passes
 * ```
 */
export function compileNonceRule(rule: Partial<NonceRule> = {}): CompiledNonceRule {
  if (typeof rule !== 'object' || rule === null) {
    throw new InvalidArgumentError('withNonceRule takes { maxLength?, pattern? }');
  }
  const maxLength = rule.maxLength ?? defaultNonceRule.maxLength;
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < 1 || maxLength > maxNonceLength) {
    throw new InvalidArgumentError(`nonceRule.maxLength must be a whole number from 1 to ${maxNonceLength}, got ${String(maxLength)}`);
  }
  const pattern = rule.pattern ?? defaultNonceRule.pattern;
  if (!(pattern instanceof RegExp)) {
    throw new InvalidArgumentError('nonceRule.pattern must be a RegExp (matched against the whole nonce)');
  }
  // `m` would let ^ and $ match at line breaks, turning "whole nonce" into "some line of it";
  // `g` and `y` make test() stateful through lastIndex.
  const flags = pattern.flags.replace(/[gym]/g, '');
  return Object.freeze({ maxLength, pattern, whole: new RegExp(`^(?:${pattern.source})$`, flags) });
}

/** The rule every client uses unless `withNonceRule` says otherwise. */
export const defaultCompiledNonceRule: CompiledNonceRule = compileNonceRule();

/**
 * Refuses a nonce that does not fit `rule`, with `AuthError('NONCE_REJECTED')`. The message says
 * how the nonce failed (its length, or, under the default rule, the position and code point of the
 * first character outside the set) but never repeats the nonce: it may be a message meant for another service.
 *
 * @example
 * ```ts
 * checkNonce('nonce_1700000000000_9f86d081', defaultCompiledNonceRule); // passes
 * checkNonce('example.com wants you to sign in…', defaultCompiledNonceRule); // throws NONCE_REJECTED
 * ```
 */
export function checkNonce(nonce: string, rule: CompiledNonceRule): void {
  if (nonce.length === 0) throw new AuthError('NONCE_REJECTED', 'the server sent an empty nonce; it was not signed');
  if (nonce.length > rule.maxLength) {
    throw new AuthError(
      'NONCE_REJECTED',
      `the server sent a nonce of ${nonce.length} characters, more than the ${rule.maxLength} this client signs; it was not signed`,
    );
  }
  if (!rule.whole.test(nonce)) {
    // Pointing at a character only makes sense for the default set; a custom pattern may allow it.
    const where = rule.pattern === defaultNonceRule.pattern ? firstOddity(nonce) : '';
    throw new AuthError('NONCE_REJECTED', `the server sent a nonce that does not match ${describeRule(rule)}${where}; it was not signed`);
  }
}

function describeRule(rule: CompiledNonceRule): string {
  const source = rule.pattern.source;
  return `the nonce rule ${source.length > 80 ? `${source.slice(0, 80)}…` : source}`;
}

/** Where the nonce first leaves the protocol's character set: a position and a code point, never the text. */
function firstOddity(nonce: string): string {
  // The complement of the default pattern's set, one UTF-16 unit at a time.
  const i = nonce.search(/[^A-Za-z0-9_.:-]/);
  return i < 0 ? '' : ` (character ${i + 1} is U+${nonce.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')})`;
}
