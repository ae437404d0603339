/**
 * `flushMicrotasks()` (circle-ws-client/testing): enough turns for the client's signing step,
 * which one `await Promise.resolve()` is not, and no timer involved.
 */
import { describe, expect, it, vi } from 'vitest';
import { CircleWsClient, InvalidArgumentError, generateKeypair } from '../../src/index.js';
import { FakeTransport, ManualClock, flushMicrotasks } from '../../src/testing/index.js';

const { privateKey } = generateKeypair();

/** A client on the fake transport whose nonce has just been answered. */
function answeredNonce() {
  const clock = new ManualClock();
  const fake = new FakeTransport();
  const client = CircleWsClient.builder('ws://test/02ab').withTransport(fake.factory).withClock(clock).withKeypair(privateKey).build();
  const ready = client.connect();
  fake.current.open();
  fake.current.reply('fetch_nonce', 'nonce-1');
  return { client, fake, clock, ready };
}

const sentAuthenticate = (fake: FakeTransport) => fake.current.requests().some((request) => request.method === 'authenticate');

describe('flushMicrotasks', () => {
  it('lets the signature be computed and sent, where one microtask turn does not', async () => {
    const one = answeredNonce();
    await Promise.resolve();
    expect(sentAuthenticate(one.fake)).toBe(false);
    await one.client.disconnect();
    await one.ready.catch(() => undefined);

    const { client, fake, clock, ready } = answeredNonce();
    await flushMicrotasks();
    expect(sentAuthenticate(fake)).toBe(true);
    fake.current.reply('authenticate', true);
    await ready;
    expect(client.status).toBe('authenticated');
    // Nothing moved on the clock: the helper schedules no timer.
    expect(clock.now()).toBe(new ManualClock().now());
    await client.disconnect();
  });

  it('has room to spare: the turns the signing step needs today, measured', async () => {
    let needed = 0;
    for (let turns = 1; turns <= 20 && needed === 0; turns++) {
      const { client, fake, ready } = answeredNonce();
      await flushMicrotasks(turns);
      if (sentAuthenticate(fake)) needed = turns;
      await client.disconnect();
      await ready.catch(() => undefined);
    }
    console.log(`flushMicrotasks: the signing step needs ${needed} microtask turns; the default is 20`);
    expect(needed).toBeGreaterThan(1);
    expect(needed).toBeLessThanOrEqual(10);
  });

  it('works under fake timers, since it never schedules one', async () => {
    vi.useFakeTimers();
    try {
      // A helper that waited on setTimeout or setImmediate would never settle here (the test would time out).
      await expect(flushMicrotasks()).resolves.toBeUndefined();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects turns = %s with InvalidArgumentError', async (turns) => {
    await expect(flushMicrotasks(turns)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(flushMicrotasks(turns)).rejects.toThrow(/positive integer/);
  });
});
