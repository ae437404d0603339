// Mutation testing: `npm run mutation`. Deliberately not part of `npm test` or CI: a full run
// takes hours on 2 shared cores. It is incremental: the results are kept in
// mutation/stryker-incremental.json (committed), so a rerun only tests again the mutants in code
// that changed or covered by tests that changed. `npm run mutation -- --force` ignores that file.
// Scores and the surviving mutants judged equivalent: docs/testing.md, "Mutation testing".
// Run it in a clone nobody edits meanwhile (docs/testing.md): an edit to the working tree during a
// run reaches the TypeScript checker, which then marks every later mutant as a compile error.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  // Only the Node test folders that run the mutated code in-process (see that file).
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  // Mutants that do not compile are dropped before any test runs. Accuracy over speed: checked in
  // groups, a group with an error would otherwise mark every mutant in it as a compile error
  // (a first run that way counted 123 of src/rpc's 193 mutants out).
  typescriptChecker: { prioritizePerformanceOverAccuracy: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'machines/**/*.ts',
    'src/client/**/*.ts',
    'src/manager/**/*.ts',
    'src/rpc/**/*.ts',
    'src/auth/**/*.ts',
    'src/server/nonces.ts',
  ],
  ignorePatterns: ['dist', 'coverage', 'reports', '.tmp', 'bench/results', 'examples/browser/dist'],
  incremental: true,
  incrementalFile: 'mutation/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  // Two shared cores: more workers only make the real-socket tests slower and time out.
  concurrency: 2,
  // Tests use real sockets and generous bounds; a slow machine must not turn kills into timeouts.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  // The first run of the whole suite, instrumented, on a loaded 2-core machine.
  dryRunTimeoutMinutes: 30,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
