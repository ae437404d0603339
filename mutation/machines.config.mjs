import { part } from './parts.mjs';

export default part('machines', ['machines/**/*.ts'], [
  'test/machine/**/*.test.ts',
  'test/oracles/**/*.test.ts',
  'test/client/**/*.test.ts',
]);
