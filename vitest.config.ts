import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** Tests run the TypeScript sources; package.json's "#transport" and "#sign" point at the built files. */
export const sourceAliases = {
  '#transport': fileURLToPath(new URL('./src/transport/default-node.ts', import.meta.url)),
  '#sign': fileURLToPath(new URL('./src/auth/sign-sync.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Two projects only so that finding (or installing) Chromium runs when a browser test does.
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/browser/**'] } },
      {
        extends: true,
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], globalSetup: ['test/browser/global-setup.ts'] },
      },
    ],
  },
});
