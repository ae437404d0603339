/**
 * A client on the test kit's fake transport and manual clock, as the facade's unit tests build it:
 * no jitter, a 100 ms backoff, keep-alive off, so every timer is one the test chose.
 */
import { CircleWsClient, type CircleWsClientBuilder } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';

/** Lets promise chains and one macrotask run (the signing step and the socket callbacks take several turns). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Builds a client on a fresh fake transport and manual clock; `configure` adds what a test needs.
 * @example const { client, transport } = fakeClient((b) => b.withQueueLimit(2));
 */
export function fakeClient(configure: (builder: CircleWsClientBuilder) => CircleWsClientBuilder = (b) => b) {
  const clock = new ManualClock();
  const transport = new FakeTransport();
  const builder = CircleWsClient.builder('ws://fake/02aa')
    .withTransport(transport.factory)
    .withClock(clock)
    .withRandom(() => 0)
    .withReconnect({ initialDelayMs: 100, maxDelayMs: 100 })
    .withKeepAlive(false);
  return { clock, transport, client: configure(builder).build() };
}

/** An anonymous fake client, connected (state `connected`). */
export async function connectedFakeClient(configure?: (builder: CircleWsClientBuilder) => CircleWsClientBuilder) {
  const s = fakeClient(configure);
  const ready = s.client.connect();
  s.transport.current.open();
  await ready;
  return s;
}
