/**
 * The package as a consumer receives it. `npm pack` runs once into a temporary directory; the
 * tests then read the tarball (every entry point present, every source map resolvable), install
 * it into a throwaway project (offline: the dependencies are links into this repository's
 * node_modules) and type-check three small consumers against it with `skipLibCheck: false`,
 * the way a strict app would: Node ESM (`nodenext`), a browser app (`bundler`, `lib: ES2022` and
 * DOM, no Node types) and CommonJS (`node16`). publint and @arethetypeswrong/cli judge the same
 * tarball.
 *
 * `npm pack --ignore-scripts`: vitest's global setup has just built dist/, and `prepack` would
 * rebuild it while other test files run the built command.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, ROOT } from '../../scripts/ensure-dist.mjs';

const SLOW = 600_000;
const BIN = join(ROOT, 'node_modules/.bin');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface Run {
  code: number | null;
  output: string;
}

/** Runs a command to the end and never throws: the tests assert on its exit code and output. */
function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, maxBuffer: 64 * 1024 * 1024, timeout: SLOW - 30_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

interface PackedPackage {
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  imports: Record<string, unknown>;
  dependencies: Record<string, string>;
  scripts?: Record<string, string>;
}

/** Every file path a conditions object (or a plain string) can lead to. */
function targets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

let work: string;
let tarball: string;
/** Paths inside the tarball, relative to its `package/` directory. */
let files: Set<string>;
let unpacked: string;
let packed: PackedPackage;
let consumer: string;
let install: Run;

const consumers = {
  nodenext: {
    tsconfig: { module: 'nodenext', moduleResolution: 'nodenext', lib: ['ES2022', 'esnext.disposable'], types: ['node'] },
    source: `import { type CircleWsError, type CircleWsStatus, CircleWsClient, nodeTransport, statusOf } from 'circle-ws-client';
import { circleWsMachine } from 'circle-ws-client/machine';
import { nodeTransport as fromNodeEntry } from 'circle-ws-client/node';
import { createCircleServer } from 'circle-ws-client/server';
import { FaultProxy, ManualClock } from 'circle-ws-client/testing';
import { FaultProxy as FaultProxyFromNodeEntry } from 'circle-ws-client/testing/node';
import type { SnapshotFrom } from 'xstate';

export async function check(client: CircleWsClient, snapshot: SnapshotFrom<typeof circleWsMachine>): Promise<string | undefined> {
  await using scoped = client;
  const error: CircleWsError | null = scoped.lastError;
  const status: CircleWsStatus = statusOf(snapshot);
  // @ts-expect-error statusOf wants a state value or a snapshot
  statusOf(42);
  void [nodeTransport, fromNodeEntry, createCircleServer, FaultProxy, FaultProxyFromNodeEntry, ManualClock, status, error];
  return scoped.lastError?.code;
}
`,
  },
  bundler: {
    tsconfig: { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] },
    source: `import { browserTransport, type CircleWsError, CircleWsClient } from 'circle-ws-client';
import { nodeTransport } from 'circle-ws-client/node';
import { useCircleWsStatus } from 'circle-ws-client/react';
import { FakeTransport, ManualClock } from 'circle-ws-client/testing';
// @ts-expect-error the fault proxy is Node-only: the test kit's browser types do not offer it
import { FaultProxy } from 'circle-ws-client/testing';
import { FaultProxy as FaultProxyFromNodeEntry } from 'circle-ws-client/testing/node';

export function check(client: CircleWsClient): string | undefined {
  const error: CircleWsError | null = client.lastError;
  void [browserTransport, nodeTransport, useCircleWsStatus, FakeTransport, ManualClock, FaultProxy, FaultProxyFromNodeEntry, error];
  return client.lastError?.code;
}
`,
  },
  node16: {
    tsconfig: { module: 'node16', moduleResolution: 'node16', lib: ['ES2022'], types: ['node'] },
    // A CommonJS module reaches an ESM-only package through import() and resolution-mode types.
    source: `import type { CircleWsClient, CircleWsError } from 'circle-ws-client' with { 'resolution-mode': 'import' };

export async function check(url: string): Promise<string | undefined> {
  const { CircleWsClient: Client } = await import('circle-ws-client');
  const client: CircleWsClient = Client.builder(url).build();
  const error: CircleWsError | null = client.lastError;
  void error;
  return client.lastError?.code;
}
`,
  },
} as const;

/** Started together once the tarball is installed; each test awaits its own. */
const typechecks = new Map<keyof typeof consumers, Promise<Run>>();

beforeAll(async () => {
  ensureDist();
  work = mkdtempSync(join(tmpdir(), 'circle-ws-pack-'));
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  expect(pack.code, pack.output).toBe(0);
  const report = JSON.parse(pack.output.slice(pack.output.indexOf('['))) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
  const [entry] = report;
  if (!entry) throw new Error(`npm pack reported nothing:\n${pack.output}`);
  tarball = join(work, entry.filename);
  files = new Set(entry.files.map((f) => f.path));
  console.log(`[figure] npm pack: ${entry.files.length} files, ${(entry.size / 1024).toFixed(0)} kB packed, ${(entry.unpackedSize / 1024).toFixed(0)} kB unpacked`);

  unpacked = join(work, 'unpacked');
  mkdirSync(unpacked);
  const untar = await run('tar', ['-xzf', tarball, '-C', unpacked], work);
  expect(untar.code, untar.output).toBe(0);
  unpacked = join(unpacked, 'package');
  packed = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as PackedPackage;

  // The consumer's dependencies are this repository's copies, linked, so npm needs no registry.
  consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  const link = (name: string): void => {
    mkdirSync(dirname(join(consumer, 'node_modules', name)), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
  };
  for (const name of Object.keys(packed.dependencies)) link(name);
  install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--cache', join(work, 'npm-cache'), tarball], consumer);
  // npm prunes what the consumer does not declare, so the type-only extras come after it.
  link('@types/node');

  for (const [name, { tsconfig, source }] of Object.entries(consumers) as Array<[keyof typeof consumers, (typeof consumers)[keyof typeof consumers]]>) {
    const dir = join(consumer, name);
    mkdirSync(dir);
    if (name === 'node16') writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'commonjs' }));
    writeFileSync(join(dir, 'app.ts'), source);
    const compilerOptions = { target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, ...tsconfig };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['app.ts'] }, null, 2));
    if (install.code === 0) typechecks.set(name, run(process.execPath, [TSC, '-p', dir], consumer));
  }
}, SLOW);

afterAll(async () => {
  await Promise.allSettled(typechecks.values());
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the license, the readme and every file package.json points at', () => {
    expect(files.has('LICENSE')).toBe(true);
    expect(readFileSync(join(unpacked, 'LICENSE'), 'utf8')).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(files.has('README.md')).toBe(true);
    const pointedAt = [packed.main, packed.types, ...targets(packed.bin), ...targets(packed.exports), ...targets(packed.imports)].map((path) => posix.normalize(path));
    expect(pointedAt.length).toBeGreaterThan(20);
    expect(pointedAt.filter((path) => !files.has(path))).toEqual([]);
  });

  it('ships no TypeScript sources and no test, bench or example files', () => {
    const stray = [...files].filter((path) => (path.endsWith('.ts') && !path.endsWith('.d.ts')) || /^(src|test|bench|examples|machines|scripts)\//.test(path));
    expect(stray).toEqual([]);
  });

  it('every source map resolves: each .js names a shipped map, each map source is inlined or shipped', () => {
    const problems: string[] = [];
    let maps = 0;
    for (const path of files) {
      if (path.endsWith('.js')) {
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(unpacked, path), 'utf8'))?.[1];
        if (url && !url.startsWith('data:') && !files.has(posix.join(posix.dirname(path), url))) problems.push(`${path} names ${url}, not in the tarball`);
      }
      if (!path.endsWith('.map')) continue;
      maps += 1;
      const map = JSON.parse(readFileSync(join(unpacked, path), 'utf8')) as { sources: string[]; sourceRoot?: string; sourcesContent?: Array<string | null> };
      map.sources.forEach((source, i) => {
        if (typeof map.sourcesContent?.[i] === 'string') return;
        const resolved = posix.normalize(posix.join(posix.dirname(path), map.sourceRoot ?? '', source));
        if (!files.has(resolved)) problems.push(`${path}: ${source} is neither inlined nor in the tarball`);
      });
    }
    console.log(`[figure] ${maps} source maps checked`);
    expect(maps).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('has no install-time script, and npm installs it without a word about install scripts', () => {
    const installScripts = Object.keys(packed.scripts ?? {}).filter((name) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(name));
    expect(installScripts).toEqual([]);
    expect(install.code, install.output).toBe(0);
    expect(install.output).not.toMatch(/install[- ]scripts?|prepare/i);
    expect(install.output).toMatch(/added 1 package/);
  });

  it('publint finds no error', async () => {
    const lint = await run(join(BIN, 'publint'), ['run', tarball, '--level', 'warning'], work);
    console.log(`[figure] publint: ${lint.output.trim().split('\n').at(-1)}`);
    expect(lint.code, lint.output).toBe(0);
    expect(lint.output).not.toMatch(/^Errors?:/m);
  }, SLOW);

  it('@arethetypeswrong/cli finds no problem in the ESM and bundler resolutions', async () => {
    const attw = await run(join(BIN, 'attw'), [tarball, '--format', 'json', '--no-definitely-typed', '--profile', 'esm-only'], work);
    const result = JSON.parse(attw.output.slice(attw.output.indexOf('{'))) as {
      analysis: { entrypoints: Record<string, unknown>; problems: Array<{ kind: string; entrypoint?: string; resolutionKind?: string }> };
    };
    // The package is ESM only: CommonJS `require` (node10, node16-cjs) is out of scope by design.
    const relevant = result.analysis.problems.filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
    expect(Object.keys(result.analysis.entrypoints)).toEqual(expect.arrayContaining(['.', './node', './testing', './testing/node', './machine', './react']));
    expect(relevant).toEqual([]);
    expect(attw.code, attw.output).toBe(0);
  }, SLOW);
});

describe('a strict consumer type-checks against the installed tarball (skipLibCheck: false)', () => {
  it.each(Object.keys(consumers) as Array<keyof typeof consumers>)('moduleResolution %s', async (name) => {
    const check = typechecks.get(name);
    expect(check, `the tarball did not install:\n${install.output}`).toBeDefined();
    const result = await check;
    expect(result?.output.trim()).toBe('');
    expect(result?.code).toBe(0);
  }, SLOW);
});
