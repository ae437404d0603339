import { part } from './parts.mjs';

export default part('auth', ['src/auth/**/*.ts'], [
  'test/auth/**/*.test.ts',
  'test/oracles/secrets.test.ts',
  'test/oracles/crypto.test.ts',
  'test/client/nonce-rule.test.ts',
  'test/server/auth.test.ts',
]);
