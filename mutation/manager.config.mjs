import { part } from './parts.mjs';

export default part('manager', ['machines/manager.ts', 'src/manager/**/*.ts'], [
  'test/manager/**/*.test.ts',
  'test/machine/manager-model.test.ts',
  'test/faults/security.test.ts',
]);
