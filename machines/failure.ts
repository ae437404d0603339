/**
 * The failure codes of the connection machine: the one list the machine's context, the error
 * classes and the facade's failure-to-error mapping are all typed from, so the compiler checks that
 * they agree. Kept apart from the machine so `src/errors.ts` can use it without pulling in xstate.
 */

const authFailureCodes = [
  'AUTH_REFUSED',
  'AUTH_LOCKED',
  'NONCE_EXPIRED',
  'NONCE_REFUSED',
  'NONCE_REJECTED',
  'SIGNING_FAILED',
  'SIGNING_DECLINED',
  'INVALID_KEY',
] as const;

/**
 * Handshake failures reported as an `AuthError` (none retried, except one refetch after
 * `NONCE_EXPIRED`): `AUTH_REFUSED`, `AUTH_LOCKED` (close 1008), `NONCE_EXPIRED`, `NONCE_REFUSED`,
 * `NONCE_REJECTED` (text that is not a nonce, left unsigned), `SIGNING_FAILED`, `SIGNING_DECLINED`
 * (the person at the wallet refused to sign), `INVALID_KEY`.
 */
export type AuthFailureCode = (typeof authFailureCodes)[number];

const failureCodes = [
  ...authFailureCodes,
  'CONNECTION_FAILED',
  'CONNECTION_LOST',
  'TIMEOUT',
  'LINK_DEAD',
  'RECONNECT_EXHAUSTED',
  'FRAME_TOO_LARGE',
  'SERVER_ERROR',
  'PROTOCOL_ERROR',
] as const;

/**
 * Why the machine is not connected: an {@link AuthFailureCode}, or `CONNECTION_FAILED` (a 3xx or
 * terminal 4xx upgrade refusal), `CONNECTION_LOST`, `TIMEOUT`, `LINK_DEAD` (no answer to the
 * keep-alive probe), `RECONNECT_EXHAUSTED`, `FRAME_TOO_LARGE` (an inbound frame over the limit),
 * `SERVER_ERROR` (-32603 answering a handshake step), `PROTOCOL_ERROR` (a handshake answer of
 * the wrong shape: retried like a drop).
 */
export type FailureCode = (typeof failureCodes)[number];

const known: ReadonlySet<unknown> = new Set(failureCodes);

/**
 * Whether `code` is one of the machine's failure codes (a handshake step may throw any error,
 * with any code or none).
 * @example isFailureCode('AUTH_REFUSED'); // true
 */
export function isFailureCode(code: unknown): code is FailureCode {
  return known.has(code);
}
