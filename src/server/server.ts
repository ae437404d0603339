/**
 * The reference Circle server's transport: HTTP upgrade with circle routing, WebSocket frames,
 * close codes, liveness and shutdown (protocol sections 1, 6 and 7). Each connection's JSON-RPC
 * work is delegated to a {@link Session}.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { InvalidArgumentError } from '../errors.js';
import { circleFromPath, isCircleKey } from './circles.js';
import { resolveOptions, type CircleServerOptions } from './options.js';
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

/** WebSocket close codes the server sends (protocol section 7). */
const CLOSE = { goingAway: 1001, unsupportedData: 1003, policyViolation: 1008 } as const;

/** How long a client gets to answer our close frame during `close()` before it is cut. */
const CLOSE_GRACE_MS = 2_000;

interface Client {
  readonly id: string;
  readonly ws: WebSocket;
  readonly session: Session;
  /** Last inbound sign of life (any frame, pong or ping), on the monotonic clock. */
  lastSeen: number;
  readonly closed: Promise<void>;
}

function rawToText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Answers an upgrade request with a plain HTTP error so the client sees the status. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, body: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
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

  const http = createServer((_req, res) => {
    // Plain HTTP requests are not part of the protocol; say how to talk to us instead.
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'Upgrade', Upgrade: 'websocket' });
    res.end('This is a Circle WebSocket server: connect with ws://HOST:PORT/CIRCLE_PK\n');
  });
  // ws enforces maxPayload itself and closes with 1009, as protocol section 7 asks.
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxFrameBytes, clientTracking: false });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A peer resetting mid-handshake must not crash the server.
    socket.on('error', (err) => logger.debug('upgrade socket error', { error: err.message }));
    if (closing) {
      refuseUpgrade(socket, 503, 'Service Unavailable', 'the server is shutting down\n');
      return;
    }
    const circle = circleFromPath(req.url, opts.circles);
    if (circle === null) {
      logger.info('upgrade refused: unknown circle', { status: 404, path: shortKey(req.url ?? '') });
      refuseUpgrade(socket, 404, 'Not Found', 'unknown circle: the path must be /CIRCLE_PK of a circle this server serves\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, circle, req));
  });

  function accept(ws: WebSocket, circle: string, req: IncomingMessage): void {
    const id = `c${++nextId}`;
    let markClosed!: () => void;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const session = new Session(
      {
        id,
        circle,
        send(message) {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
        },
        lockOut() {
          ws.close(CLOSE.policyViolation, 'too many failed authentications');
        },
      },
      opts,
    );
    const client: Client = { id, ws, session, lastSeen: performance.now(), closed };
    clients.add(client);
    logger.info('connection opened', { conn: id, circle: shortKey(circle), remote: req.socket.remoteAddress });

    const alive = (): void => {
      client.lastSeen = performance.now();
    };
    ws.on('pong', alive);
    ws.on('ping', alive);
    ws.on('message', (data, isBinary) => {
      alive();
      // Frames that arrive after we started closing are not answered.
      if (ws.readyState !== WebSocket.OPEN) return;
      if (isBinary) {
        logger.info('binary frame, closing with 1003', { conn: id });
        ws.close(CLOSE.unsupportedData, 'binary frames are not supported');
        return;
      }
      void session.receive(rawToText(data));
    });
    ws.on('error', (err) => logger.warn('connection error', { conn: id, error: err.message }));
    ws.on('close', (code, reason) => {
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
