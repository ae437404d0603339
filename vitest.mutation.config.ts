import { defineConfig } from 'vitest/config';
import { sourceAliases } from './vitest.config.js';

// The test run StrykerJS repeats for every mutant (stryker.config.mjs): only the Node folders that
// exercise the mutated code in-process. The browser, bench, CLI and docs tests run the built
// package or a child process (as does test/faults/kill.test.ts), which never sees Stryker's
// instrumented sources, so they would only add minutes per mutant without being able to kill anything.
const allTests = [
  'test/machine/**/*.test.ts',
  'test/manager/**/*.test.ts',
  'test/client/**/*.test.ts',
  'test/auth/**/*.test.ts',
  'test/oracles/**/*.test.ts',
  'test/faults/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/server/**/*.test.ts',
  'test/testing/**/*.test.ts',
  // Runs in Node against the reference server (no browser needed).
  'test/browser/inspector.test.ts',
];

// A part of the mutation run (mutation/parts.mjs) names its own test files through the environment.
const partTests: string[] | undefined = process.env.CIRCLE_MUTATION_TESTS
  ? (JSON.parse(process.env.CIRCLE_MUTATION_TESTS) as string[])
  : undefined;

export default defineConfig({
  resolve: { alias: sourceAliases },
  test: {
    include: partTests ?? allTests,
    // The kill test runs the built command as a child process: it cannot see a mutant.
    exclude: ['test/faults/kill.test.ts', '**/node_modules/**'],
    environment: 'node',
    // Instrumented code is several times slower (the crypto property tests most of all).
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
