import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killChildren, runCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const HANDSHAKE = ['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated'];

/** Whether `expected` appears in `states` in this order, each right after the previous. */
function runsThrough(states: string[], from: number, expected: string[]): boolean {
  return expected.every((state, offset) => states[from + offset] === state);
}

describe('circle-ws demo', () => {
  it('shows the handshake, play, whoami, then backoff and re-authentication after a restart', async () => {
    const { code, stdout, stderr, ms } = await runCli(['demo']);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    expect(ms).toBeLessThan(15_000);

    const stateLines = stdout.split('\n').filter((line) => /^\[\s*\d+ ms\] /.test(line));
    const states = stateLines.map((line) => /^\[\s*\d+ ms\] (\w+)/.exec(line)![1]!);
    const times = stateLines.map((line) => Number(/^\[\s*(\d+) ms\]/.exec(line)![1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // First connection: from disconnected (or straight from connecting) through the handshake.
    expect(['disconnected', 'connecting']).toContain(states[0]);
    const first = states.indexOf('connecting');
    expect(runsThrough(states, first, HANDSHAKE), states.join(' ')).toBe(true);
    const firstAuth = first + HANDSHAKE.length - 1;

    // The restart: backoff, then (after any failed tries) the handshake again, ending authenticated.
    expect(states[firstAuth + 1]).toBe('backoff');
    const lastConnecting = states.lastIndexOf('connecting');
    expect(lastConnecting).toBeGreaterThan(firstAuth);
    expect(runsThrough(states, lastConnecting, HANDSHAKE), states.join(' ')).toBe(true);
    for (const state of states.slice(firstAuth + 1, lastConnecting)) expect(['backoff', 'connecting']).toContain(state);
    expect(states.at(-1)).toBe('disconnected');

    expect(stdout).toMatch(/^play\("let x = 10; x \* 2"\) → 20$/m);
    const whoami = stdout.split('\n').filter((line) => line.startsWith('whoami → '));
    expect(whoami).toHaveLength(2);
    for (const line of whoami) expect(line).toMatch(/^whoami → \{"authenticated":true,"pubkey":"04[0-9a-f]+…[0-9a-f]+",.*\(our public key\)$/);
    expect(stdout).toMatch(/restarting the server on port (\d+)/);
    expect(stdout).toMatch(/server {3}listening again on port \d+/);
    expect(stdout).toMatch(/^done in \d+ ms/m);
    // Piped: plain lines, no terminal control sequences.
    expect(stdout).not.toMatch(/\x1b|\r/);
  });

  it('fails with exit 1 and a clear message when it cannot finish in time', async () => {
    const { code, stderr } = await runCli(['demo', '--timeout', '50']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^demo failed after \d+ ms: Error: the demo did not finish within 50 ms$/m);
  });
});
