/**
 * JSON-RPC 2.0 envelope handling for the reference server: turns one text frame into a request,
 * a notification or an error reply, and builds the reply objects.
 *
 * Decisions where the protocol (section 2) leaves room, chosen to make the reference server a
 * strict checker of clients:
 * - `params` must be present and be an object (not an array, not null): a request without it is
 *   -32600 Invalid Request, like the strict Rust/serde server the protocol describes.
 * - `id` may be a string or a finite number (the protocol's clients use strings; JSON-RPC allows
 *   numbers). `null`, booleans, objects and arrays are -32600, answered with `id: null`.
 * - A batch (a JSON array) is not part of the protocol (one message per frame): -32600.
 * - A message nested deeper than {@link MAX_JSON_DEPTH} levels is -32700 without being parsed:
 *   no request nests that deep, and parsing such input can stall the event loop for a second.
 * - A message without an `id` key is a notification. It gets no reply, ever (even when its
 *   method is unknown), and it is not executed: the protocol defines no client notifications,
 *   and a side effect nobody can observe (such as replacing a nonce) would only confuse.
 */
import { RpcErrorCode } from '../errors.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './limits.js';

export type RpcId = string | number;

export interface RpcRequest {
  kind: 'request';
  id: RpcId;
  method: string;
  params: Record<string, unknown>;
}

export interface RpcNotification {
  kind: 'notification';
  method: string;
}

export interface RpcInvalid {
  kind: 'invalid';
  reply: RpcFailure;
}

export type ParsedMessage = RpcRequest | RpcNotification | RpcInvalid;

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcSuccess {
  jsonrpc: '2.0';
  id: RpcId;
  result: unknown;
}

export interface RpcFailure {
  jsonrpc: '2.0';
  id: RpcId | null;
  error: RpcErrorObject;
}

/** A method handler's way of answering with a JSON-RPC error instead of a result. */
export class RpcFault extends Error {
  readonly code: number;
  readonly data: unknown;
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** @example success('1', true); // { jsonrpc: '2.0', id: '1', result: true } */
export function success(id: RpcId, result: unknown): RpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

/** @example failure(null, -32700, 'Parse error'); // { jsonrpc: '2.0', id: null, error: { code: -32700, … } } */
export function failure(id: RpcId | null, code: number, message: string, data?: unknown): RpcFailure {
  const error: RpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isValidId(value: unknown): value is RpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function invalid(id: RpcId | null, message: string): RpcInvalid {
  return { kind: 'invalid', reply: failure(id, RpcErrorCode.InvalidRequest, `Invalid Request: ${message}`) };
}

/**
 * Classifies one text frame. Never throws: malformed input becomes an error reply.
 * @example
 * parseMessage('{"jsonrpc":"2.0","id":"1","method":"whoami","params":{}}');
 * // { kind: 'request', id: '1', method: 'whoami', params: {} }
 */
export function parseMessage(text: string): ParsedMessage {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    return { kind: 'invalid', reply: failure(null, RpcErrorCode.ParseError, `Parse error: the frame nests deeper than ${MAX_JSON_DEPTH} levels`) };
  }
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reply: failure(null, RpcErrorCode.ParseError, 'Parse error: the frame is not valid JSON') };
  }
  if (!isPlainObject(message)) {
    return invalid(null, Array.isArray(message) ? 'batches are not supported, send one request per frame' : 'the message must be a JSON object');
  }
  const hasId = Object.hasOwn(message, 'id');
  // Echo the id whenever it is usable, so the client can fail the right pending call.
  const replyId = hasId && isValidId(message.id) ? message.id : null;
  if (message.jsonrpc !== '2.0') return invalid(replyId, 'jsonrpc must be "2.0"');
  if (typeof message.method !== 'string') return invalid(replyId, 'method must be a string');
  if (hasId && !isValidId(message.id)) return invalid(null, 'id must be a string or a number');
  if (!hasId) return { kind: 'notification', method: message.method };
  if (!Object.hasOwn(message, 'params')) return invalid(replyId, 'params is required (use {} when empty)');
  if (!isPlainObject(message.params)) return invalid(replyId, 'params must be an object (named parameters)');
  return { kind: 'request', id: message.id as RpcId, method: message.method, params: message.params };
}
