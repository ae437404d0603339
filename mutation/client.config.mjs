import { part } from './parts.mjs';

export default part('client', ['src/client/**/*.ts'], [
  'test/client/**/*.test.ts',
  'test/oracles/**/*.test.ts',
  'test/machine/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/faults/disconnect-everywhere.test.ts',
  'test/faults/lifecycle-faults.test.ts',
  'test/faults/security.test.ts',
  'test/testing/kit-example.test.ts',
]);
