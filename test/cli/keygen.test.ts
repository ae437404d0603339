import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { derivePublicKey } from '../../src/auth/crypto.js';
import { ensureBuilt, expectNoKey, killChildren, runCli } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const dir = mkdtempSync(join(tmpdir(), 'circle-ws-keygen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEX64 = /^[0-9a-f]{64}$/;

describe('circle-ws keygen', { timeout: 60_000 }, () => {
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

  describe('--out does not write where the user did not point, even with --force', { timeout: 60_000 }, () => {
    /** Runs keygen --out FILE [--force]; expects exit 1, nothing on stdout, one line on stderr. */
    async function refused(file: string, force: boolean): Promise<string> {
      const { code, stdout, stderr } = await runCli(['keygen', '--out', file, ...(force ? ['--force'] : [])]);
      expect(code, stderr).toBe(1);
      expect(stdout).toBe('');
      expect(stderr.split('\n')).toHaveLength(2);
      expect(stderr).not.toMatch(/[0-9a-f]{64}/);
      return stderr;
    }

    it('a symbolic link to an existing file: refused, the file untouched', async () => {
      if (process.platform === 'win32') return;
      const target = join(dir, 'victim');
      writeFileSync(target, 'keep me\n');
      chmodSync(target, 0o644);
      const link = join(dir, 'link.key');
      symlinkSync(target, link);
      for (const force of [false, true]) {
        expect(await refused(link, force)).toBe(
          `circle-ws keygen: ${link} is a symbolic link; keygen does not write a key through one, even with --force. Remove the link or pick another path\n`,
        );
      }
      expect(readFileSync(target, 'utf8')).toBe('keep me\n');
      expect(statSync(target).mode & 0o777).toBe(0o644);
      expect(readlinkSync(link)).toBe(target);
    });

    it('a dangling symbolic link: refused, nothing created at its target', async () => {
      if (process.platform === 'win32') return;
      const target = join(dir, 'not-yet');
      const link = join(dir, 'dangling.key');
      symlinkSync(target, link);
      for (const force of [false, true]) expect(await refused(link, force)).toMatch(/dangling\.key is a symbolic link/);
      expect(() => lstatSync(target)).toThrow(/ENOENT/);
    });

    it('a file with another hard link: refused with --force, both names untouched', async () => {
      if (process.platform === 'win32') return;
      const file = join(dir, 'linked.key');
      writeFileSync(file, 'keep me\n', { mode: 0o600 });
      linkSync(file, join(dir, 'other-name'));
      expect(await refused(file, true)).toMatch(/linked\.key has 1 other hard link\(s\); keygen does not overwrite it, even with --force/);
      expect(readFileSync(join(dir, 'other-name'), 'utf8')).toBe('keep me\n');
    });

    it('a file of another user: refused with --force (root can chown to show it), untouched', async () => {
      if (process.platform === 'win32') return;
      const file = join(dir, 'theirs.key');
      writeFileSync(file, 'keep me\n');
      chmodSync(file, 0o666);
      if (process.getuid?.() === 0) {
        chownSync(file, 4242, 4242);
        expect(await refused(file, true)).toBe(`circle-ws keygen: ${file} belongs to another user (uid 4242); keygen does not overwrite it, even with --force\n`);
      } else {
        // Only root can give a file away; a file of another user is one we cannot open either.
        expect(await refused('/etc/passwd', true)).toMatch(/^circle-ws keygen: (cannot write the key file \/etc\/passwd: permission denied|\/etc\/passwd belongs to another user)/);
      }
      expect(readFileSync(file, 'utf8')).toBe('keep me\n');
    });

    it('a pipe or a directory: refused at once (opening a pipe does not wait for a reader)', async () => {
      if (process.platform === 'win32') return;
      const fifo = join(dir, 'pipe.key');
      execFileSync('mkfifo', [fifo]);
      expect(await refused(fifo, true)).toMatch(/^circle-ws keygen: cannot write the key file .*pipe\.key: it is a device or a pipe with nothing behind it \(ENXIO\)\n$/);
      expect(await refused(dir, true)).toMatch(/^circle-ws keygen: cannot write the key file .*: it is a directory \(EISDIR\)\n$/);
    });

    it('the key written with --force never reaches stdout or stderr', async () => {
      const file = join(dir, 'forced.key');
      writeFileSync(file, 'old\n', { mode: 0o600 });
      const { code, stdout, stderr } = await runCli(['keygen', '--out', file, '--force']);
      expect(code, stderr).toBe(0);
      expectNoKey(stdout + stderr, readFileSync(file, 'utf8').trim());
    });
  });
});
