/**
 * The Node entry: everything of the browser-safe entry, plus the `ws` transport for those who want
 * to name it. It is both the root under the export condition `node` and `circle-ws-client/node`,
 * which resolves the same under every `moduleResolution` (TypeScript's `bundler` ignores `node`).
 * @example import { CircleWsClient, nodeTransport } from 'circle-ws-client/node';
 */
export * from './index.js';
export { nodeTransport } from './transport/node.js';
