/**
 * Test helpers for the reference server: a raw `ws` client that speaks JSON-RPC by hand (so the
 * tests check the wire, not a client library) and bookkeeping so every server and socket opened
 * by a test is closed in `afterEach`.
 */
import { WebSocket, type ClientOptions } from 'ws';
import { generateKeypair, signNonce, type KeyPair } from '../../src/auth/crypto.js';
import { createCircleServer, type CircleServer, type CircleServerOptions } from '../../src/server/index.js';

const servers = new Set<CircleServer>();
const sockets = new Set<WebSocket>();

/** Closes everything the test opened. Register with `afterEach(cleanup)`. */
export async function cleanup(): Promise<void> {
  for (const ws of sockets) ws.terminate();
  sockets.clear();
  await Promise.all([...servers].map((server) => server.close()));
  servers.clear();
}

export async function startServer(options: CircleServerOptions = {}): Promise<CircleServer> {
  const server = await createCircleServer({ host: '127.0.0.1', port: 0, ...options });
  servers.add(server);
  return server;
}

/** A fixed circle key for tests that do not care which circle they talk to. */
export const CIRCLE: KeyPair = generateKeypair();

export interface CloseInfo {
  code: number;
  reason: string;
}

export type Reply = {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

export class RawClient {
  private readonly inbox: unknown[] = [];
  private waiters: ((message: unknown) => void)[] = [];
  private nextId = 0;
  readonly closed: Promise<CloseInfo>;
  readonly pings: number[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const message: unknown = isBinary ? data : JSON.parse(String(data));
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.inbox.push(message);
    });
    ws.on('ping', () => this.pings.push(Date.now()));
    // Errors (such as a server reset) surface through `closed`.
    ws.on('error', () => {});
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  /** The next message from the server, in arrival order. */
  next(): Promise<unknown> {
    if (this.inbox.length > 0) return Promise.resolve(this.inbox.shift());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Sends one request and resolves with its reply (replies arrive in order for these tests). */
  async call(method: string, params: unknown = {}): Promise<Reply> {
    const id = `r${++this.nextId}`;
    this.send({ jsonrpc: '2.0', id, method, params });
    const reply = (await this.next()) as Reply;
    if (reply.id !== id) throw new Error(`expected the reply to ${id}, got ${JSON.stringify(reply)}`);
    return reply;
  }

  /** Calls and returns the result, failing the test on an error reply. */
  async result(method: string, params: unknown = {}): Promise<unknown> {
    const reply = await this.call(method, params);
    if (reply.error) throw new Error(`${method} failed: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }
}

/** Opens a raw connection and waits until it is open. */
export async function connect(url: string, options?: ClientOptions): Promise<RawClient> {
  const ws = new WebSocket(url, options);
  sockets.add(ws);
  const client = new RawClient(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  return client;
}

/** Resolves with the HTTP status of a refused upgrade. */
export function upgradeStatus(url: string): Promise<number> {
  const ws = new WebSocket(url);
  sockets.add(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** fetch_nonce + sign + authenticate; resolves with the authenticate reply. */
export async function authenticate(client: RawClient, keys: KeyPair, pubkey = keys.publicKey): Promise<Reply> {
  const nonce = (await client.result('fetch_nonce', { pubkey })) as string;
  return client.call('authenticate', { pubkey, signature: signNonce(keys.privateKey, nonce) });
}
