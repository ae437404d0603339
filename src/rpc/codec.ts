/**
 * JSON-RPC 2.0 framing: what goes out, and what an inbound frame turns out to be. Nothing here
 * throws on bad input from the server: a malformed frame is classified, so the client can report it
 * and go on. Bad params from the caller are the caller's mistake and throw a typed error.
 */
import { InvalidArgumentError } from '../errors.js';

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An inbound frame, classified. */
export type Inbound =
  | { kind: 'result'; id: string; result: unknown }
  | { kind: 'error'; id: string | null; error: RpcErrorObject }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'invalid'; reason: string };

/**
 * One request frame. `params` is always an object (protocol section 2). Params JSON cannot carry
 * (a BigInt, a circular object, a `toJSON` or getter that throws) reject with an
 * `InvalidArgumentError` naming the method, instead of the runtime's bare `TypeError`.
 * @example encodeRequest('1', 'play', { script: '1 + 1' }) // '{"jsonrpc":"2.0","id":"1","method":"play","params":{"script":"1 + 1"}}'
 */
export function encodeRequest(id: string, method: string, params: Record<string, unknown>): string {
  try {
    return JSON.stringify({ jsonrpc: '2.0', id, method, params });
  } catch (error) {
    throw new InvalidArgumentError(`params of ${method} cannot be sent as JSON: ${whyNotJson(error)}`, { cause: error });
  }
}

/** A short reason; the runtime's own message may quote the caller's data, so it is kept brief. */
function whyNotJson(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/bigint/i.test(message)) return 'a BigInt has no JSON form (convert it to a string or number first)';
  if (/circular/i.test(message)) return 'it contains a circular reference';
  const short = message.length > 120 ? `${message.slice(0, 120)}…` : message;
  return `serialising it threw (${error instanceof Error ? error.name : typeof error}: ${short})`;
}

/**
 * The UTF-8 size of `text` in bytes, without encoding it (the frame limits are in bytes; a
 * string's `length` counts UTF-16 units).
 * @example utf8ByteLength('é') // 2
 */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Whether `text` is over `limit` bytes once UTF-8 encoded, counting only when the answer is not
 * already plain from its length (every UTF-16 unit is 1 to 3 bytes).
 */
export function exceedsBytes(text: string, limit: number): boolean {
  if (text.length > limit) return true;
  if (text.length * 3 <= limit) return false;
  return utf8ByteLength(text) > limit;
}

const maxDescribed = 80;

/** Classifies one text frame. */
export function decodeFrame(frame: string): Inbound {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch {
    return { kind: 'invalid', reason: `not JSON (${frame.length} characters)` };
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return { kind: 'invalid', reason: `not a JSON-RPC object (${Array.isArray(message) ? 'an array' : typeof message})` };
  }
  const m = message as Record<string, unknown>;
  const id = m.id;
  if (typeof m.method === 'string' && id === undefined) {
    return { kind: 'notification', method: m.method, params: m.params };
  }
  if ('error' in m && m.error !== undefined) {
    const error = m.error as Record<string, unknown> | null;
    if (typeof error !== 'object' || error === null || typeof error.code !== 'number') {
      return { kind: 'invalid', reason: 'an error response without a numeric error code' };
    }
    const object: RpcErrorObject = {
      code: error.code,
      message: typeof error.message === 'string' ? error.message : 'no message',
    };
    if ('data' in error) object.data = error.data;
    // Any id but null (or none) is matched as text, as a result's is.
    return { kind: 'error', id: id == null ? null : String(id), error: object };
  }
  if ('result' in m) {
    return typeof id === 'string' || typeof id === 'number'
      ? { kind: 'result', id: String(id), result: m.result }
      : { kind: 'invalid', reason: 'a result without a usable id' };
  }
  return { kind: 'invalid', reason: `neither a response nor a notification: ${frame.slice(0, maxDescribed)}` };
}
