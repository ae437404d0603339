// Chosen by the "#transport" import conditions `browser` and `default` in package.json: no `ws`, no Node built-in.
export { browserTransport as defaultTransport } from './browser.js';
