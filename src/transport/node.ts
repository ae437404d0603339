import WebSocket from 'ws';
import type { CloseInfo, Transport, TransportFactory, TransportHandlers } from './types.js';

/**
 * The Node transport, on `ws`: it can send ping frames and it sees the HTTP status of a refused upgrade.
 * @example const client = CircleWsClient.builder(url).withTransport(nodeTransport).build();
 */
export const nodeTransport: TransportFactory = (url: string, handlers: TransportHandlers): Transport => {
  // Compression costs CPU on every frame and buys little for short JSON-RPC frames on the links we target.
  const socket = new WebSocket(url, { perMessageDeflate: false });
  let closed = false;
  const finish = (info: CloseInfo): void => {
    if (closed) return;
    closed = true;
    handlers.close(info);
  };
  let status: number | undefined;
  let networkError: string | undefined;

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
    response.resume();
    // `ws` leaves the request open after an unexpected response; abort it so nothing lingers.
    socket.terminate();
  });
  socket.on('error', (error: Error) => {
    // `ws` emits 'error' before 'close'; remember it so the close carries the reason.
    networkError = error.message;
  });
  socket.on('close', (code: number, reason: Buffer) => {
    const info: CloseInfo = { code, reason: reason.toString() };
    if (status !== undefined) info.status = status;
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
