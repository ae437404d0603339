/**
 * Model-based tests: the production statechart is the model. `xstate/graph` generates paths
 * through it; each path drives the real facade (fake transport, manual clock, controllable
 * signer) and checks, after every step, that the client is in the state the model predicts.
 * The chart cannot be its own judge, so every step is also checked against a table of
 * guarantees written out by hand (test/support/guarantees.ts): which frames each state may send,
 * which failures are terminal, which timers run. An application call is made in every state,
 * so "nothing but the handshake before authentication" is tested with something to hold back.
 * A final test proves the paths walked every transition of the adjacency map.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adjacencyMapToArray, getAdjacencyMap } from 'xstate/graph';
import { circleWsMachine } from '../../machines/connection.js';
import { backoffDelays, failureOf, failures, framesAllowed, type Place, pingAllowed, placeOf, timers } from '../support/guarantees.js';
import { checkState, edgeWalks, execute, Harness, type ModelEvent, serialize, settle, type Snapshot, traversalOptions, variants } from '../support/model.js';

const walked = new Map<string, Set<string>>();
/** Application call deadlines (and connect()'s), long enough never to fire during a walk. */
const requestMs = 60_000;

/** What every socket has sent so far: requests and pings. */
function sentSoFar(h: Harness): Array<{ requests: number; pings: number }> {
  return h.transport.sockets.map((socket) => ({ requests: socket.requests().length, pings: socket.pings }));
}

/** The hand-written table, against what the step did and where it ended (model and client agree by now). */
function checkGuarantees(
  h: Harness,
  event: ModelEvent,
  from: Place,
  before: Array<{ requests: number; pings: number }>,
  nonceRetriesBefore: number,
  signedBefore: boolean,
): void {
  const place = placeOf(h.snapshot.value);
  const context = h.snapshot.context;
  // README, withSigner: a signer that holds its key elsewhere is asked at most once per connect().
  const oncePerConnect = h.variant.external === true;
  if (oncePerConnect) expect(h.promptsSinceConnect, 'signer prompts since connect()').toBeLessThanOrEqual(1);

  // Frames: what this step sent, on any socket, is allowed where it ended.
  const allowed = framesAllowed[place];
  for (const [i, socket] of h.transport.sockets.entries()) {
    const fresh = socket.requests().slice(before[i]?.requests ?? 0).map((r) => r.method);
    if (!allowed.includes('*')) for (const method of fresh) expect(allowed, `${method} sent on a step ending in ${place}`).toContain(method);
    if (socket.pings > (before[i]?.pings ?? 0)) expect(pingAllowed, `ping sent on a step ending in ${place}`).toContain(place);
  }

  // Failures: terminal or not, and the code recorded.
  const row = failureOf(event, from);
  if (row !== undefined) {
    const rule = failures[row];
    expect(rule, `no guarantee written for "${row}": add it to test/support/guarantees.ts`).toBeDefined();
    if (!rule) return;
    // Once per connect(): no fresh nonce after an expired one either (it would need a new signature).
    const terminal = rule.terminal && (!rule.secondTime || nonceRetriesBefore >= 1 || (oncePerConnect && signedBefore));
    if (terminal) {
      expect(place, `${row} is terminal`).toBe('failed');
      expect(context.lastFailure?.code).toBe(rule.code);
      expect(h.client.lastError).not.toBeNull();
    } else if (rule.secondTime) {
      expect(place, `${row} the first time: one fresh nonce`).toBe('fetchingNonce');
    } else if (oncePerConnect && signedBefore) {
      // Transient, but trying again would prompt the wallet: stop, keeping why, until connect().
      expect(place, `${row} after this connect() signed`).toBe('disconnected');
      expect(context.lastFailure?.code).toBe(rule.code);
      expect(h.client.lastError, 'lastError says why it dropped').not.toBeNull();
    } else {
      // Transient: back off (or stop quietly with reconnection off), unless the attempts ran out.
      expect(['backoff', 'disconnected', 'failed'], `${row} is transient`).toContain(place);
      if (place === 'failed') expect(context.lastFailure?.code).toBe('RECONNECT_EXHAUSTED');
      else expect(context.lastFailure?.code).toBe(rule.code);
    }
  }

  // Timers: exactly the ones the place has (call deadlines aside).
  const pending = h.clock.pending().map((t) => t.ms).filter((ms) => ms !== requestMs);
  if (place === 'backoff') {
    expect(pending, `backoff before attempt ${context.attempt}`).toEqual([backoffDelays[context.attempt - 1]]);
  } else {
    const rules = timers[place];
    for (const ms of pending) expect(rules.some((r) => r.matches(ms)), `a ${ms} ms timer in ${place}`).toBe(true);
    for (const rule of rules) if (rule.required) expect(pending.some((ms) => rule.matches(ms)), `${rule.name} in ${place}`).toBe(true);
  }
}

describe.each(variants)('statechart model: $name', (variant) => {
  const edges = new Set<string>();
  walked.set(variant.name, edges);
  const walks = edgeWalks(variant);

  it.each(walks.map((w) => [w.name, w] as const))('%s', async (_name, walk) => {
    const h = new Harness(variant);
    const calls: Array<Promise<unknown>> = [];
    try {
      let previous: Snapshot | undefined;
      for (const [n, step] of walk.steps.entries()) {
        const before = sentSoFar(h);
        const from = placeOf(h.snapshot.value);
        const nonceRetries = h.snapshot.context.nonceRetries;
        const signed = h.signedSinceConnect;
        if (step.event.type !== 'xstate.init') await execute(h, step.event);
        checkState(h, step.state);
        checkGuarantees(h, step.event, from, before, nonceRetries, signed);
        if (previous) edges.add(`${serialize(previous)} ${JSON.stringify(step.event)}`);
        previous = step.state;

        // An application call made here goes out at once only when the session is ready.
        const sent = h.transport.sockets.map((s) => s.requests().length);
        calls.push(h.client.play(`${n}`).catch(() => undefined));
        await settle();
        const fresh = h.transport.sockets.flatMap((s, i) => s.requests().slice(sent[i] ?? 0).map((r) => r.method));
        expect(fresh).toEqual(h.client.isConnected() ? ['play'] : []);
      }
    } finally {
      await h.client.disconnect();
      await settle();
      // disconnect() leaves nothing behind: no timer, no open socket, no unsettled call.
      expect(h.clock.pending()).toEqual([]);
      expect(h.transport.alive().filter((s) => !s.closedByClient)).toEqual([]);
      await Promise.all(calls);
    }
  });

  it('walks every transition of the adjacency map', () => {
    const all = adjacencyMapToArray(getAdjacencyMap(circleWsMachine, traversalOptions(variant))).map(
      ({ state, event }) => `${serialize(state as Snapshot)} ${JSON.stringify(event)}`,
    );
    expect(all.length).toBeGreaterThan(20);
    expect(all.filter((edge) => !edges.has(edge))).toEqual([]);
  });
});

afterAll(() => {
  // Every variant contributed paths.
  for (const [name, edges] of walked) expect(edges.size, name).toBeGreaterThan(0);
});
