/**
 * The browser bundle, built as an application would build it: `import … from 'circle-ws-client'`
 * resolved through package.json with the `browser` condition. It must hold no `ws` and no Node
 * built-in, no React (the root entry never imports it), and stay within its size budget.
 */
import { builtinModules } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { APP_ENTRY, type Bundle, bundle, ensureDist, FULL_ENTRY } from '../../examples/browser/build.mjs';

/**
 * Gzip (level 9) budget of a browser bundle, xstate and noble included. The issue asked for 25 KB,
 * which the dependencies alone nearly fill: xstate's interpreter is 13.2 KB gzipped and noble's
 * secp256k1 with keccak-256, sha-256 and HMAC about 8.5 KB, so the client's own ~8 KB cannot fit.
 * The budget is the measured size plus room for small changes; a new dependency or a Node module
 * pulled in by mistake goes over it. The hostile-peer hardening (nonce rule, frame limits, retry
 * policy, two error classes) with the typed failure codes, took the app entry from 30,981 to 33,249 B gzipped and the
 * full entry to 34,126 B (docs/frontend.md has the current table); the thin-facade issue is to bring it down.
 */
const GZIP_BUDGET = 35 * 1024;

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

  it.each(['app', 'full'])(`%s entry: at most ${GZIP_BUDGET} bytes gzipped`, (name) => {
    const result = sizes[name]!;
    console.log(`browser bundle (${name} entry): ${result.bytes} B minified, ${result.gzipBytes} B gzipped (level 9)`);
    expect(result.bytes).toBeGreaterThan(10_000); // it did bundle xstate and noble
    expect(result.gzipBytes).toBeLessThanOrEqual(GZIP_BUDGET);
  });

  it('the react entry takes React from the application, and only the status hook', async () => {
    const result = await bundle({ entry: "export { useCircleWsStatus } from 'circle-ws-client/react';\n" });
    const { inputs } = modulesOf(result);
    expect(inputs).toContain('dist/src/react/index.js');
    // The hook imports only types from the client: no second copy of it, of xstate or of noble.
    expect(inputs.filter((path) => path.includes('xstate') || path.includes('@noble') || path.includes('client/'))).toEqual([]);
  });
});
