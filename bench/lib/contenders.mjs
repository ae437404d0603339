/**
 * The three contenders, behind one small interface:
 *
 *   const session = contender.create(url, options); // setup, outside any timing
 *   await session.connect();                          // to ready (authenticated where there is a key)
 *   await session.call('echo', { n: 1 });
 *   session.onReady(listener)                         // every time the session becomes ready (reconnect figure)
 *   await session.close();
 *
 * - raw: a minimal hand-written client on `ws`, the floor: string ids, a Map of pending promises,
 *   JSON.stringify/parse, and for connect the same three round trips as the protocol
 *   (fetch_nonce, `signNonce` from dist, authenticate). No timers, no state machine.
 * - circle-ws-client: this package, imported from the built dist/ (by its own package name).
 * - rpc-websockets: its Node `Client`, plain calls, no authentication.
 */
import WebSocket from 'ws';
import { Client as RpcWebSocketsClient } from 'rpc-websockets';
import { CircleWsClient, signNonce } from 'circle-ws-client';

export const RAW = 'raw';
export const OURS = 'circle-ws-client';
export const PEER = 'rpc-websockets';

/** The minimal client: the floor every other figure is divided by. */
export class RawClient {
  #url;
  #privateKey;
  #publicKey;
  #reconnectDelayMs;
  #socket = null;
  #nextId = 0;
  #pending = new Map();
  #stopped = false;
  #readyListeners = [];
  /** Connection attempts made (the first one included). */
  attempts = 0;

  /**
   * @param {string} url
   * @param {{ privateKey?: string, publicKey?: string, reconnectDelayMs?: number }} options
   */
  constructor(url, { privateKey, publicKey, reconnectDelayMs } = {}) {
    this.#url = url;
    this.#privateKey = privateKey ?? null;
    this.#publicKey = publicKey ?? null;
    this.#reconnectDelayMs = reconnectDelayMs ?? null;
  }

  onReady(listener) {
    this.#readyListeners.push(listener);
  }

  /** Whether the socket is open (after a resolved connect: the session is ready). */
  get isOpen() {
    return this.#socket !== null && this.#socket.readyState === WebSocket.OPEN;
  }

  async connect() {
    this.#stopped = false;
    await this.#open();
  }

  async #open() {
    this.attempts++;
    const socket = new WebSocket(this.#url, { perMessageDeflate: false });
    this.#socket = socket;
    const state = { ready: false };
    socket.on('message', (data, isBinary) => {
      if (!isBinary) this.#onMessage(data.toString());
    });
    socket.on('error', () => {});
    socket.once('close', () => this.#onClose(socket, state.ready));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('close', () => reject(new Error('closed before open')));
    });
    if (this.#privateKey !== null) {
      const nonce = await this.call('fetch_nonce', { pubkey: this.#publicKey });
      const signature = signNonce(this.#privateKey, nonce);
      const accepted = await this.call('authenticate', { pubkey: this.#publicKey, signature });
      if (accepted !== true) throw new Error('authentication refused');
    }
    state.ready = true;
    for (const listener of this.#readyListeners) listener();
  }

  call(method, params) {
    return new Promise((resolve, reject) => {
      const id = String(++this.#nextId);
      this.#pending.set(id, { resolve, reject });
      this.#socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }

  #onMessage(text) {
    const message = JSON.parse(text);
    const entry = this.#pending.get(message.id);
    if (entry === undefined) return;
    this.#pending.delete(message.id);
    if (message.error !== undefined) entry.reject(new Error(message.error.message));
    else entry.resolve(message.result);
  }

  /** Rejects what was in flight; a session that had been ready retries (a failed attempt is retried by #retry). */
  #onClose(socket, wasReady) {
    if (this.#socket !== socket) return;
    this.#socket = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) entry.reject(new Error('connection closed'));
    if (wasReady && !this.#stopped && this.#reconnectDelayMs !== null) this.#retry();
  }

  /** The same policy as the others in the reconnect figure: a constant delay before every attempt. */
  #retry() {
    setTimeout(() => {
      if (this.#stopped) return;
      this.#open().catch(() => {
        const socket = this.#socket;
        this.#socket = null;
        socket?.terminate();
        if (!this.#stopped) this.#retry();
      });
    }, this.#reconnectDelayMs);
  }

  async close() {
    this.#stopped = true;
    const socket = this.#socket;
    if (socket === null || socket.readyState === WebSocket.CLOSED) return;
    await new Promise((resolve) => {
      socket.once('close', resolve);
      socket.close(1000);
    });
  }
}

/**
 * @typedef {{ privateKey?: string, publicKey?: string, keepAlive?: boolean, reconnectDelayMs?: number }} SessionOptions
 */

/** @type {Record<string, { name: string, authenticates: boolean, create: (url: string, options: SessionOptions) => any }>} */
export const contenders = {
  [RAW]: {
    name: RAW,
    authenticates: true,
    create(url, options) {
      return new RawClient(url, options);
    },
  },
  [OURS]: {
    name: OURS,
    authenticates: true,
    create(url, { privateKey, keepAlive = true, reconnectDelayMs } = {}) {
      let builder = CircleWsClient.builder(url);
      if (privateKey) builder = builder.withKeypair(privateKey);
      // Keep-alive: the default (30 s interval) unless turned off; reconnection: off unless the figure needs it.
      if (!keepAlive) builder = builder.withKeepAlive(false);
      builder =
        reconnectDelayMs === undefined
          ? builder.withReconnect(false)
          : builder.withReconnect({ initialDelayMs: reconnectDelayMs, maxDelayMs: reconnectDelayMs, multiplier: 1, jitter: 0 });
      const client = builder.build();
      let attempts = 0;
      const readyListeners = [];
      client.on('status', (status) => {
        if (status === 'connecting') attempts++;
        if (status === 'authenticated' || status === 'connected') for (const listener of readyListeners) listener();
      });
      return {
        client,
        get attempts() {
          return attempts;
        },
        onReady: (listener) => readyListeners.push(listener),
        connect: () => client.connect(),
        call: (method, params) => client.call(method, params),
        close: () => client.disconnect(),
      };
    },
  },
  [PEER]: {
    name: PEER,
    authenticates: false,
    create(url, { reconnectDelayMs } = {}) {
      const reconnect = reconnectDelayMs !== undefined;
      const client = new RpcWebSocketsClient(url, {
        autoconnect: false,
        reconnect,
        reconnect_interval: reconnectDelayMs ?? 1000,
        max_reconnects: 0, // 0 = unlimited
      });
      client.on('error', () => {});
      let attempts = 0;
      const readyListeners = [];
      client.on('open', () => {
        for (const listener of readyListeners) listener();
      });
      // Count attempts: every socket the client creates.
      const connectInternal = client._connect.bind(client);
      client._connect = (...args) => {
        attempts++;
        return connectInternal(...args);
      };
      return {
        client,
        get attempts() {
          return attempts;
        },
        onReady: (listener) => readyListeners.push(listener),
        connect: () =>
          new Promise((resolve, reject) => {
            const onOpen = () => {
              client.off('error', onError);
              resolve();
            };
            const onError = (error) => {
              client.off('open', onOpen);
              reject(error instanceof Error ? error : new Error(String(error?.message ?? error)));
            };
            client.once('open', onOpen);
            client.once('error', onError);
            client.connect();
          }),
        call: (method, params) => client.call(method, params),
        close: () =>
          new Promise((resolve) => {
            const socket = client.socket;
            client.setAutoReconnect(false);
            if (!socket || socket.readyState === WebSocket.CLOSED) {
              resolve();
              return;
            }
            socket.addEventListener('close', () => resolve(), { once: true });
            client.close(1000);
          }),
      };
    },
  },
};

export const contenderNames = [RAW, OURS, PEER];
