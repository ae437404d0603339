/**
 * An in-memory transport for unit and model-based tests: the test plays the server, frame by
 * frame, and sees everything the client sent. Nothing touches the network, and nothing happens
 * unless the test makes it happen (closes are reported on a microtask, like a real socket's).
 */
import type { CloseInfo, Transport, TransportFactory, TransportHandlers } from '../transport/types.js';

/** A JSON-RPC request the client sent. */
export interface SentRequest {
  id: string;
  method: string;
  params: Record<string, unknown>;
}

/** The server side of one fake socket. */
export class FakeSocket {
  readonly url: string;
  /** Every text frame the client sent, in order. */
  readonly sent: string[] = [];
  /** Ping frames the client sent. */
  pings = 0;
  /** Set when the client closed or terminated the socket. */
  closedByClient: { code: number; reason: string } | null = null;
  terminated = false;
  #open = false;
  #gone = false;
  readonly #handlers: TransportHandlers;
  readonly #supportsPing: boolean;

  constructor(url: string, handlers: TransportHandlers, supportsPing: boolean) {
    this.url = url;
    this.#handlers = handlers;
    this.#supportsPing = supportsPing;
  }

  /** True until the socket is closed by either side. */
  get alive(): boolean {
    return !this.#gone;
  }

  /** The server accepts the connection. */
  open(): void {
    if (this.#gone || this.#open) return;
    this.#open = true;
    this.#handlers.open();
  }

  /** The server sends a text frame. */
  receive(frame: string): void {
    if (!this.#gone) this.#handlers.message(frame);
  }

  /** The server sends a JSON value as a frame. */
  receiveJson(message: unknown): void {
    this.receive(JSON.stringify(message));
  }

  receiveBinary(byteLength: number): void {
    if (!this.#gone) this.#handlers.binary(byteLength);
  }

  pong(): void {
    if (!this.#gone) this.#handlers.pong();
  }

  /** The requests the client sent, parsed. */
  requests(): SentRequest[] {
    return this.sent.map((frame) => JSON.parse(frame) as SentRequest);
  }

  /** The latest request for `method`, or undefined. */
  lastRequest(method: string): SentRequest | undefined {
    return this.requests().filter((r) => r.method === method).pop();
  }

  /** Answers the latest request for `method` with a result. */
  reply(method: string, result: unknown): void {
    const request = this.lastRequest(method);
    if (!request) throw new Error(`FakeSocket: the client sent no ${method} request`);
    this.receiveJson({ jsonrpc: '2.0', id: request.id, result });
  }

  /** Answers the latest request for `method` with a JSON-RPC error. */
  replyError(method: string, code: number, message: string): void {
    const request = this.lastRequest(method);
    if (!request) throw new Error(`FakeSocket: the client sent no ${method} request`);
    this.receiveJson({ jsonrpc: '2.0', id: request.id, error: { code, message } });
  }

  /** The server (or the network) ends the socket. */
  serverClose(info: CloseInfo = { code: 1006, reason: '' }): void {
    this.#end(info);
  }

  /** The transport the client holds. */
  transport(): Transport {
    return {
      send: (data) => {
        if (this.#gone) throw new Error('socket is closed');
        this.sent.push(data);
      },
      ping: () => {
        if (!this.#supportsPing || !this.#open || this.#gone) return false;
        this.pings += 1;
        return true;
      },
      close: (code = 1000, reason = '') => {
        if (this.#gone || this.closedByClient) return;
        this.closedByClient = { code, reason };
        queueMicrotask(() => this.#end({ code, reason }));
      },
      terminate: () => {
        if (this.#gone) return;
        this.terminated = true;
        this.closedByClient ??= { code: 1006, reason: 'terminated' };
        queueMicrotask(() => this.#end({ code: 1006, reason: '' }));
      },
      bufferedAmount: 0,
    };
  }

  #end(info: CloseInfo): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#handlers.close(info);
  }
}

/**
 * A transport factory whose sockets the test drives.
 * @example
 * const fake = new FakeTransport();
 * const client = CircleWsClient.builder('ws://fake/circle').withTransport(fake.factory).build();
 * void client.connect();
 * fake.current.open();
 */
export class FakeTransport {
  /** Every socket the client opened, oldest first. */
  readonly sockets: FakeSocket[] = [];
  readonly factory: TransportFactory;

  /** @param options.supportsPing false plays a browser (no ping frames: the client probes with JSON-RPC). */
  constructor(options: { supportsPing?: boolean } = {}) {
    const supportsPing = options.supportsPing ?? true;
    this.factory = (url, handlers) => {
      const socket = new FakeSocket(url, handlers, supportsPing);
      this.sockets.push(socket);
      return socket.transport();
    };
  }

  /** The latest socket. */
  get current(): FakeSocket {
    const socket = this.sockets[this.sockets.length - 1];
    if (!socket) throw new Error('FakeTransport: the client has opened no socket');
    return socket;
  }

  /** Sockets not yet closed by either side. */
  alive(): FakeSocket[] {
    return this.sockets.filter((s) => s.alive);
  }
}
