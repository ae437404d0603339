/**
 * README: "disconnect() … rejects every pending call with NotConnectedError". Checked in every
 * leaf state of the chart (reached by the model's shortest path) with the exact class and code,
 * not just the base class: calls made in a ready state are already on the wire, calls made
 * while connecting or backing off are queued, and calls made earlier that survived a drop
 * (safe-to-repeat ones are queued again) are pending too.
 */
import { describe, expect, it } from 'vitest';
import { circleWsMachine } from '../../machines/connection.js';
import { NotConnectedError } from '../../src/index.js';
import { execute, Harness, leafOf, leaves, modelFor, settle, variants } from '../support/model.js';


interface Tracked {
  made: string;
  done: boolean;
  error: unknown;
  value: unknown;
}

function track(promise: Promise<unknown>, made: string): Tracked {
  const t: Tracked = { made, done: false, error: undefined, value: undefined };
  promise.then(
    (value) => Object.assign(t, { done: true, value }),
    (error: unknown) => Object.assign(t, { done: true, error }),
  );
  return t;
}

const cases = variants.flatMap((variant) =>
  modelFor(variant)
    .getShortestPaths({ allowDuplicatePaths: true })
    .map((path) => ({ variant, path, leaf: leafOf(path.state) })),
);
const perLeaf = [...new Map(cases.map((c) => [c.leaf, c])).values()];

describe('disconnect() in every state rejects pending calls with exactly NotConnectedError', () => {
  it('covers every leaf state of the chart', () => {
    expect(perLeaf.map((c) => c.leaf).sort()).toEqual(leaves(circleWsMachine.root).sort());
  });

  it.each(perLeaf.map((c) => [c.leaf, c] as const))('in %s', async (leaf, { variant, path }) => {
    const h = new Harness(variant);
    const calls: Tracked[] = [];
    // A safe-to-repeat call at every step of the way: some go out, some wait, some are queued again after a drop.
    for (const step of path.steps) {
      if (step.event.type !== 'xstate.init') await execute(h, step.event);
      calls.push(track(h.client.call('x', {}, { idempotent: true }), h.client.status));
      await settle();
    }
    expect(h.snapshot.value).toEqual(path.state.value);
    calls.push(track(h.client.play('1'), h.client.status), track(h.client.whoami(), h.client.status));
    await settle();
    const ready = h.client.isConnected();
    if (ready) {
      // Those made just now are on the wire: in flight, not queued.
      expect(h.transport.current.requests().map((r) => r.method)).toEqual(expect.arrayContaining(['play', 'whoami']));
    }
    const pending = calls.filter((c) => !c.done);
    // Only a stopped client (failed, or disconnected) refuses calls at once.
    if (!leaf.startsWith('failed') && !leaf.startsWith('disconnected')) expect(pending.length).toBeGreaterThanOrEqual(2);

    await h.client.disconnect();
    await settle();
    for (const c of pending) {
      expect(c.done, `a call made in ${c.made}`).toBe(true);
      expect((c.error as object | undefined)?.constructor, `a call made in ${c.made}`).toBe(NotConnectedError);
      expect(c.error).toMatchObject({ code: 'NOT_CONNECTED', name: 'NotConnectedError' });
    }
    expect(h.clock.pending()).toEqual([]);
  });
});
