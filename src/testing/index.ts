/**
 * The test kit (`circle-ws-client/testing`): a fake transport and a manual clock that make a
 * client's time and faults deterministic in unit and model-based tests.
 */
export { FakeSocket, FakeTransport, type SentRequest } from './fake-transport.js';
export { ManualClock, type ScheduledTimer } from './manual-clock.js';
export { FaultProxy, type FaultProxyOptions, type FaultProxyTarget } from './proxy.js';
