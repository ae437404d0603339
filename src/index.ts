/**
 * circle-ws-client: a client for Circle WebSocket JSON-RPC servers, for Node and browsers.
 * @example
 * import { CircleWsClient } from 'circle-ws-client';
 * const client = CircleWsClient.builder(url).withKeypair(key).build();
 * await client.connect();
 */
export {
  CircleWsClient,
  CircleWsClientBuilder,
  type CallOptions,
  type ClientEvents,
  type ConnectOptions,
  type Notification,
} from './client/client.js';
export {
  CircleWsManager,
  CircleWsManagerBuilder,
  type CircleOptions,
  type CircleReport,
  type CircleResult,
  type ClientDefaults,
  type FanOutOptions,
  type ManagerEvents,
  type ManagerStatusSnapshot,
} from './manager/manager.js';
export {
  circleWsManagerMachine,
  managerStatusOf,
  circleStatuses,
  type CircleEntry,
  type CircleState,
  type CircleWsManagerMachine,
  type ConnectPolicy,
  type ManagerContext,
  type ManagerEvent,
  type ManagerInput,
  type ManagerStatus,
} from '../machines/manager.js';
export { type Clock, type Inspect, type SignerOptions, type Timeouts, systemClock } from './client/options.js';
export {
  circleWsMachine,
  statusOf,
  backoffDelay,
  backoffCeiling,
  defaultReconnectPolicy,
  type CircleWsContext,
  type CircleWsEvent,
  type CircleWsInput,
  type CircleWsMachine,
  type CircleWsStatus,
  type AuthFailureCode,
  type Failure,
  type FailureCode,
  type KeepAlivePolicy,
  type ReconnectPolicy,
  type ResignPolicy,
  type SocketEvent,
} from '../machines/connection.js';
export * from './auth/crypto.js';
export { adoptSigner } from './auth/external-signer.js';
export { eip1193IdentityMessage, eip1193Signer, type Eip1193Provider } from './auth/eip1193.js';
export { defaultNonceRule, maxNonceLength, type NonceRule } from './auth/nonce-rule.js';
export * from './errors.js';
export { type Logger, type LogLevel, consoleLogger, silentLogger } from './logger.js';
export { type WhoAmI } from './rpc/results.js';
export type { CloseInfo, Transport, TransportFactory, TransportHandlers, TransportOptions } from './transport/types.js';
export { browserTransport } from './transport/browser.js';
