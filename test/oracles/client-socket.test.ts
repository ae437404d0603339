/**
 * Oracles for the client's socket side (`src/client/socket.ts`), the handshake steps
 * (`src/client/handshake.ts`), the network watch and the instance registry: events of a socket the
 * client let go of are ignored, the close codes and reasons it sends, how `disconnect()` waits for
 * a socket to be gone, keep-alive probes, a transport factory that throws, and the errors each
 * handshake step makes. Every expected value is written out.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it, vi } from 'vitest';
import { defaultCompiledNonceRule } from '../../src/auth/nonce-rule.js';
import { authenticate, fetchNonce, type HandshakeHost, signNonce, type SocketSecrets } from '../../src/client/handshake.js';
import { type MachineHost, register } from '../../src/client/implementations.js';
import { watchNetwork } from '../../src/client/network.js';
import type { NetworkEvents } from '../../src/client/options.js';
import { Link } from '../../src/client/socket.js';
import { AuthError, CircleWsClient, type CircleWsClientBuilder, ConnectionLostError, RpcError, ServerError } from '../../src/index.js';
import type { Logger } from '../../src/logger.js';
import { type FakeSocket, FakeTransport, flushMicrotasks, ManualClock } from '../../src/testing/index.js';
import type { Transport, TransportFactory, TransportHandlers } from '../../src/transport/types.js';
import { flush } from '../support/fake-session.js';

type Wrap = (transport: Transport, index: number, socket: FakeSocket) => Transport;

/**
 * An anonymous client on a fake transport and a manual clock that also keeps every socket's
 * handlers (to play events of an old socket), the log lines, and the `link.alive` events.
 */
function rig(configure: (b: CircleWsClientBuilder) => CircleWsClientBuilder = (b) => b, wrap?: Wrap) {
  const clock = new ManualClock();
  const fake = new FakeTransport();
  const handlers: TransportHandlers[] = [];
  const logs: string[] = [];
  let alive = 0;
  /** Lets a test act the moment the client logs at info level. */
  const tap: { info?: (message: string) => void } = {};
  const factory: TransportFactory = (url, h, options) => {
    handlers.push(h);
    const transport = fake.factory(url, h, options);
    const socket = fake.current;
    return wrap ? wrap(transport, handlers.length - 1, socket) : transport;
  };
  const logger: Logger = {
    debug: (message) => logs.push(`debug ${message}`),
    info: (message) => {
      logs.push(`info ${message}`);
      tap.info?.(message);
    },
    warn: (message) => logs.push(`warn ${message}`),
    error: (message) => logs.push(`error ${message}`),
  };
  const inspect = (event: InspectionEvent): void => {
    if (event.type === '@xstate.event' && event.event.type === 'link.alive') alive += 1;
  };
  const builder = CircleWsClient.builder('ws://fake/circle')
    .withTransport(factory)
    .withClock(clock)
    .withRandom(() => 0)
    .withReconnect({ initialDelayMs: 100, maxDelayMs: 100 })
    .withKeepAlive(false)
    .withNetworkEvents(false)
    .withTimeouts({ connectMs: 500 })
    .withLogger(logger)
    .withInspect(inspect);
  const client = configure(builder).build();
  return { client, clock, fake, handlers, logs, tap, alive: () => alive };
}

type Rig = ReturnType<typeof rig>;

/** Connected on socket 0, which the server then drops; the client backs off and opens socket 1. */
async function secondSocket(r: Rig, openIt: boolean): Promise<void> {
  const ready = r.client.connect();
  r.fake.current.open();
  await ready;
  r.fake.current.serverClose({ code: 1006, reason: '' });
  await flush();
  expect(r.client.status).toBe('backoff');
  r.clock.advance(100);
  await flush();
  expect(r.fake.sockets.length).toBe(2);
  if (openIt) {
    r.fake.current.open();
    await flush();
    expect(r.client.status).toBe('connected');
  }
}

async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await flushMicrotasks();
  return done;
}

describe('stale socket events', () => {
  it('old open ignored', async () => {
    const r = rig();
    await secondSocket(r, false);
    expect(r.client.status).toBe('connecting');
    const before = r.logs.length;
    r.handlers[0]?.open();
    await flush();
    expect(r.client.status).toBe('connecting');
    expect(r.logs.slice(before)).not.toContain('debug socket open');
    await r.client.disconnect();
  });

  it('old answer ignored', async () => {
    const r = rig();
    await secondSocket(r, true);
    const result = r.client.call('echo', {});
    await flush();
    const id = r.fake.current.lastRequest('echo')?.id;
    expect(typeof id).toBe('string');
    r.handlers[0]?.message(JSON.stringify({ jsonrpc: '2.0', id, result: 'stale' }));
    expect(await settled(result)).toBe(false);
    r.fake.current.reply('echo', 'fresh');
    await expect(result).resolves.toBe('fresh');
    await r.client.disconnect();
  });

  it('old notification ignored', async () => {
    const r = rig();
    await secondSocket(r, true);
    const seen: string[] = [];
    r.client.on('notification', (n) => seen.push(n.method));
    r.handlers[0]?.message(JSON.stringify({ jsonrpc: '2.0', method: 'old', params: {} }));
    r.fake.current.receiveJson({ jsonrpc: '2.0', method: 'new', params: {} });
    expect(seen).toEqual(['new']);
    await r.client.disconnect();
  });

  it('old binary ignored', async () => {
    const r = rig();
    await secondSocket(r, true);
    const before = r.logs.length;
    r.handlers[0]?.binary(7);
    r.handlers[0]?.pong();
    expect(r.logs.slice(before)).toEqual([]);
    r.fake.current.receiveBinary(7);
    expect(r.logs.slice(before)).toEqual(['warn ignored a binary frame (not part of the protocol)']);
    expect(r.alive()).toBe(0);
    await r.client.disconnect();
  });

  it('old oversize ignored', async () => {
    const r = rig();
    await secondSocket(r, true);
    const before = r.logs.length;
    r.handlers[0]?.oversize(9_000, 8_000);
    expect(r.logs.slice(before)).toEqual([]);
    r.handlers[1]?.oversize(9_000, 8_000);
    expect(r.logs.slice(before)).toEqual(['warn dropped an inbound frame over the limit, unread (withMaxInboundFrameBytes)']);
    await r.client.disconnect();
  });

  it('old close ignored', async () => {
    const r = rig();
    await secondSocket(r, true);
    const result = r.client.call('echo', {});
    await flush();
    r.handlers[0]?.close({ code: 1006, reason: '' });
    await flush();
    expect(r.client.status).toBe('connected');
    expect(r.client.isConnected()).toBe(true);
    expect(r.fake.sockets[1]?.alive).toBe(true);
    expect(r.fake.sockets.length).toBe(2);
    r.fake.current.reply('echo', 'fresh');
    await expect(result).resolves.toBe('fresh');
    await r.client.disconnect();
  });
});

describe('release and drop', () => {
  it('disconnect closes 1000', async () => {
    const r = rig();
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    await r.client.disconnect();
    expect(r.fake.sockets[0]?.closedByClient).toEqual({ code: 1000, reason: 'client disconnected' });
    expect(r.fake.sockets[0]?.terminated).toBe(false);
    expect(r.client.status).toBe('disconnected');
  });

  it('timeout closes then drops', async () => {
    const r = rig();
    const ready = r.client.connect();
    ready.catch(() => {});
    await flush();
    r.clock.advance(500);
    await flush();
    expect(r.client.status).toBe('backoff');
    expect(r.fake.sockets[0]?.closedByClient).toEqual({ code: 1000, reason: 'client closing' });
    expect(r.fake.sockets[0]?.terminated).toBe(true);
    await r.client.disconnect();
  });

  it('link dead closes then drops', async () => {
    const r = rig((b) => b.withKeepAlive({ intervalMs: 1_000, timeoutMs: 300 }));
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    r.clock.advance(1_000);
    await flush();
    expect(r.fake.sockets[0]?.pings).toBe(1);
    r.clock.advance(300);
    await flush();
    expect(r.client.status).toBe('backoff');
    expect(r.fake.sockets[0]?.closedByClient).toEqual({ code: 1000, reason: 'client closing' });
    expect(r.fake.sockets[0]?.terminated).toBe(true);
    await r.client.disconnect();
  });

  it('no close when gone', async () => {
    const closes: Array<[number | undefined, string | undefined]> = [];
    const r = rig(
      (b) => b.withKeepAlive({ intervalMs: 1_000, timeoutMs: 300 }),
      (transport) => ({
        ...transport,
        close: (code, reason) => {
          closes.push([code, reason]);
          transport.close(code, reason);
        },
      }),
    );
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    const who = r.client.whoami();
    who.catch(() => {});
    await flush();
    expect(r.fake.current.lastRequest('whoami')).toBeDefined();
    // The socket ends while the client is letting go of it (the logger is told of the re-send first).
    r.tap.info = (message) => {
      if (message === 'will re-send after reconnecting (idempotent)') r.fake.sockets[0]?.serverClose({ code: 1006, reason: '' });
    };
    r.clock.advance(1_000);
    await flush();
    expect(r.fake.sockets[0]?.pings).toBe(1);
    r.clock.advance(300);
    await flush();
    expect(r.client.status).toBe('backoff');
    expect(r.logs).toContain('info will re-send after reconnecting (idempotent)');
    expect(closes).toEqual([]);
    expect(r.fake.sockets[0]?.terminated).toBe(false);
    r.tap.info = undefined;
    await r.client.disconnect();
    await expect(who).rejects.toThrow('the client was disconnected');
  });

  it('drop after stale close', async () => {
    // While the client closes socket 1, the close of socket 0 is reported: socket 1 is still dropped.
    let hook: (() => void) | undefined;
    const r = rig(
      (b) => b,
      (transport, index) =>
        index === 1
          ? {
              ...transport,
              close: (code, reason) => {
                hook?.();
                transport.close(code, reason);
              },
            }
          : transport,
    );
    await secondSocket(r, false);
    hook = () => r.handlers[0]?.close({ code: 1006, reason: '' });
    r.clock.advance(500);
    await flush();
    expect(r.client.status).toBe('backoff');
    expect(r.fake.sockets[1]?.closedByClient).toEqual({ code: 1000, reason: 'client closing' });
    expect(r.fake.sockets[1]?.terminated).toBe(true);
    await r.client.disconnect();
  });
});

describe('waiting for the socket to go', () => {
  it('terminates after 2 s', async () => {
    const closes: Array<[number | undefined, string | undefined]> = [];
    // A server that never completes the closing handshake.
    const r = rig(
      (b) => b,
      (transport) => ({ ...transport, close: (code, reason) => void closes.push([code, reason]) }),
    );
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    const gone = r.client.disconnect();
    expect(await settled(gone)).toBe(false);
    expect(closes).toEqual([[1000, 'client disconnected']]);
    r.clock.advance(1_999);
    expect(await settled(gone)).toBe(false);
    expect(r.fake.sockets[0]?.terminated).toBe(false);
    r.clock.advance(1);
    expect(await settled(gone)).toBe(true);
    expect(r.fake.sockets[0]?.terminated).toBe(true);
    expect(r.client.status).toBe('disconnected');
  });

  it('closed link at once', async () => {
    // A transport that reports its close synchronously: the socket is gone before disconnect() waits.
    const r = rig(
      (b) => b,
      (transport, _index, socket) => ({
        ...transport,
        close: (code, reason) => socket.serverClose({ code: code ?? 1000, reason: reason ?? '' }),
      }),
    );
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    const gone = r.client.disconnect();
    expect(await settled(gone)).toBe(true);
    expect(r.clock.pending()).toEqual([]);
    expect(r.fake.sockets[0]?.terminated).toBe(false);
    expect(await settled(r.client.disconnect())).toBe(true);
  });
});

describe('keep-alive probes', () => {
  it('frame without probe', async () => {
    const r = rig((b) => b.withKeepAlive({ intervalMs: 1_000, timeoutMs: 300 }));
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    r.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: {} });
    r.fake.current.pong();
    await flush();
    expect(r.alive()).toBe(0);
    expect(r.fake.current.pings).toBe(0);
    await r.client.disconnect();
  });

  it('one alive per probe', async () => {
    const r = rig((b) => b.withKeepAlive({ intervalMs: 1_000, timeoutMs: 300 }));
    const ready = r.client.connect();
    r.fake.current.open();
    await ready;
    r.clock.advance(1_000);
    await flush();
    expect(r.fake.current.pings).toBe(1);
    r.fake.current.pong();
    await flush();
    expect(r.alive()).toBe(1);
    r.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: {} });
    r.fake.current.pong();
    await flush();
    expect(r.alive()).toBe(1);
    r.clock.advance(1_000);
    await flush();
    expect(r.fake.current.pings).toBe(2);
    r.fake.current.pong();
    await flush();
    expect(r.alive()).toBe(2);
    expect(r.client.status).toBe('connected');
    await r.client.disconnect();
  });

  it('new link has no probe', () => {
    const link = new Link({ send: () => {} });
    expect(link.probeOut).toBe(false);
    expect(link.closed).toBe(false);
  });
});

describe('factory that throws', () => {
  it('reports close 1006', async () => {
    const clock = new ManualClock();
    const client = CircleWsClient.builder('ws://fake/circle')
      .withTransport(() => {
        throw new Error('no WebSocket here');
      })
      .withClock(clock)
      .withRandom(() => 0)
      .withReconnect({ initialDelayMs: 100, maxDelayMs: 100 })
      .withKeepAlive(false)
      .withNetworkEvents(false)
      .build();
    const ready = client.connect();
    ready.catch(() => {});
    expect(client.status).toBe('connecting');
    await flushMicrotasks();
    expect(client.status).toBe('backoff');
    expect(client.lastError).toBeInstanceOf(ConnectionLostError);
    expect(client.lastError?.message).toBe('the connection closed with code 1006: no WebSocket here');
    await client.disconnect();
    await expect(ready).rejects.toThrow('the client was disconnected');
  });

  it('dead transport', () => {
    const { transport } = new Link({ send: () => {} });
    expect(() => transport.send('{}')).toThrow(new Error('the socket could not be created'));
    expect(transport.ping()).toBe(false);
  });
});

interface TestLink extends SocketSecrets {
  closed: boolean;
}

function host(link: TestLink | null, request: HandshakeHost<TestLink>['request'] = vi.fn()) {
  const signer = { publicKey: '04ab', sign: vi.fn(async (nonce: string) => `sig(${nonce})`) };
  const h: { link: TestLink | null; signer: typeof signer | null; nonceRule: typeof defaultCompiledNonceRule; request: HandshakeHost<TestLink>['request'] } = {
    link,
    signer,
    nonceRule: defaultCompiledNonceRule,
    request,
  };
  return h;
}

const openLink = (nonce: string | null = null, signature: string | null = null): TestLink => ({ closed: false, nonce, signature });

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The error of `authenticate` on an open link holding a signature, when the server answers with `rpc`. */
function refusedAuthentication(rpc: RpcError, publicKey: string): Promise<unknown> {
  return failure(authenticate(host(openLink(null, 'sig'), async () => Promise.reject(rpc)), publicKey));
}

describe('handshake steps', () => {
  it('fetch without socket', async () => {
    const e = await failure(fetchNonce(host(null), '04ab'));
    expect(e).toBeInstanceOf(ConnectionLostError);
    expect((e as Error).message).toBe('no open socket to fetch_nonce on');
    const closed = await failure(fetchNonce(host({ closed: true, nonce: null, signature: null }), '04ab'));
    expect((closed as Error).message).toBe('no open socket to fetch_nonce on');
  });

  it('sign without socket', async () => {
    const e = await failure(signNonce(host(null)));
    expect(e).toBeInstanceOf(ConnectionLostError);
    expect((e as Error).message).toBe('no open socket to sign on');
  });

  it('auth without socket', async () => {
    const e = await failure(authenticate(host(null), '04ab'));
    expect(e).toBeInstanceOf(ConnectionLostError);
    expect((e as Error).message).toBe('no open socket to authenticate on');
  });

  it('sign without key', async () => {
    const h = host(openLink('nonce-1'));
    h.signer = null;
    const e = await failure(signNonce(h));
    expect(e).toBeInstanceOf(AuthError);
    expect(e).toMatchObject({ code: 'SIGNING_FAILED', message: 'no key pair was given' });
  });

  it('sign without nonce', async () => {
    const e = await failure(signNonce(host(openLink())));
    expect(e).toBeInstanceOf(ConnectionLostError);
    expect((e as Error).message).toBe('no nonce is held for this socket');
  });

  it('auth without signature', async () => {
    const request = vi.fn(async () => true);
    const e = await failure(authenticate(host(openLink(), request), '04ab'));
    expect(e).toBeInstanceOf(ConnectionLostError);
    expect((e as Error).message).toBe('no signature is held for this socket');
    expect(request).not.toHaveBeenCalled();
  });

  it('nonce kept on current', async () => {
    const link = openLink(null, 'old-sig');
    await fetchNonce(host(link, async () => 'nonce-1'), '04ab');
    expect(link.nonce).toBe('nonce-1');
    expect(link.signature).toBe(null);
  });

  it('nonce dropped if replaced', async () => {
    const link = openLink(null, 'old-sig');
    const h = host(link);
    h.request = async () => {
      h.link = openLink();
      return 'nonce-1';
    };
    await fetchNonce(h, '04ab');
    expect(link.nonce).toBe(null);
    expect(link.signature).toBe('old-sig');
  });

  it('nonce refused cause', async () => {
    const rpc = new RpcError(-32000, 'go away');
    const e = await failure(fetchNonce(host(openLink(), async () => Promise.reject(rpc)), '04ab'));
    expect(e).toBeInstanceOf(AuthError);
    expect(e).toMatchObject({ code: 'NONCE_REFUSED', message: 'the server would not issue a nonce: go away (JSON-RPC error -32000)' });
    expect((e as Error).cause).toBe(rpc);
  });

  it('server fault cause', async () => {
    const rpc = new RpcError(-32603, 'db down');
    const e = await failure(fetchNonce(host(openLink(), async () => Promise.reject(rpc)), '04ab'));
    expect(e).toBeInstanceOf(ServerError);
    expect(e).toMatchObject({
      code: 'SERVER_ERROR',
      message: 'the server failed internally while answering fetch_nonce (db down (JSON-RPC error -32603)); retrying with backoff',
    });
    expect((e as Error).cause).toBe(rpc);
    const auth = await refusedAuthentication(rpc, '04ab');
    expect(auth).toBeInstanceOf(ServerError);
    expect((auth as Error).message).toBe('the server failed internally while answering authenticate (db down (JSON-RPC error -32603)); retrying with backoff');
    expect((auth as Error).cause).toBe(rpc);
  });

  it('expired cause', async () => {
    const rpc = new RpcError(-32001, 'too late', { reason: 'expired' });
    const e = await refusedAuthentication(rpc, '04ab');
    expect(e).toBeInstanceOf(AuthError);
    expect(e).toMatchObject({
      code: 'NONCE_EXPIRED',
      message: 'the nonce expired before the signature reached the server: too late (JSON-RPC error -32001)',
    });
    expect((e as Error).cause).toBe(rpc);
  });

  it('refused cause, long key', async () => {
    const rpc = new RpcError(-32001, 'bad signature', { reason: 'mismatch' });
    const e = await refusedAuthentication(rpc, '0123456789abc');
    expect(e).toBeInstanceOf(AuthError);
    expect(e).toMatchObject({
      code: 'AUTH_REFUSED',
      message: 'the server refused the credentials of 0123456789…: bad signature (JSON-RPC error -32001)',
    });
    expect((e as Error).cause).toBe(rpc);
  });

  it('12-char key whole', async () => {
    const rpc = new RpcError(-32001, 'bad signature');
    const e = await refusedAuthentication(rpc, '0123456789ab');
    expect(e).toMatchObject({ code: 'AUTH_REFUSED', message: 'the server refused the credentials of 0123456789ab: bad signature (JSON-RPC error -32001)' });
    const no = await failure(authenticate(host(openLink(null, 'sig'), async () => false), '0123456789ab'));
    expect(no).toMatchObject({ code: 'AUTH_REFUSED', message: 'the server refused the credentials of 0123456789ab' });
  });

  it('refusal data null', async () => {
    for (const data of [null, undefined, 'expired']) {
      const rpc = new RpcError(-32001, 'bad signature', data);
      const e = await refusedAuthentication(rpc, '04ab');
      expect(e).toBeInstanceOf(AuthError);
      expect(e).toMatchObject({ code: 'AUTH_REFUSED', message: 'the server refused the credentials of 04ab: bad signature (JSON-RPC error -32001)' });
    }
  });
});

describe('network watch', () => {
  it('stop removes both', () => {
    const listeners = new Map<string, () => void>();
    const calls: string[] = [];
    const network: NetworkEvents = {
      addEventListener: (type, listener) => {
        calls.push(`add ${type}`);
        listeners.set(type, listener);
      },
      removeEventListener: (type, listener) => {
        calls.push(`remove ${type}`);
        if (listeners.get(type) === listener) listeners.delete(type);
      },
    };
    const told: string[] = [];
    const stop = watchNetwork(network, (event) => told.push(event.type));
    listeners.get('offline')?.();
    listeners.get('online')?.();
    expect(told).toEqual(['network.offline', 'network.online']);
    stop();
    expect(calls).toEqual(['add online', 'add offline', 'remove online', 'remove offline']);
    expect(listeners.size).toBe(0);
  });
});

describe('instance registry', () => {
  it('numbers increase', () => {
    const stub = {} as MachineHost;
    const first = register(stub);
    const second = register({} as MachineHost);
    const third = register({} as MachineHost);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(second).toBe(first + 1);
    expect(third).toBe(second + 1);
  });
});
