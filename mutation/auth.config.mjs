import { part } from './parts.mjs';

export default part('auth', ['src/auth/**/*.ts'], [
  'test/auth/**/*.test.ts',
  'test/oracles/secrets.test.ts',
  'test/oracles/crypto.test.ts',
  'test/oracles/loads.test.ts',
  'test/oracles/messages.test.ts',
  'test/client/signer-policy.test.ts',
  'test/client/nonce-rule.test.ts',
  'test/server/auth.test.ts',
]);
