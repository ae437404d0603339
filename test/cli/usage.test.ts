import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import { ensureBuilt, killChildren, MAIN, ROOT, runCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const COMMANDS = ['demo', 'keygen', 'serve', 'connect', 'call', 'play'];
/** A circle URL on a port nothing listens on: valid in form, so only the mistake under test is reported. */
const CIRCLE_URL = `ws://127.0.0.1:1/${generateKeypair().publicKeyCompressed}`;

describe('help', () => {
  it('prints the top-level usage on stdout with exit 0 for --help, -h and help', async () => {
    const outcomes = await Promise.all([runCli(['--help']), runCli(['-h']), runCli(['help'])]);
    for (const { code, stdout, stderr } of outcomes) {
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: circle-ws <command> \[options\]/);
      for (const command of COMMANDS) expect(stdout).toContain(`  ${command}`);
      expect(stderr).toBe('');
    }
  });

  it('prints each command usage with exit 0, even when its arguments are missing', async () => {
    const runs = COMMANDS.flatMap((command) => [runCli([command, '--help']), runCli([command, '-h']), runCli(['help', command])]);
    const outcomes = await Promise.all(runs);
    outcomes.forEach(({ code, stdout }, index) => {
      const command = COMMANDS[Math.floor(index / 3)];
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: circle-ws ${command}`));
    });
  });

  it('prints the version', async () => {
    const { code, stdout } = await runCli(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });
});

describe('usage errors exit 2 with the message and the usage on stderr', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no command', [], /missing command/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['an unknown top-level option', ['--verbose'], /unknown option '--verbose'/],
    ['an unknown command option', ['keygen', '--bogus'], /unknown option '--bogus'/],
    ['a bad port', ['serve', '--port', '99999'], /--port must be a whole number from 0 to 65535/],
    ['a non-numeric port', ['serve', '--port', 'http'], /--port must be a whole number/],
    ['a bad compat value', ['serve', '--compat', 'v3'], /--compat must be v1 or v2/],
    ['a bad nonce ttl', ['serve', '--nonce-ttl', '-5'], /--nonce-ttl/],
    ['a bad circle key', ['serve', '--circle', '02abc'], /a --circle value is not a secp256k1 public key/],
    ['an option without its value', ['serve', '--port'], /option '--port' needs a value/],
    ['bad JSON params', ['call', CIRCLE_URL, 'whoami', '{not json'], /params are not valid JSON/],
    ['params that are not an object', ['call', CIRCLE_URL, 'whoami', '[1,2]'], /must be a JSON object/],
    ['a missing argument', ['play', CIRCLE_URL], /missing argument/],
    ['too many arguments', ['play', CIRCLE_URL, '1', '+', '2'], /too many arguments/],
    ['a URL that is not ws://', ['call', CIRCLE_URL.replace('ws:', 'http:'), 'whoami'], /must start with ws:\/\/ or wss:\/\//],
    ['a bad timeout', ['call', CIRCLE_URL, 'whoami', '--timeout', '0'], /--timeout must be/],
    ['--force without --out', ['keygen', '--force'], /--force only applies with --out/],
  ];

  it.each(cases)('%s', async (_name, args, message) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).toMatch(/Usage: circle-ws/);
  });

  it('refuses a malformed key from CIRCLE_WS_KEY without printing it', async () => {
    const secretish = 'z'.repeat(64);
    const { code, stderr } = await runCli(['call', CIRCLE_URL, 'whoami'], {
      env: { ...process.env, CIRCLE_WS_KEY: secretish },
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/CIRCLE_WS_KEY is not a valid private key: .*hexadecimal/);
    expect(stderr).not.toContain(secretish);
  });
});

describe('a private key on the command line', () => {
  const key = '5238ae120b1447ead07c8e7835d6934e243677538086affad03ed75a7fa08555';
  const spellings: string[][] = [
    ['call', CIRCLE_URL, 'whoami', '--key', key],
    ['play', CIRCLE_URL, '1', `--key=${key}`],
    ['connect', CIRCLE_URL, '--private-key', key],
    ['--key', key, 'call', CIRCLE_URL, 'whoami'],
    // Refused even with --help: the explanation matters more than the usage.
    ['demo', '--key', key, '--help'],
  ];

  it.each(spellings)('is refused with exit 2 and an explanation: %s %s …', async (...args) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/is refused: a private key on the command line can be read by other users/);
    expect(stderr).toMatch(/--key-file FILE/);
    expect(stderr).toMatch(/CIRCLE_WS_KEY/);
    expect(stderr).not.toContain(key);
  });

  it('is not mistaken for a script after --', async () => {
    // Nothing listens on port 1: this fails to connect (1), but it is not a usage error (2).
    const { code, stderr } = await runCli(['play', CIRCLE_URL, '--timeout', '2000', '--', '--key']);
    expect(stderr).not.toMatch(/is refused/);
    expect(code).toBe(1);
  });
});

describe('package.json', () => {
  it('exposes the built command as bin circle-ws and npm start runs the demo', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.bin).toEqual({ 'circle-ws': './dist/src/cli/main.js' });
    expect(pkg.scripts.start).toBe('node dist/src/cli/main.js demo');
    expect(readFileSync(MAIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
