/**
 * Fault 10: `disconnect()` in every state of the machine. The list of states comes from the
 * machine itself; each is reached by the model's shortest path, with calls pending, and then
 * disconnect() must settle every call, stop every timer and leave no socket open.
 */
import { describe, expect, it } from 'vitest';
import { circleWsMachine } from '../../machines/connection.js';
import { AbortError, CircleWsError } from '../../src/index.js';
import { execute, Harness, leafOf, leaves, modelFor, settle, variants } from '../support/model.js';
import { settle as settled } from './support.js';


const allLeaves = leaves(circleWsMachine.root);

describe('10. disconnect() in every state', () => {
  const reached = new Set<string>();
  const cases = variants.flatMap((variant) =>
    modelFor(variant)
      .getShortestPaths({ allowDuplicatePaths: true })
      .map((path) => ({ variant, path, leaf: leafOf(path.state) })),
  );
  // One case per leaf state (the first variant that reaches it).
  const perLeaf = [...new Map(cases.map((c) => [c.leaf, c])).values()];

  it('the model reaches every leaf state of the machine', () => {
    for (const c of cases) reached.add(c.leaf);
    expect([...reached].sort()).toEqual([...allLeaves].sort());
  });

  it.each(perLeaf.map((c) => [c.leaf, c] as const))('in %s', async (_leaf, { variant, path }) => {
    const h = new Harness(variant);
    for (const step of path.steps) if (step.event.type !== 'xstate.init') await execute(h, step.event);
    expect(h.snapshot.value).toEqual(path.state.value);
    const abort = new AbortController();
    const calls = [
      settled(h.client.play('1')),
      settled(h.client.whoami()),
      settled(h.client.call('x', {}, { signal: abort.signal, idempotent: true })),
    ];
    await h.client.disconnect();
    await settle();
    const results = await Promise.all(calls);
    for (const r of results) {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(CircleWsError);
        expect(r.error).not.toBeInstanceOf(AbortError);
      }
    }
    expect(h.client.status).toBe('disconnected');
    expect(h.clock.pending()).toEqual([]);
    expect(h.transport.alive().filter((s) => !s.closedByClient)).toEqual([]);
    // And the client can start again afterwards.
    h.client.connect().catch(() => {});
    expect(h.client.status).toBe('connecting');
    await h.client.disconnect();
  });
});
