// Chosen by the "#transport" import condition `node` in package.json.
export { nodeTransport as defaultTransport } from './node.js';
