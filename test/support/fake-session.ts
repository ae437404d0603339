/**
 * A client wired to the test kit's fake transport and manual clock, and the few moves the oracle
 * tests repeat (a handshake, a flush of pending promise callbacks). Nothing here computes an
 * expected value: the tests write theirs out as literals.
 */
import { CircleWsClient, type CircleWsClientBuilder, generateKeypair } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';

export const fakeKey = generateKeypair();

export interface FakeSession {
  client: CircleWsClient;
  clock: ManualClock;
  fake: FakeTransport;
}

/** Builds a keyed client on a fake transport and a manual clock; `configure` adds builder options. */
export function fakeSession(configure: (b: CircleWsClientBuilder) => CircleWsClientBuilder = (b) => b, options: { supportsPing?: boolean } = {}): FakeSession {
  const clock = new ManualClock();
  const fake = new FakeTransport(options);
  const builder = CircleWsClient.builder('ws://fake/circle')
    .withTransport(fake.factory)
    .withClock(clock)
    .withRandom(() => 0)
    .withNetworkEvents(false)
    .withKeypair(fakeKey.privateKey);
  return { client: configure(builder).build(), clock, fake };
}

/** Lets promise callbacks and queued microtasks (the fake socket's closes) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

/** Plays the server through a whole successful handshake on the current fake socket. */
export async function handshake(s: FakeSession, nonce = 'nonce-1'): Promise<void> {
  s.fake.current.open();
  await flush();
  s.fake.current.reply('fetch_nonce', nonce);
  await flush();
  s.fake.current.reply('authenticate', true);
  await flush();
}

/** The delays of the timers now scheduled on the clock, in ms, smallest first. */
export function pendingDelays(clock: ManualClock, ignore: number[] = []): number[] {
  return clock
    .pending()
    .map((t) => t.ms)
    .filter((ms) => !ignore.includes(ms))
    .sort((a, b) => a - b);
}
