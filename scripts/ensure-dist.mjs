/**
 * Builds `dist/` (tsc -p tsconfig.build.json) when it is missing or older than the TypeScript
 * sources. Everything that runs the built package (the command's tests, the docs diagram, the
 * browser bundle, the benchmark) calls this, and vitest's global setup calls it once before any
 * test file runs, so no two processes ever write `dist/` at the same time. A directory lock
 * covers the runs outside vitest.
 *
 *   node scripts/ensure-dist.mjs
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
const LOCK = join(ROOT, 'node_modules/.cache/circle-ws-build.lock');
/** One built file per entry point: all must be at least as new as the newest source. */
const MARKERS = ['dist/src/index.js', 'dist/src/node.js', 'dist/src/cli/main.js', 'dist/src/server/index.js', 'dist/src/testing/node.js', 'dist/src/react/index.js', 'dist/machines/connection.js'];

function newest(dir, suffix) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path, suffix));
    else if (entry.name.endsWith(suffix)) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

function isFresh() {
  const sources = Math.max(newest(join(ROOT, 'src'), '.ts'), newest(join(ROOT, 'machines'), '.ts'), statSync(join(ROOT, 'tsconfig.build.json')).mtimeMs);
  return MARKERS.every((marker) => (statSync(join(ROOT, marker), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= sources);
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Builds `dist/` if it is stale. Type errors elsewhere only warn as long as tsc emitted every
 * entry point (`npm run typecheck` is where type errors fail).
 * @example ensureDist(); // then spawn node dist/src/cli/main.js
 */
export function ensureDist({ log = console.warn } = {}) {
  if (isFresh()) return;
  mkdirSync(dirname(LOCK), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A lock left by a killed run must not block every later one.
      const lock = statSync(LOCK, { throwIfNoEntry: false });
      if (lock && Date.now() - lock.mtimeMs > 180_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${LOCK}`);
      sleepSync(200);
    }
  }
  try {
    if (isFresh()) return;
    const started = Date.now();
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
    const emitted = MARKERS.every((marker) => (statSync(join(ROOT, marker), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= started - 1_000);
    if (result.status !== 0) {
      if (!emitted) throw new Error(`tsc -p tsconfig.build.json failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
      log(`tsc reported errors but emitted dist/; going on:\n${result.stdout}`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) ensureDist();
