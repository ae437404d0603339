import { part } from './parts.mjs';

export default part('machines', ['machines/**/*.ts'], [
  'test/machine/**/*.test.ts',
  'test/oracles/**/*.test.ts',
  'test/client/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/testing/kit-example.test.ts',
]);
