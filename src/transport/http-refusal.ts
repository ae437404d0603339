/**
 * What a refused WebSocket upgrade's HTTP headers tell the client: when to come back
 * (`Retry-After`) and where the server points (`Location`). The header values come from the
 * server, so both are bounded before they reach a delay or a message.
 */

/**
 * `Retry-After` in milliseconds from `now`: delta-seconds (`120`) or an HTTP date
 * (`Wed, 21 Oct 2026 07:28:00 GMT`). A date in the past is 0; anything else is undefined.
 * The caller caps it (the reconnection policy's `maxDelayMs`).
 * @example parseRetryAfter('3', Date.now()) // 3000
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text || text.length > 64) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only the date forms HTTP allows start with a letter (a weekday); this keeps Date.parse away from numbers.
  if (!/^[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

const maxLocation = 200;

/**
 * A `Location` header fit for an error message: control characters removed, at most 200 characters.
 * @example printableLocation('wss://example.com/02ab') // 'wss://example.com/02ab'
 */
export function printableLocation(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').trim();
  if (clean.length === 0) return undefined;
  return clean.length > maxLocation ? `${clean.slice(0, maxLocation)}…` : clean;
}
