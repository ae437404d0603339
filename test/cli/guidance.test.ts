/**
 * The command guides: a misplaced private key is refused without being shown, a URL that cannot
 * name a circle is refused before any connection, a key file that cannot be used gets one line
 * naming it and the problem, and each hint fits the command it is printed for.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import { closedPort, ensureBuilt, expectNoKey, killChildren, runCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const dir = mkdtempSync(join(tmpdir(), 'circle-ws-guidance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pair = generateKeypair();
const KEY = pair.privateKey;
const CIRCLE = pair.publicKeyCompressed;
const KEY_REFUSED = /refused a value that looks like a private key \(64 hex characters\) given (.+); it is not shown here\./;

/** A TCP listener that counts connections: proof that a refusal came before any connection. */
let listener: Server;
let connections = 0;
let port = 0;
beforeAll(async () => {
  listener = createServer((socket: Socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

describe('a misplaced private key is refused where it was put, and never shown', { timeout: 60_000 }, () => {
  const url = (): string => `ws://127.0.0.1:${port}/${CIRCLE}`;
  const cases: Array<[string, () => string[], string]> = [
    ['as the command name', () => [KEY], 'in place of the command name'],
    ['as the command name after help', () => ['help', KEY], 'in place of a command name after help'],
    ['as the URL of connect', () => ['connect', KEY], 'in place of the URL'],
    ['as the URL of call, with 0x', () => ['call', `0x${KEY}`, 'whoami'], 'in place of the URL'],
    ['as the path of the URL', () => ['play', `ws://127.0.0.1:${port}/${KEY}`, '1 + 1'], 'in place of the URL'],
    ['as the path of the URL, upper case with 0x', () => ['call', `ws://127.0.0.1:${port}/0x${KEY.toUpperCase()}`, 'whoami'], 'in place of the URL'],
    ['as the value of --key-file', () => ['call', url(), 'whoami', '--key-file', KEY], 'as the value of --key-file'],
    ['as the value of --key-file=', () => ['connect', url(), `--key-file=${KEY}`], 'as the value of --key-file'],
    ['as the value of --timeout', () => ['play', url(), '1', '--timeout', KEY], 'as the value of --timeout'],
    ['as the value of serve --circle', () => ['serve', '--circle', KEY], 'as the value of --circle'],
    ['as the value of keygen --out', () => ['keygen', '--out', KEY], 'as the value of --out'],
    ['as the value of an unknown option', () => ['call', url(), 'whoami', '--kye-file', KEY], 'as the value of --kye-file'],
    ['as the script, after --', () => ['play', url(), '--', KEY], 'in place of the SCRIPT (after --)'],
    ['as the method', () => ['call', url(), KEY], 'in place of the METHOD'],
    ['as an argument of a command that takes none', () => ['demo', KEY], 'as argument 1'],
    ['as an option value before the command', () => ['--timeout', KEY, 'play'], 'as the value of --timeout'],
    ['as an argument before the command', () => ['--verbose=1', KEY, 'play'], 'as argument 1'],
  ];

  it.each(cases)('%s', async (_name, args, where) => {
    const before = connections;
    const { code, stdout, stderr } = await runCli(args());
    expect(code).toBe(2);
    expect(stdout).toBe('');
    const match = KEY_REFUSED.exec(stderr);
    expect(match, stderr).not.toBeNull();
    expect(match![1]).toContain(where);
    expect(stderr).toMatch(/--key-file FILE, or set the CIRCLE_WS_KEY environment variable/);
    expectNoKey(stdout + stderr, KEY);
    expect(connections).toBe(before);
  });

  it('malformed JSON params are refused without quoting them (they may hold a key)', async () => {
    const inputs = [`{"key": ${KEY}z}`, `${KEY}z`, `{"a": 1, "b": "${'x'.repeat(60)}", "key": ${KEY}z}`, `x${KEY}`];
    const outcomes = await Promise.all(inputs.map((json) => runCli(['call', url(), 'whoami', json])));
    for (const outcome of outcomes) {
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(/^circle-ws call: the params are not valid JSON \([^"]*\); quote them/);
      expectNoKey(outcome.stdout + outcome.stderr, KEY);
      expect(outcome.stderr).not.toContain(KEY.slice(0, 8));
    }
  });

  it('does not mistake a circle public key (66 or 130 hex characters) for a private key', async () => {
    const closed = await closedPort();
    const compressed = await runCli(['call', `ws://127.0.0.1:${closed}/${CIRCLE}`, 'whoami', '--timeout', '2000']);
    const uncompressed = await runCli(['call', `ws://127.0.0.1:${closed}/${pair.publicKey}`, 'whoami', '--timeout', '2000']);
    for (const outcome of [compressed, uncompressed]) {
      // Nothing listens: a connection failure (1), not a refusal (2).
      expect(outcome.code, outcome.stderr).toBe(1);
      expect(outcome.stderr).not.toMatch(/looks like a private key/);
      expect(outcome.stderr).toMatch(/ConnectionFailedError/);
    }
  });
});

describe('a URL whose path is not a circle public key is refused before connecting', { timeout: 60_000 }, () => {
  const cases: Array<[string, (port: number) => string, RegExp]> = [
    ['no path', (p) => `ws://127.0.0.1:${p}`, /the URL names no circle: its path must be \/CIRCLE_PK/],
    ['a bare slash', (p) => `ws://127.0.0.1:${p}/`, /the URL names no circle/],
    ['a short key', (p) => `ws://127.0.0.1:${p}/02aa`, /the URL's path is not a circle public key \(got "\/02aa", with 4 hex characters\)/],
    ['a word', (p) => `ws://127.0.0.1:${p}/circle`, /not a circle public key \(got "\/circle", with characters that are not hexadecimal\)/],
    ['a 0x prefix', (p) => `ws://127.0.0.1:${p}/0x${CIRCLE}`, /not a circle public key \(got a path of 69 characters, with a 0x prefix\)/],
    ['a trailing slash', (p) => `ws://127.0.0.1:${p}/${CIRCLE}/`, /not a circle public key .*not hexadecimal/],
    ['a prefix path', (p) => `ws://127.0.0.1:${p}/circles/${CIRCLE}`, /not a circle public key/],
    ['66 hex characters off the curve', (p) => `ws://127.0.0.1:${p}/02${'f'.repeat(64)}`, /not a point on the secp256k1 curve/],
  ];

  it.each(cases)('%s', async (_name, makeUrl, message) => {
    const before = connections;
    const [connect, call, play] = await Promise.all([
      runCli(['connect', makeUrl(port)]),
      runCli(['call', makeUrl(port), 'whoami']),
      runCli(['play', makeUrl(port), '1 + 1']),
    ]);
    for (const outcome of [connect, call, play]) {
      expect(outcome.code, outcome.stderr).toBe(2);
      expect(outcome.stdout).toBe('');
      expect(outcome.stderr).toMatch(message);
      expect(outcome.stderr).toMatch(/66 or 130 characters/);
      expect(outcome.stderr).not.toMatch(/HTTP 404/);
    }
    expect(connections).toBe(before);
  });

  it('keeps a query string, which the server ignores', async () => {
    const closed = await closedPort();
    const { code, stderr } = await runCli(['call', `ws://127.0.0.1:${closed}/${CIRCLE}?client=cli`, 'whoami', '--timeout', '2000']);
    expect(stderr).not.toMatch(/not a circle public key/);
    expect(code).toBe(1);
  });
});

describe('a key file that cannot be used: one line naming the file and the problem, exit 1', { timeout: 60_000 }, () => {
  const url = (): string => `ws://127.0.0.1:${port}/${CIRCLE}`;

  /** Runs `call` with `--key-file file` and checks the common shape of the answer. */
  async function refusedWith(file: string, extra: string[] = []): Promise<string> {
    const before = connections;
    const { code, stdout, stderr } = await runCli(['call', url(), 'whoami', '--key-file', file, ...extra]);
    expect(code, stderr).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).not.toMatch(/Usage:/);
    expect(stderr.startsWith('circle-ws call: ')).toBe(true);
    expectNoKey(stderr, KEY);
    expect(connections).toBe(before);
    return stderr;
  }

  it('missing: it does not exist, the code said once', async () => {
    const file = join(dir, 'absent.key');
    const stderr = await refusedWith(file);
    expect(stderr).toBe(`circle-ws call: cannot read the key file ${file}: it does not exist (ENOENT)\n`);
  });

  it('a part of its path is not a directory', async () => {
    const notDir = join(dir, 'plain');
    writeFileSync(notDir, 'x');
    const stderr = await refusedWith(join(notDir, 'me.key'));
    expect(stderr).toBe(`circle-ws call: cannot read the key file ${notDir}/me.key: a part of its path is not a directory (ENOTDIR)\n`);
  });

  it('a directory, a device and a pipe are refused without reading (a pipe would block)', async () => {
    const sub = join(dir, 'a-dir');
    mkdirSync(sub);
    expect(await refusedWith(sub)).toBe(`circle-ws call: the key file ${sub} is a directory; it must be a regular file\n`);
    expect(await refusedWith('/dev/zero')).toBe('circle-ws call: the key file /dev/zero is a device; it must be a regular file\n');
    if (process.platform === 'win32') return;
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await refusedWith(fifo)).toBe(`circle-ws call: the key file ${fifo} is a pipe; it must be a regular file\n`);
  });

  it('unreadable: permission denied (root reads it anyway)', async () => {
    const file = join(dir, 'locked.key');
    writeFileSync(file, `${KEY}\n`, { mode: 0o000 });
    chmodSync(file, 0o000);
    if (process.getuid?.() === 0) {
      // Root is not stopped by the mode, and 0000 shares nothing, so the key is used.
      const { code, stderr } = await runCli(['call', `ws://127.0.0.1:${await closedPort()}/${CIRCLE}`, 'whoami', '--key-file', file, '--timeout', '2000']);
      expect(stderr).toMatch(/ConnectionFailedError/);
      expect(code).toBe(1);
      return;
    }
    expect(await refusedWith(file)).toBe(`circle-ws call: cannot read the key file ${file}: permission denied (EACCES)\n`);
  });

  it('larger than 4096 bytes: refused before it is read; 4096 bytes are read', async () => {
    const big = join(dir, 'big.key');
    writeFileSync(big, `${KEY}\n${' '.repeat(4096)}`, { mode: 0o600 });
    expect(await refusedWith(big)).toBe(
      `circle-ws call: the key file ${big} is larger than 4096 bytes; a key file holds one private key (64 hex characters), so it is not read\n`,
    );
    // At the limit it is read, and judged by what it holds.
    const edge = join(dir, 'edge.key');
    writeFileSync(edge, 'z'.repeat(4096), { mode: 0o600 });
    expect(await refusedWith(edge)).toMatch(new RegExp(`^circle-ws call: the key file ${edge} does not hold a valid private key: .*\\n$`));
  });

  it('not a key: says so without repeating what it holds', async () => {
    const file = join(dir, 'wrong.key');
    const content = `${KEY.slice(0, 40)}zz${KEY.slice(42)}`;
    writeFileSync(file, `${content}\n`, { mode: 0o600 });
    const stderr = await refusedWith(file);
    expect(stderr).toMatch(/does not hold a valid private key: private key must contain only hexadecimal characters/);
    expect(stderr).not.toContain(content);
    expect(stderr.split('\n')).toHaveLength(2);
  });

  it('readable or writable by group or others: refused as ssh does, with the chmod line to run', async () => {
    if (process.platform === 'win32') return;
    for (const [mode, shown, verb] of [
      [0o644, '0644', 'read'],
      [0o640, '0640', 'read'],
      [0o604, '0604', 'read'],
      [0o620, '0620', 'change'],
    ] as const) {
      const file = join(dir, `open-${shown}.key`);
      writeFileSync(file, `${KEY}\n`);
      chmodSync(file, mode);
      const stderr = await refusedWith(file);
      expect(stderr).toBe(
        `circle-ws call: the key file ${file} has mode ${shown}, so other users can ${verb} it; it is refused, as ssh refuses such a key. ` +
          `Make it yours only with:\n  chmod 600 ${file}\n(or pass --allow-open-key-file to use it as it is)\n`,
      );
    }
  });

  it('quotes the chmod line for the shell when the name needs it', async () => {
    if (process.platform === 'win32') return;
    const file = join(dir, "my key's file");
    writeFileSync(file, `${KEY}\n`);
    chmodSync(file, 0o644);
    const stderr = await refusedWith(file);
    expect(stderr).toContain(`\n  chmod 600 '${dir}/my key'\\''s file'\n`);
  });

  it('--allow-open-key-file needs --key-file', async () => {
    const { code, stderr } = await runCli(['call', url(), 'whoami', '--allow-open-key-file']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^circle-ws call: --allow-open-key-file only applies with --key-file FILE\n/);
  });

  it('CIRCLE_WS_KEY is not subject to the file rules', async () => {
    const closed = await closedPort();
    const { code, stderr } = await runCli(['call', `ws://127.0.0.1:${closed}/${CIRCLE}`, 'whoami', '--timeout', '2000'], {
      env: { ...process.env, CIRCLE_WS_KEY: KEY },
    });
    expect(stderr).toMatch(/ConnectionFailedError/);
    expect(code).toBe(1);
    expectNoKey(stderr, KEY);
  });
});

describe('hints fit the command', { timeout: 60_000 }, () => {
  const url = (): string => `ws://127.0.0.1:${port}/${CIRCLE}`;

  it('the -- "-1 + 2" hint is for play; call gets its own; other commands none', async () => {
    const [play, call, keygen, serve, connect, demo] = await Promise.all([
      runCli(['play', url(), '--bogus']),
      runCli(['call', url(), '--bogus']),
      runCli(['keygen', '--bogus']),
      runCli(['serve', '--bogus']),
      runCli(['connect', url(), '--bogus']),
      runCli(['demo', '--bogus']),
    ]);
    expect(play.stderr).toMatch(/^circle-ws play: unknown option '--bogus' \(a script that starts with '-' goes after --, as in: circle-ws play URL -- "-1 \+ 2"\)\n/);
    expect(call.stderr).toMatch(/^circle-ws call: unknown option '--bogus' \(an argument that starts with '-' goes after --, as in: circle-ws call URL -- METHOD '\{\}'\)\n/);
    for (const [name, outcome] of [['keygen', keygen], ['serve', serve], ['connect', connect], ['demo', demo]] as const) {
      expect(outcome.code).toBe(2);
      expect(outcome.stderr.split('\n')[0]).toBe(`circle-ws ${name}: unknown option '--bogus'`);
      expect(outcome.stderr).not.toMatch(/-1 \+ 2|goes after --/);
    }
  });

  it('an option after -- is explained as such', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['play', url(), '--', '1 + 1', '--timeout', '5000'], /^circle-ws play: --timeout comes after --, so it is read as an argument, not as an option; put options before --/],
      [['call', url(), '--', 'whoami', '--key-file=me.key'], /^circle-ws call: --key-file comes after --, so it is read as an argument/],
      [['connect', '--', url(), '--help'], /^circle-ws connect: --help comes after --/],
      [['serve', '--', '--port', '0'], /^circle-ws serve: --port comes after --/],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => runCli(args)));
    outcomes.forEach((outcome, index) => {
      expect(outcome.code).toBe(2);
      expect(outcome.stderr).toMatch(cases[index]![1]);
    });
  });
});
