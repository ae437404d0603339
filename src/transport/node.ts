import WebSocket from 'ws';
import { parseRetryAfter, printableLocation } from './http-refusal.js';
import type { CloseInfo, Transport, TransportFactory, TransportHandlers, TransportOptions } from './types.js';

/** `ws` would accept 100 MiB; the client's own default (`withMaxInboundFrameBytes`) applies when none is given. */
const fallbackMaxPayload = 4 * 1024 * 1024;

/**
 * The Node transport, on `ws`: it can send ping frames, it sees the HTTP status (and `Retry-After`,
 * `Location`) of a refused upgrade, and it refuses an inbound frame over the limit from its header,
 * before buffering it.
 * @example const client = CircleWsClient.builder(url).withTransport(nodeTransport).build();
 */
export const nodeTransport: TransportFactory = (url: string, handlers: TransportHandlers, options?: TransportOptions): Transport => {
  // Compression costs CPU on every frame and buys little for short JSON-RPC frames on the links we
  // target; off, it also leaves no inflated size to bound (maxPayload counts wire bytes).
  const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: options?.maxInboundFrameBytes ?? fallbackMaxPayload });
  let closed = false;
  const finish = (info: CloseInfo): void => {
    if (closed) return;
    closed = true;
    handlers.close(info);
  };
  let status: number | undefined;
  let retryAfterMs: number | undefined;
  let location: string | undefined;
  let networkError: string | undefined;
  let inboundTooLarge = false;

  socket.on('open', () => handlers.open());
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      handlers.binary(byteLengthOf(data));
      return;
    }
    handlers.message(typeof data === 'string' ? data : data.toString());
  });
  socket.on('pong', () => handlers.pong());
  socket.on('unexpected-response', (_request, response) => {
    status = response.statusCode;
    retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
    location = printableLocation(response.headers.location);
    response.resume();
    // `ws` leaves the request open after an unexpected response; abort it so nothing lingers.
    socket.terminate();
  });
  socket.on('error', (error: Error) => {
    // `ws` emits 'error' before 'close'; remember it so the close carries the reason.
    networkError = error.message;
    if ((error as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      // `ws` has sent close 1009 and would wait up to 30 s for the server's reply while discarding
      // what it still sends; a peer that sends oversized frames gets no such courtesy.
      inboundTooLarge = true;
      socket.terminate();
    }
  });
  socket.on('close', (code: number, reason: Buffer) => {
    const info: CloseInfo = inboundTooLarge
      ? { code: 1009, reason: 'inbound frame too large', inboundTooLarge: true }
      : { code, reason: reason.toString() };
    if (status !== undefined) info.status = status;
    if (retryAfterMs !== undefined) info.retryAfterMs = retryAfterMs;
    if (location !== undefined) info.location = location;
    if (networkError !== undefined) info.error = networkError;
    finish(info);
  });

  return {
    send: (data) => socket.send(data),
    ping: () => {
      if (socket.readyState !== WebSocket.OPEN) return false;
      socket.ping();
      return true;
    },
    close: (code = 1000, reason = '') => {
      if (socket.readyState === WebSocket.CONNECTING) {
        // Closing a CONNECTING `ws` socket raises an error event; terminating it is the quiet way out.
        socket.terminate();
        return;
      }
      socket.close(code, reason);
    },
    terminate: () => socket.terminate(),
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
  };
};

function byteLengthOf(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}
