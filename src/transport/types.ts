/**
 * The one small seam between the client and a WebSocket implementation. The client never
 * touches `ws` or the browser's `WebSocket` directly, so tests and exotic runtimes inject their own.
 */
import type { SocketClosed } from '../../machines/connection.js';

/** Why a socket ended, as the client needs it to decide whether to reconnect: the machine's own shape. */
export type CloseInfo = SocketClosed;

/** What the client asks of every socket it opens. A transport that cannot honour an option ignores it. */
export interface TransportOptions {
  /**
   * The largest inbound frame, in bytes. Where the socket can enforce it (`ws`'s `maxPayload`) a
   * larger frame closes the socket with 1009 before it is buffered; where it cannot (browsers) the
   * frame is dropped before parsing and reported through {@link TransportHandlers.oversize}.
   */
  maxInboundFrameBytes: number;
}

/** What a transport calls back into. Each is called at most as the socket's life allows: open once, close once. */
export interface TransportHandlers {
  open(): void;
  /** A text frame. */
  message(data: string): void;
  /** A binary frame: not part of the protocol; the client reports it and goes on. */
  binary(byteLength: number): void;
  /** A pong frame answering {@link Transport.ping}. */
  pong(): void;
  /** A frame over `maxInboundFrameBytes` was dropped unread (a transport that cannot refuse it earlier). */
  oversize(byteLength: number, limit: number): void;
  /** The socket is gone (after a close frame, a network error or a refused upgrade). Called exactly once. */
  close(info: CloseInfo): void;
}

/** One open (or opening) socket. */
export interface Transport {
  /** Queue a text frame. */
  send(data: string): void;
  /**
   * Send a WebSocket ping frame. Returns false when this transport cannot (browsers), so the
   * client falls back to a JSON-RPC probe.
   */
  ping(): boolean;
  /** Start the closing handshake; `close` is still called once the socket is gone. */
  close(code?: number, reason?: string): void;
  /** Drop the socket at once, without a closing handshake (a dead link cannot finish one). */
  terminate(): void;
  /** Bytes queued but not yet written, as reported by the underlying socket. */
  readonly bufferedAmount: number;
}

/** Opens a socket to `url`; the client calls it once per connection attempt. */
export type TransportFactory = (url: string, handlers: TransportHandlers, options?: TransportOptions) => Transport;
