/**
 * A fault-injecting TCP proxy on loopback, for tests that need a real network between a client
 * and a server that misbehaves on cue: abrupt drops, clean closes, a half-open link, latency, a
 * slow link, a drop after so many bytes, refused connections and a server that moved. It forwards
 * raw bytes and knows nothing of WebSocket, so it works for any protocol over TCP. Node only.
 */
import type { AsyncDisposableLike } from '../disposable.js';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { InvalidArgumentError } from '../errors.js';

/** Where the proxy forwards connections to. */
export interface FaultProxyTarget {
  host: string;
  port: number;
}

/** Options for {@link FaultProxy.start}. */
export interface FaultProxyOptions {
  /** The server the proxy forwards to. */
  target: FaultProxyTarget;
  /** The address the proxy listens on; `127.0.0.1` by default. */
  host?: string;
  /** The port the proxy listens on; `0` (any free port) by default. */
  port?: number;
}

/** The faults in force, shared by every connection of one proxy. */
interface Faults {
  blackhole: boolean;
  latencyMs: number;
  /** Per direction of each connection; `Infinity` when off. */
  bytesPerSecond: number;
  /** Bytes a new connection may forward before it is reset; `Infinity` when off. */
  cutAfterBytes: number;
}

/** Bytes held for one direction before the proxy stops reading from the sender. */
const HIGH_WATER = 256 * 1024;
/** A throttled direction forwards one slice per this many milliseconds of budget. */
const THROTTLE_SLICE_MS = 20;

/** A chunk on its way; `data: null` is the end of the stream (a FIN). */
interface Chunk {
  data: Buffer | null;
  /** When it may be forwarded, on `performance.now()`. */
  due: number;
}

/** Closes a socket with a TCP RST (or plainly, while it is still connecting). */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/** One direction of one connection: a queue of chunks released by latency, throttle and black-hole. */
class Pipe {
  readonly #queue: Chunk[] = [];
  #queued = 0;
  #lastDue = 0;
  #nextFree = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #awaitingDrain = false;
  /** Set once the sender's end of stream was received. */
  sawEnd = false;

  constructor(
    private readonly link: Link,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly toReady: () => boolean,
  ) {}

  push(data: Buffer | null): void {
    if (data === null) this.sawEnd = true;
    const due = Math.max(performance.now() + this.link.faults.latencyMs, this.#lastDue);
    this.#lastDue = due;
    this.#queue.push({ data, due });
    this.#queued += data?.length ?? 0;
    this.pump();
  }

  /** Forwards whatever may be forwarded now, and schedules the rest. */
  pump(): void {
    this.#clearTimer();
    const { link } = this;
    const { faults } = link;
    for (;;) {
      if (link.finished || faults.blackhole || this.#awaitingDrain || !this.toReady()) break;
      const head = this.#queue[0];
      if (!head) break;
      const now = performance.now();
      const rate = faults.bytesPerSecond;
      const throttled = Number.isFinite(rate);
      const wait = Math.max(head.due - now, throttled ? this.#nextFree - now : 0);
      if (wait > 0) {
        this.#timer = setTimeout(() => this.pump(), Math.ceil(wait));
        break;
      }
      if (head.data === null) {
        this.#queue.shift();
        this.to.end();
        break;
      }
      let n = head.data.length;
      if (throttled) n = Math.min(n, Math.max(1, Math.floor((rate * THROTTLE_SLICE_MS) / 1000)));
      n = Math.min(n, link.budget);
      if (n <= 0) {
        link.reset();
        return;
      }
      const slice = head.data.subarray(0, n);
      if (n === head.data.length) this.#queue.shift();
      else head.data = head.data.subarray(n);
      this.#queued -= n;
      link.budget -= n;
      if (throttled) this.#nextFree = Math.max(now, this.#nextFree) + (n * 1000) / rate;
      if (link.budget <= 0) {
        // The last byte allowed: reset once it has been handed to the kernel.
        link.finishing = true;
        this.to.write(slice, () => link.reset());
        return;
      }
      if (!this.to.write(slice)) {
        this.#awaitingDrain = true;
        this.to.once('drain', () => {
          this.#awaitingDrain = false;
          this.pump();
        });
        break;
      }
    }
    this.#flow();
  }

  /** Stops reading from the sender while too much is held, and reads again once it drained. */
  #flow(): void {
    if (this.from.destroyed || this.link.finished) return;
    if (this.#queued >= HIGH_WATER || this.#awaitingDrain) this.from.pause();
    else this.from.resume();
  }

  /** Drops everything held and cancels the timer. */
  stop(): void {
    this.#clearTimer();
    this.#queue.length = 0;
    this.#queued = 0;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** One proxied connection: the client's socket, the socket to the target, and a pipe each way. */
class Link {
  /** Bytes this connection may still forward, both directions together. */
  budget: number;
  /** Set when the link stopped forwarding (reset, ended by `closeAll`, or destroyed). */
  #done = false;
  /** Set while the last byte before a `cutAfterBytes` reset is being written. */
  finishing = false;
  #upstreamReady = false;
  readonly #up: Pipe;
  readonly #down: Pipe;
  /** Resolves once both sockets have closed. */
  readonly closed: Promise<void>;

  constructor(
    readonly faults: Faults,
    private readonly client: Socket,
    private readonly upstream: Socket,
  ) {
    this.budget = faults.cutAfterBytes;
    this.#up = new Pipe(this, client, upstream, () => this.#upstreamReady);
    this.#down = new Pipe(this, upstream, client, () => true);
    const closes = [client, upstream].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    // Once both sockets are gone nothing may stay scheduled.
    this.closed = Promise.all(closes).then(() => void this.#stop());

    for (const [socket, pipe] of [
      [client, this.#up],
      [upstream, this.#down],
    ] as const) {
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => {
        if (!this.finished) pipe.push(chunk);
      });
      socket.on('end', () => {
        if (!this.finished) pipe.push(null);
      });
      // Any error on either side (ECONNRESET, ECONNREFUSED, EPIPE…) becomes a reset of both.
      socket.on('error', () => this.reset());
      socket.on('close', () => {
        // A socket that went away without an end of stream takes its peer with it.
        if (!pipe.sawEnd) this.reset();
      });
    }
    upstream.once('connect', () => {
      this.#upstreamReady = true;
      this.#up.pump();
    });
  }

  /** True once the link no longer forwards anything. */
  get finished(): boolean {
    return this.#done || this.finishing;
  }

  /** True while the link forwards (or holds) bytes. */
  get live(): boolean {
    return !this.#done;
  }

  /** Forwards what the current faults allow (after a fault was turned off). */
  pump(): void {
    this.#up.pump();
    this.#down.pump();
  }

  /** Drops both sides abruptly with a TCP RST. */
  reset(): void {
    if (!this.#stop()) return;
    reset(this.client);
    reset(this.upstream);
  }

  /** Ends both sides cleanly (FIN); whatever the peers still send is read and dropped. */
  end(): void {
    if (!this.#stop()) return;
    for (const socket of [this.client, this.upstream]) {
      if (socket.destroyed) continue;
      if (socket.connecting) socket.destroy();
      else socket.end();
      socket.resume();
    }
  }

  /** Closes both sockets at once. */
  destroy(): void {
    this.#stop();
    this.client.destroy();
    this.upstream.destroy();
  }

  #stop(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#up.stop();
    this.#down.stop();
    return true;
  }
}

/**
 * A TCP proxy on loopback that sits between a client and a server and injects faults on cue.
 * Point the client at {@link FaultProxy.url} instead of the server. Every fault applies to the
 * connections already open and to the ones still to come, until it is turned off.
 *
 * Always {@link FaultProxy.close} it (or `await using` it): that closes the listener and every
 * connection, and cancels every timer, leaving no handle behind.
 *
 * @example
 * const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port } });
 * const client = CircleWsClient.builder(proxy.url('ws', `/${circle}`)).withKeypair(key).build();
 * await client.connect();
 * proxy.cut(); // the client sees an abrupt drop (close 1006) and reconnects
 * proxy.refuse(); // …and its attempts fail until `proxy.refuse(false)`
 * await proxy.close();
 */
export class FaultProxy implements AsyncDisposableLike {
  readonly #server: Server;
  readonly #host: string;
  #target: FaultProxyTarget;
  readonly #links = new Set<Link>();
  readonly #faults: Faults = { blackhole: false, latencyMs: 0, bytesPerSecond: Infinity, cutAfterBytes: Infinity };
  #refusing = false;
  #accepted = 0;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, host: string, target: FaultProxyTarget) {
    this.#server = server;
    this.#host = host;
    this.#target = { ...target };
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', () => {}); // accept errors (EMFILE…) must not crash the test run
  }

  /**
   * Starts a proxy listening on `host:port` (`127.0.0.1` and a free port by default) and
   * forwarding to `target`.
   * @example const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: 8080 } });
   */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    FaultProxy.#checkTarget(options.target);
    const host = options.host ?? '127.0.0.1';
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FaultProxy(server, host, options.target);
  }

  /** The port the proxy listens on. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy is not listening');
    return address.port;
  }

  /** The address the proxy listens on. */
  get host(): string {
    return this.#host;
  }

  /** Where new connections are forwarded to. */
  get target(): FaultProxyTarget {
    return { ...this.#target };
  }

  /** The number of proxied connections that are open and forwarding (or holding) bytes. */
  get connections(): number {
    let n = 0;
    for (const link of this.#links) if (link.live) n += 1;
    return n;
  }

  /** Every connection accepted so far, refused ones included: the number of connection attempts. */
  get accepted(): number {
    return this.#accepted;
  }

  /**
   * The URL of the proxy with a scheme and a path.
   * @example proxy.url('ws', '/circle') // 'ws://127.0.0.1:40123/circle'
   */
  url(scheme = 'ws', path = '/'): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `${scheme}://${host}:${this.port}${path.startsWith('/') ? path : `/${path}`}`;
  }

  /**
   * Resets every open connection (TCP RST on both sides): an abrupt drop, which a WebSocket
   * sees as close code 1006. Returns how many connections were cut.
   */
  cut(): number {
    return this.#each((link) => link.reset());
  }

  /**
   * Ends every open connection cleanly (FIN both ways) and drops whatever was still held. The
   * sockets see a plain end of stream, no error; a WebSocket that got no close frame still
   * reports 1006. Returns how many connections were closed.
   */
  closeAll(): number {
    return this.#each((link) => link.end());
  }

  /**
   * Turns the link into a black hole (or back): nothing is forwarded in either direction, and
   * nothing is closed, like a network that went silent under a half-open TCP connection. Bytes
   * are **held**, not dropped: when it is turned off they are delivered, in order, as TCP
   * retransmission would after a partition healed. Past 256 KiB held in one direction the proxy
   * stops reading that sender, so its own buffers fill up. New connections are accepted and
   * connected to the target, but their bytes are held too.
   */
  blackhole(on = true): void {
    this.#faults.blackhole = on;
    if (!on) this.#pumpAll();
  }

  /**
   * Delays every chunk by `ms` in each direction (a round trip takes at least `2 * ms` more),
   * keeping the order of bytes. `0` turns it off; chunks already on their way keep their delay.
   */
  latency(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new InvalidArgumentError(`latency must be a finite number ≥ 0, got ${ms}`);
    this.#faults.latencyMs = ms;
  }

  /**
   * Limits each direction of each connection to `bytesPerSecond`, keeping the order of bytes.
   * `0` or `Infinity` turns it off.
   */
  throttle(bytesPerSecond: number): void {
    if (!(bytesPerSecond >= 0)) throw new InvalidArgumentError(`throttle must be ≥ 0 bytes per second, got ${bytesPerSecond}`);
    this.#faults.bytesPerSecond = bytesPerSecond === 0 ? Infinity : bytesPerSecond;
    this.#pumpAll();
  }

  /**
   * Resets each connection (TCP RST on both sides) once `n` bytes have been forwarded through
   * it, **both directions counted together**: exactly `n` bytes get through, then the reset.
   * Open connections count from this call, new ones from their start (a WebSocket handshake is
   * a few hundred bytes). The proxy keeps accepting. `Infinity` turns it off.
   */
  cutAfterBytes(n: number): void {
    if (!(n >= 0)) throw new InvalidArgumentError(`cutAfterBytes needs a byte count ≥ 0, got ${n}`);
    this.#faults.cutAfterBytes = n;
    for (const link of this.#links) link.budget = n;
    this.#pumpAll();
  }

  /**
   * Refuses new connections (or accepts them again): each is accepted and reset at once, so the
   * client's connect fails (a WebSocket sees an error and close 1006) and the target never sees
   * it. The listener stays open, so the port stays reserved. Open connections are not touched.
   */
  refuse(on = true): void {
    this.#refusing = on;
  }

  /** Forwards new connections to another target (a server restarted on another port); open ones stay where they are. */
  setTarget(target: FaultProxyTarget): void {
    FaultProxy.#checkTarget(target);
    this.#target = { ...target };
  }

  /**
   * Closes the listener and every connection, cancels every timer, and resolves once every
   * socket has closed. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const listening = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const links = [...this.#links];
      for (const link of links) link.destroy();
      await Promise.all([listening, ...links.map((link) => link.closed)]);
    })();
    return this.#closing;
  }

  /** `await using proxy = …` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #accept(client: Socket): void {
    this.#accepted += 1;
    client.on('error', () => {});
    if (this.#refusing || this.#closing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: this.#target.host, port: this.#target.port, allowHalfOpen: true });
    const link = new Link(this.#faults, client, upstream);
    this.#links.add(link);
    void link.closed.then(() => this.#links.delete(link));
  }

  #each(action: (link: Link) => void): number {
    let n = 0;
    for (const link of [...this.#links]) {
      if (!link.live) continue;
      action(link);
      n += 1;
    }
    return n;
  }

  #pumpAll(): void {
    for (const link of this.#links) link.pump();
  }

  static #checkTarget(target: FaultProxyTarget): void {
    if (typeof target?.host !== 'string' || !Number.isInteger(target.port) || target.port <= 0 || target.port > 65535) {
      throw new InvalidArgumentError(`the proxy target needs a host and a port from 1 to 65535, got ${JSON.stringify(target)}`);
    }
  }
}
