/**
 * The statechart diagram in docs/architecture.md is generated from the machine
 * (`npm run docs:statechart`): these tests fail when it is stale, partial, or hand-edited.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyStateNode } from 'xstate';
import { beforeAll, describe, expect, it } from 'vitest';
import { circleWsMachine } from '../../machines/connection.js';
import { circleWsManagerMachine } from '../../machines/manager.js';
import { ensureDist } from '../../scripts/ensure-dist.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = path.join(root, 'scripts', 'statechart.mjs');
const architecture = path.join(root, 'docs', 'architecture.md');

/** Runs the generator the way `npm run docs:statechart` does. */
function runScript(...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

/** The Mermaid text between the markers of a Markdown document. */
function diagramOf(markdown: string): string {
  const match = /<!-- statechart:begin -->\n```mermaid\n([\s\S]*?)```\n<!-- statechart:end -->/.exec(markdown);
  if (!match?.[1]) throw new Error('docs/architecture.md has no mermaid block between the statechart markers');
  return match[1];
}

/** Every state node below the root, in document order. */
function statesOf(node: AnyStateNode): AnyStateNode[] {
  return Object.values(node.states as Record<string, AnyStateNode>).flatMap((child) => [child, ...statesOf(child)]);
}

function mermaidId(node: AnyStateNode): string {
  return node.path.join('_');
}

/** How the diagram names a transition's event: delayed ones by their delay, the rest by type. */
function eventLabel(node: AnyStateNode, eventType: string): string {
  const delayed = node.after.find((transition) => transition.eventType === eventType);
  if (delayed === undefined) return eventType;
  return typeof delayed.delay === 'number' ? `after ${delayed.delay}ms` : `after ${String(delayed.delay)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

beforeAll(() => {
  // The script reads the built machine.
  ensureDist();
}, 300_000);

describe('docs/architecture.md statechart', () => {
  it('matches what `npm run docs:statechart` would write (--check exits 0)', () => {
    const result = runScript('--check');
    expect(result.status, result.stderr).toBe(0);
  });

  it('names every state and every transition of the machine', () => {
    const diagram = diagramOf(readFileSync(architecture, 'utf8'));
    const lines = diagram.split('\n').map((line) => line.trim());
    const states = statesOf(circleWsMachine.root);
    expect(states.map((state) => state.key)).toEqual(
      expect.arrayContaining(['disconnected', 'session', 'connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated', 'connected', 'idle', 'probing', 'unmonitored', 'backoff', 'failed']),
    );

    const eventTypes = new Set<string>();
    for (const state of states) {
      const id = mermaidId(state);
      // Declared once, with its key as the label and a dot-free id unique across nesting.
      expect(lines.filter((line) => line.startsWith(`state "${state.key}" as ${id}`)), `state ${state.id}`).toHaveLength(1);

      for (const [eventType, transitions] of state.transitions) {
        eventTypes.add(eventType);
        const label = eventLabel(state, eventType);
        for (const transition of transitions) {
          const targets = transition.target ?? [];
          if (targets.length === 0) {
            // A targetless transition is listed in the state's note or description.
            expect(diagram, `${state.id}: ${label}`).toContain(label);
            continue;
          }
          for (const target of targets) {
            const edge = new RegExp(`^${escapeRegExp(`${id} --> ${mermaidId(target)} : ${label}`)}(?: |$)`);
            expect(lines.some((line) => edge.test(line)), `${state.id} --${label}--> ${target.id}`).toBe(true);
          }
        }
      }
      for (const transition of state.always ?? []) {
        for (const target of transition.target ?? []) {
          const edge = new RegExp(`^${escapeRegExp(`${id} --> ${mermaidId(target)} : always`)}(?: |$)`);
          expect(lines.some((line) => edge.test(line)), `${state.id} --always--> ${target.id}`).toBe(true);
        }
      }
      for (const invoke of state.invoke) expect(diagram, `${state.id} invokes ${invoke.id}`).toContain(`invoke ${invoke.id}`);
    }

    // The application's events all appear; so do the delays and the invoked actors' done/error events.
    for (const type of ['connect', 'disconnect', 'socket.opened', 'socket.closed', 'link.alive', 'network.online', 'network.offline']) {
      expect(eventTypes).toContain(type);
    }
    for (const eventType of eventTypes) {
      if (!eventType.startsWith('xstate.after.')) expect(diagram).toContain(eventType);
    }
    for (const delay of ['reconnectDelay', 'connectTimeout', 'authTimeout', 'keepAliveInterval', 'keepAliveTimeout', 'stableSession']) {
      expect(diagram).toContain(`after ${delay}`);
    }
    // Mermaid ids cannot contain dots.
    expect(diagram).not.toMatch(/^\s*state "[^"]*" as \S*\./m);
  });

  it("draws the manager's chart too: every state, every edge between states, every invoked actor", () => {
    const markdown = readFileSync(architecture, 'utf8');
    const match = /<!-- manager-statechart:begin -->\n```mermaid\n([\s\S]*?)```\n<!-- manager-statechart:end -->/.exec(markdown);
    expect(match?.[1], 'the manager-statechart markers and their block').toBeDefined();
    const diagram = match?.[1] ?? '';
    const lines = diagram.split('\n').map((line) => line.trim());
    const states = statesOf(circleWsManagerMachine.root);
    expect(states.map((state) => state.key)).toEqual(['idle', 'running', 'converging', 'ready', 'degraded', 'stopping']);
    for (const state of states) {
      const id = mermaidId(state);
      expect(lines.filter((line) => line.startsWith(`state "${state.key}" as ${id}`)), `state ${state.id}`).toHaveLength(1);
      for (const [eventType, transitions] of state.transitions) {
        for (const transition of transitions) {
          for (const target of transition.target ?? []) {
            if (target === state) continue;
            const edge = new RegExp(`^${escapeRegExp(`${id} --> ${mermaidId(target)} : ${eventType}`)}(?: |$)`);
            expect(lines.some((line) => edge.test(line)), `${state.id} --${eventType}--> ${target.id}`).toBe(true);
          }
        }
      }
      for (const transition of state.always ?? []) {
        for (const target of transition.target ?? []) {
          expect(lines.some((line) => line.startsWith(`${id} --> ${mermaidId(target)} : always`)), `${state.id} --always--> ${target.id}`).toBe(true);
        }
      }
      for (const invoke of state.invoke) expect(diagram).toContain(`invoke ${invoke.id}`);
    }
  });

  it('--check fails, saying what to run, when the diagram is stale', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'statechart-'));
    try {
      const doc = path.join(dir, 'architecture.md');
      const current = readFileSync(architecture, 'utf8');
      writeFileSync(doc, current.replace(/ --> session_signing : [^\n]*\n/, ' --> session_signing : stale\n'));
      const stale = runScript('--check', '--doc', doc);
      expect(stale.status).toBe(1);
      expect(stale.stderr).toContain('npm run docs:statechart');

      // Writing repairs it, and the repaired file is the committed one.
      expect(runScript('--doc', doc).status).toBe(0);
      expect(readFileSync(doc, 'utf8')).toBe(current);
      expect(runScript('--check', '--doc', doc).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
