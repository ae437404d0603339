/**
 * Every module of the package loads. Imported inside the test rather than at the top of the
 * file, so that a module which throws while it loads (a chart whose definition `createMachine`
 * refuses, a default rule its own validator rejects) fails this test, instead of leaving a test
 * file that cannot load: vitest, and StrykerJS's vitest runner with it, count that as no failed test.
 */
import { expect, it } from 'vitest';

const modules = {
  'machines/connection': () => import('../../machines/connection.js'),
  'machines/manager': () => import('../../machines/manager.js'),
  'machines/backoff': () => import('../../machines/backoff.js'),
  'src/auth/crypto': () => import('../../src/auth/crypto.js'),
  'src/auth/nonce-rule': () => import('../../src/auth/nonce-rule.js'),
  'src/auth/eip1193': () => import('../../src/auth/eip1193.js'),
  'src/auth/sign-sync': () => import('../../src/auth/sign-sync.js'),
  'src/client/client': () => import('../../src/client/client.js'),
  'src/client/implementations': () => import('../../src/client/implementations.js'),
  'src/manager/manager': () => import('../../src/manager/manager.js'),
  'src/rpc/codec': () => import('../../src/rpc/codec.js'),
  'src/server/nonces': () => import('../../src/server/nonces.js'),
} as const;

it.each(Object.keys(modules))('%s loads', async (name) => {
  const loaded = await modules[name as keyof typeof modules]();
  expect(Object.keys(loaded).length).toBeGreaterThan(0);
});

it('the charts and the default nonce rule are built as they load', async () => {
  const { circleWsMachine } = await import('../../machines/connection.js');
  const { circleWsManagerMachine } = await import('../../machines/manager.js');
  const { defaultCompiledNonceRule } = await import('../../src/auth/nonce-rule.js');
  expect(circleWsMachine.id).toBe('circleWs');
  expect(circleWsMachine.root.initial.target[0]?.key).toBe('disconnected');
  expect(circleWsManagerMachine.id).toBe('circleWsManager');
  expect(defaultCompiledNonceRule.maxLength).toBe(256);
});
