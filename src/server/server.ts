/**
 * The reference Circle server's transport: HTTP upgrade with circle routing, WebSocket frames,
 * close codes, liveness and shutdown (protocol sections 1, 6 and 7). Each connection's JSON-RPC
 * work is delegated to a {@link Session}.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer, type RawData, type ServerOptions } from 'ws';
import { InvalidArgumentError } from '../errors.js';
import { circleFromPath, isCircleKey } from './circles.js';
import { TokenBucket } from './limits.js';
import { resolveOptions, RETRY_AFTER_SECONDS, type CircleServerOptions } from './options.js';
import { shortKey } from './redact.js';
import { Session } from './session.js';

/** A running reference server. */
export interface CircleServer {
  /** `ws://host:port`, without a circle path. */
  readonly url: string;
  readonly host: string;
  /** The port actually bound (useful with `port: 0`). */
  readonly port: number;
  /**
   * The URL of one circle: `ws://host:port/<key>`. Throws `InvalidArgumentError` for a key that
   * is not a well-formed public key; does not check that the server serves it.
   */
  urlFor(circlePk: string): string;
  /** Closes every client with 1001 and resolves once they are closed and the port is released. */
  close(): Promise<void>;
  /** How many WebSocket connections are open. */
  readonly connections: number;
}

/**
 * WebSocket close codes the server sends (protocol section 7). 1008 says "do not come back the
 * same way" (refused credentials, a run of malformed frames, no authentication by the deadline);
 * 1013 says "you are sending or leaving unread more than the server will hold; come back later"
 * (rate limit, output backlog), which clients answer with a reconnect after backoff.
 */
const CLOSE = { goingAway: 1001, unsupportedData: 1003, policyViolation: 1008, messageTooBig: 1009, tryAgainLater: 1013 } as const;

/** How long a client gets to answer our close frame during `close()` before it is cut. */
const CLOSE_GRACE_MS = 2_000;

interface Client {
  readonly id: string;
  readonly ws: WebSocket;
  readonly session: Session;
  /** Last inbound sign of life (any frame, pong or ping), on the monotonic clock. */
  lastSeen: number;
  /** When the heartbeat first saw part of a message waiting for the rest (reset by each complete message). */
  unfinishedSince: number | null;
  /** Closes the connection for a policy reason (see `closeFor` in `accept`). */
  closeFor(code: number, reason: string): void;
  readonly closed: Promise<void>;
}

/**
 * Lowers or raises the frame limit of an open connection. `ws` fixes `maxPayload` per server, so
 * this reaches into its receiver (checked on every frame header, fragments counted together);
 * returns false if that internal is missing, and the caller then checks each message instead.
 */
function setFrameLimit(ws: WebSocket, bytes: number): boolean {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: unknown } })._receiver;
  if (receiver === undefined || typeof receiver._maxPayload !== 'number') return false;
  receiver._maxPayload = bytes;
  return true;
}

/**
 * Makes ws hand over the frames it has already buffered in one go instead of one per event-loop
 * turn: after a policy close they are only dropped, and the connection is released once they
 * are gone. Same internal as {@link setFrameLimit}; without it the drain is merely slower.
 */
function drainSynchronously(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: { _allowSynchronousEvents?: unknown } })._receiver;
  if (receiver !== undefined && typeof receiver._allowSynchronousEvents === 'boolean') receiver._allowSynchronousEvents = true;
}

/**
 * Whether ws holds part of a message: fragments without the final one, or a frame whose header
 * announced more bytes than have arrived. Same internals as {@link setFrameLimit}; false if absent.
 */
function hasUnfinishedMessage(ws: WebSocket): boolean {
  const receiver = (ws as unknown as { _receiver?: { _fragments?: unknown; _bufferedBytes?: unknown } })._receiver;
  if (receiver === undefined) return false;
  const fragments = Array.isArray(receiver._fragments) ? receiver._fragments.length : 0;
  const buffered = typeof receiver._bufferedBytes === 'number' ? receiver._bufferedBytes : 0;
  return fragments > 0 || buffered > 0;
}

function rawLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Answers an upgrade request with a plain HTTP error so the client sees the status. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string, extraHeaders = ''): void {
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n${extraHeaders}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/**
 * Starts the reference Circle WebSocket JSON-RPC server and resolves once it listens.
 * Throws `InvalidArgumentError` for bad options; rejects if the port cannot be bound.
 *
 * @example
 * const server = await createCircleServer({ port: 0 });
 * const { publicKeyCompressed } = generateKeypair();
 * const ws = new WebSocket(server.urlFor(publicKeyCompressed));
 * // … fetch_nonce, authenticate, play …
 * await server.close();
 *
 * @example
 * // Authentication off, a custom script runner, v1 result shapes:
 * const server = await createCircleServer({ auth: false, compat: 'v1', play: async (s) => s.toUpperCase() });
 */
export async function createCircleServer(options: CircleServerOptions = {}): Promise<CircleServer> {
  const opts = resolveOptions(options);
  const { logger } = opts;
  const clients = new Set<Client>();
  let nextId = 0;
  let closing: Promise<void> | null = null;

  // Plain TCP connections that never finish their request headers are cut after 10 s.
  const http = createServer({ headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 2_000 }, (_req, res) => {
    // Plain HTTP requests are not part of the protocol; say how to talk to us instead.
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'Upgrade', Upgrade: 'websocket' });
    res.end('This is a Circle WebSocket server: connect with ws://HOST:PORT/CIRCLE_PK\n');
  });
  // Sockets beyond the WebSocket cap: room for upgrades in progress and 503 answers being written.
  http.maxConnections = opts.maxConnections + 64;
  const wsOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    // ws enforces maxPayload itself and closes with 1009, as protocol section 7 asks.
    maxPayload: opts.maxFrameBytes,
    clientTracking: false,
    // One message per connection per event-loop turn: a peer that floods frames waits its turn
    // behind everyone else instead of being served a whole socket read (~1,000 frames) at once,
    // and each reply is written before the connection's next frame is read.
    allowSynchronousEvents: false,
    // A peer that does not answer our close frame is cut after the grace period, not ws's 30 s.
    closeTimeout: CLOSE_GRACE_MS,
  };
  const wss = new WebSocketServer(wsOptions);

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A peer resetting mid-handshake must not crash the server.
    socket.on('error', (err) => logger.debug('upgrade socket error', { error: err.message }));
    if (closing) {
      refuseUpgrade(socket, 503, 'Service Unavailable', 'the server is shutting down\n');
      return;
    }
    if (clients.size >= opts.maxConnections) {
      logger.warn('upgrade refused: connection cap reached', { status: 503, maxConnections: opts.maxConnections });
      refuseUpgrade(socket, 503, 'Service Unavailable', 'too many connections, try again later\n', `Retry-After: ${RETRY_AFTER_SECONDS}\r\n`);
      return;
    }
    const circle = circleFromPath(req.url, opts.circles);
    if (circle === null) {
      logger.info('upgrade refused: unknown circle', { status: 404, path: shortKey(req.url ?? '') });
      refuseUpgrade(socket, 404, 'Not Found', 'unknown circle: the path must be /CIRCLE_PK of a circle this server serves\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, circle, req, socket));
  });

  function accept(ws: WebSocket, circle: string, req: IncomingMessage, socket: Duplex): void {
    const id = `c${++nextId}`;
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    // With authentication off every connection is admitted from the start.
    let admitted = !opts.auth;
    let frameLimit = admitted ? opts.maxFrameBytes : opts.maxFrameBytesBeforeAuth;
    const limitOnWire = setFrameLimit(ws, frameLimit);
    const beforeAuthRate = opts.maxRequestsPerSecondBeforeAuth;
    const bucket = admitted
      ? new TokenBucket(opts.maxRequestsPerSecond, opts.requestBurst, () => performance.now())
      : new TokenBucket(beforeAuthRate, 2 * beforeAuthRate, () => performance.now());
    let malformedRun = 0;
    // Reading pauses while the unsent output is over this mark and resumes once it drains.
    const pauseAbove = Math.floor(opts.maxBufferedBytes / 4);

    /**
     * Closes for a policy reason without waiting for the peer's part of the close handshake: the
     * close frame is flushed, then our side of the TCP connection is ended, so the peer learns the
     * code at once. For abuse (`stopReading`), reading stops too: the peer may have megabytes of
     * frames queued before its answer, and each would be read and decoded only to be dropped; ws
     * cuts the socket after the grace period instead.
     */
    const closeFor = (code: number, reason: string, fields: Record<string, unknown> = {}, stopReading = true): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      logger.warn(`closing with ${code}: ${reason}`, { conn: id, ...fields });
      ws.close(code, reason);
      socket.end();
      if (stopReading) {
        ws.pause();
        drainSynchronously(ws);
      }
    };

    const handshakeTimer =
      !admitted && opts.handshakeTimeoutMs > 0
        ? setTimeout(() => closeFor(CLOSE.policyViolation, 'not authenticated in time', {}, false), opts.handshakeTimeoutMs)
        : undefined;

    const onDrain = (): void => {
      if (ws.readyState === WebSocket.OPEN && ws.isPaused && ws.bufferedAmount <= pauseAbove) ws.resume();
    };

    const session = new Session(
      {
        id,
        circle,
        send(message) {
          if (ws.readyState !== WebSocket.OPEN) return;
          if (ws.bufferedAmount > opts.maxBufferedBytes) {
            closeFor(CLOSE.tryAgainLater, 'too much unread output', { buffered: ws.bufferedAmount });
            return;
          }
          ws.send(JSON.stringify(message));
          if (!ws.isPaused && ws.bufferedAmount > pauseAbove) {
            // The peer reads slower than it asks: stop reading until our output drains.
            logger.debug('output backlog, pausing reads', { conn: id, buffered: ws.bufferedAmount });
            ws.pause();
            socket.once('drain', onDrain);
          }
        },
        lockOut() {
          ws.close(CLOSE.policyViolation, 'too many failed authentications');
        },
        checked(wellFormed) {
          if (wellFormed) {
            malformedRun = 0;
            return;
          }
          if (++malformedRun >= opts.maxMalformedFrames) closeFor(CLOSE.policyViolation, 'too many malformed frames', { run: malformedRun });
        },
        authenticated() {
          if (admitted) return;
          admitted = true;
          clearTimeout(handshakeTimer);
          bucket.reconfigure(opts.maxRequestsPerSecond, opts.requestBurst);
          frameLimit = opts.maxFrameBytes;
          setFrameLimit(ws, frameLimit);
        },
      },
      opts,
    );
    const client: Client = { id, ws, session, lastSeen: performance.now(), closed, unfinishedSince: null, closeFor };
    clients.add(client);
    logger.info('connection opened', { conn: id, circle: shortKey(circle), remote: req.socket.remoteAddress });

    const alive = (): void => {
      client.lastSeen = performance.now();
    };
    ws.on('pong', alive);
    ws.on('ping', () => {
      alive();
      // ws has already answered with a pong: a ping flood costs output too.
      if (!bucket.take()) closeFor(CLOSE.tryAgainLater, 'rate limit exceeded (pings)', { admitted });
    });
    ws.on('message', (data, isBinary) => {
      alive();
      client.unfinishedSince = null;
      // Frames that arrive after we started closing are not answered.
      if (ws.readyState !== WebSocket.OPEN) return;
      if (!bucket.take()) {
        closeFor(CLOSE.tryAgainLater, 'rate limit exceeded', { admitted });
        return;
      }
      if (!limitOnWire && rawLength(data) > frameLimit) {
        closeFor(CLOSE.messageTooBig, 'frame too large', { bytes: rawLength(data), limit: frameLimit });
        return;
      }
      if (isBinary) {
        logger.info('binary frame, closing with 1003', { conn: id });
        ws.close(CLOSE.unsupportedData, 'binary frames are not supported');
        return;
      }
      void session.receive(rawToText(data));
    });
    ws.on('error', (err) => logger.warn('connection error', { conn: id, error: err.message }));
    ws.on('close', (code, reason) => {
      clearTimeout(handshakeTimer);
      socket.off('drain', onDrain);
      clients.delete(client);
      session.dispose();
      logger.info('connection closed', { conn: id, code, reason: reason.toString('utf8').slice(0, 64) });
      markClosed();
    });

    // An upgrade that was already under way when close() started.
    if (closing) ws.close(CLOSE.goingAway, 'server shutting down');
  }

  let heartbeat: NodeJS.Timeout | undefined;
  if (opts.pingIntervalMs > 0) {
    const interval = opts.pingIntervalMs;
    heartbeat = setInterval(() => {
      const now = performance.now();
      for (const client of clients) {
        if (client.ws.readyState !== WebSocket.OPEN) continue;
        if (now - client.lastSeen >= 2 * interval) {
          // A silent peer cannot take part in a close handshake; cut the TCP connection.
          logger.info('client silent for two ping intervals, dropping it', { conn: client.id });
          client.ws.terminate();
          continue;
        }
        if (!hasUnfinishedMessage(client.ws)) {
          client.unfinishedSince = null;
        } else if (client.unfinishedSince === null) {
          client.unfinishedSince = now;
        } else if (now - client.unfinishedSince >= 2 * interval) {
          // A peer that answers pings can otherwise hold up to maxFrameBytes of a message forever.
          client.closeFor(CLOSE.policyViolation, 'message left unfinished');
          continue;
        }
        client.ws.ping();
      }
    }, interval);
    // The listening socket keeps the process alive; the heartbeat alone should not.
    heartbeat.unref();
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    http.once('error', onError);
    http.listen(opts.port, opts.host, () => {
      http.off('error', onError);
      resolve();
    });
  }).catch((err: unknown) => {
    clearInterval(heartbeat);
    throw err;
  });
  http.on('error', (err) => logger.error('server error', { error: err.message }));

  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
  const port = address.port;
  const url = `ws://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info('listening', { url, compat: opts.compat, auth: opts.auth });

  async function closeClient(client: Client): Promise<void> {
    client.ws.close(CLOSE.goingAway, 'server shutting down');
    const grace = setTimeout(() => client.ws.terminate(), CLOSE_GRACE_MS);
    await client.closed;
    clearTimeout(grace);
  }

  async function shutdown(): Promise<void> {
    clearInterval(heartbeat);
    const released = new Promise<void>((resolve) => http.close(() => resolve()));
    await Promise.all([...clients].map(closeClient));
    // Idle keep-alive HTTP connections would otherwise hold the port.
    http.closeAllConnections();
    await released;
    logger.info('closed', { url });
  }

  return {
    url,
    host: opts.host,
    port,
    urlFor(circlePk: string): string {
      const key = typeof circlePk === 'string' ? circlePk.replace(/^0x/i, '') : circlePk;
      if (!isCircleKey(key)) {
        throw new InvalidArgumentError('urlFor: circlePk must be a secp256k1 public key in hex (66 or 130 characters)');
      }
      return `${url}/${key.toLowerCase()}`;
    },
    close(): Promise<void> {
      closing ??= shutdown();
      return closing;
    },
    get connections(): number {
      return clients.size;
    },
  };
}
