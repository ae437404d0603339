#!/usr/bin/env node
/**
 * The `circle-ws` executable (package.json "bin"): runs the command line on this process.
 */
import { main } from './cli.js';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
process.exitCode = code;
// Exit on our own once the work is done; if a stray handle (a socket in its close handshake, a
// timer) still holds the loop, do not hang the shell over it.
setTimeout(() => process.exit(code), 1_000).unref();
