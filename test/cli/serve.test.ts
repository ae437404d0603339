import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import { cliEnv, ensureBuilt, killChildren, runCli, startCli, type Running } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const dir = mkdtempSync(join(tmpdir(), 'circle-ws-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const me = generateKeypair();
const withKey = cliEnv({ CIRCLE_WS_KEY: me.privateKey });

/** Starts `serve` on a free port and resolves with its base URL and first circle URL. */
async function serve(args: string[] = []): Promise<{ server: Running; base: string; circle: string }> {
  const server = startCli(['serve', '--port', '0', ...args]);
  const base = (await server.waitFor(/^listening on (ws:\/\/\S+)$/m))[1]!;
  const circle = (await server.waitFor(/^circle (ws:\/\/\S+)$/m))[1]!;
  return { server, base, circle };
}

describe('circle-ws serve', () => {
  it('serves a generated circle; call and play work against it; SIGTERM exits 0', async () => {
    const { server, base, circle } = await serve();
    expect(base).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(circle).toMatch(new RegExp(`^${base}/0[23][0-9a-f]{64}$`));

    const [who, played] = await Promise.all([
      runCli(['call', circle, 'whoami'], { env: withKey }),
      runCli(['play', circle, 'let x = 10; x * 2'], { env: withKey }),
    ]);
    expect(who.code, who.stderr).toBe(0);
    expect(JSON.parse(who.stdout)).toEqual({ authenticated: true, pubkey: me.publicKey, circle: circle.slice(base.length + 1) });
    expect(played.code, played.stderr).toBe(0);
    expect(played.stdout).toBe('20\n');
    expect(played.stderr).toBe('');

    // Logs go to stderr, so stdout stays the URLs only.
    expect(server.stdout().trim().split('\n')).toHaveLength(2);
    expect(server.stderr()).toMatch(/info authenticated/);
    expect(server.stderr()).not.toContain(me.privateKey);

    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.signal).toBeNull();
    expect(exit.stderr).toMatch(/SIGTERM: closing the server/);
  });

  it('reports errors on stderr with exit 1: an RPC error, and play without a key', async () => {
    const { circle } = await serve();
    const [unknown, anonymous, failing] = await Promise.all([
      runCli(['call', circle, 'no_such_method', '{}'], { env: withKey }),
      runCli(['play', circle, '1 + 1']),
      runCli(['play', circle, '1 / 0'], { env: withKey }),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^RpcError RPC_ERROR: .*-32601/);

    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/RpcError RPC_ERROR: .*-32001/);
    expect(anonymous.stderr).toMatch(/hint: this needs authentication/);

    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/RpcError RPC_ERROR: .*-32000/);
  });

  it('takes --circle, --no-auth and --compat v1', async () => {
    const circleKey = generateKeypair().publicKeyCompressed;
    const { base, circle, server } = await serve(['--circle', circleKey, '--no-auth', '--compat', 'v1']);
    expect(circle).toBe(`${base}/${circleKey}`);
    expect(server.stderr()).toMatch(/"compat":"v1","auth":false/);
    const played = await runCli(['play', circle, 'let x = 10; x * 2']);
    expect(played.code, played.stderr).toBe(0);
    expect(played.stdout).toBe('20\n');
    // A circle it does not serve is refused with HTTP 404, which is final: no retrying.
    const other = await runCli(['call', `${base}/${generateKeypair().publicKeyCompressed}`, 'whoami']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/ConnectionFailedError CONNECTION_FAILED \(HTTP 404/);
  });

  it('reads the key from --key-file; one others may access is refused unless --allow-open-key-file', async () => {
    const { circle } = await serve();
    const file = join(dir, 'me.key');
    writeFileSync(file, `${me.privateKey}\n`, { mode: 0o600 });
    const quiet = await runCli(['call', circle, 'whoami', '--key-file', file]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(JSON.parse(quiet.stdout)).toMatchObject({ authenticated: true, pubkey: me.publicKey });
    expect(quiet.stderr).toBe('');

    if (process.platform === 'win32') return;
    chmodSync(file, 0o644);
    const refused = await runCli(['call', circle, 'whoami', '--key-file', file]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(`\n  chmod 600 ${file}\n`);
    expect(refused.stderr).not.toContain(me.privateKey);

    const allowed = await runCli(['call', circle, 'whoami', '--key-file', file, '--allow-open-key-file']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ authenticated: true, pubkey: me.publicKey });
    expect(allowed.stderr).toBe(
      `warning: the key file ${file} has mode 0644, so other users can read it; used because of --allow-open-key-file. Fix it with: chmod 600 ${file}\n`,
    );
    expect(allowed.stderr + allowed.stdout).not.toContain(me.privateKey);
  }, 60_000);

  it('connect: a piped session runs each line in order and quits at EOF', async () => {
    const { circle } = await serve();
    const input = ['whoami', 'play let x = 10; x * 2', 'call whoami {}', 'call whoami [1]', 'bogus', 'status', ''].join('\n');
    const { code, stdout, stderr } = await runCli(['connect', circle], { env: withKey, input });
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines.indexOf('[connecting]')).toBeLessThan(lines.indexOf('[authenticated]'));
    expect(lines).toContain('20');
    expect(stdout).toContain(`"pubkey": "${me.publicKey}"`);
    expect(stderr).toMatch(/params must be a JSON object/);
    expect(stderr).toMatch(/unknown command "bogus"/);
    expect(lines).toContain('authenticated');
    expect(stdout).not.toContain(me.privateKey);
  });

  it('connect: quit ends the session; an RPC error does not; a circle the server refuses exits 1', async () => {
    const { base, circle } = await serve();
    const input = ['call no_such_method {}', 'quit', 'play 1 + 1', ''].join('\n');
    const session = await runCli(['connect', circle], { env: withKey, input });
    expect(session.code).toBe(0);
    expect(session.stderr).toMatch(/^error: RpcError RPC_ERROR: .*-32601/m);
    expect(session.stdout.split('\n')).not.toContain('2');

    const refused = await runCli(['connect', `${base}/${generateKeypair().publicKeyCompressed}`], { env: withKey, input: 'whoami\n' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/could not connect: ConnectionFailedError CONNECTION_FAILED \(HTTP 404/);
  });

  it('fails fast with exit 1 when nothing listens at the URL', async () => {
    // Bind and release a port so it is almost surely closed.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const { code, stderr, ms } = await runCli(['call', `ws://127.0.0.1:${port}/${generateKeypair().publicKeyCompressed}`, 'whoami']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/ConnectionFailedError CONNECTION_FAILED.*gave up after 2 reconnection attempts/);
    expect(ms).toBeLessThan(8_000);
  });

  it('a port in use: one line that names the port and how to pick another, exit 1', async () => {
    const { base } = await serve();
    const port = base.split(':').pop()!;
    const second = await runCli(['serve', '--port', port, '--circle', me.publicKeyCompressed]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toBe(
      `circle-ws serve: port ${port} is already in use on 127.0.0.1 (EADDRINUSE): another program listens there. ` +
        'Pick another port with --port N, or --port 0 for any free one (the URL is printed)\n',
    );
  });
});
