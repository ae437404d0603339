// One part of the code at a time, with the test files that reach it, so a part's first run fits in
// an afternoon on 2 shared cores (the whole configuration at once takes many hours: every mutant of
// the chart is reached by most of the model walks). Each part keeps its own incremental file.
// Run: `npx stryker run mutation/<part>.config.mjs` (see docs/testing.md, "Mutation testing").
// A score measured with fewer test files is a lower bound: the other tests could only kill more.
import base from '../stryker.config.mjs';

/**
 * @param {string} name the part's name, used for its incremental file and report
 * @param {string[]} mutate the files to mutate
 * @param {string[]} testFiles the test files to run against each mutant
 * @returns {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export function part(name, mutate, testFiles) {
  // The test list goes to vitest (vitest.mutation.config.ts reads it), not to Stryker's own
  // `testFiles` option: with that option set, StrykerJS 9.6 runs a static mutant (one that acts
  // while a module loads, such as the chart's definition) with a test filter, which makes it
  // activate the mutant only after the modules have loaded; every such mutant then "survives".
  // Stryker's workers inherit this process's environment.
  process.env.CIRCLE_MUTATION_TESTS = JSON.stringify(testFiles);
  return {
    ...base,
    mutate,
    incrementalFile: `mutation/${name}.incremental.json`,
    htmlReporter: { fileName: `reports/mutation/${name}.html` },
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
    reporters: ['clear-text', 'progress', 'html', 'json'],
  };
}
