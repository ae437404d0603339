/**
 * Reconnection delays against numbers written out by hand (docs: README "Reconnection": the
 * first delay's ceiling is 500 ms, doubling up to 30 s, full jitter). Nothing here calls
 * `backoffCeiling` to find out what to expect: an exponent off by one, a lost cap or a dropped
 * jitter changes a literal and fails.
 */
import { describe, expect, it } from 'vitest';
import { backoffCeiling, backoffDelay, defaultReconnectPolicy, type ReconnectPolicy } from '../../machines/connection.js';
import { fakeSession, flush, handshake, pendingDelays } from '../support/fake-session.js';

/** The default policy's ceilings for attempts 1 to 10. */
const defaultCeilings = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000];

/** A custom policy: 250 ms, tripling, capped at 5 s, 20 % jitter, 4 attempts. */
const custom: ReconnectPolicy = { initialDelayMs: 250, maxDelayMs: 5_000, multiplier: 3, jitter: 0.2, maxAttempts: 4 };
const customCeilings = [250, 750, 2_250, 5_000, 5_000];

// Timers of the fake clients below that are not reconnection delays: connect 7 s, handshake steps
// 8 s, request deadlines 600 s (all chosen to collide with no backoff delay).
const timeouts = { connectMs: 7_000, authMs: 8_000 };
const requestMs = 600_000;

describe('backoff arithmetic', () => {
  it('default policy: 500 ms, 1 s, 2 s, 4 s … capped at 30 s', () => {
    expect(defaultReconnectPolicy).toEqual({ initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2, jitter: 1, maxAttempts: Number.POSITIVE_INFINITY });
    expect(defaultCeilings.map((_, i) => backoffCeiling(i + 1, defaultReconnectPolicy))).toEqual(defaultCeilings);
    // Without jitter drawn (random 0) the delay is the ceiling.
    expect(defaultCeilings.map((_, i) => backoffDelay(i + 1, defaultReconnectPolicy, () => 0))).toEqual(defaultCeilings);
    // Full jitter: random 0.5 halves it, random just under 1 leaves (almost) nothing.
    expect(defaultCeilings.map((_, i) => backoffDelay(i + 1, defaultReconnectPolicy, () => 0.5))).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000, 15_000]);
    expect(defaultCeilings.map((_, i) => backoffDelay(i + 1, defaultReconnectPolicy, () => 0.999_999))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(backoffDelay(2, defaultReconnectPolicy, () => 0.25)).toBe(750);
  });

  it('custom policy: its own start, multiplier, cap and partial jitter', () => {
    expect(customCeilings.map((_, i) => backoffCeiling(i + 1, custom))).toEqual(customCeilings);
    expect(customCeilings.map((_, i) => backoffDelay(i + 1, custom, () => 0))).toEqual([250, 750, 2_250, 5_000, 5_000]);
    // 20 % jitter shortens by at most a fifth: random 0.5 takes off a tenth.
    expect(customCeilings.map((_, i) => backoffDelay(i + 1, custom, () => 0.5))).toEqual([225, 675, 2_025, 4_500, 4_500]);
    expect(customCeilings.map((_, i) => backoffDelay(i + 1, custom, () => 0.999_999))).toEqual([200, 600, 1_800, 4_000, 4_000]);
  });

  it('full jitter stays within [0, ceiling] for a fixed sequence of draws', () => {
    const draws = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.999_999];
    for (const [attempt, ceiling] of defaultCeilings.entries()) {
      for (const r of draws) {
        const delay = backoffDelay(attempt + 1, defaultReconnectPolicy, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
        // Uniform over the ceiling: the draw picks the point (rounded to the ms).
        expect(Math.abs(delay - ceiling * (1 - r))).toBeLessThanOrEqual(0.5);
      }
    }
  });

  it('attempt 0 and below are treated as the first attempt, never as a shorter delay', () => {
    expect(backoffCeiling(0, defaultReconnectPolicy)).toBe(500);
    expect(backoffCeiling(-3, defaultReconnectPolicy)).toBe(500);
  });
});

describe('the client schedules those delays', () => {
  /** Fails `n` connection attempts in a row (closed before opening) and returns each backoff delay scheduled. */
  async function delaysOf(configure: Parameters<typeof fakeSession>[0], n: number, random: () => number): Promise<number[]> {
    const s = fakeSession((b) => configure!(b.withTimeouts(timeouts).withRequestTimeout(requestMs).withRandom(random)));
    s.client.connect().catch(() => {});
    const seen: number[] = [];
    try {
      for (let i = 0; i < n; i++) {
        s.fake.current.serverClose({ code: 1006, reason: '' });
        await flush();
        expect(s.client.status).toBe('backoff');
        const delays = pendingDelays(s.clock, [requestMs]);
        expect(delays).toHaveLength(1);
        seen.push(delays[0]!);
        expect(s.client.actor.getSnapshot().context.retryDelayMs).toBe(delays[0]);
        s.clock.runNext();
        await flush();
        expect(s.client.status).toBe('connecting');
        expect(s.fake.sockets).toHaveLength(i + 2);
      }
    } finally {
      await s.client.disconnect();
    }
    expect(s.clock.pending()).toEqual([]);
    return seen;
  }

  it('default policy, no jitter drawn: 500, 1000, 2000 … 30000', async () => {
    expect(await delaysOf((b) => b, 10, () => 0)).toEqual(defaultCeilings);
  });

  it('default policy, draws of 0.5: half of each ceiling', async () => {
    expect(await delaysOf((b) => b, 8, () => 0.5)).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000]);
  });

  it('custom policy: 250, 750, 2250, 5000, then gives up after its 4 attempts', async () => {
    expect(await delaysOf((b) => b.withReconnect(custom), 4, () => 0)).toEqual([250, 750, 2_250, 5_000]);
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs).withReconnect(custom));
    const connected = s.client.connect().catch((e: unknown) => e);
    for (let i = 0; i < 4; i++) {
      s.fake.current.serverClose({ code: 1006, reason: '' });
      await flush();
      s.clock.runNext();
      await flush();
    }
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    // Five sockets: the first try and exactly four reconnection attempts.
    expect(s.fake.sockets).toHaveLength(5);
    expect(s.client.status).toBe('failed');
    expect(s.client.lastError).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(s.client.actor.getSnapshot().context.lastFailure?.code).toBe('RECONNECT_EXHAUSTED');
    expect(await connected).toMatchObject({ code: 'CONNECTION_FAILED' });
    await s.client.disconnect();
  });
});

describe('the attempt counter resets only after a stable session (5 s ready)', () => {
  it('a server that authenticates and drops within 5 s keeps the backoff growing', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs).withKeepAlive(false));
    s.client.connect().catch(() => {});
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      await handshake(s, `nonce-${i}`);
      expect(s.client.status).toBe('authenticated');
      // Ready for 4.999 s: not yet stable.
      s.clock.advance(4_999);
      s.fake.current.serverClose({ code: 1006, reason: '' });
      await flush();
      expect(s.client.status).toBe('backoff');
      delays.push(pendingDelays(s.clock, [requestMs])[0]!);
      s.clock.runNext();
      await flush();
    }
    expect(delays).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
    expect(s.client.actor.getSnapshot().context.attempt).toBe(5);
    await s.client.disconnect();
  });

  it('a session that stays ready 5 s starts the next backoff from 500 ms again', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs).withKeepAlive(false));
    s.client.connect().catch(() => {});
    for (let i = 0; i < 3; i++) {
      s.fake.current.serverClose({ code: 1006, reason: '' });
      await flush();
      s.clock.runNext();
      await flush();
    }
    expect(s.client.actor.getSnapshot().context.attempt).toBe(3);
    await handshake(s);
    // Ready, but not yet for 5 s: the counter still holds the three failures.
    s.clock.advance(4_999);
    expect(s.client.actor.getSnapshot().context.attempt).toBe(3);
    s.clock.advance(1);
    expect(s.client.actor.getSnapshot().context.attempt).toBe(0);
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(pendingDelays(s.clock, [requestMs])).toEqual([500]);
    await s.client.disconnect();
  });
});
