/**
 * The two public signatures the packaging review fixed, at run time (pack.test.ts checks their
 * types from a consumer): `statusOf` gives the same answer for a snapshot as for its state value,
 * and `lastError` is a `CircleWsError` whose `code` says what happened.
 */
import { describe, expect, it } from 'vitest';
import { statusOf } from '../../machines/connection.js';
import { CircleWsClient, CircleWsError, type CircleWsStatus } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
};

function fakeClient() {
  const transport = new FakeTransport();
  const client = CircleWsClient.builder('ws://fake/02aa')
    .withTransport(transport.factory)
    .withClock(new ManualClock())
    .withRandom(() => 0)
    .withReconnect(false)
    .withKeepAlive(false)
    .build();
  return { transport, client };
}

describe('statusOf', () => {
  it.each<[string, Parameters<typeof statusOf>[0], CircleWsStatus]>([
    ['a flat state value', 'failed', 'failed'],
    ['a nested state value', { session: { authenticated: 'idle' } }, 'authenticated'],
    ['a snapshot-like object', { value: { session: 'connecting' } }, 'connecting'],
    ['a snapshot of a stopped session', { value: 'disconnected' }, 'disconnected'],
  ])('reads %s', (_name, input, expected) => {
    expect(statusOf(input)).toBe(expected);
  });

  it("answers for a live actor's snapshot what the client reports, at every step", async () => {
    const { transport, client } = fakeClient();
    const seen: Array<[CircleWsStatus, CircleWsStatus]> = [];
    const record = (): void => {
      seen.push([statusOf(client.actor.getSnapshot()), client.status]);
    };
    record();
    const ready = client.connect();
    record();
    transport.current.open();
    await ready;
    record();
    await client.disconnect();
    record();
    expect(seen.map(([, status]) => status)).toEqual(['disconnected', 'connecting', 'connected', 'disconnected']);
    expect(seen.map(([fromSnapshot]) => fromSnapshot)).toEqual(seen.map(([, status]) => status));
  });
});

describe('lastError', () => {
  it('is null before any failure, then a CircleWsError with a code', async () => {
    const { transport, client } = fakeClient();
    expect(client.lastError).toBeNull();
    const attempt = client.connect().catch((error: unknown) => error);
    transport.current.serverClose({ code: 1006, reason: '' });
    await flush();
    const rejected = await attempt;
    const error = client.lastError;
    expect(error).toBeInstanceOf(CircleWsError);
    // Typed as CircleWsError | null, so `.code` needs no cast.
    expect(error?.code).toBe('CONNECTION_LOST');
    expect(rejected).toMatchObject({ code: error?.code });
    await client.disconnect();
  });
});
