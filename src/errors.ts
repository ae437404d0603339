import type { AuthFailureCode, FailureCode } from '../machines/failure.js';

/**
 * Every error this package throws or rejects with is a `CircleWsError` with a stable `code`,
 * so callers can branch on `err.code` (or `instanceof`) without parsing messages.
 * Messages say what was wrong; they never contain a private key, a full nonce or a signature.
 */
export class CircleWsError extends Error {
  // Set by hand: a minifier renames classes, and `name` must survive bundling.
  override readonly name: string = 'CircleWsError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A bad argument given to the builder, a call or a helper (a type or range mistake by the caller). */
export class InvalidArgumentError extends CircleWsError {
  override readonly name: string = 'InvalidArgumentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/**
 * A frame over a size limit (code `FRAME_TOO_LARGE`).
 * - `outbound`: a call whose request is larger than `withMaxFrameBytes` (rejected before anything is
 *   sent or queued), or the call the server refused by closing with 1009 (never re-sent).
 * - `inbound`: the server sent a frame larger than `withMaxInboundFrameBytes`; the socket was
 *   closed with 1009 and the client backs off (seen as `client.lastError`).
 * Not an `InvalidArgumentError`: the server's limit, or the server's frame, may be what is wrong.
 */
export class FrameTooLargeError extends CircleWsError {
  override readonly name: string = 'FrameTooLargeError';
  readonly direction: 'outbound' | 'inbound';
  /** The frame's size in bytes, when known. */
  readonly bytes: number | undefined;
  /** The limit it passed, when known (a server's own limit is not). */
  readonly limit: number | undefined;
  constructor(direction: 'outbound' | 'inbound', message: string, details: { bytes?: number; limit?: number } = {}) {
    super('FRAME_TOO_LARGE' satisfies FailureCode, message);
    this.direction = direction;
    this.bytes = details.bytes;
    this.limit = details.limit;
  }
}

/**
 * The codes of an {@link AuthError}: the machine's auth failures (one list, `AuthFailureCode` in
 * `machines/failure.ts`) and the two of the key checks.
 */
export type AuthErrorCode = AuthFailureCode | 'INVALID_PUBLIC_KEY' | 'INVALID_SIGNATURE';

/**
 * Authentication could not be done or was refused.
 * Codes: `INVALID_KEY` (a malformed private key), `INVALID_PUBLIC_KEY`, `INVALID_SIGNATURE`,
 * `AUTH_REFUSED` (the server refused the credentials), `AUTH_LOCKED` (close 1008),
 * `NONCE_EXPIRED` (the nonce expired before the signature arrived; refetched once per socket),
 * `NONCE_REFUSED` (the server would not issue a nonce), `NONCE_REJECTED` (the server sent text that
 * does not look like a nonce, so the client refused to sign it), `SIGNING_FAILED`, `SIGNING_DECLINED`
 * (the user declined to sign in their wallet: EIP-1193 error 4001; the client stops in `failed`).
 */
export class AuthError extends CircleWsError {
  override readonly name: string = 'AuthError';
  // `declare`: narrows the type only; a field here would be re-initialised after super() sets it.
  declare readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** JSON-RPC error codes of the protocol, by name. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** hero: the script failed. */
  ExecutionError: -32000,
  /** hero: `play` before authentication. */
  AuthenticationRequired: -32001,
  /** hero: `authenticate` refused the signature. */
  InvalidCredentials: -32002,
} as const;
export type RpcErrorCodeName = keyof typeof RpcErrorCode;

/** The server answered a call with a JSON-RPC error object. */
export class RpcError extends CircleWsError {
  override readonly name: string = 'RpcError';
  /** The JSON-RPC error code (see {@link RpcErrorCode}). */
  readonly rpcCode: number;
  readonly data: unknown;
  constructor(rpcCode: number, message: string, data?: unknown) {
    super('RPC_ERROR', `${message} (JSON-RPC error ${rpcCode})`);
    this.rpcCode = rpcCode;
    this.data = data;
  }
}

/**
 * The server failed internally (JSON-RPC -32603) while answering a handshake step: a transient
 * fault, so the client backs off and tries again (seen as `client.lastError`).
 */
export class ServerError extends CircleWsError {
  override readonly name: string = 'ServerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('SERVER_ERROR' satisfies FailureCode, message, options);
  }
}

/** A call, or `connect()`, did not settle within its deadline. */
export class TimeoutError extends CircleWsError {
  override readonly name: string = 'TimeoutError';
  constructor(message: string) {
    super('TIMEOUT' satisfies FailureCode, message);
  }
}

/** The connection dropped while the call was in flight; the call was not re-sent. */
export class ConnectionLostError extends CircleWsError {
  override readonly name: string = 'ConnectionLostError';
  constructor(message: string) {
    super('CONNECTION_LOST' satisfies FailureCode, message);
  }
}

/** The client is disconnected (the user called `disconnect()`, or never connected). */
export class NotConnectedError extends CircleWsError {
  override readonly name: string = 'NotConnectedError';
  constructor(message: string) {
    super('NOT_CONNECTED', message);
  }
}

/** A manager was asked about a circle it does not have (code `UNKNOWN_CIRCLE`); `url` names it. */
export class UnknownCircleError extends CircleWsError {
  override readonly name: string = 'UnknownCircleError';
  /** The URL that was asked for. */
  readonly url: string;
  constructor(url: string) {
    super('UNKNOWN_CIRCLE', `the manager has no circle ${JSON.stringify(url.slice(0, 300))}: add it with withCircle() or add()`);
    this.url = url;
  }
}

/** The connection cannot be made and the client stopped trying (4xx upgrade refusal, attempts exhausted, reconnect off). */
export class ConnectionFailedError extends CircleWsError {
  override readonly name: string = 'ConnectionFailedError';
  /** The HTTP status of a refused upgrade, when the transport could see it. */
  readonly status: number | undefined;
  /** The last WebSocket close code seen. */
  readonly closeCode: number | undefined;
  constructor(message: string, details: { status?: number; closeCode?: number } = {}) {
    super('CONNECTION_FAILED' satisfies FailureCode, message);
    this.status = details.status;
    this.closeCode = details.closeCode;
  }
}

/** The call was cancelled through its `AbortSignal`. */
export class AbortError extends CircleWsError {
  override readonly name: string = 'AbortError';
  constructor(message = 'the call was aborted') {
    super('ABORTED', message);
  }
}

/** The server replied with something this client cannot use (a result of the wrong shape). */
export class ProtocolError extends CircleWsError {
  override readonly name: string = 'ProtocolError';
  constructor(message: string) {
    super('PROTOCOL_ERROR', message);
  }
}

/**
 * A call that is not safe to repeat was in flight when the connection dropped: the server may or
 * may not have run it, so it was not re-sent. Check the outcome before trying again. (A
 * `ConnectionLostError`, so code handling drops in general still catches it.)
 */
export class OutcomeUnknownError extends ConnectionLostError {
  override readonly name: string = 'OutcomeUnknownError';
  constructor(method: string, why = 'it is not marked safe to repeat') {
    super(`${method} was in flight when the connection dropped; the server may or may not have run it, and it was not re-sent because ${why}`);
    (this as { code: string }).code = 'OUTCOME_UNKNOWN';
  }
}

/** Too many calls are waiting for the session to be ready. */
export class QueueFullError extends CircleWsError {
  override readonly name: string = 'QueueFullError';
  constructor(limit: number) {
    super('QUEUE_FULL', `${limit} calls are already waiting for the session to be ready; this one was refused`);
  }
}
