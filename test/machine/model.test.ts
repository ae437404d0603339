/**
 * Model-based tests: the production statechart is the model. `xstate/graph` generates paths
 * through it; each path drives the real facade (fake transport, manual clock, controllable
 * signer) and checks, after every step, that the client is in the state the model predicts.
 * A final test proves the paths walked every transition of the adjacency map.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { adjacencyMapToArray, getAdjacencyMap } from 'xstate/graph';
import { circleWsMachine } from '../../machines/connection.js';
import { checkState, edgeWalks, execute, Harness, serialize, settle, type Snapshot, traversalOptions, variants } from '../support/model.js';

const walked = new Map<string, Set<string>>();

describe.each(variants)('statechart model: $name', (variant) => {
  const edges = new Set<string>();
  walked.set(variant.name, edges);
  const walks = edgeWalks(variant);

  it.each(walks.map((w) => [w.name, w] as const))('%s', async (_name, walk) => {
    const h = new Harness(variant);
    try {
      let previous: Snapshot | undefined;
      for (const step of walk.steps) {
        if (step.event.type !== 'xstate.init') await execute(h, step.event);
        checkState(h, step.state);
        if (previous) edges.add(`${serialize(previous)} ${JSON.stringify(step.event)}`);
        previous = step.state;
      }
    } finally {
      await h.client.disconnect();
      await settle();
      // disconnect() leaves nothing behind: no timer, no open socket.
      expect(h.clock.pending()).toEqual([]);
      expect(h.transport.alive().filter((s) => !s.closedByClient)).toEqual([]);
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
