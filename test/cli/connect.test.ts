/**
 * How an interactive `connect` session ends, as a shell sees it: 0 after quit or end of input,
 * 130 after Ctrl-C (SIGINT), 143 after SIGTERM, whether the session was authenticated, still
 * trying to connect, or waiting for a call.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { generateKeypair } from '../../src/auth/crypto.js';
import { cliEnv, closedPort, ensureBuilt, expectNoKey, killChildren, runCli, startCli, startServe } from './helpers.js';

beforeAll(ensureBuilt, 120_000);
afterEach(killChildren);

const me = generateKeypair();
const withKey = cliEnv({ CIRCLE_WS_KEY: me.privateKey });

describe('circle-ws connect exit statuses', { timeout: 60_000 }, () => {
  it('Ctrl-C (SIGINT) at the prompt of an authenticated session exits 130', async () => {
    const { circle } = await startServe();
    // stdin stays open: the session waits at its prompt as it would in a terminal.
    const session = startCli(['connect', circle], { env: withKey });
    await session.waitFor(/^\[authenticated\]$/m, 30_000);
    await session.waitFor(/^type "help" for commands$/m, 30_000);
    session.child.kill('SIGINT');
    const exit = await session.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(130);
    expect(exit.stderr).toMatch(/^SIGINT: disconnecting$/m);
    expectNoKey(exit.stdout + exit.stderr, me.privateKey);
  });

  it('SIGINT while the client is still trying to connect exits 130 at once', async () => {
    const port = await closedPort();
    const session = startCli(['connect', `ws://127.0.0.1:${port}/${me.publicKeyCompressed}`], { env: withKey });
    // The interactive client retries forever; the first backoff proves it is mid-attempt.
    await session.waitFor(/^\[backoff/m, 30_000);
    session.child.kill('SIGINT');
    const exit = await session.exited;
    expect(exit.code).toBe(130);
    expect(exit.stderr).toMatch(/SIGINT: disconnecting/);
    expect(exit.stderr).not.toMatch(/could not connect/);
  });

  it('SIGTERM exits 143', async () => {
    const { circle } = await startServe();
    const session = startCli(['connect', circle], { env: withKey });
    await session.waitFor(/^type "help" for commands$/m, 30_000);
    session.child.kill('SIGTERM');
    const exit = await session.exited;
    expect(exit.signal).toBeNull();
    expect(exit.code).toBe(143);
  });

  it('SIGINT after a call was answered exits 130, with no error printed for the disconnect', async () => {
    const { circle } = await startServe();
    const session = startCli(['connect', circle], { env: withKey });
    await session.waitFor(/^type "help" for commands$/m, 30_000);
    session.child.stdin!.write('play 6 * 7\n');
    await session.waitFor(/^42$/m, 30_000);
    session.child.kill('SIGINT');
    const exit = await session.exited;
    expect(exit.code).toBe(130);
    expect(exit.stdout).not.toMatch(/^error:/m);
  });

  it('SIGINT while a call waits for an answer that never comes exits 130 at once', async () => {
    // A server that accepts the socket and never answers anything: the call would wait for its timeout.
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => silent.once('listening', () => resolve()));
    try {
      const { port } = silent.address() as { port: number };
      const session = startCli(['connect', `ws://127.0.0.1:${port}/${me.publicKeyCompressed}`, '--timeout', '60000']);
      await session.waitFor(/^type "help" for commands$/m, 30_000);
      const asked = new Promise<string>((resolve) => {
        for (const client of silent.clients) client.once('message', (data) => resolve(String(data)));
      });
      session.child.stdin!.write('whoami\n');
      // The request has reached the server, so the call is in flight when Ctrl-C comes.
      expect(await asked).toMatch(/"method":"whoami"/);
      session.child.kill('SIGINT');
      const exit = await session.exited;
      expect(exit.code).toBe(130);
      expect(exit.ms).toBeLessThan(30_000);
      expect(exit.stderr).not.toMatch(/^error:/m);
    } finally {
      for (const client of silent.clients) client.terminate();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('quit exits 0, and so does the end of input', async () => {
    const { circle } = await startServe();
    const [quit, eof] = await Promise.all([
      runCli(['connect', circle], { env: withKey, input: 'whoami\nquit\nplay 1 + 1\n' }),
      runCli(['connect', circle], { env: withKey, input: 'play 2 + 3\n' }),
    ]);
    expect(quit.code, quit.stderr).toBe(0);
    expect(quit.stdout).toContain(`"pubkey": "${me.publicKey}"`);
    expect(quit.stdout.split('\n')).not.toContain('2');
    expect(eof.code, eof.stderr).toBe(0);
    expect(eof.stdout.split('\n')).toContain('5');
  });
});
