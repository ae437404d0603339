/**
 * Shared by the fault-injection suite: a scriptable Circle server on a real socket, a check that
 * nothing of the client is left running, and a check that every call settled.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { CircleWsError, verifySignature } from '../../src/index.js';

export interface ScriptedServerOptions {
  port?: number;
  /** Runs on each new connection; return false to skip the normal protocol (the hook took over). */
  onConnection?: (socket: WebSocket, index: number) => boolean | void;
  /** Called for each request after the handshake methods; return undefined to answer `{ output: "ok" }`. */
  onRequest?: (request: { id: unknown; method: string; params: Record<string, unknown> }, socket: WebSocket) => unknown;
}

/**
 * A small Circle server for fault tests: the handshake (fetch_nonce, authenticate with real
 * signature checks), whoami, play; and hooks to misbehave on purpose.
 */
export class ScriptedServer {
  readonly wss: WebSocketServer;
  /** When each connection arrived (Date.now()). */
  readonly connectedAt: number[] = [];
  readonly nonces: string[] = [];
  constructor(wss: WebSocketServer) {
    this.wss = wss;
  }

  static async start(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0, maxPayload: 64 * 1024 * 1024 });
    await once(wss, 'listening');
    const server = new ScriptedServer(wss);
    wss.on('connection', (socket) => {
      const index = server.connectedAt.push(Date.now()) - 1;
      socket.on('error', () => {});
      if (options.onConnection?.(socket, index) === false) return;
      let nonce: string | null = null;
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        const request = JSON.parse(data.toString()) as { id: unknown; method: string; params: Record<string, unknown> };
        const reply = (result: unknown) => socket.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result }));
        if (request.method === 'fetch_nonce') {
          nonce = `nonce-${index}-${Math.random().toString(16).slice(2)}`;
          server.nonces.push(nonce);
          reply(nonce);
        } else if (request.method === 'authenticate') {
          const ok = nonce !== null && verifySignature(nonce, String(request.params.signature), String(request.params.pubkey));
          nonce = null;
          reply(ok);
        } else if (request.method === 'whoami') {
          reply({ authenticated: true, pubkey: null, circle: 'test' });
        } else {
          const answer = options.onRequest?.(request, socket);
          if (answer !== null) reply(answer ?? { output: 'ok' });
        }
      });
    });
    return server;
  }

  get port(): number {
    return (this.wss.address() as AddressInfo).port;
  }

  url(path = '02aa'): string {
    return `ws://127.0.0.1:${this.port}/${path}`;
  }

  /** Sends a frame to every client. */
  broadcast(frame: string | Buffer, binary = false): void {
    for (const client of this.wss.clients) if (client.readyState === WebSocket.OPEN) client.send(frame, { binary });
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** Counts of the handle kinds a client could leak. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * Records the handles open now; `check()` (after the client disconnected and the servers
 * closed) fails if sockets or timers remain beyond that baseline.
 */
export function leakCheck(): { check: () => Promise<void> } {
  const before = handles();
  return {
    async check() {
      // Closed sockets release their handles on a later turn of the event loop.
      for (let i = 0; i < 50; i++) {
        const now = handles();
        const extra = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout'].filter((k) => (now[k] ?? 0) > (before[k] ?? 0));
        if (extra.length === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      const now = handles();
      expect({ TCPSocketWrap: now.TCPSocketWrap ?? 0, TCPServerWrap: now.TCPServerWrap ?? 0, Timeout: now.Timeout ?? 0 }).toEqual({
        TCPSocketWrap: before.TCPSocketWrap ?? 0,
        TCPServerWrap: before.TCPServerWrap ?? 0,
        Timeout: before.Timeout ?? 0,
      });
    },
  };
}

export type Settled = { ok: true; value: unknown; at: number } | { ok: false; error: unknown; at: number };

/** Wraps a call so the test can see how and when it settled (and nothing is left unhandled). */
export function settle(promise: Promise<unknown>): Promise<Settled> {
  return promise.then(
    (value) => ({ ok: true as const, value, at: Date.now() }),
    (error: unknown) => ({ ok: false as const, error, at: Date.now() }),
  );
}

/** Every result is a value or a typed CircleWsError: nothing untyped, nothing left hanging. */
export function expectAllTyped(results: Settled[]): void {
  for (const r of results) if (!r.ok) expect(r.error).toBeInstanceOf(CircleWsError);
}
