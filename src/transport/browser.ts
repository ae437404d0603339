import { exceedsBytes, utf8ByteLength } from '../rpc/codec.js';
import type { CloseInfo, Transport, TransportFactory, TransportHandlers, TransportOptions } from './types.js';

/**
 * The browser transport, on the global `WebSocket`. Browsers cannot send ping frames (the client
 * probes with JSON-RPC instead), hide the HTTP status of a refused upgrade, and cannot bound an
 * inbound frame: one over `maxInboundFrameBytes` has already been received, so it is dropped
 * before parsing and reported (the client logs it).
 * @example const client = CircleWsClient.builder(url).withTransport(browserTransport).build();
 */
export const browserTransport: TransportFactory = (url: string, handlers: TransportHandlers, options?: TransportOptions): Transport => {
  const Socket = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
  if (!Socket) throw new TypeError('no global WebSocket in this runtime: inject a transport with withTransport()');
  const socket = new Socket(url);
  socket.binaryType = 'arraybuffer';
  let closed = false;
  let sawError = false;
  const finish = (info: CloseInfo): void => {
    if (closed) return;
    closed = true;
    handlers.close(info);
  };

  socket.onopen = () => handlers.open();
  socket.onmessage = (event: MessageEvent) => {
    const data: unknown = event.data;
    const limit = options?.maxInboundFrameBytes;
    if (typeof data === 'string') {
      // Counting a huge frame's exact bytes would be work done for the peer: its length is a lower bound.
      if (limit !== undefined && exceedsBytes(data, limit)) handlers.oversize(data.length > limit ? data.length : utf8ByteLength(data), limit);
      else handlers.message(data);
    } else if (data instanceof ArrayBuffer) handlers.binary(data.byteLength);
    else if (data instanceof Blob) handlers.binary(data.size);
  };
  socket.onerror = () => {
    sawError = true;
  };
  socket.onclose = (event: CloseEvent) => {
    const info: CloseInfo = { code: event.code, reason: event.reason };
    if (sawError && event.code === 1006) info.error = 'the WebSocket failed (the browser does not say why)';
    finish(info);
  };

  return {
    send: (data) => socket.send(data),
    ping: () => false,
    close: (code = 1000, reason = '') => socket.close(code, reason),
    terminate: () => {
      // A browser cannot drop a socket without the closing handshake; report the close at once so
      // the client does not wait on a link it has declared dead.
      socket.close(4000, 'link dead');
      finish({ code: 1006, reason: 'terminated by the client' });
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
  };
};
