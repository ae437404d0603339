#!/usr/bin/env node
/**
 * Measures what circle-ws-client costs in a browser bundle and writes the table into
 * docs/frontend.md between `<!-- sizes:begin -->` and `<!-- sizes:end -->`.
 *
 *   node scripts/sizes.mjs           (npm run docs:sizes) rewrite the table
 *   node scripts/sizes.mjs --check   exit 1 when the table is stale
 *   node scripts/sizes.mjs --print   print the table and write nothing
 *   --doc PATH                       use another Markdown file instead of docs/frontend.md
 *
 * Each row is an esbuild bundle built the way an application gets the package (by name, through
 * package.json's `exports`, `browser` and `module` conditions, ES2022, minified: the options of
 * examples/browser/build.mjs), gzipped at level 9.
 *
 * How stale is "stale": the minified byte counts must match exactly. They are deterministic for
 * a given source tree and lockfile (esbuild's output depends only on its version, its options and
 * the inputs). The gzipped counts may differ by up to GZIP_TOLERANCE: Node ships Chromium's fork
 * of zlib, whose deflate picks its matches differently with the CPU's CRC32 instructions, so the
 * same bytes can compress a little differently on another machine or Node version. Any change to
 * the code changes the minified count, so the tolerance hides no real change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_ENTRY, FULL_ENTRY, bundle, ensureDist } from '../examples/browser/build.mjs';

const BEGIN = '<!-- sizes:begin -->';
const END = '<!-- sizes:end -->';
const defaultDocPath = fileURLToPath(new URL('../docs/frontend.md', import.meta.url));

/** Relative difference allowed between a gzipped size in the doc and the one measured here. */
export const GZIP_TOLERANCE = 0.01;

/** The rows: what an app imports, and the two dependencies measured alone. */
export const ROWS = [
  { label: 'a typical app: `CircleWsClient`, `generateKeypair`, `AuthError`, `ConnectionFailedError`', entry: APP_ENTRY },
  { label: "the whole root API (`export * from 'circle-ws-client'`)", entry: FULL_ENTRY },
  {
    label: "xstate alone: `setup`, `createActor`, `fromPromise`, `assign` (what the client uses; it cannot be tree-shaken further)",
    entry: "export { setup, createActor, fromPromise, assign } from 'xstate';\n",
  },
  {
    label: "noble alone: secp256k1 and keccak-256 (a browser build signs with WebCrypto's HMAC-SHA-256, not noble's)",
    entry: [
      "export * as secp from '@noble/secp256k1';",
      "export { keccak_256 } from '@noble/hashes/sha3.js';",
      '',
    ].join('\n'),
  },
];

const bytes = (n) => `${n.toLocaleString('en-US')} B (${(n / 1024).toFixed(1)} KiB)`;

/** Builds every row; resolves with `[{ label, minified, gzipped }]`. */
export async function measure() {
  ensureDist();
  const rows = [];
  for (const row of ROWS) {
    const result = await bundle({ entry: row.entry });
    rows.push({ label: row.label, minified: result.bytes, gzipped: result.gzipBytes });
  }
  return rows;
}

/** The Markdown table for measured rows. */
export function render(rows) {
  return [
    '| entry | minified | gzipped |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| ${row.label} | ${bytes(row.minified)} | ${bytes(row.gzipped)} |`),
    '',
  ].join('\n');
}

/** The rows of a table written by `render` (label, minified, gzipped), or null if it has none. */
export function parse(table) {
  const rows = [];
  for (const line of table.split('\n')) {
    const match = /^\| (.+) \| ([\d,]+) B \([\d.]+ KiB\) \| ([\d,]+) B \([\d.]+ KiB\) \|$/.exec(line);
    if (match) rows.push({ label: match[1], minified: Number(match[2].replaceAll(',', '')), gzipped: Number(match[3].replaceAll(',', '')) });
  }
  return rows.length > 0 ? rows : null;
}

/** Why the written table is stale compared with `measured`, or [] when it is current. */
export function staleness(written, measured) {
  if (!written) return ['no table between the markers'];
  const problems = [];
  if (written.length !== measured.length) problems.push(`${written.length} rows written, ${measured.length} measured`);
  measured.forEach((row, i) => {
    const old = written[i];
    if (!old) return;
    if (old.label !== row.label) problems.push(`row ${i + 1}: label "${old.label}", expected "${row.label}"`);
    if (old.minified !== row.minified) problems.push(`${row.label}: minified ${old.minified} B written, ${row.minified} B measured`);
    if (Math.abs(old.gzipped - row.gzipped) > row.gzipped * GZIP_TOLERANCE) {
      problems.push(`${row.label}: gzipped ${old.gzipped} B written, ${row.gzipped} B measured (more than ${GZIP_TOLERANCE * 100}% apart)`);
    }
  });
  return problems;
}

function between(markdown, docPath) {
  const begin = markdown.indexOf(BEGIN);
  const end = markdown.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${docPath} has no ${BEGIN} … ${END} section`);
  return { before: markdown.slice(0, begin + BEGIN.length), inside: markdown.slice(begin + BEGIN.length, end), after: markdown.slice(end) };
}

async function main(argv) {
  const at = argv.indexOf('--doc');
  const docPath = at >= 0 && argv[at + 1] ? argv[at + 1] : defaultDocPath;
  const rows = await measure();
  const table = render(rows);
  if (argv.includes('--print')) {
    process.stdout.write(table);
    return 0;
  }
  const markdown = readFileSync(docPath, 'utf8');
  const { before, inside, after } = between(markdown, docPath);
  if (argv.includes('--check')) {
    const problems = staleness(parse(inside), rows);
    if (problems.length === 0) return 0;
    process.stderr.write(`${docPath}: the size table is stale; run \`npm run docs:sizes\`:\n${problems.map((p) => `  ${p}\n`).join('')}`);
    return 1;
  }
  writeFileSync(docPath, `${before}\n${table}${after}`);
  console.log(`wrote the size table of ${docPath}`);
  for (const row of rows) console.log(`  ${row.minified} B minified, ${row.gzipped} B gzipped: ${row.label}`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
