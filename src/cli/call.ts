/**
 * `circle-ws call` and `circle-ws play`: one request each (connect, ask, disconnect), for
 * scripts and shells. The result goes to stdout, anything else to stderr, so the output pipes.
 */
import { type CircleWsClient, RpcError, RpcErrorCode } from '../index.js';
import { parseCommand, parseMs, parseParams } from './args.js';
import { type CliIo, describeError, EXIT } from './io.js';
import { KEY_ENV } from './keys.js';
import { runMany } from './many.js';
import { buildClient, checkCircleUrl, type ClientOptionValues, privateKeyFrom } from './session.js';
import { DEFAULTS } from './usage.js';

/**
 * Connects, runs `action`, and always disconnects. Reconnection is short and bounded so a dead
 * URL fails within seconds instead of the interactive default of retrying forever.
 */
async function withOneShotClient<T>(
  url: string,
  values: ClientOptionValues,
  io: CliIo,
  action: (client: CircleWsClient) => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown; anonymous: boolean }> {
  const timeoutMs = values.timeout === undefined ? DEFAULTS.timeoutMs : parseMs('--timeout', values.timeout);
  checkCircleUrl(url);
  const privateKey = privateKeyFrom(values, io);
  const client = buildClient(url, {
    privateKey,
    timeoutMs,
    reconnect: { initialDelayMs: 250, maxDelayMs: 1_000, maxAttempts: 2 },
    keepAlive: false,
  });
  try {
    await client.connect({ timeoutMs });
    return { ok: true, value: await action(client) };
  } catch (error) {
    return { ok: false, error, anonymous: privateKey === null };
  } finally {
    await client.disconnect();
  }
}

function reportFailure(io: CliIo, error: unknown, anonymous: boolean): number {
  io.stderr.write(`${describeError(error)}\n`);
  if (anonymous && error instanceof RpcError && error.rpcCode === RpcErrorCode.AuthenticationRequired) {
    io.stderr.write(`hint: this needs authentication; pass --key-file FILE or set ${KEY_ENV}\n`);
  }
  return EXIT.failure;
}

/**
 * Runs `call URL… METHOD [JSON]`; with several URLs, one line per circle (see `many.ts`).
 * @example await runCall(['ws://127.0.0.1:8080/02ab…', 'whoami'], io); // prints {"authenticated": …}
 */
export async function runCall(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('call', argv);
  const [method = '', json] = parsed.rest;
  const params = parseParams(json);
  if (parsed.urls.length > 1) return runMany('call', parsed.urls, parsed.values, io, { kind: 'call', method, params });
  const url = parsed.urls[0] ?? '';
  const outcome = await withOneShotClient(url, parsed.values, io, (client) => client.call(method, params));
  if (!outcome.ok) return reportFailure(io, outcome.error, outcome.anonymous);
  // `undefined` cannot be a JSON-RPC result, but a null result must still print as JSON.
  io.stdout.write(`${JSON.stringify(outcome.value ?? null, null, 2)}\n`);
  return EXIT.ok;
}

/**
 * Runs `play URL… SCRIPT`; with several URLs, one line per circle (see `many.ts`).
 * @example await runPlay(['ws://127.0.0.1:8080/02ab…', 'let x = 10; x * 2'], io); // prints 20
 */
export async function runPlay(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('play', argv);
  const [script = ''] = parsed.rest;
  if (parsed.urls.length > 1) return runMany('play', parsed.urls, parsed.values, io, { kind: 'play', script });
  const url = parsed.urls[0] ?? '';
  const outcome = await withOneShotClient(url, parsed.values, io, (client) => client.play(script));
  if (!outcome.ok) return reportFailure(io, outcome.error, outcome.anonymous);
  io.stdout.write(outcome.value.endsWith('\n') ? outcome.value : `${outcome.value}\n`);
  return EXIT.ok;
}
