/**
 * `circle-ws play` and `circle-ws call` with several URLs, run as users run them (the built
 * command in a child process) against the reference server in this process: one line per circle
 * in the order given, a refused circle (HTTP 404) on its own line without stopping the others,
 * and the exit status saying whether every circle answered.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import { ConnectionFailedError, RpcError } from '../../src/errors.js';
import { errorField, formatLine } from '../../src/cli/many.js';
import { escapeField } from '../../src/cli/io.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';
import { cliEnv, ensureBuilt, expectNoKey, killChildren, runCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const me = generateKeypair();
const withKey = cliEnv({ CIRCLE_WS_KEY: me.privateKey });
const circleA = generateKeypair();
const circleB = generateKeypair();
/** Well formed, but not served: the server answers the upgrade with HTTP 404. */
const notServed = generateKeypair();

let server: CircleServer;
let a = '';
let b = '';
let unknown = '';
const dir = mkdtempSync(join(tmpdir(), 'circle-ws-many-'));

beforeAll(async () => {
  server = await createCircleServer({ host: '127.0.0.1', port: 0, circles: [circleA.publicKeyCompressed, circleB.publicKeyCompressed] });
  a = server.urlFor(circleA.publicKeyCompressed);
  b = server.urlFor(circleB.publicKeyCompressed);
  unknown = server.urlFor(notServed.publicKeyCompressed);
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The lines of stdout, each split on tabs. */
function fields(stdout: string): string[][] {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout.slice(0, -1).split('\n').map((line) => line.split('\t'));
}

describe('play with several URLs', { timeout: 60_000 }, () => {
  it('prints URL, ok, output per circle in the order given; exit 0 when every circle answered', async () => {
    const outcome = await runCli(['play', b, a, 'let x = 10; x * 2'], { env: withKey });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toBe(`${b}\tok\t20\n${a}\tok\t20\n`);
    expect(outcome.stderr).toBe('');
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });

  it('a refused circle (HTTP 404) gets its error line, the others their output; exit 1', async () => {
    const outcome = await runCli(['play', a, unknown, b, '6 * 7'], { env: withKey });
    expect(outcome.code, outcome.stderr).toBe(1);
    const lines = fields(outcome.stdout);
    expect(lines.map((line) => line[0])).toEqual([a, unknown, b]);
    expect(lines[0]).toEqual([a, 'ok', '42']);
    expect(lines[2]).toEqual([b, 'ok', '42']);
    expect(lines[1]![1]).toBe('error');
    expect(lines[1]![2]).toMatch(/^CONNECTION_FAILED \(HTTP 404[^)]*\): /);
    expect(lines[1]).toHaveLength(3);
    expect(outcome.stderr).toBe('circle-ws play: 1 of 3 circles failed\n');
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });

  it('takes the key from a 0600 key file and never shows it', async () => {
    const file = join(dir, 'me.key');
    writeFileSync(file, `${me.privateKey}\n`, { mode: 0o600 });
    const outcome = await runCli(['play', a, b, '--key-file', file, '1 + 1']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toBe(`${a}\tok\t2\n${b}\tok\t2\n`);
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });

  it('with one URL the output is as it always was', async () => {
    const outcome = await runCli(['play', a, 'let x = 10; x * 2'], { env: withKey });
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stdout).toBe('20\n');
  });
});

describe('call with several URLs', { timeout: 60_000 }, () => {
  it('prints the result as one line of JSON per circle', async () => {
    const outcome = await runCli(['call', a, b, 'whoami', '{}'], { env: withKey });
    expect(outcome.code, outcome.stderr).toBe(0);
    const lines = fields(outcome.stdout);
    expect(lines.map((line) => [line[0], line[1]])).toEqual([
      [a, 'ok'],
      [b, 'ok'],
    ]);
    for (const line of lines) expect(JSON.parse(line[2]!)).toMatchObject({ authenticated: true });
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });

  it('an RPC error is one circle\'s error line; without a key the hint follows on stderr', async () => {
    const outcome = await runCli(['call', a, unknown, 'play', '{"script":"1 + 1"}']);
    expect(outcome.code).toBe(1);
    const lines = fields(outcome.stdout);
    expect(lines[0]![0]).toBe(a);
    expect(lines[0]![1]).toBe('error');
    expect(lines[0]![2]).toMatch(/^RPC_ERROR: .*\(JSON-RPC error -32001\)$/);
    expect(lines[1]![2]).toMatch(/^CONNECTION_FAILED \(HTTP 404/);
    expect(outcome.stderr).toBe('circle-ws call: 2 of 2 circles failed\nhint: this needs authentication; pass --key-file FILE or set CIRCLE_WS_KEY\n');
  });
});

describe('usage mistakes with several URLs exit 2 before connecting', { timeout: 60_000 }, () => {
  it('URLs and no script', async () => {
    const outcome = await runCli(['play', a, b]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^circle-ws play: missing argument: expected URL SCRIPT, got 2 URLs and nothing after them\n/);
  });

  it('the same URL twice', async () => {
    const outcome = await runCli(['play', a, a, '1']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/was added twice/);
  });

  it('a later URL that names no circle', async () => {
    const outcome = await runCli(['call', a, `${server.url}/02aa`, 'whoami']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/the URL's path is not a circle public key/);
  });

  it('a private key in place of a later URL is refused and not shown', async () => {
    const outcome = await runCli(['play', a, `ws://127.0.0.1:1/${me.privateKey}`, '1']);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/looks like a private key .* given in place of a URL;/);
    expectNoKey(outcome.stdout + outcome.stderr, me.privateKey);
  });
});

describe('the line format', () => {
  it('escapes backslash, tab, newline and carriage return so one circle stays one line', () => {
    expect(escapeField('a\tb\nc\r\\d')).toBe('a\\tb\\nc\\r\\\\d');
    expect(formatLine({ url: 'ws://h:1/02', ok: true, output: 'line 1\nline\t2' })).toBe('ws://h:1/02\tok\tline 1\\nline\\t2\n');
  });

  it('puts the stable code first in the error field', () => {
    expect(errorField(new RpcError(-32601, 'Method not found'))).toBe('RPC_ERROR: Method not found (JSON-RPC error -32601)');
    expect(errorField(new ConnectionFailedError('refused', { status: 404 }))).toMatch(/^CONNECTION_FAILED \(HTTP 404\): refused/);
    expect(errorField(new Error('odd'))).toBe('ERROR: odd');
  });
});
