/**
 * `circle-ws watch`: with stdout not a terminal (a pipe, as here) it prints one tab-separated line
 * per status change and ends with `--until ready`, `--for MS` or a signal; the terminal table is
 * tested through its rendering functions (the exact bytes, escape sequences included), not
 * through a faked terminal.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import type { CircleState } from '../../src/index.js';
import { overallState, plainLine, redraw, shortUrl, tableLines } from '../../src/cli/watch-view.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';
import { cliEnv, ensureBuilt, expectNoKey, killChildren, runCli, startCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const me = generateKeypair();
const withKey = cliEnv({ CIRCLE_WS_KEY: me.privateKey });
const circleA = generateKeypair();
const circleB = generateKeypair();
const notServed = generateKeypair();

let server: CircleServer;
let a = '';
let b = '';
let unknown = '';

beforeAll(async () => {
  server = await createCircleServer({ host: '127.0.0.1', port: 0, circles: [circleA.publicKeyCompressed, circleB.publicKeyCompressed] });
  a = server.urlFor(circleA.publicKeyCompressed);
  b = server.urlFor(circleB.publicKeyCompressed);
  unknown = server.urlFor(notServed.publicKeyCompressed);
});
afterAll(async () => {
  await server?.close();
});

const LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t(ws:\/\/\S+)\t(\w+)\t(\d+)\t(-|\d+)\t(.*)$/;

/** Each stdout line parsed; fails on a line of another shape. */
function changes(stdout: string): Array<{ url: string; state: string; attempt: number; retry: string; failure: string }> {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const match = LINE.exec(line);
      expect(match, line).not.toBeNull();
      const [, , url, state, attempt, retry, failure] = match!;
      return { url: url!, state: state!, attempt: Number(attempt), retry: retry!, failure: failure! };
    });
}

function lastStateOf(list: ReturnType<typeof changes>, url: string): string | undefined {
  return list.filter((change) => change.url === url).at(-1)?.state;
}

describe('circle-ws watch, stdout not a terminal', { timeout: 60_000 }, () => {
  it('prints one plain line per change and exits 0 with --until ready once every circle is authenticated', async () => {
    const outcome = await runCli(['watch', a, b, '--until', 'ready'], { env: withKey });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).not.toContain('\x1b');
    const list = changes(outcome.stdout);
    expect(lastStateOf(list, a)).toBe('authenticated');
    expect(lastStateOf(list, b)).toBe('authenticated');
    // The handshake is seen step by step, each circle on its own lines.
    expect(list.filter((c) => c.url === a).map((c) => c.state)).toEqual(['connecting', 'fetchingNonce', 'signing', 'authenticating', 'authenticated']);
    expect(outcome.stderr).toBe('circle-ws watch: every circle is ready (2)\n');
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });

  it('without a key the circles are ready when connected', async () => {
    const outcome = await runCli(['watch', a, '--until', 'ready']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(lastStateOf(changes(outcome.stdout), a)).toBe('connected');
  });

  it('--until ready exits 1 when a circle fails for good (HTTP 404), naming it', async () => {
    const outcome = await runCli(['watch', a, unknown, '--until', 'ready'], { env: withKey });
    expect(outcome.code).toBe(1);
    const failed = changes(outcome.stdout).filter((c) => c.url === unknown && c.state === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.failure).toMatch(/^CONNECTION_FAILED: .*404/);
    expect(outcome.stderr).toBe(`circle-ws watch: not every circle can be ready: failed for good (no more retries): ${unknown}\n`);
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });

  it('--for MS alone watches that long and exits 0', async () => {
    const outcome = await runCli(['watch', a, '--for', '1500'], { env: withKey });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(lastStateOf(changes(outcome.stdout), a)).toBe('authenticated');
    expect(outcome.stderr).toBe('');
  });

  it('SIGTERM disconnects every circle and exits 0', async () => {
    const watch = startCli(['watch', a, b], { env: withKey });
    await watch.waitFor(new RegExp(`\\t${b.replace(/[/.]/g, '\\$&')}\\tauthenticated\\t`), 30_000);
    await watch.waitFor(new RegExp(`\\t${a.replace(/[/.]/g, '\\$&')}\\tauthenticated\\t`), 30_000);
    watch.child.kill('SIGTERM');
    const exit = await watch.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(0);
    expect(exit.stderr).toBe('circle-ws watch: SIGTERM: disconnecting\n');
  });

  it('--help documents the options and both outputs', async () => {
    const { code, stdout } = await runCli(['watch', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: circle-ws watch URL\.\.\. /);
    for (const text of ['--until ready', '--for MS', '--key-file FILE', 'redrawn in place', 'TIME<TAB>URL<TAB>STATE<TAB>ATTEMPT<TAB>NEXT_RETRY_MS<TAB>LAST_FAILURE']) {
      expect(stdout).toContain(text);
    }
  });

  it('refuses a bad --until, an argument that is not a URL and a bad --for (exit 2)', async () => {
    const [until, notUrl, forMs] = await Promise.all([
      runCli(['watch', a, '--until', 'done']),
      runCli(['watch', a, 'whoami']),
      runCli(['watch', a, '--for', '0']),
    ]);
    expect(until.code).toBe(2);
    expect(until.stderr).toMatch(/^circle-ws watch: --until takes "ready"/);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/^circle-ws watch: expected only URLs/);
    expect(forMs.code).toBe(2);
    expect(forMs.stderr).toMatch(/^circle-ws watch: --for must be a whole number of milliseconds/);
  });
});

describe('the watch table', () => {
  const key = (digit: string): string => `02${digit.repeat(64)}`;
  const u1 = `ws://127.0.0.1:8080/${key('a')}`;
  const u2 = `wss://circles.example:443/${key('b')}?client=cli-watch`;
  const circles: Record<string, CircleState> = {
    [u1]: { status: 'authenticated', attempt: 0, retryDelayMs: 0, lastFailure: null },
    [u2]: { status: 'backoff', attempt: 3, retryDelayMs: 1250, lastFailure: { code: 'CONNECTION_LOST', message: 'closed with 1006' } },
  };

  it('shortens a circle URL to its host and the ends of the key', () => {
    expect(shortUrl(u1)).toBe('ws://127.0.0.1:8080/02aaaaaaaa…aaaa');
    expect(shortUrl(u2)).toBe('wss://circles.example/02bbbbbbbb…bbbb?client=cli…');
    expect(shortUrl('ws://h:1/02ab')).toBe('ws://h:1/02ab');
  });

  it('lays out one row per circle, in order, and a summary', () => {
    expect(tableLines(circles, [u1, u2])).toEqual([
      'CIRCLE                                             STATE          ATTEMPT  NEXT RETRY  LAST FAILURE',
      'ws://127.0.0.1:8080/02aaaaaaaa…aaaa                authenticated  0        -           -',
      'wss://circles.example/02bbbbbbbb…bbbb?client=cli…  backoff        3        1250 ms     CONNECTION_LOST',
      'converging: 1 of 2 circles ready',
    ]);
  });

  it('cuts lines to the terminal width so none wraps', () => {
    const lines = tableLines(circles, [u1, u2], 40);
    for (const line of lines) expect(line.length).toBeLessThan(40);
    expect(lines[1]).toBe('ws://127.0.0.1:8080/02aaaaaaaa…aaaa   …');
    expect(lines[3]).toBe('converging: 1 of 2 circles ready');
  });

  it('leaves out the circles a short terminal cannot show, and says so', () => {
    const lines = tableLines(circles, [u1, u2], undefined, 4);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^ws:\/\/127\.0\.0\.1:8080\/02aaaaaaaa…aaaa  authenticated/);
    expect(lines[2]).toBe('converging: 1 of 2 circles ready (1 not shown: the terminal is too short)');
    expect(tableLines(circles, [u1, u2], undefined, 5)).toHaveLength(4);
    expect(tableLines(circles, [u1, u2], 0, 0)).toHaveLength(4);
  });

  it('draws the first table plainly, then moves up over the lines drawn last time and clears below', () => {
    expect(redraw(['a', 'b'], 0)).toBe('a\nb\n');
    expect(redraw(['a', 'b', 'c'], 2)).toBe('\x1b[2A\r\x1b[Ja\nb\nc\n');
    expect(redraw(['x'], 3)).toBe('\x1b[3A\r\x1b[Jx\n');
  });

  it('names the whole picture as the manager does', () => {
    expect(overallState(circles)).toBe('converging');
    expect(overallState({ [u1]: circles[u1]! })).toBe('ready');
    expect(overallState({ ...circles, x: { status: 'failed', attempt: 0, retryDelayMs: 0, lastFailure: null } })).toBe('degraded');
  });

  it('writes a change as one tab-separated, escaped line', () => {
    const circle: CircleState = { status: 'backoff', attempt: 2, retryDelayMs: 500, lastFailure: { code: 'TIMEOUT', message: 'no answer\tin time\n' } };
    expect(plainLine(new Date(0), u1, circle)).toBe(`1970-01-01T00:00:00.000Z\t${u1}\tbackoff\t2\t500\tTIMEOUT: no answer\\tin time\\n\n`);
    expect(plainLine(new Date(0), u1, circles[u1]!)).toBe(`1970-01-01T00:00:00.000Z\t${u1}\tauthenticated\t0\t-\t-\n`);
  });
});
