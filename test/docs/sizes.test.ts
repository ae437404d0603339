/**
 * The bundle-size table in docs/frontend.md is generated from a build (`npm run docs:sizes`):
 * these tests fail when it is stale. Minified sizes must match exactly; gzipped ones within
 * GZIP_TOLERANCE (scripts/sizes.mjs says why).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDist } from '../../scripts/ensure-dist.mjs';
import { GZIP_TOLERANCE, measure, parse, render, staleness, type SizeRow } from '../../scripts/sizes.mjs';

const script = path.join(ROOT, 'scripts', 'sizes.mjs');
const frontend = path.join(ROOT, 'docs', 'frontend.md');

function runScript(...args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
}

/** The table written in a Markdown text, between the markers. */
function tableOf(markdown: string): string {
  const match = /<!-- sizes:begin -->\n([\s\S]*?)<!-- sizes:end -->/.exec(markdown);
  if (!match?.[1]) throw new Error('no size table between the sizes markers');
  return match[1];
}

let measured: SizeRow[] = [];

beforeAll(async () => {
  ensureDist();
  measured = await measure();
  for (const row of measured) console.log(`bundle size: ${row.minified} B minified, ${row.gzipped} B gzipped (level 9): ${row.label}`);
}, 120_000);

describe('docs/frontend.md size table', () => {
  it('is what `npm run docs:sizes` measures now', () => {
    const written = parse(tableOf(readFileSync(frontend, 'utf8')));
    expect(written?.length).toBe(4);
    expect(staleness(written, measured)).toEqual([]);
  });

  it('is stale when a minified size differs by one byte, or a gzipped one by more than the tolerance', () => {
    const first = measured[0];
    if (!first) throw new Error('nothing measured');
    const with0 = (change: Partial<SizeRow>) => [{ ...first, ...change }, ...measured.slice(1)];
    expect(staleness(with0({ minified: first.minified + 1 }), measured)).toEqual([expect.stringContaining('minified')]);
    const slack = Math.floor(first.gzipped * GZIP_TOLERANCE);
    expect(staleness(with0({ gzipped: first.gzipped + slack }), measured)).toEqual([]);
    expect(staleness(with0({ gzipped: first.gzipped - slack - 2 }), measured)).toEqual([expect.stringContaining('gzipped')]);
    expect(staleness(measured.slice(1), measured)).toContain(`3 rows written, 4 measured`);
    expect(staleness(null, measured)).toEqual(['no table between the markers']);
    // What render writes, parse reads back.
    expect(parse(render(measured))).toEqual(measured);
  });

  it('--check exits 1 saying what to run when stale, and writing repairs it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sizes-'));
    try {
      const doc = path.join(dir, 'frontend.md');
      const current = readFileSync(frontend, 'utf8');
      const first = measured[0];
      if (!first) throw new Error('nothing measured');
      const stale = current.replace(first.minified.toLocaleString('en-US'), (first.minified - 100).toLocaleString('en-US'));
      expect(stale).not.toBe(current);
      writeFileSync(doc, stale);
      const check = runScript('--check', '--doc', doc);
      expect(check.status).toBe(1);
      expect(check.stderr).toContain('npm run docs:sizes');
      expect(check.stderr).toContain(`minified ${first.minified - 100} B written, ${first.minified} B measured`);

      expect(runScript('--doc', doc).status).toBe(0);
      expect(staleness(parse(tableOf(readFileSync(doc, 'utf8'))), measured)).toEqual([]);
      expect(runScript('--check', '--doc', doc).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
