/**
 * Helpers for testing `circle-ws` as users run it: the built file in a child process. The build
 * is made once, only when the sources are newer than it, under a lock so parallel test files
 * (and parallel runs) do not write `dist/` at the same time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDist } from '../../scripts/ensure-dist.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = join(ROOT, 'dist/src/cli/main.js');
/**
 * Builds `dist/` if it is older than the sources (vitest's global setup has normally done it
 * already). A wrapper without parameters: vitest reads a hook's first parameter as fixtures.
 */
export function ensureBuilt(): void {
  ensureDist();
}

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const children = new Set<ChildProcess>();

/** The environment for a child: this one without a key, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!('CIRCLE_WS_KEY' in extra)) delete env.CIRCLE_WS_KEY;
  return env;
}

/** A running `circle-ws` child with its output so far. */
export interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Outcome>;
  /** Resolves with the first match of `pattern` on stdout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/**
 * Starts `node dist/src/cli/main.js ...args`; killed by {@link killChildren} if still running.
 * @example const serve = startCli(['serve', '--port', '0']); await serve.waitFor(/^listening on (\S+)$/m);
 */
export function startCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Running {
  const started = performance.now();
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? cliEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const watcher of [...watchers]) watcher();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (options.input !== undefined) child.stdin.end(options.input);
  const exited = new Promise<Outcome>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      children.delete(child);
      for (const watcher of [...watchers]) watcher();
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`no ${pattern} on stdout within ${timeoutMs} ms; stdout: ${stdout}\nstderr: ${stderr}`));
        }, timeoutMs);
        const check = (): void => {
          const match = pattern.exec(stdout);
          if (match) {
            clearTimeout(timer);
            watchers.delete(check);
            resolve(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            watchers.delete(check);
            reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before ${pattern}; stdout: ${stdout}\nstderr: ${stderr}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/**
 * Runs `circle-ws ...args` to completion.
 * @example const { code, stdout } = await runCli(['keygen']);
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<Outcome> {
  // Close stdin so nothing can wait on it.
  return startCli(args, { input: '', ...options }).exited;
}

/** Kills every child still running; for `afterEach`. */
export async function killChildren(): Promise<void> {
  const running = [...children];
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            resolve();
            return;
          }
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

/**
 * Starts `circle-ws serve --port 0 ...args` and resolves with its base URL and first circle URL.
 * @example const { circle } = await startServe(); await runCli(['call', circle, 'whoami']);
 */
export async function startServe(args: string[] = []): Promise<{ server: Running; base: string; circle: string }> {
  const server = startCli(['serve', '--port', '0', ...args]);
  const base = (await server.waitFor(/^listening on (ws:\/\/\S+)$/m, 30_000))[1]!;
  const circle = (await server.waitFor(/^circle (ws:\/\/\S+)$/m, 30_000))[1]!;
  return { server, base, circle };
}

/** A port that was free a moment ago (bound and released), so almost surely closed now. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/**
 * Asserts that no form of `privateKey` (as given, lower or upper case, with or without 0x) is in `text`.
 * @example expectNoKey(outcome.stdout + outcome.stderr, key);
 */
export function expectNoKey(text: string, privateKey: string): void {
  const bare = privateKey.replace(/^0x/i, '');
  for (const form of [bare, bare.toLowerCase(), bare.toUpperCase()]) {
    if (text.includes(form)) throw new Error('the private key appears in the output');
  }
}
