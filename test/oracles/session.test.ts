/**
 * The chart's guarantees checked against the README and the protocol rather than against the
 * chart: each expected value below is a literal (a count of frames, a state, an error class),
 * so a bug written into `machines/connection.ts` or the facade fails here even though the
 * model-based tests, which take the chart as their oracle, would follow it.
 */
import { describe, expect, it } from 'vitest';
import { NotConnectedError } from '../../src/index.js';
import { settle as settled } from '../faults/support.js';
import { fakeSession, flush, handshake, pendingDelays } from '../support/fake-session.js';

const timeouts = { connectMs: 7_000, authMs: 8_000 };
const requestMs = 600_000;
const keepAlive = { intervalMs: 20_000, timeoutMs: 3_000 };

const methodsSent = (s: ReturnType<typeof fakeSession>, socket = s.fake.current) => socket.requests().map((r) => r.method);

describe('expired nonce (protocol: one fresh nonce, then give up)', () => {
  it('a nonce that expires twice ends in failed after exactly one retry on the same socket', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs));
    const connected = settled(s.client.connect());
    s.fake.current.open();
    await flush();
    s.fake.current.reply('fetch_nonce', 'nonce-1');
    await flush();
    s.fake.current.replyError('authenticate', -32002, 'Invalid Credentials: nonce expired');
    await flush();
    // One retry: a second nonce on the same socket.
    expect(s.client.status).toBe('fetchingNonce');
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate', 'fetch_nonce']);
    s.fake.current.reply('fetch_nonce', 'nonce-2');
    await flush();
    s.fake.current.replyError('authenticate', -32002, 'Invalid Credentials: nonce expired');
    await flush();
    expect(s.client.status).toBe('failed');
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate', 'fetch_nonce', 'authenticate']);
    expect(s.fake.sockets).toHaveLength(1);
    const result = await connected;
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatchObject({ name: 'AuthError', code: 'NONCE_EXPIRED' });
    // Terminal: nothing scheduled to try again.
    expect(pendingDelays(s.clock, [requestMs])).toEqual([]);
    await s.client.disconnect();
  });

  it('the retry budget is per socket: a new socket gets its fresh retry again', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs));
    s.client.connect().catch(() => {});
    s.fake.current.open();
    await flush();
    s.fake.current.reply('fetch_nonce', 'nonce-1');
    await flush();
    s.fake.current.replyError('authenticate', -32002, 'Invalid Credentials: nonce expired');
    await flush();
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(s.client.status).toBe('backoff');
    s.clock.runNext();
    await flush();
    s.fake.current.open();
    await flush();
    s.fake.current.reply('fetch_nonce', 'nonce-3');
    await flush();
    s.fake.current.replyError('authenticate', -32002, 'Invalid Credentials: nonce expired');
    await flush();
    expect(s.client.status).toBe('fetchingNonce');
    await s.client.disconnect();
  });
});

describe('keep-alive (README: probe after 20 s of silence here, dead 3 s later, one grace turn)', () => {
  const build = (supportsPing = true) =>
    fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs).withKeepAlive(keepAlive), { supportsPing });

  it('a silent link is probed once, exactly when the interval has passed', async () => {
    const s = build();
    s.client.connect().catch(() => {});
    await handshake(s);
    s.clock.advance(19_999);
    expect(s.fake.current.pings).toBe(0);
    s.clock.advance(1);
    expect(s.fake.current.pings).toBe(1);
    s.clock.advance(2_999);
    expect(s.fake.current.pings).toBe(1);
    expect(s.client.status).toBe('authenticated');
    await s.client.disconnect();
  });

  it('without ping frames the probe is a whoami request', async () => {
    const s = build(false);
    s.client.connect().catch(() => {});
    await handshake(s);
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate']);
    s.clock.advance(20_000);
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate', 'whoami']);
    // Any answer, even an error, proves the link.
    s.fake.current.replyError('whoami', -32601, 'no such method');
    await flush();
    s.clock.advance(3_000);
    await flush();
    expect(s.client.status).toBe('authenticated');
    expect(s.fake.current.terminated).toBe(false);
    await s.client.disconnect();
  });

  it('an unanswered probe drops the link after the deadline and the grace turn', async () => {
    const s = build();
    s.client.connect().catch(() => {});
    await handshake(s);
    s.clock.advance(20_000);
    s.clock.fire((t) => t.ms === 3_000);
    // The deadline has passed; the grace turn (a 0 ms timer) is still to run.
    expect(s.client.status).toBe('authenticated');
    expect(pendingDelays(s.clock, [requestMs])).toContain(0);
    s.clock.advance(0);
    await flush();
    expect(s.client.status).toBe('backoff');
    expect(s.fake.sockets[0]!.terminated).toBe(true);
    expect(s.client.lastError).toMatchObject({ code: 'CONNECTION_LOST' });
    expect(s.client.actor.getSnapshot().context.lastFailure?.code).toBe('LINK_DEAD');
    await s.client.disconnect();
  });

  for (const [what, arrive] of [
    ['a pong', (s: ReturnType<typeof build>) => s.fake.current.pong()],
    ['a data frame', (s: ReturnType<typeof build>) => s.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: {} })],
  ] as const) {
    it(`${what} read in the grace turn after the probe deadline keeps the link`, async () => {
      const s = build();
      s.client.connect().catch(() => {});
      await handshake(s);
      s.clock.advance(20_000);
      expect(s.fake.current.pings).toBe(1);
      // The deadline timer fires first (a late timer), with the frame already waiting to be read.
      s.clock.fire((t) => t.ms === 3_000);
      expect(pendingDelays(s.clock, [requestMs])).toContain(0);
      arrive(s);
      await flush();
      s.clock.advance(0);
      await flush();
      expect(s.client.status).toBe('authenticated');
      expect(s.fake.current.terminated).toBe(false);
      expect(s.fake.sockets).toHaveLength(1);
      // Back to watching: the next probe comes after another whole quiet interval.
      expect(pendingDelays(s.clock, [requestMs])).not.toContain(0);
      s.clock.advance(19_999);
      expect(s.fake.current.pings).toBe(1);
      s.clock.advance(1);
      expect(s.fake.current.pings).toBe(2);
      await s.client.disconnect();
    });
  }

  it('inbound data frames count as proof of life: no probe while they keep coming', async () => {
    const s = build();
    s.client.connect().catch(() => {});
    await handshake(s);
    // A notification at 15 s: silence now runs from there.
    s.clock.advance(15_000);
    s.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: {} });
    s.clock.advance(5_000); // 20 s after the handshake, 5 s after the frame
    expect(s.fake.current.pings).toBe(0);
    s.clock.advance(14_999);
    expect(s.fake.current.pings).toBe(0);
    s.clock.advance(1); // 20 s after the frame
    expect(s.fake.current.pings).toBe(1);
    await s.client.disconnect();
  });

  it('a response to an application call also delays the probe', async () => {
    const s = build();
    s.client.connect().catch(() => {});
    await handshake(s);
    const answered = s.client.whoami();
    s.clock.advance(10_000);
    s.fake.current.reply('whoami', { authenticated: true, pubkey: 'x' });
    await flush();
    await answered;
    s.clock.advance(10_000);
    expect(s.fake.current.pings).toBe(0);
    s.clock.advance(10_000);
    expect(s.fake.current.pings).toBe(1);
    await s.client.disconnect();
  });

  it('a data frame answers a probe that is out', async () => {
    const s = build();
    s.client.connect().catch(() => {});
    await handshake(s);
    s.clock.advance(20_000);
    expect(s.fake.current.pings).toBe(1);
    s.clock.advance(1_000);
    s.fake.current.receiveJson({ jsonrpc: '2.0', method: 'tick', params: {} });
    await flush();
    s.clock.advance(2_000); // past the probe's deadline
    await flush();
    expect(s.client.status).toBe('authenticated');
    expect(s.fake.current.terminated).toBe(false);
    await s.client.disconnect();
  });
});

describe('calls wait for authentication (README: calls made while connecting are queued)', () => {
  it('no application frame leaves before authenticate succeeds; then each goes exactly once', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs).withKeepAlive(false));
    s.client.connect().catch(() => {});
    const calls = [settled(s.client.play('1'))];
    s.fake.current.open();
    await flush();
    expect(s.client.status).toBe('fetchingNonce');
    calls.push(settled(s.client.whoami()));
    expect(methodsSent(s)).toEqual(['fetch_nonce']);
    s.fake.current.reply('fetch_nonce', 'nonce-1');
    await flush();
    expect(s.client.status).toBe('authenticating');
    calls.push(settled(s.client.call('app.method', { n: 1 })));
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate']);
    s.fake.current.reply('authenticate', true);
    await flush();
    expect(s.client.status).toBe('authenticated');
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate', 'play', 'whoami', 'app.method']);
    await s.client.disconnect();
    await Promise.all(calls);
  });

  it('a refused authentication sends none of the queued calls', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs));
    s.client.connect().catch(() => {});
    const call = settled(s.client.play('1'));
    s.fake.current.open();
    await flush();
    s.fake.current.reply('fetch_nonce', 'nonce-1');
    await flush();
    s.fake.current.reply('authenticate', false);
    await flush();
    expect(s.client.status).toBe('failed');
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate']);
    const r = await call;
    expect(!r.ok && r.error).toMatchObject({ name: 'AuthError', code: 'AUTH_REFUSED' });
    await s.client.disconnect();
  });
});

describe('disconnect() with calls in flight (README: every pending call rejects with NotConnectedError)', () => {
  it('calls already sent reject with exactly NotConnectedError, code NOT_CONNECTED', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs));
    s.client.connect().catch(() => {});
    await handshake(s);
    const calls = [settled(s.client.play('1')), settled(s.client.whoami()), settled(s.client.call('x', {}, { idempotent: true }))];
    expect(methodsSent(s)).toEqual(['fetch_nonce', 'authenticate', 'play', 'whoami', 'x']);
    await s.client.disconnect();
    for (const r of await Promise.all(calls)) {
      expect(r.ok).toBe(false);
      const error = !r.ok ? (r.error as Error & { code?: string }) : undefined;
      expect(error?.constructor).toBe(NotConnectedError);
      expect(error?.code).toBe('NOT_CONNECTED');
      expect(error?.name).toBe('NotConnectedError');
    }
    expect(s.clock.pending()).toEqual([]);
  });
});

describe('connect() starts afresh (README: a new attempt counter, the last failure forgotten)', () => {
  it('after a failure with reconnection off, connect() begins at attempt 0 with no last error', async () => {
    const s = fakeSession((b) => b.withTimeouts(timeouts).withRequestTimeout(requestMs).withReconnect(false));
    s.client.connect().catch(() => {});
    s.fake.current.serverClose({ code: 1006, reason: '' });
    await flush();
    expect(s.client.status).toBe('disconnected');
    expect(s.client.actor.getSnapshot().context.attempt).toBe(1);
    expect(s.client.lastError?.code).toBe('CONNECTION_LOST');

    s.client.connect().catch(() => {});
    expect(s.client.status).toBe('connecting');
    expect(s.client.actor.getSnapshot().context.attempt).toBe(0);
    expect(s.client.lastError).toBeNull();
    await s.client.disconnect();
  });
});
