/** The example of docs/testing.md, run as written, so the documentation cannot drift from the kit. */
import { expect, it } from 'vitest';
import { CircleWsClient, generateKeypair } from '../../src/index.js';
import { FakeTransport, flushMicrotasks, ManualClock } from '../../src/testing/index.js';

it('runs the documented fake-transport and manual-clock example', async () => {
  const { privateKey } = generateKeypair();
  const clock = new ManualClock();
  const fake = new FakeTransport();
  const client = CircleWsClient.builder('ws://test/02ab')
    .withTransport(fake.factory)
    .withClock(clock)
    .withRandom(() => 0)
    .withKeypair(privateKey)
    .build();

  const ready = client.connect();
  fake.current.open();
  fake.current.reply('fetch_nonce', 'nonce-1');
  await flushMicrotasks();
  fake.current.reply('authenticate', true);
  await ready;
  expect(client.status).toBe('authenticated');

  fake.current.serverClose({ code: 1006, reason: '' });
  await flushMicrotasks();
  expect(client.status).toBe('backoff');
  clock.advance(500);
  expect(fake.sockets).toHaveLength(2);

  await client.disconnect();
  expect(clock.pending()).toEqual([]);
});
