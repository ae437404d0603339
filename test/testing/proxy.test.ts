import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, connect as tcpConnect, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { FaultProxy } from '../../src/testing/node.js';

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

/** A `ws` echo server on 127.0.0.1 that counts raw TCP connections and the messages it got. */
interface EchoServer {
  port: number;
  /** TCP connections the HTTP server accepted. */
  tcpConnections: number;
  /** Messages received, as text. */
  received: string[];
  wss: WebSocketServer;
}

async function echoServer(tag = ''): Promise<EchoServer> {
  const http: HttpServer = createHttpServer();
  const wss = new WebSocketServer({ server: http });
  const echo: EchoServer = { port: 0, tcpConnections: 0, received: [], wss };
  http.on('connection', () => {
    echo.tcpConnections += 1;
  });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data: RawData, isBinary) => {
      echo.received.push(String(data));
      if (isBinary) ws.send(data, { binary: true });
      else ws.send(tag + String(data));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  echo.port = (http.address() as AddressInfo).port;
  cleanup.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    http.closeAllConnections();
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
  return echo;
}

async function startProxy(port: number): Promise<FaultProxy> {
  const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port } });
  cleanup.push(() => proxy.close());
  return proxy;
}

/** A raw `ws` client that records how it closed. */
function client(url: string): { ws: WebSocket; closed: Promise<number>; errored: () => boolean } {
  const ws = new WebSocket(url);
  let error = false;
  ws.on('error', () => {
    error = true;
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  cleanup.push(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  return { ws, closed, errored: () => error };
}

async function opened(url: string): Promise<ReturnType<typeof client>> {
  const c = client(url);
  await new Promise<void>((resolve, reject) => {
    c.ws.once('open', () => resolve());
    c.ws.once('close', (code) => reject(new Error(`closed with ${code} before opening`)));
  });
  return c;
}

/** The next message, or `null` if none arrives within `ms`. */
function nextMessage(ws: WebSocket, ms = 5_000): Promise<RawData | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      resolve(null);
    }, ms);
    const onMessage = (data: RawData): void => {
      clearTimeout(timer);
      resolve(data);
    };
    ws.once('message', onMessage);
  });
}

/** Settles with how long the promise took, or fails after `ms`. */
async function within<T>(ms: number, promise: Promise<T>): Promise<{ value: T; elapsed: number }> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const value = await Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
  return { value, elapsed: performance.now() - start };
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A raw TCP server that records every byte it receives and can answer through `sockets`. */
async function tcpServer(): Promise<{ port: number; bytes: () => Buffer; sockets: Socket[]; server: TcpServer }> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, bytes: () => Buffer.concat(chunks), sockets, server };
}

/** A raw TCP client through the proxy that records what it receives and how it ended. */
async function tcpClient(port: number): Promise<{ socket: Socket; bytes: () => Buffer; outcome: Promise<'end' | string> }> {
  const chunks: Buffer[] = [];
  const socket = tcpConnect({ host: '127.0.0.1', port });
  cleanup.push(() => socket.destroy());
  const outcome = new Promise<'end' | string>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    socket.on('end', () => resolve('end'));
  });
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, bytes: () => Buffer.concat(chunks), outcome };
}

describe('FaultProxy', () => {
  it('forwards a WebSocket session both ways, and counts connections', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    expect(proxy.url('ws', '/circle')).toBe(`ws://127.0.0.1:${proxy.port}/circle`);
    const a = await opened(proxy.url('ws', '/circle'));
    const b = await opened(proxy.url());
    a.ws.send('hello');
    expect(String(await nextMessage(a.ws))).toBe('hello');
    b.ws.send(Buffer.from([1, 2, 3]));
    expect([...((await nextMessage(b.ws)) as Buffer)]).toEqual([1, 2, 3]);
    expect(proxy.accepted).toBe(2);
    expect(proxy.connections).toBe(2);
    expect(server.tcpConnections).toBe(2);
    a.ws.close(1000);
    expect(await a.closed).toBe(1000); // a clean close goes through the proxy too
    await until(() => proxy.connections === 1);
    expect(proxy.accepted).toBe(2);
  });

  it('cut drops every connection abruptly: close 1006 on both sides', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    const serverSide = new Promise<number>((resolve) => [...server.wss.clients][0]?.once('close', resolve));
    expect(proxy.cut()).toBe(1);
    const { value: code, elapsed } = await within(2_000, c.closed);
    expect(code).toBe(1006);
    expect(elapsed).toBeLessThan(2_000);
    expect(await within(2_000, serverSide).then((r) => r.value)).toBe(1006);
    expect(proxy.connections).toBe(0);
  });

  it('cut sends a TCP reset, closeAll a clean end of stream', async () => {
    const target = await tcpServer();
    const proxy = await startProxy(target.port);
    const reset = await tcpClient(proxy.port);
    await until(() => proxy.connections === 1);
    proxy.cut();
    expect((await within(2_000, reset.outcome)).value).toBe('ECONNRESET');

    const ended = await tcpClient(proxy.port);
    await until(() => proxy.connections === 1 && target.sockets.length === 2);
    const targetEnd = new Promise<void>((resolve) => target.sockets[1]?.once('end', resolve));
    expect(proxy.closeAll()).toBe(1);
    expect((await within(2_000, ended.outcome)).value).toBe('end');
    await within(2_000, targetEnd);
    expect(proxy.connections).toBe(0);
  });

  it('closeAll closes WebSocket connections', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    proxy.closeAll();
    // A FIN without a close frame: ws reports 1006, but no transport error.
    expect((await within(2_000, c.closed)).value).toBe(1006);
    expect(c.errored()).toBe(false);
    await until(() => server.wss.clients.size === 0);
  });

  it('blackhole holds bytes both ways without closing, and delivers them in order once off', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    c.ws.send('before');
    expect(String(await nextMessage(c.ws))).toBe('before');

    proxy.blackhole();
    c.ws.send('during-1');
    c.ws.send('during-2');
    expect(await nextMessage(c.ws, 300)).toBeNull();
    expect(server.received).toEqual(['before']);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    expect(proxy.connections).toBe(1);

    const replies: string[] = [];
    c.ws.on('message', (data) => replies.push(String(data)));
    proxy.blackhole(false);
    await until(() => replies.length === 2);
    expect(replies).toEqual(['during-1', 'during-2']);
    expect(server.received).toEqual(['before', 'during-1', 'during-2']);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('blackhole also holds the server-to-client direction', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    proxy.blackhole();
    [...server.wss.clients][0]?.send('push');
    expect(await nextMessage(c.ws, 300)).toBeNull();
    const later = nextMessage(c.ws);
    proxy.blackhole(false);
    expect(String(await later)).toBe('push');
  });

  it('latency delays each direction, keeping order', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    proxy.latency(200);
    const start = performance.now();
    c.ws.send('ping');
    expect(String(await nextMessage(c.ws))).toBe('ping');
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(4_000);

    const replies: string[] = [];
    c.ws.on('message', (data) => replies.push(String(data)));
    for (let i = 0; i < 5; i += 1) c.ws.send(`m${i}`);
    await until(() => replies.length === 5, 5_000);
    expect(replies).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);

    proxy.latency(0);
    const quick = performance.now();
    c.ws.send('fast');
    expect(String(await nextMessage(c.ws))).toBe('fast');
    expect(performance.now() - quick).toBeLessThan(400);
  });

  it('throttle slows a large message down, intact', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    const payload = Buffer.alloc(64 * 1024, 7);
    payload.writeUInt32BE(0xdeadbeef, payload.length - 4);
    proxy.throttle(128 * 1024); // ~0.5 s each way
    const start = performance.now();
    c.ws.send(payload);
    const echoed = (await nextMessage(c.ws, 10_000)) as Buffer;
    const elapsed = performance.now() - start;
    expect(Buffer.compare(echoed, payload)).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(800);

    proxy.throttle(0);
    const quick = performance.now();
    c.ws.send(payload);
    expect(Buffer.compare((await nextMessage(c.ws)) as Buffer, payload)).toBe(0);
    expect(performance.now() - quick).toBeLessThan(elapsed);
  });

  it('cutAfterBytes counts both directions together, then resets', async () => {
    const target = await tcpServer();
    const proxy = await startProxy(target.port);
    const c = await tcpClient(proxy.port);
    await until(() => target.sockets.length === 1);
    target.sockets[0]?.on('data', (chunk: Buffer) => target.sockets[0]?.write(chunk)); // echo
    proxy.cutAfterBytes(10);
    c.socket.write('abcdef'); // 6 bytes up, then only 4 of the 6 echoed may come back down
    // Counted per direction, 10 would never be reached and nothing would be cut.
    const { value: outcome } = await within(2_000, c.outcome);
    expect(target.bytes().toString()).toBe('abcdef');
    // The 4 bytes are written right before the RST; the client's kernel may deliver them and
    // report an end of stream, or drop them and report the reset.
    expect(['ECONNRESET', 'end']).toContain(outcome);
    expect('abcd'.startsWith(c.bytes().toString())).toBe(true);
    await until(() => proxy.connections === 0);
  });

  it('cutAfterBytes drops a WebSocket mid-message, and keeps accepting', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const c = await opened(proxy.url());
    proxy.cutAfterBytes(100);
    c.ws.send('x'.repeat(1_000));
    expect((await within(2_000, c.closed)).value).toBe(1006);
    expect(server.received).toEqual([]);

    // New connections count from their start: this handshake is longer than 100 bytes.
    const next = client(proxy.url());
    expect((await within(2_000, next.closed)).value).toBe(1006);
    expect(proxy.accepted).toBe(2);

    proxy.cutAfterBytes(Infinity);
    const ok = await opened(proxy.url());
    ok.ws.send('whole');
    expect(String(await nextMessage(ok.ws))).toBe('whole');
  });

  it('refuse fails new connections without reaching the server, on the same port', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    const port = proxy.port;
    const open = await opened(proxy.url());
    proxy.refuse();
    const c = client(proxy.url());
    expect((await within(2_000, c.closed)).value).toBe(1006);
    expect(c.errored()).toBe(true);
    expect(server.tcpConnections).toBe(1);
    expect(proxy.accepted).toBe(2);
    // Open connections are untouched.
    open.ws.send('still here');
    expect(String(await nextMessage(open.ws))).toBe('still here');

    proxy.refuse(false);
    expect(proxy.port).toBe(port);
    const again = await opened(proxy.url());
    again.ws.send('back');
    expect(String(await nextMessage(again.ws))).toBe('back');
    expect(server.tcpConnections).toBe(2);
  });

  it('setTarget sends new connections elsewhere, and an unreachable target drops the client', async () => {
    const first = await echoServer('A:');
    const second = await echoServer('B:');
    const proxy = await startProxy(first.port);
    const a = await opened(proxy.url());
    proxy.setTarget({ host: '127.0.0.1', port: second.port });
    expect(proxy.target).toEqual({ host: '127.0.0.1', port: second.port });
    const b = await opened(proxy.url());
    a.ws.send('x');
    b.ws.send('y');
    expect(String(await nextMessage(a.ws))).toBe('A:x');
    expect(String(await nextMessage(b.ws))).toBe('B:y');

    // A port nobody listens on: the client is closed, not left hanging.
    const free = createTcpServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const deadPort = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    proxy.setTarget({ host: '127.0.0.1', port: deadPort });
    const lost = client(proxy.url());
    expect((await within(2_000, lost.closed)).value).toBe(1006);
    await until(() => proxy.connections === 2);
    expect(proxy.accepted).toBe(3);
  });

  it('rejects invalid settings', async () => {
    const server = await echoServer();
    const proxy = await startProxy(server.port);
    expect(() => proxy.latency(-1)).toThrow(/latency/);
    expect(() => proxy.throttle(-5)).toThrow(/throttle/);
    expect(() => proxy.cutAfterBytes(Number.NaN)).toThrow(/cutAfterBytes/);
    expect(() => proxy.setTarget({ host: '127.0.0.1', port: 0 })).toThrow(/target/);
  });

  it('close releases every handle and timer', async () => {
    const server = await echoServer();
    const count = (): Record<string, number> => {
      const counts: Record<string, number> = { TCPServerWrap: 0, TCPSocketWrap: 0, Timeout: 0 };
      for (const name of process.getActiveResourcesInfo()) if (name in counts) counts[name] = (counts[name] ?? 0) + 1;
      return counts;
    };
    // Handles of earlier tests may still be closing: wait for three equal readings 20 ms apart.
    let before = count();
    for (let same = 0; same < 2; ) {
      await sleep(20);
      const again = count();
      same = JSON.stringify(again) === JSON.stringify(before) ? same + 1 : 0;
      before = again;
    }
    const proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server.port } });
    const c = await opened(proxy.url());
    const d = await opened(proxy.url());
    proxy.throttle(1_000);
    d.ws.send('x'.repeat(5_000)); // a throttle timer is pending
    proxy.latency(5_000);
    c.ws.send('held by latency'); // and a latency timer, longer than the wait below
    await sleep(100);
    const during = count();
    expect(during.TCPServerWrap).toBe((before.TCPServerWrap ?? 0) + 1);
    expect(during.Timeout).toBeGreaterThan(before.Timeout ?? 0);

    await within(3_000, proxy.close());
    await proxy.close(); // idempotent
    expect(proxy.connections).toBe(0);
    await within(3_000, Promise.all([c.closed, d.closed]));
    await until(() => server.wss.clients.size === 0);
    // Nothing more than before the proxy started (other timers of the runner may come and go).
    const noMore = (): boolean => {
      const after = count();
      return Object.keys(before).every((name) => (after[name] ?? 0) <= (before[name] ?? 0));
    };
    await until(noMore).catch(() => undefined);
    const after = count();
    for (const name of ['TCPServerWrap', 'TCPSocketWrap', 'Timeout']) {
      expect(after[name] ?? 0, name).toBeLessThanOrEqual(before[name] ?? 0);
    }
  });
});
