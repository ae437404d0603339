import type { IncomingMessage } from 'node:http';
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
export const nodeTransport: TransportFactory = (url: string, handlers: TransportHandlers, options?: TransportOptions): Transport =>
  new NodeSocket(url, handlers, options?.maxInboundFrameBytes ?? fallbackMaxPayload);

/**
 * One `ws` socket behind the `Transport` interface. A class, and listeners shared by every socket
 * (`ws` calls them with the socket as `this`): an idle client holds one small object here instead
 * of a dozen closures and an object literal with a getter, which V8 keeps in dictionary mode
 * (about 1 KiB per connected client in all, measured with heap snapshots).
 */
class NodeSocket implements Transport {
  // Own properties rather than prototype methods, so a wrapper may spread a transport
  // (`{ ...nodeTransport(url, handlers), send }`) and still reach the socket; the functions
  // themselves are shared by every socket.
  readonly send = sendFrame;
  readonly ping = sendPing;
  readonly close = closeSocket;
  readonly terminate = terminateSocket;
  readonly socket: WebSocket;
  readonly handlers: TransportHandlers;
  closed = false;
  status: number | undefined = undefined;
  retryAfterMs: number | undefined = undefined;
  location: string | undefined = undefined;
  networkError: string | undefined = undefined;
  inboundTooLarge = false;

  constructor(url: string, handlers: TransportHandlers, maxPayload: number) {
    this.handlers = handlers;
    // Compression costs CPU on every frame and buys little for short JSON-RPC frames on the links we
    // target; off, it also leaves no inflated size to bound (maxPayload counts wire bytes).
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload });
    this.socket = socket;
    owners.set(socket, this);
    socket.on('open', onOpen);
    socket.on('message', onMessage);
    socket.on('pong', onPong);
    socket.on('unexpected-response', onUnexpectedResponse);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  finish(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    owners.delete(this.socket);
    this.handlers.close(info);
  }
}

function sendFrame(this: { socket: WebSocket }, data: string): void {
  this.socket.send(data);
}

function sendPing(this: { socket: WebSocket }): boolean {
  if (this.socket.readyState !== WebSocket.OPEN) return false;
  this.socket.ping();
  return true;
}

function closeSocket(this: { socket: WebSocket }, code = 1000, reason = ''): void {
  if (this.socket.readyState === WebSocket.CONNECTING) {
    // Closing a CONNECTING `ws` socket raises an error event; terminating it is the quiet way out.
    this.socket.terminate();
    return;
  }
  this.socket.close(code, reason);
}

function terminateSocket(this: { socket: WebSocket }): void {
  this.socket.terminate();
}

/** The `NodeSocket` of each live `ws` socket, for the shared listeners. */
const owners = new WeakMap<WebSocket, NodeSocket>();

function onOpen(this: WebSocket): void {
  owners.get(this)?.handlers.open();
}

function onMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
  const owner = owners.get(this);
  if (!owner) return;
  if (isBinary) owner.handlers.binary(byteLengthOf(data));
  else owner.handlers.message(typeof data === 'string' ? data : data.toString());
}

function onPong(this: WebSocket): void {
  owners.get(this)?.handlers.pong();
}

function onUnexpectedResponse(this: WebSocket, _request: unknown, response: IncomingMessage): void {
  const owner = owners.get(this);
  if (owner) {
    owner.status = response.statusCode;
    owner.retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
    owner.location = printableLocation(response.headers.location);
  }
  response.resume();
  // `ws` leaves the request open after an unexpected response; abort it so nothing lingers.
  this.terminate();
}

function onError(this: WebSocket, error: Error): void {
  const owner = owners.get(this);
  if (!owner) return;
  // `ws` emits 'error' before 'close'; remember it so the close carries the reason.
  owner.networkError = error.message;
  if ((error as { code?: unknown }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
    // `ws` has sent close 1009 and would wait up to 30 s for the server's reply while discarding
    // what it still sends; a peer that sends oversized frames gets no such courtesy.
    owner.inboundTooLarge = true;
    this.terminate();
  }
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  const owner = owners.get(this);
  if (!owner) return;
  const info: CloseInfo = owner.inboundTooLarge
    ? { code: 1009, reason: 'inbound frame too large', inboundTooLarge: true }
    : { code, reason: reason.toString() };
  if (owner.status !== undefined) info.status = owner.status;
  if (owner.retryAfterMs !== undefined) info.retryAfterMs = owner.retryAfterMs;
  if (owner.location !== undefined) info.location = owner.location;
  if (owner.networkError !== undefined) info.error = owner.networkError;
  owner.finish(info);
}

function byteLengthOf(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.byteLength, 0);
  return data.byteLength;
}
