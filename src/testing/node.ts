/**
 * The test kit in Node: everything of the browser-safe kit, plus the fault-injecting TCP proxy.
 * It is `circle-ws-client/testing` under the `node` condition, and `circle-ws-client/testing/node`
 * under any condition (for TypeScript's `bundler` resolution, which ignores `node`).
 * @example import { FaultProxy, ManualClock } from 'circle-ws-client/testing/node';
 */
export * from './index.js';
export { FaultProxy, type FaultProxyOptions, type FaultProxyTarget } from './proxy.js';
