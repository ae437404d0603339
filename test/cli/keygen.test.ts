import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { derivePublicKey } from '../../src/auth/crypto.js';
import { ensureBuilt, killChildren, runCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const dir = mkdtempSync(join(tmpdir(), 'circle-ws-keygen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEX64 = /^[0-9a-f]{64}$/;

describe('circle-ws keygen', () => {
  it('prints a consistent key pair as JSON', async () => {
    const { code, stdout, stderr } = await runCli(['keygen']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const pair = JSON.parse(stdout) as Record<string, string>;
    expect(Object.keys(pair)).toEqual(['publicKey', 'publicKeyCompressed', 'privateKey']);
    expect(pair.privateKey).toMatch(HEX64);
    expect(pair.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    expect(pair.publicKeyCompressed).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(derivePublicKey(pair.privateKey!)).toBe(pair.publicKey);
    expect(derivePublicKey(pair.privateKey!, { compressed: true })).toBe(pair.publicKeyCompressed);
  });

  it('makes a different key each time', async () => {
    const [a, b] = await Promise.all([runCli(['keygen']), runCli(['keygen'])]);
    expect(JSON.parse(a!.stdout).privateKey).not.toBe(JSON.parse(b!.stdout).privateKey);
  });

  it('--out writes the private key to a 0600 file and prints only the public keys', async () => {
    const file = join(dir, 'me.key');
    const { code, stdout } = await runCli(['keygen', '--out', file]);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, string>;
    expect(Object.keys(printed).sort()).toEqual(['keyFile', 'publicKey', 'publicKeyCompressed']);
    expect(printed.keyFile).toBe(file);

    const content = readFileSync(file, 'utf8');
    expect(content).toMatch(/^[0-9a-f]{64}\n$/);
    const privateKey = content.trim();
    expect(derivePublicKey(privateKey)).toBe(printed.publicKey);
    expect(stdout).not.toContain(privateKey);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('--out refuses to overwrite an existing file, and --force overwrites it with mode 0600', async () => {
    const file = join(dir, 'existing.key');
    writeFileSync(file, 'keep me\n');
    chmodSync(file, 0o644);

    const refused = await runCli(['keygen', '--out', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists; pass --force/);
    expect(refused.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');

    const forced = await runCli(['keygen', '--out', file, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
