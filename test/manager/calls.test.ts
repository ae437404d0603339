/**
 * The manager's calls and cleanup, on fake transports and a manual clock: a call to a circle that
 * is backing off waits for it; `playAll` settles every circle by its deadline; `remove()` and
 * `disconnectAll()` leave no timer, socket or listener behind.
 */
import { expect, it } from 'vitest';
import { CircleWsManager, NotConnectedError, TimeoutError } from '../../src/index.js';
import { FakeTransport, flushMicrotasks, ManualClock } from '../../src/testing/index.js';

const a = 'ws://fake/a';
const b = 'ws://fake/b';

function world() {
  const clock = new ManualClock();
  const transports = new Map<string, FakeTransport>([
    [a, new FakeTransport()],
    [b, new FakeTransport()],
  ]);
  const manager = CircleWsManager.builder()
    .withClient((builder, url) =>
      builder
        .withTransport(transports.get(url)!.factory)
        .withClock(clock)
        .withRandom(() => 0.5)
        .withKeepAlive(false)
        .withReconnect({ initialDelayMs: 1_000, maxDelayMs: 1_000, jitter: 0 })
        .withRequestTimeout(60_000),
    )
    .withCircle([a, b])
    .build();
  return { clock, manager, socket: (url: string) => transports.get(url)!.current, transports };
}

it('a call to a circle that is backing off waits for it, then goes out', async () => {
  const { clock, manager, socket } = world();
  const connecting = manager.connectAll();
  socket(a).open();
  socket(b).open();
  await connecting;
  socket(a).serverClose({ code: 1006, reason: '' });
  await flushMicrotasks();
  expect(manager.client(a).status).toBe('backoff');

  const call = manager.play(a, '1 + 1');
  await flushMicrotasks();
  const first = socket(a);
  expect(first.requests()).toEqual([]);
  clock.advance(1_000); // the backoff delay: a new socket opens
  const second = socket(a);
  expect(second).not.toBe(first);
  second.open();
  await flushMicrotasks();
  expect(second.requests().map((r) => r.method)).toEqual(['play']);
  second.reply('play', { output: '2' });
  await expect(call).resolves.toBe('2');
  // The other circle never noticed.
  expect(manager.client(b).status).toBe('connected');
  await manager.disconnectAll();
});

it('playAll settles every circle by its deadline: one answer, one timeout', async () => {
  const { clock, manager, socket } = world();
  const connecting = manager.connectAll();
  socket(a).open();
  socket(b).open();
  await connecting;
  const all = manager.playAll('40 + 2', { timeoutMs: 5_000 });
  await flushMicrotasks();
  socket(a).reply('play', { output: '42' });
  clock.advance(5_000); // b's server never answers
  const results = await all;
  expect(results[a]).toEqual({ ok: true, value: '42' });
  const late = results[b];
  expect(late?.ok).toBe(false);
  if (late?.ok === false) {
    expect(late.error).toBeInstanceOf(TimeoutError);
    expect(late.error.code).toBe('TIMEOUT');
  }
  await manager.disconnectAll();
  expect(clock.pending()).toEqual([]);
});

it('remove() and disconnectAll() leave no timer, socket or listener behind', async () => {
  const { clock, manager, socket, transports } = world();
  const statuses: string[] = [];
  manager.on('status', (url, status) => statuses.push(`${url} ${status}`));
  const connecting = manager.connectAll();
  socket(a).open();
  await flushMicrotasks();
  // b is still opening (its connect deadline is pending); a call waits on it.
  const waiting = manager.play(b, '1');
  const removedClient = manager.client(b);
  await manager.remove(b);
  await expect(waiting).rejects.toBeInstanceOf(NotConnectedError);
  const report = await connecting;
  expect(report[a]).toEqual({ ok: true, value: undefined });
  expect(report[b]?.ok).toBe(false);
  expect(removedClient.status).toBe('disconnected');
  expect(transports.get(b)!.alive()).toEqual([]);
  // The removed client's later changes no longer reach the manager.
  statuses.length = 0;
  void removedClient.connect().catch(() => undefined);
  expect(statuses).toEqual([]);
  expect(manager.status.circles[b]).toBeUndefined();
  await removedClient.disconnect();

  await manager.disconnectAll();
  expect(clock.pending()).toEqual([]);
  for (const t of transports.values()) expect(t.alive().filter((s) => !s.closedByClient)).toEqual([]);
  expect(manager.status.state).toBe('idle');
  expect(manager.status.counts.disconnected).toBe(1);
});

it("listeners run once manager.status shows the change; 'change' also hears additions, removals and the end of a stop", async () => {
  const { manager, socket } = world();
  const seen: string[] = [];
  manager.on('status', (url, status, previous) => {
    // What a listener reads agrees with what it was told.
    seen.push(`${url} ${previous}→${status} (status says ${manager.status.circles[url]?.status ?? 'gone'})`);
  });
  const states: string[] = [];
  manager.on('change', (status) => states.push(`${status.state} ${Object.keys(status.circles).length}`));

  const connecting = manager.connectAll();
  expect(seen).toEqual([`${a} disconnected→connecting (status says connecting)`, `${b} disconnected→connecting (status says connecting)`]);
  socket(a).open();
  socket(b).open();
  await connecting;
  expect(seen.slice(2)).toEqual([`${a} connecting→connected (status says connected)`, `${b} connecting→connected (status says connected)`]);
  await manager.remove(b);
  await manager.disconnectAll();
  expect(states).toContain('converging 2');
  expect(states).toContain('ready 2');
  expect(states).toContain('ready 1'); // b removed
  expect(states.at(-1)).toBe('idle 1');
});
