import { InvalidArgumentError } from '../errors.js';

/**
 * Lets the client's pending promise work run to the end without moving any clock.
 *
 * Between two things a test does to a fake socket, the client still has work queued on the
 * microtask queue: the nonce is signed inside a promise actor, the statechart reacts to its
 * result, and only then is `authenticate` sent. One `await Promise.resolve()` runs only the
 * first step of that chain. This helper yields to the microtask queue `turns` times (20 by
 * default, several times what the client needs for any step today), and never schedules a
 * timer, so it behaves the same under a `ManualClock`, under a test runner's fake timers and in a
 * browser. It does not wait for real I/O: with a real socket, await the client's own promises.
 *
 * @example
 * fake.current.reply('fetch_nonce', 'nonce-1');
 * await flushMicrotasks();                 // the signature is computed on a microtask
 * fake.current.reply('authenticate', true);
 */
export async function flushMicrotasks(turns = 20): Promise<void> {
  if (!Number.isInteger(turns) || turns < 1) throw new InvalidArgumentError(`flushMicrotasks: turns must be a positive integer, got ${String(turns)}`);
  for (let i = 0; i < turns; i++) await Promise.resolve();
}
