/**
 * The Node entry (export condition `node`): everything of the browser-safe entry, plus the
 * `ws` transport for those who want to name it.
 * @example import { CircleWsClient, nodeTransport } from 'circle-ws-client';
 */
export * from './index.js';
export { nodeTransport } from './transport/node.js';
