/**
 * The browser bundle, built as an application would build it: `import … from 'circle-ws-client'`
 * resolved through package.json with the `browser` condition. It must hold no `ws` and no Node
 * built-in, no React (the root entry never imports it), and stay within its size budget.
 */
import { builtinModules } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_ENTRY, type Bundle, bundle, ensureDist, FULL_ENTRY } from '../../examples/browser/build.mjs';
import { bundleReport } from '../../scripts/bundle-report.mjs';

/**
 * Gzip (level 9) budgets of the browser bundles, xstate and noble included: the measured size plus
 * about 4% for small changes, so a new dependency or a Node module pulled in by mistake goes over.
 * The issue asked for 26 KiB for the typical app, 6.5 KiB of it the package's own code. The
 * dependencies alone take 19.0 KiB of it (xstate's interpreter 13.0 KiB, noble's secp256k1 with
 * keccak-256 the rest; the browser build signs with WebCrypto's HMAC, so noble's HMAC and SHA-256
 * are not in it), and the package's own code is 11.3 KiB: 30.3 KiB in all, most of the own share
 * being the client facade and the statechart (`npm run docs:sizes` and
 * `node scripts/bundle-report.mjs` give the current figures). The whole root API has both signing
 * paths (its `signNonce` is synchronous), hence its larger budget.
 *
 * Raised with the many-circles work (issue 9), on measured figures: the typical app's own code
 * grew from 11.7 to 12.2 KiB (external signers: `withSigner` and its checks, the signing deadline
 * and the re-prompt policy in the chart, `SIGNING_DECLINED`; and `whenReady`, which the manager
 * waits with), and the whole root API from under 35 KiB to 38.2 KiB (`CircleWsManager` and its chart,
 * `eip1193Signer`). Each budget is the new measure plus about 4%.
 */
const GZIP_BUDGET = { app: 31.75 * 1024, full: 39.75 * 1024 } as const;
/** The package's own code in the typical app: the bundle minus its dependency imports bundled alone. */
const OWN_GZIP_BUDGET = 12.625 * 1024;

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

function isNodeOnly(path: string): boolean {
  return path.startsWith('node:') || builtins.has(path) || builtins.has(path.split('/')[0] ?? '');
}

/** Every module the bundle took in, and every import it left out (external). */
function modulesOf(result: Bundle): { inputs: string[]; externals: string[] } {
  const inputs = Object.keys(result.metafile.inputs);
  const externals = Object.values(result.metafile.inputs).flatMap((input) =>
    input.imports.filter((record) => record.external).map((record) => record.path),
  );
  return { inputs, externals };
}

describe('browser bundle', { timeout: 120_000 }, () => {
  const sizes: Record<string, Bundle> = {};

  beforeAll(async () => {
    ensureDist();
    sizes.app = await bundle({ entry: APP_ENTRY });
    sizes.full = await bundle({ entry: FULL_ENTRY });
  }, 120_000);

  it.each(['app', 'full'])('%s entry: resolves the package by name with the browser condition', (name) => {
    const { inputs } = modulesOf(sizes[name]!);
    expect(inputs).toContain('dist/src/index.js');
    expect(inputs).toContain('dist/src/transport/default-browser.js');
    expect(inputs).not.toContain('dist/src/node.js');
    expect(inputs).not.toContain('dist/src/transport/default-node.js');
    expect(inputs).not.toContain('dist/src/transport/node.js');
    // xstate's ES module build, not its CommonJS one.
    expect(inputs.filter((path) => path.startsWith('node_modules/xstate/')).every((path) => path.endsWith('.esm.js'))).toBe(true);
  });

  it.each(['app', 'full'])('%s entry: no ws, no Node built-in, no React', (name) => {
    const result = sizes[name]!;
    const { inputs, externals } = modulesOf(result);
    expect(inputs.filter((path) => /(^|\/)node_modules\/(ws|isomorphic-ws)\//.test(path))).toEqual([]);
    expect(inputs.filter((path) => /(^|\/)node_modules\/(react|react-dom|scheduler)\//.test(path))).toEqual([]);
    expect(inputs.filter(isNodeOnly)).toEqual([]);
    expect(externals).toEqual([]);
    expect(inputs.filter((path) => path.includes('/server/') || path.includes('/cli/'))).toEqual([]);
    expect(result.text).not.toMatch(/["'`]node:[a-z_/]+["'`]/);
  });

  it('app entry: signs through WebCrypto, so no HMAC or SHA-256 code, and key generation needs none', () => {
    // What reached the output: metafile.inputs also lists modules that were read and tree-shaken
    // away (the public, synchronous signNonce imports sign-sync.js).
    const inputs = Object.values(sizes.app!.metafile.outputs).flatMap((output) =>
      Object.entries(output.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path),
    );
    expect(inputs).toContain('dist/src/auth/sign-webcrypto.js');
    expect(inputs).not.toContain('dist/src/auth/sign-sync.js');
    // keccak-256 stays (the EIP-191 digest); generateKeypair's randomSecretKey hashes nothing.
    expect(inputs.filter((path) => /^node_modules\/@noble\/hashes\/(hmac|sha2|_md)\.js$/.test(path))).toEqual([]);
    expect(inputs).toContain('node_modules/@noble/hashes/sha3.js');
  });

  it.each(['app', 'full'] as const)('%s entry: within its gzip budget', (name) => {
    const result = sizes[name]!;
    console.log(`browser bundle (${name} entry): ${result.bytes} B minified, ${result.gzipBytes} B gzipped (level 9), budget ${GZIP_BUDGET[name]} B`);
    expect(result.bytes).toBeGreaterThan(10_000); // it did bundle xstate and noble
    expect(result.gzipBytes).toBeLessThanOrEqual(GZIP_BUDGET[name]);
  });

  it(`app entry: the package's own code within ${OWN_GZIP_BUDGET} B gzipped`, async () => {
    const report = await bundleReport(APP_ENTRY);
    console.log(
      `app entry: ${report.gzipped} B gzipped = dependencies alone ${report.dependencies.gzipped} B + the package's own ${report.own.gzipped} B (budget ${OWN_GZIP_BUDGET} B)`,
    );
    // The report builds the same bundle as the test's own build.
    expect(report.gzipped).toBe(sizes.app!.gzipBytes);
    expect(report.dependencies.gzipped).toBeGreaterThan(10_000);
    expect(report.own.gzipped).toBeLessThanOrEqual(OWN_GZIP_BUDGET);
  });

  it('the react entry takes React from the application, and only the hooks', async () => {
    const result = await bundle({ entry: "export { useCircleWsStatus, useCircleWsManager } from 'circle-ws-client/react';\n" });
    const { inputs } = modulesOf(result);
    expect(inputs).toContain('dist/src/react/index.js');
    // The hooks import only types from the client and the manager: no second copy of them, of xstate or of noble.
    expect(inputs.filter((path) => path.includes('xstate') || path.includes('@noble') || path.includes('client/') || path.includes('manager'))).toEqual([]);
  });
});
