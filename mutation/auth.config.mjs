import { part } from './parts.mjs';

export default part('auth', ['src/auth/**/*.ts'], [
  'test/auth/**/*.test.ts',
  'test/oracles/**/*.test.ts',
  'test/client/nonce-rule.test.ts',
  'test/server/auth.test.ts',
  'test/integration/**/*.test.ts',
]);
