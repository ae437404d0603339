/**
 * Helpers for testing `circle-ws` as users run it: the built file in a child process. The build
 * is made once, only when the sources are newer than it, under a lock so parallel test files
 * (and parallel runs) do not write `dist/` at the same time.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const MAIN = join(ROOT, 'dist/src/cli/main.js');
const LOCK = join(ROOT, 'node_modules/.cache/circle-ws-cli-build.lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  let built: number;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    return false;
  }
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'machines')), statSync(join(ROOT, 'tsconfig.build.json')).mtimeMs);
  return built >= sources;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds `dist/` if `dist/src/cli/main.js` is missing or older than any source. Type errors in
 * files outside the CLI (other work in progress) do not stop the tests as long as tsc emitted
 * the CLI; `npm run typecheck` is where type errors are caught.
 */
export function ensureBuilt(): void {
  if (isFresh()) return;
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed run must not block every later one.
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      sleepSync(200);
    }
  }
  try {
    if (isFresh()) return;
    const started = Date.now();
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 110_000 });
    const emitted = statSync(MAIN, { throwIfNoEntry: false });
    if (result.status !== 0) {
      if (emitted === undefined || emitted.mtimeMs < started - 1_000) {
        throw new Error(`npm run build failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
      }
      console.warn(`tsc reported errors but emitted the CLI; testing it anyway:\n${result.stdout}`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
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
