/**
 * From the machine's last failure (plain data, visible to an inspector) to the error class a
 * caller gets. One exhaustive switch over `FailureCode`: a code added to the machine without an
 * error here fails to compile.
 */
import type { Failure } from '../../machines/connection.js';
import {
  AuthError,
  CircleWsError,
  ConnectionFailedError,
  ConnectionLostError,
  FrameTooLargeError,
  NotConnectedError,
  ServerError,
  TimeoutError,
} from '../errors.js';

/**
 * The error matching a failure (`NotConnectedError` when there is none).
 * @example failureError({ code: 'TIMEOUT', message: 'authenticate took longer than 10000 ms' }, 4194304); // TimeoutError
 */
export function failureError(failure: Failure | null, maxInboundFrameBytes: number): CircleWsError {
  if (!failure) return new NotConnectedError('the client is not connected');
  const code = failure.code;
  switch (code) {
    case 'AUTH_REFUSED':
    case 'AUTH_LOCKED':
    case 'NONCE_EXPIRED':
    case 'NONCE_REFUSED':
    case 'NONCE_REJECTED':
    case 'SIGNING_FAILED':
    case 'SIGNING_DECLINED':
    case 'INVALID_KEY':
      return new AuthError(code, failure.message);
    case 'TIMEOUT':
      return new TimeoutError(failure.message);
    case 'FRAME_TOO_LARGE':
      return new FrameTooLargeError('inbound', failure.message, { limit: maxInboundFrameBytes });
    case 'SERVER_ERROR':
      return new ServerError(failure.message);
    case 'CONNECTION_FAILED':
    case 'RECONNECT_EXHAUSTED': {
      const details: { status?: number; closeCode?: number } = {};
      if (failure.status !== undefined) details.status = failure.status;
      if (failure.closeCode !== undefined) details.closeCode = failure.closeCode;
      return new ConnectionFailedError(failure.message, details);
    }
    case 'CONNECTION_LOST':
    case 'LINK_DEAD':
    // A handshake answer of the wrong shape drops the link and is retried: to a caller, a lost connection.
    case 'PROTOCOL_ERROR':
      return new ConnectionLostError(failure.message);
    default: {
      const unmapped: never = code;
      return new ConnectionLostError(failure.message);
    }
  }
}
