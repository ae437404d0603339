/**
 * The one small seam between the client and a WebSocket implementation. The client never
 * touches `ws` or the browser's `WebSocket` directly, so tests and exotic runtimes inject their own.
 */

/** Why a socket ended, as the client needs it to decide whether to reconnect. */
export interface CloseInfo {
  /** The WebSocket close code (1006 when there was no close frame or the socket never opened). */
  code: number;
  reason: string;
  /** The HTTP status when the server refused the upgrade and the runtime can see it (Node only). */
  status?: number;
  /** A short description of a network error (e.g. `connect ECONNREFUSED 127.0.0.1:8080`). */
  error?: string;
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
export type TransportFactory = (url: string, handlers: TransportHandlers) => Transport;
