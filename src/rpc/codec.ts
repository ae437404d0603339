/**
 * JSON-RPC 2.0 framing: what goes out, and what an inbound frame turns out to be. Nothing here
 * throws on bad input: a malformed frame is classified, so the client can report it and go on.
 */

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

/** One request frame. `params` is always an object (protocol section 2). */
export function encodeRequest(id: string, method: string, params: Record<string, unknown>): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method, params });
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
    if (typeof id === 'string') return { kind: 'error', id, error: object };
    if (id === null || id === undefined) return { kind: 'error', id: null, error: object };
    return { kind: 'error', id: String(id), error: object };
  }
  if ('result' in m) {
    if (typeof id === 'string') return { kind: 'result', id, result: m.result };
    if (typeof id === 'number') return { kind: 'result', id: String(id), result: m.result };
    return { kind: 'invalid', reason: 'a result without a usable id' };
  }
  return { kind: 'invalid', reason: `neither a response nor a notification: ${frame.slice(0, maxDescribed)}` };
}
