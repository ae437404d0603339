/**
 * The reference Circle server (Node only): a WebSocket JSON-RPC server speaking the project's
 * Circle protocol (protocol.md, sections 1–7), used by this project's tests, its command-line
 * tool and frontend developers who need a local server.
 */
export { createCircleServer } from './server.js';
export type { CircleServer } from './server.js';
export type { CircleServerOptions, PlayHandler, PlaySession } from './options.js';
export { evaluateScript, ScriptError } from './evaluator.js';
export type { EvaluateOptions, ScriptErrorKind } from './evaluator.js';
export { MAX_REFUSED_AUTHENTICATIONS } from './session.js';
