/**
 * The test kit (`circle-ws-client/testing`): a fake transport and a manual clock that make a
 * client's time and faults deterministic in unit and model-based tests. This entry runs in
 * browsers too; Node adds the fault-injecting proxy (`./node.js`).
 */
export { FakeSocket, FakeTransport, type SentRequest } from './fake-transport.js';
export { ManualClock, type ScheduledTimer } from './manual-clock.js';
export { flushMicrotasks } from './flush.js';
