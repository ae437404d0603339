import { part } from './parts.mjs';

export default part('nonces', ['src/server/nonces.ts'], [
  'test/oracles/nonces.test.ts',
  'test/server/auth.test.ts',
]);
