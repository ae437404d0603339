/**
 * The client's size limits and argument typing, with a fake transport and a manual clock: the
 * outbound frame limit, what a 1009 close does to the calls in flight, the inbound limit's close,
 * the browser transport dropping frames it cannot refuse, and params JSON cannot carry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  browserTransport,
  CircleWsClient,
  CircleWsError,
  ConnectionLostError,
  FrameTooLargeError,
  InvalidArgumentError,
  type Logger,
  OutcomeUnknownError,
} from '../../src/index.js';
import { exceedsBytes, utf8ByteLength } from '../../src/rpc/codec.js';
import { connectedFakeClient, fakeClient, flush } from '../support/fake-client.js';

function setup(options: { maxFrameBytes?: number } = {}) {
  return fakeClient((b) => (options.maxFrameBytes === undefined ? b : b.withMaxFrameBytes(options.maxFrameBytes)));
}

async function connected(options: { maxFrameBytes?: number } = {}) {
  return connectedFakeClient((b) => (options.maxFrameBytes === undefined ? b : b.withMaxFrameBytes(options.maxFrameBytes)));
}

/** The size of the frame `call(method, { script })` makes with id `id`. */
const frameBytes = (id: string, method: string, script: string) =>
  Buffer.byteLength(JSON.stringify({ jsonrpc: '2.0', id, method, params: { script } }));

describe('frame limit options', () => {
  it.each([
    ['withMaxFrameBytes', 0],
    ['withMaxFrameBytes', 1023],
    ['withMaxFrameBytes', 1024.5],
    ['withMaxFrameBytes', 2 ** 31],
    ['withMaxFrameBytes', Number.NaN],
    ['withMaxInboundFrameBytes', 100],
    ['withMaxInboundFrameBytes', '4096' as never],
    ['withMaxInboundFrameBytes', Number.POSITIVE_INFINITY],
  ] as const)('%s(%s) throws InvalidArgumentError', (method, value) => {
    expect(() => CircleWsClient.builder('ws://x/1')[method](value as number)).toThrow(InvalidArgumentError);
  });

  it('accepts the bounds 1024 and 2^31-1', () => {
    expect(() => CircleWsClient.builder('ws://x/1').withMaxFrameBytes(1024).withMaxInboundFrameBytes(2 ** 31 - 1)).not.toThrow();
  });
});

describe('outbound frame limit', () => {
  it('rejects a call over the limit at once, naming it, and neither sends nor queues it', async () => {
    const { client, transport } = await connected({ maxFrameBytes: 2048 });
    const error = await client.play('x'.repeat(4096)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(error).toBeInstanceOf(CircleWsError);
    expect(error).toMatchObject({ code: 'FRAME_TOO_LARGE', direction: 'outbound', limit: 2048 });
    expect((error as FrameTooLargeError).bytes).toBeGreaterThan(4096);
    expect((error as Error).message).toMatch(/play .*over the 2048-byte limit/);
    expect(transport.current.sent).toEqual([]);
    await client.disconnect();
  });

  it('is never queued either: a too-large call made while connecting is not sent once ready', async () => {
    const { client, transport } = setup({ maxFrameBytes: 1024 });
    const ready = client.connect();
    const big = client.call('store', { blob: 'y'.repeat(2000) }, { idempotent: true });
    await expect(big).rejects.toBeInstanceOf(FrameTooLargeError);
    const small = client.call('store', { blob: 'y' });
    transport.current.open();
    await ready;
    expect(transport.current.requests().map((r) => r.params)).toEqual([{ blob: 'y' }]);
    transport.current.reply('store', 'ok');
    await expect(small).resolves.toBe('ok');
    await client.disconnect();
  });

  it('counts UTF-8 bytes, not characters, and lets a frame of exactly the limit through', async () => {
    const { client, transport } = await connected({ maxFrameBytes: 4096 });
    // "é" is one UTF-16 unit and two UTF-8 bytes: 1,500 of them fit in 4 KiB by length, not by bytes.
    await expect(client.play('é'.repeat(2100))).rejects.toBeInstanceOf(FrameTooLargeError);
    // The first call used id 1; this one is id 2: pad its script so the frame is exactly 4096 bytes.
    const overhead = frameBytes('2', 'play', '');
    const exact = client.play('a'.repeat(4096 - overhead));
    expect(Buffer.byteLength(transport.current.sent[0] ?? '')).toBe(4096);
    transport.current.reply('play', 'done');
    await expect(exact).resolves.toBe('done');
    await expect(client.play('a'.repeat(4097 - frameBytes('3', 'play', '')))).rejects.toBeInstanceOf(FrameTooLargeError);
    await client.disconnect();
  });

  it('measures bytes exactly like Buffer.byteLength, lone surrogates included', () => {
    const samples = ['', 'ascii', 'é', '€', '😀', 'a😀b', '\ud800', '\udc00x', '\ud800\ud800', 'x'.repeat(3000) + '€'];
    for (const text of samples) {
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text));
      const bytes = Buffer.byteLength(text);
      expect(exceedsBytes(text, bytes)).toBe(false);
      if (bytes > 0) expect(exceedsBytes(text, bytes - 1)).toBe(true);
    }
  });
});

describe('a close with 1009 re-sends nothing that was in flight', () => {
  it('the server refused a frame: the largest call rejects with FrameTooLargeError, the others in flight with OutcomeUnknownError; later calls go through', async () => {
    const { client, clock, transport } = await connected();
    const big = client.call('store', { blob: 'z'.repeat(5000) }, { idempotent: true });
    const read = client.whoami();
    const first = transport.current;
    first.serverClose({ code: 1009, reason: '' });
    const bigError = await big.catch((e: unknown) => e);
    expect(bigError).toBeInstanceOf(FrameTooLargeError);
    expect(bigError).toMatchObject({ direction: 'outbound' });
    expect((bigError as Error).message).toMatch(/1009.*store/);
    const readError = await read.catch((e: unknown) => e);
    expect(readError).toBeInstanceOf(OutcomeUnknownError);
    expect((readError as Error).message).toMatch(/1009/);
    expect(client.status).toBe('backoff');
    expect(client.lastError).toBeInstanceOf(ConnectionLostError);
    expect(client.lastError?.message).toMatch(/1009 \(message too big/);
    // A call made meanwhile is unaffected: it waits and goes out alone on the next socket.
    const later = client.call('store', { blob: 'small' }, { idempotent: true });
    clock.advance(100);
    transport.current.open();
    await flush();
    expect(transport.current).not.toBe(first);
    expect(transport.current.requests().map((r) => r.params)).toEqual([{ blob: 'small' }]);
    transport.current.reply('store', 'stored');
    await expect(later).resolves.toBe('stored');
    await client.disconnect();
  });

  it('the client refused an inbound frame: backoff with FRAME_TOO_LARGE, and no call in flight is re-sent', async () => {
    const { client, clock, transport } = await connected();
    const read = client.whoami();
    transport.current.serverClose({ code: 1009, reason: 'inbound frame too large', inboundTooLarge: true });
    const error = await read.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutcomeUnknownError);
    expect((error as Error).message).toMatch(/inbound limit/);
    expect(client.status).toBe('backoff');
    expect(client.actor.getSnapshot().context.lastFailure).toMatchObject({ code: 'FRAME_TOO_LARGE', closeCode: 1009 });
    expect(client.lastError).toBeInstanceOf(FrameTooLargeError);
    expect(client.lastError).toMatchObject({ code: 'FRAME_TOO_LARGE', direction: 'inbound', limit: 4 * 1024 * 1024 });
    clock.advance(100);
    transport.current.open();
    await flush();
    expect(client.status).toBe('connected');
    expect(transport.current.sent).toEqual([]);
    await client.disconnect();
  });

  it('any other close still re-sends the idempotent calls', async () => {
    const { client, clock, transport } = await connected();
    const read = client.whoami();
    transport.current.serverClose({ code: 1011, reason: '' });
    clock.advance(100);
    transport.current.open();
    await flush();
    expect(transport.current.requests().map((r) => r.method)).toEqual(['whoami']);
    transport.current.reply('whoami', { authenticated: false, pubkey: null });
    await expect(read).resolves.toMatchObject({ authenticated: false });
    await client.disconnect();
  });
});

describe('params JSON cannot carry', () => {
  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;
  it.each([
    ['a BigInt', { amount: 10n }, /BigInt/],
    ['a circular object', { data: circular }, /circular/],
    ['a throwing toJSON', { when: { toJSON: () => { throw new Error('no JSON for you'); } } }, /threw \(Error: no JSON for you\)/],
    ['a throwing getter', { get bad(): never { throw new RangeError('getter says no'); } }, /threw \(RangeError: getter says no\)/],
  ])('reject with InvalidArgumentError naming the method: %s', async (_name, params, reason) => {
    const { client, transport } = await connected();
    const error = await client.call('transfer', params as Record<string, unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((error as Error).message).toMatch(/^params of transfer cannot be sent as JSON: /);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(transport.current.sent).toEqual([]);
    // The client goes on: the next call is sent as usual.
    const next = client.call('transfer', { amount: '10' });
    transport.current.reply('transfer', true);
    await expect(next).resolves.toBe(true);
    await client.disconnect();
  });

  it('reject the same way before connect(), rather than a NotConnectedError hiding the mistake', async () => {
    const { client } = setup();
    await expect(client.call('transfer', { amount: 1n })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

/** Just enough of a browser WebSocket for the browser transport: the test plays the browser. */
class StubBrowserSocket {
  static last: StubBrowserSocket | undefined;
  binaryType = 'blob';
  bufferedAmount = 0;
  readonly sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: (() => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  constructor(readonly url: string) {
    StubBrowserSocket.last = this;
  }
  send(data: string): void {
    this.sent.push(data);
  }
  close(code = 1000, reason = ''): void {
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }
}

describe('the browser transport, which cannot refuse a frame', () => {
  const g = globalThis as { WebSocket?: unknown };
  const original = g.WebSocket;
  afterEach(() => {
    g.WebSocket = original;
  });

  it('drops a frame over withMaxInboundFrameBytes before parsing it, logs it, and goes on', async () => {
    g.WebSocket = StubBrowserSocket;
    const warnings: Array<[string, Record<string, unknown> | undefined]> = [];
    const logger: Logger = { debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push([message, fields]) };
    const client = CircleWsClient.builder('ws://browser/02aa')
      .withTransport(browserTransport)
      .withMaxInboundFrameBytes(2048)
      .withKeepAlive(false)
      .withLogger(logger)
      .build();
    const ready = client.connect();
    const socket = StubBrowserSocket.last;
    if (!socket) throw new Error('no socket was opened');
    socket.onopen?.();
    await ready;
    const call = client.call('echo');
    const id = (JSON.parse(socket.sent[0] ?? '{}') as { id: string }).id;
    // A valid answer, but too big: dropped unread, so the call still waits.
    socket.onmessage?.({ data: JSON.stringify({ jsonrpc: '2.0', id, result: 'r'.repeat(4096) }) });
    // Multi-byte text under the limit in characters but over it in bytes is dropped too.
    socket.onmessage?.({ data: JSON.stringify({ jsonrpc: '2.0', id, result: '€'.repeat(1000) }) });
    await flush();
    expect(warnings.map(([m]) => m)).toEqual([
      'dropped an inbound frame over the limit, unread (withMaxInboundFrameBytes)',
      'dropped an inbound frame over the limit, unread (withMaxInboundFrameBytes)',
    ]);
    expect(warnings[0]?.[1]).toMatchObject({ limit: 2048 });
    expect(warnings[0]?.[1]?.bytes).toBeGreaterThan(4096);
    expect(warnings[1]?.[1]?.bytes).toBeGreaterThan(3000);
    expect(client.status).toBe('connected');
    socket.onmessage?.({ data: JSON.stringify({ jsonrpc: '2.0', id, result: 'small' }) });
    await expect(call).resolves.toBe('small');
    await client.disconnect();
  });
});
