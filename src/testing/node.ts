/**
 * The test kit in Node (`circle-ws-client/testing` under the `node` condition): everything of the
 * browser-safe kit, plus the fault-injecting TCP proxy.
 * @example import { FaultProxy, ManualClock } from 'circle-ws-client/testing';
 */
export * from './index.js';
export { FaultProxy, type FaultProxyOptions, type FaultProxyTarget } from './proxy.js';
