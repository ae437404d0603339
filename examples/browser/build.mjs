/**
 * Builds the browser bundle of circle-ws-client the way an application would get it: an entry
 * that imports `circle-ws-client` by name, resolved through package.json's `exports` with the
 * `browser` condition (the package imports itself), bundled by esbuild for the browser.
 *
 *   node examples/browser/build.mjs            # writes dist/browser/circle-ws-client.js, prints sizes
 *   node examples/browser/build.mjs --out FILE
 *
 * The package's own `dist/` (tsc) comes first: `ensureDist()` (scripts/ensure-dist.mjs) runs
 * `tsc -p tsconfig.build.json` when it is missing or older than the sources. `npm run build` does
 * not run this script.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { ensureDist } from '../../scripts/ensure-dist.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE = join(ROOT, 'dist/browser/circle-ws-client.js');

/** The whole public root API, re-exported: what the demo page and the browser tests load. */
export const FULL_ENTRY = "export * from 'circle-ws-client';\n";

/** What a typical application imports. */
export const APP_ENTRY = [
  "import { CircleWsClient, generateKeypair, AuthError, ConnectionFailedError } from 'circle-ws-client';",
  'export { CircleWsClient, generateKeypair, AuthError, ConnectionFailedError };',
  '',
].join('\n');

/**
 * esbuild options that match what Vite and webpack do for a browser build: the `browser` and
 * `module` conditions. (Naming any condition in esbuild drops its default `module` one, and
 * xstate then resolves to its CommonJS build, about 3 KB larger gzipped.)
 */
export const browserOptions = Object.freeze({
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['browser', 'module'],
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'silent',
});

export { ensureDist };

/** Bytes of `code` compressed by gzip at level 9. */
export function gzipSize(code) {
  return gzipSync(code, { level: 9 }).length;
}

/**
 * Bundles `entry` (source text, resolved from the package root) for the browser.
 * Resolves with the code, esbuild's metafile and the minified and gzipped sizes; writes
 * `outfile` when given.
 * @param {{ entry?: string, loader?: 'js' | 'ts' | 'jsx' | 'tsx', resolveDir?: string, minify?: boolean, outfile?: string, define?: Record<string, string>, jsx?: 'automatic' | 'transform' | 'preserve' }} [options]
 */
export async function bundle(options = {}) {
  const { entry = FULL_ENTRY, loader = 'js', resolveDir = ROOT, minify = true, outfile, define, jsx } = options;
  const result = await esbuild.build({
    ...browserOptions,
    stdin: { contents: entry, resolveDir, loader, sourcefile: 'entry.js' },
    minify,
    metafile: true,
    write: false,
    ...(outfile ? { outfile } : { outdir: join(ROOT, 'dist/browser') }),
    ...(define ? { define } : {}),
    ...(jsx ? { jsx } : {}),
  });
  const output = result.outputFiles.find((file) => file.path.endsWith('.js'));
  if (!output) throw new Error('esbuild produced no JavaScript output');
  const code = output.contents;
  if (outfile) {
    mkdirSync(dirname(outfile), { recursive: true });
    writeFileSync(outfile, code);
  }
  return { code, text: output.text, metafile: result.metafile, bytes: code.length, gzipBytes: gzipSize(code) };
}

/** Writes `dist/browser/circle-ws-client.js` (the full API) unless it is newer than `dist/src`. */
export async function ensureBrowserBundle({ force = false } = {}) {
  ensureDist();
  const bundled = statSync(BUNDLE, { throwIfNoEntry: false });
  const newestDist = Math.max(newestJs(join(ROOT, 'dist/src')), newestJs(join(ROOT, 'dist/machines')));
  if (!force && bundled && bundled.mtimeMs >= newestDist) return BUNDLE;
  await bundle({ outfile: BUNDLE });
  return BUNDLE;
}

function newestJs(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestJs(path));
    else if (entry.name.endsWith('.js')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KiB (${bytes} B)`;

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outfile = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : BUNDLE;
  ensureDist();
  const full = await bundle({ outfile });
  const app = await bundle({ entry: APP_ENTRY });
  console.log(`wrote ${relative(process.cwd(), outfile) || outfile}`);
  console.log(`full API (export * from 'circle-ws-client'): ${kb(full.bytes)} minified, ${kb(full.gzipBytes)} gzipped`);
  console.log(`typical app (CircleWsClient, generateKeypair, two errors): ${kb(app.bytes)} minified, ${kb(app.gzipBytes)} gzipped`);
}
