import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The test run StrykerJS repeats for every mutant (stryker.config.json): only the Node folders that
// exercise the mutated code in-process. The browser, bench, CLI and docs tests run the built
// package or a child process, which never sees Stryker's instrumented sources, so they would only
// add minutes per mutant without being able to kill anything.
export default defineConfig({
  resolve: {
    alias: { '#transport': fileURLToPath(new URL('./src/transport/default-node.ts', import.meta.url)) },
  },
  test: {
    include: [
      'test/machine/**/*.test.ts',
      'test/client/**/*.test.ts',
      'test/auth/**/*.test.ts',
      'test/rpc/**/*.test.ts',
      'test/oracles/**/*.test.ts',
      'test/faults/**/*.test.ts',
      'test/integration/**/*.test.ts',
      'test/server/**/*.test.ts',
      'test/testing/**/*.test.ts',
    ],
    environment: 'node',
    // Instrumented code is several times slower (the crypto property tests most of all).
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
