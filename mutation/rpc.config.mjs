import { part } from './parts.mjs';

export default part('rpc', ['src/rpc/**/*.ts'], [
  'test/oracles/rpc.test.ts',
  'test/oracles/messages.test.ts',
  'test/client/**/*.test.ts',
  'test/integration/**/*.test.ts',
  'test/faults/garbage.test.ts',
]);
