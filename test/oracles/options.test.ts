/**
 * The builder's options, refused and accepted, with every message written out, and what a built
 * client starts with (read from its machine's context). The facade tests check that bad values
 * throw; these check which values, at the edges, and what the error says.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultNetworkEvents } from '../../src/client/options.js';
import { failureError } from '../../src/client/failures.js';
import { CircleWsClient, type CircleWsClientBuilder, ConnectionFailedError, createSigner, generateKeypair, InvalidArgumentError, NotConnectedError } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';

const url = 'ws://127.0.0.1:1/circle';
const b = (): CircleWsClientBuilder => CircleWsClient.builder(url);

/** The message of the InvalidArgumentError `make` throws (fails the test when it throws anything else). */
function refusal(make: () => unknown): string {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidArgumentError, nothing was thrown');
}

/** The context a client built from `builder` starts with. */
function contextOf(builder: CircleWsClientBuilder) {
  const client = builder.withTransport(new FakeTransport().factory).withClock(new ManualClock()).build();
  return client.actor.getSnapshot().context;
}

describe('URL', () => {
  it('refusals', () => {
    expect(refusal(() => CircleWsClient.builder(''))).toBe('the server URL must be a non-empty string such as ws://127.0.0.1:8080/CIRCLE_PK');
    expect(refusal(() => CircleWsClient.builder(42 as never))).toBe('the server URL must be a non-empty string such as ws://127.0.0.1:8080/CIRCLE_PK');
    expect(refusal(() => CircleWsClient.builder('not a url'))).toBe('the server URL is not a valid URL: "not a url"');
    expect(refusal(() => CircleWsClient.builder('http://example.com/x'))).toBe('the server URL must start with ws:// or wss://, not http://');
  });

  it('a long bad URL is cut', () => {
    const long = `x${'y'.repeat(300)}`;
    expect(refusal(() => CircleWsClient.builder(long))).toBe(`the server URL is not a valid URL: "x${'y'.repeat(199)}"`);
  });

  it('ws and wss accepted', () => {
    expect(contextOf(CircleWsClient.builder('ws://h/1')).url).toBe('ws://h/1');
    expect(contextOf(CircleWsClient.builder('wss://h/1')).url).toBe('wss://h/1');
  });
});

describe('deadlines', () => {
  it('refusals name the option', () => {
    expect(refusal(() => b().withRequestTimeout(0))).toBe('requestTimeout must be a positive finite number of milliseconds, got 0');
    expect(refusal(() => b().withRequestTimeout(2 ** 31))).toBe('requestTimeout must be at most 2147483647 ms, got 2147483648');
    expect(refusal(() => b().withTimeouts({ connectMs: -1 }))).toBe('connectMs must be a positive finite number of milliseconds, got -1');
    expect(refusal(() => b().withTimeouts({ authMs: Number.NaN }))).toBe('authMs must be a positive finite number of milliseconds, got NaN');
    expect(refusal(() => b().withTimeouts({ signMs: Infinity }))).toBe('signMs must be a positive finite number of milliseconds, got Infinity');
    expect(refusal(() => b().withReconnect({ initialDelayMs: -1 }))).toBe('reconnect.initialDelayMs must be a non-negative finite number of milliseconds, got -1');
  });

  it('the largest timer is accepted', () => {
    expect(() => b().withRequestTimeout(2_147_483_647)).not.toThrow();
    const context = contextOf(b().withTimeouts({ connectMs: 2_147_483_647, authMs: 1 }));
    expect(context.connectTimeoutMs).toBe(2_147_483_647);
    expect(context.authTimeoutMs).toBe(1);
  });

  it('defaults in the context', () => {
    const context = contextOf(b());
    expect(context.connectTimeoutMs).toBe(10_000);
    expect(context.authTimeoutMs).toBe(10_000);
    // No signer at all: signing follows authMs, as for a key held in-process.
    expect(context.signTimeoutMs).toBe(10_000);
    expect(contextOf(b().withKeypair(generateKeypair().privateKey)).signTimeoutMs).toBe(10_000);
  });
});

describe('keep-alive', () => {
  it('refusals', () => {
    expect(refusal(() => b().withKeepAlive(null as never))).toBe('withKeepAlive takes { intervalMs, timeoutMs } or false');
    expect(refusal(() => b().withKeepAlive(5 as never))).toBe('withKeepAlive takes { intervalMs, timeoutMs } or false');
    expect(refusal(() => b().withKeepAlive({ intervalMs: 0 }))).toBe('keepAlive.intervalMs must be a positive finite number of milliseconds, got 0');
    expect(refusal(() => b().withKeepAlive({ timeoutMs: -5 }))).toBe('keepAlive.timeoutMs must be a positive finite number of milliseconds, got -5');
  });

  it('fields left out keep defaults', () => {
    expect(contextOf(b()).keepAlive).toEqual({ intervalMs: 30_000, timeoutMs: 10_000 });
    expect(contextOf(b().withKeepAlive({ timeoutMs: 7 })).keepAlive).toEqual({ intervalMs: 30_000, timeoutMs: 7 });
    expect(contextOf(b().withKeepAlive(false)).keepAlive).toBeNull();
  });
});

describe('reconnect', () => {
  it('refusals', () => {
    expect(refusal(() => b().withReconnect(null as never))).toBe('withReconnect takes { initialDelayMs, maxDelayMs, multiplier, jitter, maxAttempts } or false');
    expect(refusal(() => b().withReconnect('x' as never))).toBe('withReconnect takes { initialDelayMs, maxDelayMs, multiplier, jitter, maxAttempts } or false');
    expect(refusal(() => b().withReconnect({ maxDelayMs: -1 }))).toBe('reconnect.maxDelayMs must be a non-negative finite number of milliseconds, got -1');
    expect(refusal(() => b().withReconnect({ initialDelayMs: 10, maxDelayMs: 5 }))).toBe('reconnect.maxDelayMs (5) must not be below reconnect.initialDelayMs (10)');
  });

  it('multiplier edges', () => {
    const message = (v: unknown) => `reconnect.multiplier must be a finite number of at least 1, got ${String(v)}`;
    for (const bad of ['2', 0.99, Infinity, Number.NaN]) expect(refusal(() => b().withReconnect({ multiplier: bad as number }))).toBe(message(bad));
    expect(contextOf(b().withReconnect({ multiplier: 1 })).reconnect?.multiplier).toBe(1);
  });

  it('jitter edges', () => {
    const message = (v: unknown) => `reconnect.jitter must be between 0 (none) and 1 (full jitter), got ${String(v)}`;
    for (const bad of ['1', -0.01, 1.01, Number.NaN]) expect(refusal(() => b().withReconnect({ jitter: bad as number }))).toBe(message(bad));
    expect(contextOf(b().withReconnect({ jitter: 0 })).reconnect?.jitter).toBe(0);
    expect(contextOf(b().withReconnect({ jitter: 1 })).reconnect?.jitter).toBe(1);
  });

  it('maxAttempts edges', () => {
    const message = (v: unknown) => `reconnect.maxAttempts must be a whole number ≥ 0 or Infinity, got ${String(v)}`;
    for (const bad of ['3', Number.NaN, -1, -Infinity, 1.5]) expect(refusal(() => b().withReconnect({ maxAttempts: bad as number }))).toBe(message(bad));
    for (const good of [0, 3, Infinity]) expect(contextOf(b().withReconnect({ maxAttempts: good })).reconnect?.maxAttempts).toBe(good);
  });

  it('fields left out keep defaults', () => {
    const defaults = { initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2, jitter: 1, maxAttempts: Infinity };
    expect(contextOf(b()).reconnect).toEqual(defaults);
    expect(contextOf(b().withReconnect({ maxDelayMs: 1_000 })).reconnect).toEqual({ ...defaults, maxDelayMs: 1_000 });
    expect(contextOf(b().withReconnect({ initialDelayMs: 0, maxDelayMs: 0 })).reconnect).toEqual({ ...defaults, initialDelayMs: 0, maxDelayMs: 0 });
    expect(contextOf(b().withReconnect(false)).reconnect).toBeNull();
  });
});

describe('other options', () => {
  it('function options', () => {
    expect(refusal(() => b().withTransport(42 as never))).toBe('withTransport takes a transport factory function');
    expect(refusal(() => b().withRandom(0.5 as never))).toBe('withRandom takes a function returning 0 ≤ r < 1');
    const crypto = 'withCrypto takes { derivePublicKey, signNonce }';
    expect(refusal(() => b().withCrypto(undefined as never))).toBe(crypto);
    expect(refusal(() => b().withCrypto({ signNonce: () => '' } as never))).toBe(crypto);
    expect(refusal(() => b().withCrypto({ derivePublicKey: () => '' } as never))).toBe(crypto);
  });

  it('clock', () => {
    const message = 'withClock takes { setTimeout, clearTimeout, now }';
    const ok = new ManualClock();
    const timers = { setTimeout: ok.setTimeout.bind(ok), clearTimeout: ok.clearTimeout.bind(ok), now: ok.now.bind(ok) };
    expect(refusal(() => b().withClock(undefined as never))).toBe(message);
    expect(refusal(() => b().withClock({ ...timers, setTimeout: 1 } as never))).toBe(message);
    expect(refusal(() => b().withClock({ ...timers, clearTimeout: 1 } as never))).toBe(message);
    expect(refusal(() => b().withClock({ ...timers, now: 1 } as never))).toBe(message);
    expect(() => b().withClock(timers)).not.toThrow();
  });

  it('network events', () => {
    const message = 'withNetworkEvents takes an EventTarget-like { addEventListener, removeEventListener } or false';
    const noop = (): void => {};
    expect(refusal(() => b().withNetworkEvents(undefined as never))).toBe(message);
    expect(refusal(() => b().withNetworkEvents({ removeEventListener: noop } as never))).toBe(message);
    expect(refusal(() => b().withNetworkEvents({ addEventListener: noop } as never))).toBe(message);
    expect(() => b().withNetworkEvents({ addEventListener: noop, removeEventListener: noop })).not.toThrow();
    expect(() => b().withNetworkEvents(false)).not.toThrow();
  });

  it('queue limit', () => {
    const message = (v: unknown) => `withQueueLimit takes a whole number ≥ 0, got ${String(v)}`;
    for (const bad of ['5', 1.5, -1, Number.NaN]) expect(refusal(() => b().withQueueLimit(bad as number))).toBe(message(bad));
    expect(() => b().withQueueLimit(0)).not.toThrow();
  });

  it('frame limits', () => {
    expect(refusal(() => b().withMaxFrameBytes(1023))).toBe('withMaxFrameBytes takes a whole number of bytes from 1024 to 2147483647, got 1023');
    expect(refusal(() => b().withMaxInboundFrameBytes(2 ** 31))).toBe('withMaxInboundFrameBytes takes a whole number of bytes from 1024 to 2147483647, got 2147483648');
    expect(() => b().withMaxFrameBytes(1024).withMaxInboundFrameBytes(2 ** 31 - 1)).not.toThrow();
  });

  it('resign option', () => {
    const signer = createSigner(generateKeypair().privateKey);
    expect(refusal(() => b().withSigner(signer, { resign: 'never' as never }))).toBe(`withSigner's resign option must be 'onConnect' or 'automatic', got "never"`);
    expect(refusal(() => b().withSigner(signer, { resign: 'x'.repeat(50) as never }))).toBe(`withSigner's resign option must be 'onConnect' or 'automatic', got "${'x'.repeat(40)}"`);
    expect(refusal(() => b().withSigner(signer, { resign: 3 as never }))).toBe(`withSigner's resign option must be 'onConnect' or 'automatic', got number`);
    // No options object at all (a JavaScript caller's null) keeps the default.
    expect(contextOf(b().withSigner(signer, null as never)).resign).toBe('automatic');
  });
});

describe('failure errors', () => {
  it('no failure', () => {
    const error = failureError(null, 1024);
    expect(error).toBeInstanceOf(NotConnectedError);
    expect(error.message).toBe('the client is not connected');
  });

  it('status and close code kept', () => {
    const failed = failureError({ code: 'CONNECTION_FAILED', message: 'refused', status: 404 }, 1024);
    expect(failed).toBeInstanceOf(ConnectionFailedError);
    expect([failed.message, (failed as ConnectionFailedError).status, (failed as ConnectionFailedError).closeCode]).toEqual(['refused', 404, undefined]);
    const exhausted = failureError({ code: 'RECONNECT_EXHAUSTED', message: 'gave up', closeCode: 4000 }, 1024) as ConnectionFailedError;
    expect([exhausted.message, exhausted.status, exhausted.closeCode]).toEqual(['gave up', undefined, 4000]);
  });
});

describe('browser network events', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });
  const noop = (): void => {};
  const target = { addEventListener: noop, removeEventListener: noop };

  it('none in Node', () => {
    expect(defaultNetworkEvents()).toBeUndefined();
  });

  it('a browser window', () => {
    vi.stubGlobal('window', target);
    vi.stubGlobal('navigator', { onLine: true });
    expect(defaultNetworkEvents()).toBe(target);
  });

  it('not a browser', () => {
    vi.stubGlobal('navigator', { onLine: true });
    vi.stubGlobal('window', null);
    expect(defaultNetworkEvents()).toBeUndefined();
    vi.stubGlobal('window', 'window');
    expect(defaultNetworkEvents()).toBeUndefined();
    vi.stubGlobal('window', target);
    vi.stubGlobal('navigator', {});
    expect(defaultNetworkEvents()).toBeUndefined();
    vi.stubGlobal('navigator', { onLine: true });
    vi.stubGlobal('window', { addEventListener: noop });
    expect(defaultNetworkEvents()).toBeUndefined();
    vi.stubGlobal('window', { removeEventListener: noop });
    expect(defaultNetworkEvents()).toBeUndefined();
  });
});
