/**
 * Model-based tests of the manager's statechart: the chart is the model; `xstate/graph` walks
 * every transition of its adjacency map, and each walk drives a real `CircleWsManager` whose
 * clients run on fake transports and manual clocks (one of each per circle, so one circle's timer
 * never fires another's). After every step the real manager must be where the model is, and must
 * also agree with rules written out by hand (the counts, what `ready`, `degraded` and `idle` mean),
 * so a bug in the chart shows up as a disagreement rather than as a new expectation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createActor, type SnapshotFrom } from 'xstate';
import { adjacencyMapToArray, getAdjacencyMap } from 'xstate/graph';
import type { CircleWsStatus } from '../../machines/connection.js';
import { type CircleWsManagerMachine, circleWsManagerMachine, type ConnectPolicy, type ManagerEvent, managerStatusOf } from '../../machines/manager.js';
import { CircleWsManager } from '../../src/index.js';
import { FakeTransport, ManualClock } from '../../src/testing/index.js';

type Snapshot = SnapshotFrom<CircleWsManagerMachine>;

/** One circle always there, one that comes and goes. */
const a = 'ws://fake/a';
const b = 'ws://fake/b';
const backoffMs = 100;
const requestMs = 600_000;

/** What a client can do next by itself (what the fake server or its clock makes it do). */
const nextStatuses: Partial<Record<CircleWsStatus, CircleWsStatus[]>> = {
  connecting: ['connected', 'backoff', 'failed'],
  connected: ['backoff'],
  backoff: ['connecting'],
};

function status(url: string, to: CircleWsStatus): ManagerEvent {
  return { type: 'circle.status', url, status: to, attempt: 0, retryDelayMs: 0, lastFailure: null };
}

/** The events that can happen in a state: the application's, and each client's own next steps. */
function eventsIn(s: Snapshot): ManagerEvent[] {
  // While stopping only the stop's end can come: the application waits for disconnectAll().
  if (s.matches('stopping')) return [{ type: 'xstate.done.actor.disconnectClients' } as unknown as ManagerEvent];
  const events: ManagerEvent[] = [{ type: 'connect' }, { type: 'disconnect' }];
  events.push(b in s.context.index ? { type: 'circle.removed', url: b } : { type: 'circle.added', url: b });
  for (const { url, status: now } of s.context.circles) {
    // The facade asks for a circle only when its client is disconnected.
    if (now === 'disconnected') events.push({ type: 'circle.needed', url });
    for (const to of nextStatuses[now] ?? []) events.push(status(url, to));
  }
  return events;
}

const serialize = (s: Snapshot): string =>
  JSON.stringify([s.value, s.context.circles.map((c) => [c.url, c.status])]);

function traversal(connect: ConnectPolicy) {
  return {
    input: { connect, urls: [a] },
    events: eventsIn,
    filterEvents: (s: Snapshot, e: ManagerEvent) => s.status === 'active' && s.can(e),
    serializeState: serialize,
    serializeEvent: (e: ManagerEvent) => JSON.stringify(e),
    limit: 5_000,
  } as never;
}

/** The system under test: a real manager; each circle's server and clock are in the test's hands. */
class World {
  readonly transports = new Map<string, FakeTransport>();
  readonly clocks = new Map<string, ManualClock>();
  readonly calls: Array<Promise<unknown>> = [];
  readonly manager: CircleWsManager;

  constructor(connect: ConnectPolicy) {
    this.manager = CircleWsManager.builder()
      .withConnect(connect)
      .withClient((builder, url) =>
        builder
          .withTransport(this.transport(url).factory)
          .withClock(this.clock(url))
          .withKeepAlive(false)
          .withReconnect({ initialDelayMs: backoffMs, maxDelayMs: backoffMs, jitter: 0 })
          .withRequestTimeout(requestMs),
      )
      .withCircle(a)
      .build();
  }

  transport(url: string): FakeTransport {
    let t = this.transports.get(url);
    if (!t) this.transports.set(url, (t = new FakeTransport()));
    return t;
  }

  clock(url: string): ManualClock {
    let c = this.clocks.get(url);
    if (!c) this.clocks.set(url, (c = new ManualClock()));
    return c;
  }

  async execute(event: ManagerEvent): Promise<void> {
    const m = this.manager;
    switch (event.type) {
      case 'connect':
        this.calls.push(m.connectAll({ timeoutMs: requestMs }));
        return;
      case 'disconnect':
        // Checked before the sockets are gone: the model is in `stopping` until the next step.
        this.calls.push(m.disconnectAll());
        return;
      case 'circle.added':
        m.add(event.url);
        return;
      case 'circle.removed':
        this.calls.push(m.remove(event.url));
        return;
      case 'circle.needed':
        this.calls.push(m.play(event.url, '1 + 1').catch(() => undefined));
        return;
      case 'circle.status': {
        const socket = this.transport(event.url).current;
        if (event.status === 'connected') socket.open();
        else if (event.status === 'backoff') socket.serverClose({ code: 1006, reason: '' });
        else if (event.status === 'failed') socket.serverClose({ code: 1008, reason: 'locked out' });
        else if (event.status === 'connecting') this.clock(event.url).fire((t) => t.ms === backoffMs);
        await settle();
        return;
      }
      default:
        // xstate.done.actor.disconnectClients: the sockets finish closing.
        await settle();
    }
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise((resolve) => setImmediate(resolve));
}

const ready: ReadonlySet<CircleWsStatus> = new Set(['authenticated', 'connected']);

/** The model's prediction, and the rules written out by hand, against the real manager. */
function check(world: World, expected: Snapshot): void {
  const real = world.manager.actor.getSnapshot();
  expect(real.value).toEqual(expected.value);
  const urls = expected.context.circles.map((c) => c.url);
  expect(world.manager.urls).toEqual(urls);
  expect(real.context.circles.map((c) => c.url)).toEqual(urls);
  for (const { url, status: predicted } of expected.context.circles) {
    expect(world.manager.client(url).status, url).toBe(predicted);
    expect(world.manager.status.circles[url]?.status, url).toBe(predicted);
  }
  // The index points at each circle's entry.
  real.context.circles.forEach((c, i) => expect(real.context.index[c.url]).toBe(i));
  // By hand: counts are the statuses counted; the states mean what the docs say they mean.
  const statuses = urls.map((url) => world.manager.client(url).status);
  const counted: Partial<Record<CircleWsStatus, number>> = {};
  for (const s of statuses) counted[s] = (counted[s] ?? 0) + 1;
  for (const [s, n] of Object.entries(world.manager.status.counts)) expect(n, s).toBe(counted[s as CircleWsStatus] ?? 0);
  const state = world.manager.status.state;
  expect(state).toBe(managerStatusOf(expected));
  if (state === 'ready') expect(statuses.every((s) => ready.has(s))).toBe(true);
  if (state === 'degraded') expect(statuses).toContain('failed');
  if (state === 'converging') {
    expect(statuses).not.toContain('failed');
    expect(statuses.every((s) => ready.has(s))).toBe(false);
  }
  if (state === 'idle' || state === 'stopping') {
    expect(statuses.every((s) => s === 'disconnected')).toBe(true);
    // Nothing open: every socket a client opened is closed or closing by the client.
    for (const t of world.transports.values()) expect(t.alive().filter((s) => !s.closedByClient)).toEqual([]);
  }
}

const walked = new Map<string, Set<string>>();

describe.each(['eager', 'lazy'] as const)('manager statechart model: %s', (connect) => {
  const edges = new Set<string>();
  walked.set(connect, edges);
  const map = getAdjacencyMap(circleWsManagerMachine, traversal(connect));
  const all = adjacencyMapToArray(map);
  // The shortest way to each state, found breadth-first over the same map.
  const initial = createActor(circleWsManagerMachine, { input: { connect, urls: [a] } }).getSnapshot();
  const routes = new Map<string, Array<{ event: ManagerEvent; state: Snapshot }>>([[serialize(initial), []]]);
  for (let frontier = [initial]; frontier.length > 0; ) {
    const next: Snapshot[] = [];
    for (const from of frontier) {
      for (const edge of all.filter((e) => serialize(e.state as Snapshot) === serialize(from))) {
        const to = edge.nextState as Snapshot;
        if (routes.has(serialize(to))) continue;
        routes.set(serialize(to), [...routes.get(serialize(from))!, { event: edge.event as ManagerEvent, state: to }]);
        next.push(to);
      }
    }
    frontier = next;
  }
  const walks = all.map((edge) => ({
    name: `${serialize(edge.state as Snapshot)} ${JSON.stringify(edge.event)}`,
    steps: [...routes.get(serialize(edge.state as Snapshot))!, { event: edge.event as ManagerEvent, state: edge.nextState as Snapshot }],
  }));

  it.each(walks.map((w) => [w.name, w] as const))('%s', async (_name, walk) => {
    const world = new World(connect);
    try {
      check(world, initial);
      let previous = initial;
      for (const step of walk.steps) {
        await world.execute(step.event);
        check(world, step.state);
        edges.add(`${serialize(previous)} ${JSON.stringify(step.event)}`);
        previous = step.state;
      }
    } finally {
      await world.manager.disconnectAll();
      await settle();
      // disconnectAll() leaves nothing behind: no timer on any clock, no open socket, no unsettled call.
      for (const [url, clock] of world.clocks) expect(clock.pending(), url).toEqual([]);
      for (const t of world.transports.values()) expect(t.alive().filter((s) => !s.closedByClient)).toEqual([]);
      await Promise.allSettled(world.calls);
      expect(world.manager.status.state).toBe('idle');
    }
  });

  it('walks every transition of the adjacency map', () => {
    expect(all.length).toBeGreaterThan(30);
    const missing = all.map((e) => `${serialize(e.state as Snapshot)} ${JSON.stringify(e.event)}`).filter((e) => !edges.has(e));
    expect(missing).toEqual([]);
  });
});

afterAll(() => {
  for (const [name, edges] of walked) expect(edges.size, name).toBeGreaterThan(0);
});
