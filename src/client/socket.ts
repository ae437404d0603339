/**
 * The socket side of one client: opening a socket through the transport factory, reading its
 * frames, knowing when it was last heard from (keep-alive), releasing it, and waiting, bounded,
 * for it to be gone. It is what the machine's implementations act on (`MachineHost`), and it
 * holds the handshake's secrets on the socket they belong to.
 */
import type { Signer } from '../auth/crypto.js';
import { RpcError } from '../errors.js';
import { decodeFrame } from '../rpc/codec.js';
import type { CloseInfo, Transport } from '../transport/types.js';
import type { Calls } from './calls.js';
import { authenticate, fetchNonce, type HandshakeHost, signNonce, type SocketSecrets } from './handshake.js';
import type { MachineHost, MachineRef } from './implementations.js';
import type { ResolvedOptions } from './options.js';

/** A server notification (a message with a `method` and no `id`). */
export interface Notification {
  method: string;
  params: unknown;
}

/** How long `disconnect()` waits for a server to finish the closing handshake before dropping the socket. */
const closeWaitMs = 2_000;

/** One socket, from the transport factory to its close. */
export class Link implements SocketSecrets {
  transport: Transport = deadTransport;
  closed = false;
  /** The nonce of this socket's handshake, until it is signed. */
  nonce: string | null = null;
  /** The signature of this socket's handshake, until it is sent. */
  signature: string | null = null;
  /** When a frame (or the open) was last heard, on the client's clock: keep-alive measures silence from here. */
  heardAt = 0;
  /** A keep-alive probe is out: the next frame tells the machine the link is alive. */
  probeOut = false;
  /** Set by a `disconnect()` waiting for the socket to be gone. */
  onGone: (() => void) | undefined = undefined;
  /** Where this socket's events go: the client's actor. */
  readonly machine: MachineRef;

  constructor(machine: MachineRef) {
    this.machine = machine;
  }
}

export class ClientSocket implements MachineHost, HandshakeHost<Link> {
  /** The socket of the current session attempt. */
  link: Link | null = null;
  /** The application stopped the client (`disconnect()`, or never connected): calls in flight get `NotConnectedError`. */
  stopped = true;
  readonly signer: Signer | null;
  readonly #options: ResolvedOptions;
  readonly #calls: Calls;
  #notificationListeners: Set<(notification: Notification) => void> | undefined;
  /** The socket the session let go of last, until the next opens (see `drop`). */
  #released: Link | null = null;

  constructor(options: ResolvedOptions, signer: Signer | null, calls: Calls) {
    this.#options = options;
    this.signer = signer;
    this.#calls = calls;
  }

  get nonceRule(): ResolvedOptions['nonceRule'] {
    return this.#options.nonceRule;
  }

  /** Adds a notification listener; returns the function that removes it. */
  listen(listener: (notification: Notification) => void): () => void {
    const listeners = (this.#notificationListeners ??= new Set());
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  // The machine's implementations (see implementations.ts).

  open(url: string, machine: MachineRef): void {
    const link = new Link(machine);
    this.#released = null;
    // Current before the factory runs, so a transport that reports synchronously is not ignored.
    this.link = link;
    const { logger, clock } = this.#options;
    try {
      link.transport = this.#options.transport(url, {
        open: () => {
          if (this.link !== link) return;
          link.heardAt = clock.now();
          logger.debug('socket open', { url });
          machine.send({ type: 'socket.opened' });
        },
        message: (data) => {
          if (this.link === link) this.#onFrame(link, data);
        },
        binary: (byteLength) => {
          if (this.link !== link) return;
          this.#heard(link);
          logger.warn('ignored a binary frame (not part of the protocol)', { bytes: byteLength });
        },
        pong: () => {
          if (this.link === link) this.#heard(link);
        },
        oversize: (byteLength, limit) => {
          if (this.link !== link) return;
          this.#heard(link);
          logger.warn('dropped an inbound frame over the limit, unread (withMaxInboundFrameBytes)', { bytes: byteLength, limit });
        },
        close: (info) => {
          this.#gone(link);
          if (this.link !== link) return;
          this.link = null;
          logger.info('socket closed', { code: info.code, reason: info.reason, ...(info.status ? { status: info.status } : {}), ...(info.error ? { error: info.error } : {}) });
          this.#lost(link, info);
          machine.send({ type: 'socket.closed', ...info });
        },
      }, { maxInboundFrameBytes: this.#options.maxInboundFrameBytes });
    } catch (error) {
      // A factory that throws (a bad URL, no WebSocket in this runtime) is a closed socket, reported once the actor is running.
      const message = error instanceof Error ? error.message : String(error);
      link.transport = deadTransport;
      this.#gone(link);
      this.link = null;
      queueMicrotask(() => machine.send({ type: 'socket.closed', code: 1006, reason: '', error: message }));
    }
  }

  release(): void {
    const link = this.link;
    if (link) this.#release(link);
  }

  fetchNonce(publicKey: string): Promise<void> {
    return fetchNonce(this, publicKey);
  }

  signNonce(): Promise<void> {
    return signNonce(this);
  }

  authenticate(publicKey: string): Promise<true> {
    return authenticate(this, publicKey);
  }

  request(link: Link, method: string, params: Record<string, unknown>): Promise<unknown> {
    return this.#calls.request(link.transport, method, params);
  }

  /** Sends a ping frame, or where there are none (browsers) a JSON-RPC request whose any answer, even an error, proves the link. */
  probe(): void {
    const link = this.link;
    if (!link || link.closed) return;
    link.probeOut = true;
    if (link.transport.ping()) return;
    this.request(link, 'whoami', {}).catch(() => {});
  }

  /**
   * Drops the socket without a closing handshake (a dead or stalled link cannot finish one). The
   * machine drops as it leaves the session, after `releaseSocket` (exit actions run first) has
   * started a closing handshake: the socket just released is the one dropped then.
   */
  drop(): void {
    const link = this.link ?? this.#released;
    if (link && !link.closed) link.transport.terminate();
  }

  random(): number {
    return this.#options.random();
  }

  /** How long until the link has been quiet for `intervalMs` (0: it has), measured on the wall clock. */
  quietIn(intervalMs: number): number {
    const heardAt = this.link?.heardAt ?? 0;
    return Math.max(0, heardAt + intervalMs - this.#options.clock.now());
  }

  /**
   * Resolves once the current socket is gone; a server that never finishes the closing handshake
   * does not hold it open longer than {@link closeWaitMs}: the socket is then dropped.
   */
  async waitGone(link: Link): Promise<void> {
    if (link.closed) return;
    const { clock } = this.#options;
    let timer: unknown;
    await new Promise<void>((resolve) => {
      // Two disconnect() calls may wait for the same socket.
      const before = link.onGone;
      link.onGone = () => {
        before?.();
        resolve();
      };
      timer = clock.setTimeout(() => {
        link.transport.terminate();
        resolve();
      }, closeWaitMs);
    });
    clock.clearTimeout(timer);
  }

  // ---------------------------------------------------------------------------------------------

  /** The session state was left: its socket goes, and the calls in flight on it are settled. */
  #release(link: Link): void {
    link.nonce = null;
    link.signature = null;
    this.link = null;
    this.#released = link;
    this.#lost(link);
    if (!link.closed) link.transport.close(1000, this.stopped ? 'client disconnected' : 'client closing');
  }

  #gone(link: Link): void {
    if (this.#released === link) this.#released = null;
    link.closed = true;
    link.nonce = null;
    link.signature = null;
    link.onGone?.();
  }

  #lost(link: Link, close?: CloseInfo): void {
    link.probeOut = false;
    this.#calls.lost(this.stopped, close);
  }

  #onFrame(link: Link, data: string): void {
    this.#heard(link);
    const inbound = decodeFrame(data);
    const { logger } = this.#options;
    switch (inbound.kind) {
      case 'result':
        if (!this.#calls.answer(inbound.id, inbound.result)) logger.warn('ignored a response to no pending call', { id: inbound.id.slice(0, 40) });
        return;
      case 'error': {
        const { code, message, data: details } = inbound.error;
        if (inbound.id === null || !this.#calls.refuse(inbound.id, new RpcError(code, message, details))) {
          logger.warn('ignored an error response to no pending call', { id: inbound.id?.slice(0, 40) ?? null, code });
        }
        return;
      }
      case 'notification':
        if (this.#notificationListeners) {
          for (const listener of this.#notificationListeners) {
            try {
              listener({ method: inbound.method, params: inbound.params });
            } catch (error) {
              logger.error('a notification listener threw', { error: String(error) });
            }
          }
        }
        return;
      case 'invalid':
        logger.warn('ignored a malformed frame', { reason: inbound.reason });
    }
  }

  /** Any inbound frame proves the link alive. */
  #heard(link: Link): void {
    link.heardAt = this.#options.clock.now();
    if (link.probeOut) {
      link.probeOut = false;
      link.machine.send({ type: 'link.alive' });
    }
  }
}

const deadTransport: Transport = {
  send: () => {
    throw new Error('the socket could not be created');
  },
  ping: () => false,
  close: () => {},
  terminate: () => {},
  bufferedAmount: 0,
};
