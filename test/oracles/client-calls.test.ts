/**
 * Oracles for the facade's calls (`src/client/calls.ts`) and the client's own rules
 * (`src/client/client.ts`): abort listeners taken back, timers released, the largest call blamed
 * for a 1009 close, handshake requests never treated as calls, argument checks, connect waiters,
 * `whenReady()`, status listeners and the machine's error path. Every expected value is written out.
 */
import { describe, expect, it, vi } from 'vitest';
import { Calls } from '../../src/client/calls.js';
import {
  AbortError,
  CircleWsError,
  ConnectionLostError,
  FrameTooLargeError,
  InvalidArgumentError,
  type Logger,
  NotConnectedError,
  OutcomeUnknownError,
  RpcError,
} from '../../src/index.js';
import { FakeTransport, flushMicrotasks, ManualClock } from '../../src/testing/index.js';
import type { Transport, TransportFactory } from '../../src/transport/types.js';
import { connectedFakeClient, fakeClient, flush } from '../support/fake-client.js';
import { pendingDelays } from '../support/fake-session.js';

type Entry = { level: string; message: string; fields?: Record<string, unknown> };

function recordingLogger(): { logger: Logger; entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    entries.push({ level, message, ...(fields ? { fields } : {}) });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

/** Settles `promise` into its error (or the string 'resolved'), without leaving a rejection unhandled. */
function outcome(promise: Promise<unknown>): { get: () => unknown } {
  let value: unknown = 'pending';
  promise.then(
    () => {
      value = 'resolved';
    },
    (error: unknown) => {
      value = error;
    },
  );
  return { get: () => value };
}

/** A transport recording what it sent; `send` throws when `failing`. */
function memoryTransport(failing = false): Transport & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: (data: string) => {
      if (failing) throw new Error('socket is closed');
      sent.push(data);
    },
    ping: () => false,
    close: () => {},
    terminate: () => {},
    bufferedAmount: 0,
  };
}

/** A manual clock that also records every clearTimeout argument. */
function recordingClock() {
  const clock = new ManualClock();
  const cleared: unknown[] = [];
  const original = clock.clearTimeout.bind(clock);
  clock.clearTimeout = (handle: unknown) => {
    cleared.push(handle);
    original(handle);
  };
  return { clock, cleared };
}

function newCalls(clock = new ManualClock()) {
  return new Calls({ clock, logger: recordingLogger().logger, queueLimit: 10 }, { status: 'connecting' });
}

describe('Calls unit', () => {
  it('handshake drop: lost', async () => {
    const calls = newCalls();
    const transport = memoryTransport();
    const p = outcome(calls.request(transport, 'fetch_nonce', { pubkey: '02aa' }));
    expect(transport.sent).toEqual(['{"jsonrpc":"2.0","id":"1","method":"fetch_nonce","params":{"pubkey":"02aa"}}']);
    calls.lost(false, { code: 1006, reason: '' });
    await flushMicrotasks();
    const error = p.get() as Error;
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error).not.toBeInstanceOf(OutcomeUnknownError);
    expect(error).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(error.message).toBe('the connection dropped during fetch_nonce');
  });

  it('handshake never 1009 suspect', async () => {
    const calls = newCalls();
    const transport = memoryTransport();
    const internal = outcome(calls.request(transport, 'fetch_nonce', { pubkey: 'x'.repeat(50) }));
    const { call, promise } = calls.make({ id: '9', method: 'play', frame: 'short', timeoutMs: 1000, signal: undefined, idempotent: false });
    const app = outcome(promise);
    calls.send(call, transport);
    calls.lost(false, { code: 1009, reason: '' });
    await flushMicrotasks();
    expect(internal.get()).toBeInstanceOf(ConnectionLostError);
    expect((internal.get() as Error).message).toBe('the connection dropped during fetch_nonce');
    expect(app.get()).toBeInstanceOf(FrameTooLargeError);
    expect((app.get() as FrameTooLargeError).bytes).toBe(5);
  });

  it('answer without timer', async () => {
    const { clock, cleared } = recordingClock();
    const calls = newCalls(clock);
    const transport = memoryTransport();
    const promise = calls.request(transport, 'fetch_nonce', {});
    expect(calls.answer('1', 'nonce-1')).toBe(true);
    await expect(promise).resolves.toBe('nonce-1');
    expect(cleared).toEqual([]);
  });

  it('refuse returns true', async () => {
    const calls = newCalls();
    const promise = calls.request(memoryTransport(), 'fetch_nonce', {});
    const refusal = new RpcError(-32000, 'no');
    expect(calls.refuse('1', refusal)).toBe(true);
    await expect(promise).rejects.toBe(refusal);
    expect(calls.refuse('1', refusal)).toBe(false);
    expect(calls.answer('1', 1)).toBe(false);
  });

  it('empty tables are no-ops', () => {
    const calls = newCalls();
    const transport = memoryTransport();
    expect(() => calls.flush(transport)).not.toThrow();
    expect(() => calls.rejectWaiting(new Error('x'))).not.toThrow();
    expect(() => calls.lost(false, { code: 1009, reason: '' })).not.toThrow();
    expect(() => calls.lost(true)).not.toThrow();
    expect(() => calls.rejectAll(new Error('x'))).not.toThrow();
    expect(transport.sent).toEqual([]);
  });

  it('send failure rejects', async () => {
    const clock = new ManualClock();
    const calls = newCalls(clock);
    const { call, promise } = calls.make({ id: '1', method: 'play', frame: '{}', timeoutMs: 777, signal: undefined, idempotent: true });
    calls.send(call, memoryTransport(true));
    const error = (await promise.catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ConnectionLostError);
    expect(error.message).toBe('play could not be sent: socket is closed');
    expect(clock.pending()).toEqual([]);
  });

  it('rejectAll rejects all', async () => {
    const clock = new ManualClock();
    const calls = newCalls(clock);
    const sent = calls.make({ id: '1', method: 'a', frame: '{}', timeoutMs: 100, signal: undefined, idempotent: false });
    const queued = calls.make({ id: '2', method: 'b', frame: '{}', timeoutMs: 100, signal: undefined, idempotent: false });
    calls.send(sent.call, memoryTransport());
    calls.enqueue(queued.call);
    const failure = new CircleWsError('INTERNAL', 'stop');
    calls.rejectAll(failure);
    await expect(sent.promise).rejects.toBe(failure);
    await expect(queued.promise).rejects.toBe(failure);
    expect(calls.waitingCount).toBe(0);
    expect(clock.pending()).toEqual([]);
  });
});

describe('call listeners and timers', () => {
  it('abort listener once, removed', async () => {
    const { client, transport } = await connectedFakeClient();
    const signal = new AbortController().signal;
    const add = vi.spyOn(signal, 'addEventListener');
    const remove = vi.spyOn(signal, 'removeEventListener');
    const p = client.call('m', {}, { signal });
    expect(add).toHaveBeenCalledTimes(1);
    expect(add).toHaveBeenCalledWith('abort', expect.any(Function), { once: true });
    expect(remove).not.toHaveBeenCalled();
    transport.current.reply('m', 42);
    await expect(p).resolves.toBe(42);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]?.[0]).toBe('abort');
    expect(remove.mock.calls[0]?.[1]).toBe(add.mock.calls[0]?.[1]);
    await client.disconnect();
  });

  it('answer clears the timer', async () => {
    const { client, transport, clock } = await connectedFakeClient();
    const p = client.call('m', {}, { timeoutMs: 4321 });
    expect(pendingDelays(clock)).toContain(4321);
    transport.current.reply('m', 'ok');
    await expect(p).resolves.toBe('ok');
    expect(pendingDelays(clock)).not.toContain(4321);
    await client.disconnect();
  });

  it('handled error not warned', async () => {
    const { logger, entries } = recordingLogger();
    const { client, transport } = await connectedFakeClient((b) => b.withLogger(logger));
    const p = client.call('m');
    transport.current.replyError('m', -32000, 'nope');
    const error = (await p.catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(RpcError);
    expect(error.message).toBe('nope (JSON-RPC error -32000)');
    const q = client.call('n');
    transport.current.reply('n', 1);
    await expect(q).resolves.toBe(1);
    expect(entries.filter((e) => e.level === 'warn')).toEqual([]);
    transport.current.receiveJson({ jsonrpc: '2.0', id: '99', error: { code: -32000, message: 'late' } });
    expect(entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual(['ignored an error response to no pending call']);
    await client.disconnect();
  });
});

describe('1009 suspect', () => {
  it('largest call is blamed', async () => {
    const { client, transport } = await connectedFakeClient();
    const small = client.call('play', { script: 'aaaa' }).catch((e: unknown) => e);
    const big = client.call('play', { script: 'bbbbbbbbbb' }).catch((e: unknown) => e);
    transport.current.serverClose({ code: 1009, reason: '' });
    const bigError = (await big) as FrameTooLargeError;
    expect(bigError).toBeInstanceOf(FrameTooLargeError);
    expect(bigError).toMatchObject({ code: 'FRAME_TOO_LARGE', direction: 'outbound', bytes: 75 });
    expect(bigError.message).toBe(
      'the server closed the connection with 1009 (message too big) while play (75 bytes, the largest call in flight) was in flight; it was not re-sent',
    );
    const smallError = (await small) as Error;
    expect(smallError).toBeInstanceOf(OutcomeUnknownError);
    expect(smallError.message).toBe(
      'play was in flight when the connection dropped; the server may or may not have run it, and it was not re-sent because calls in flight at a 1009 close (message too big) are never re-sent',
    );
    await client.disconnect();
  });

  it('first of equal size blamed', async () => {
    const { client, transport } = await connectedFakeClient();
    const first = client.call('play', { script: 'aaaa' }).catch((e: unknown) => e);
    const second = client.call('play', { script: 'bbbb' }).catch((e: unknown) => e);
    transport.current.serverClose({ code: 1009, reason: '' });
    const firstError = (await first) as FrameTooLargeError;
    expect(firstError).toBeInstanceOf(FrameTooLargeError);
    expect(firstError.bytes).toBe(69);
    expect(await second).toBeInstanceOf(OutcomeUnknownError);
    await client.disconnect();
  });

  it('drop with nothing sent', async () => {
    const { client, transport } = await connectedFakeClient();
    expect(() => transport.current.serverClose({ code: 1006, reason: '' })).not.toThrow();
    await flush();
    expect(client.status).toBe('backoff');
    await client.disconnect();
  });
});

describe('call arguments', () => {
  it('empty method refused', async () => {
    const { client } = fakeClient();
    for (const method of ['', 42 as never]) {
      const error = (await client.call(method).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toBe('the method must be a non-empty string');
    }
  });

  it('bad params refused', async () => {
    const { client } = fakeClient();
    for (const params of [null, [], 5, 'x']) {
      const error = (await client.call('play', params as never).catch((e: unknown) => e)) as Error;
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(error.message).toBe('params of play must be an object (named parameters)');
    }
  });

  it('call timeoutMs named', async () => {
    const { client } = fakeClient();
    const error = (await client.call('m', {}, { timeoutMs: 0 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('timeoutMs must be a positive finite number of milliseconds, got 0');
  });
});

describe('connect and whenReady', () => {
  it('whenReady timeoutMs named', async () => {
    const { client } = fakeClient();
    const error = (await client.whenReady({ timeoutMs: -1 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('timeoutMs must be a positive finite number of milliseconds, got -1');
    const connectError = (await client.connect({ timeoutMs: -1 }).catch((e: unknown) => e)) as Error;
    expect(connectError).toBeInstanceOf(InvalidArgumentError);
    expect(connectError.message).toBe('timeoutMs must be a positive finite number of milliseconds, got -1');
  });

  it('whenReady aborted', async () => {
    const { client } = fakeClient();
    const controller = new AbortController();
    controller.abort();
    const error = (await client.whenReady({ signal: controller.signal }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(AbortError);
    expect(error.message).toBe('whenReady() was aborted');
  });

  it('whenReady refuses at once', async () => {
    const { client, clock } = fakeClient();
    const p = outcome(client.whenReady());
    await flushMicrotasks();
    const error = p.get() as Error;
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(error.message).toBe('the client is not connected: call connect() first');
    expect(clock.pending()).toEqual([]);
    expect(client.status).toBe('disconnected');
  });

  it('connect listener once, removed', async () => {
    const { client, transport, clock } = fakeClient();
    const signal = new AbortController().signal;
    const add = vi.spyOn(signal, 'addEventListener');
    const remove = vi.spyOn(signal, 'removeEventListener');
    const ready = client.connect({ signal, timeoutMs: 5555 });
    expect(add).toHaveBeenCalledTimes(1);
    expect(add).toHaveBeenCalledWith('abort', expect.any(Function), { once: true });
    transport.current.open();
    await ready;
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]?.[0]).toBe('abort');
    expect(remove.mock.calls[0]?.[1]).toBe(add.mock.calls[0]?.[1]);
    expect(pendingDelays(clock)).not.toContain(5555);
    await client.disconnect();
  });

  it('other waiter survives abort', async () => {
    const { client, transport } = fakeClient();
    const controller = new AbortController();
    const first = outcome(client.connect({ signal: controller.signal }));
    const second = outcome(client.connect());
    controller.abort();
    await flushMicrotasks();
    expect(first.get()).toBeInstanceOf(AbortError);
    expect((first.get() as Error).message).toBe('connect() was aborted');
    expect(second.get()).toBe('pending');
    transport.current.open();
    await flushMicrotasks();
    expect(second.get()).toBe('resolved');
    await client.disconnect();
  });

  it('disconnect rejects waiter', async () => {
    const { client } = fakeClient();
    const ready = outcome(client.connect());
    await expect(client.disconnect()).resolves.toBeUndefined();
    await flushMicrotasks();
    const error = ready.get() as Error;
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(error.message).toBe('the client was disconnected');
  });
});

describe('status listeners', () => {
  it('listener sees connected', async () => {
    const { client, transport } = fakeClient();
    const seen: string[] = [];
    client.on('status', (status, previous) => seen.push(`${previous}>${status}`));
    const ready = client.connect();
    transport.current.open();
    await ready;
    expect(seen).toEqual(['disconnected>connecting', 'connecting>connected']);
    await client.disconnect();
  });

  it('unsubscribe stops delivery', async () => {
    const { client, transport } = fakeClient();
    const kept: string[] = [];
    const dropped: string[] = [];
    client.on('status', (status) => kept.push(status));
    const off = client.on('status', (status) => dropped.push(status));
    off();
    const ready = client.connect();
    transport.current.open();
    await ready;
    expect(kept).toEqual(['connecting', 'connected']);
    expect(dropped).toEqual([]);
    await client.disconnect();
  });
});

describe('machine error', () => {
  it('actor error rejects all', async () => {
    const { logger, entries } = recordingLogger();
    const fake = new FakeTransport();
    const factory: TransportFactory = (url, handlers, options) => {
      const inner = fake.factory(url, handlers, options);
      return {
        send: (data) => inner.send(data),
        ping: () => inner.ping(),
        close: () => {
          throw new Error('close failed');
        },
        terminate: () => inner.terminate(),
        bufferedAmount: 0,
      };
    };
    const { client } = fakeClient((b) => b.withTransport(factory).withLogger(logger));
    const ready = outcome(client.connect());
    const queued = outcome(client.call('m'));
    await client.disconnect();
    await flushMicrotasks();
    for (const p of [ready, queued]) {
      const error = p.get() as CircleWsError;
      expect(error).toBeInstanceOf(CircleWsError);
      expect(error.code).toBe('INTERNAL');
      expect(error.message).toBe('the connection machine stopped on an error: Error: close failed');
    }
    expect(entries.filter((e) => e.level === 'error')).toEqual([
      { level: 'error', message: 'the connection machine stopped on an error', fields: { error: 'Error: close failed' } },
    ]);
    expect(fake.current.terminated).toBe(true);
  });
});
