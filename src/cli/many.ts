/**
 * `circle-ws play` and `circle-ws call` with several URLs: one `CircleWsManager`, one identity,
 * every circle asked at once, and one line per circle on stdout, in the order the URLs were given:
 *
 *   URL<TAB>ok<TAB>OUTPUT
 *   URL<TAB>error<TAB>CODE: message
 *
 * so `cut -f`, `awk -F'\t'` or a `while IFS=$'\t' read` loop can take it apart. A circle that
 * fails gets its error line and does not stop the others.
 */
import { CircleWsError, ConnectionFailedError, RpcError, RpcErrorCode } from '../errors.js';
import type { CircleWsManager } from '../manager/manager.js';
import { parseMs } from './args.js';
import { type CliIo, escapeField, EXIT } from './io.js';
import { KEY_ENV } from './keys.js';
import { buildManager, type ClientOptionValues, privateKeyFrom } from './session.js';
import { DEFAULTS } from './usage.js';

/** What to ask every circle. */
export type ManyRequest = { kind: 'play'; script: string } | { kind: 'call'; method: string; params: Record<string, unknown> };

/** One circle's outcome, already in the words of its output line. */
export type ManyOutcome = { url: string; ok: true; output: string } | { url: string; ok: false; error: unknown };

/**
 * The error field: the stable code first (the word a script matches on), the details that help
 * (HTTP status of a refused upgrade; an RpcError's message ends with its JSON-RPC code), then the message.
 * @example errorField(new RpcError(-32601, 'Method not found')); // 'RPC_ERROR: Method not found (JSON-RPC error -32601)'
 */
export function errorField(error: unknown): string {
  if (error instanceof ConnectionFailedError) {
    const details = [error.status === undefined ? '' : `HTTP ${error.status}`, error.closeCode === undefined ? '' : `close ${error.closeCode}`]
      .filter(Boolean)
      .join(', ');
    return `${error.code}${details ? ` (${details})` : ''}: ${error.message}`;
  }
  if (error instanceof CircleWsError) return `${error.code}: ${error.message}`;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return `${typeof code === 'string' ? code : 'ERROR'}: ${message}`;
}

/**
 * One output line, newline included.
 * @example formatLine({ url, ok: true, output: '20' }); // 'ws://…\tok\t20\n'
 */
export function formatLine(outcome: ManyOutcome): string {
  const field = outcome.ok ? `ok\t${escapeField(outcome.output)}` : `error\t${escapeField(errorField(outcome.error))}`;
  return `${outcome.url}\t${field}\n`;
}

async function ask(manager: CircleWsManager, url: string, request: ManyRequest): Promise<string> {
  if (request.kind === 'play') {
    const output = await manager.play(url, request.script);
    // The one-URL form ends the output with a newline; here the line does.
    return output.endsWith('\n') ? output.slice(0, -1) : output;
  }
  // One line of compact JSON (it never holds a raw tab or newline); null for an undefined result, as the one-URL form.
  return JSON.stringify((await manager.call(url, request.method, request.params)) ?? null);
}

/**
 * Runs `request` on every circle of `urls` and prints one line each. Exit status 0 when every
 * circle answered, 1 when any failed (its line says why; stderr says how many).
 * @example await runMany('play', [urlA, urlB], values, io, { kind: 'play', script: '1 + 1' });
 */
export async function runMany(command: 'play' | 'call', urls: string[], values: ClientOptionValues, io: CliIo, request: ManyRequest): Promise<number> {
  const timeoutMs = values.timeout === undefined ? DEFAULTS.timeoutMs : parseMs('--timeout', values.timeout);
  const privateKey = privateKeyFrom(values, io);
  // The one-shot policy of the one-URL form: a dead URL fails within seconds instead of retrying forever.
  const manager = buildManager(urls, {
    privateKey,
    timeoutMs,
    reconnect: { initialDelayMs: 250, maxDelayMs: 1_000, maxAttempts: 2 },
    keepAlive: false,
  });
  let outcomes: ManyOutcome[];
  try {
    const connected = await manager.connectAll({ timeoutMs });
    outcomes = await Promise.all(
      urls.map(async (url): Promise<ManyOutcome> => {
        const ready = connected[url];
        // A circle that did not connect is not asked: the call would only wait out its own timeout.
        if (ready !== undefined && !ready.ok) return { url, ok: false, error: ready.error };
        try {
          return { url, ok: true, output: await ask(manager, url, request) };
        } catch (error) {
          return { url, ok: false, error };
        }
      }),
    );
  } finally {
    await manager.disconnectAll();
  }
  for (const outcome of outcomes) io.stdout.write(formatLine(outcome));
  const failed = outcomes.filter((outcome) => !outcome.ok);
  if (failed.length === 0) return EXIT.ok;
  io.stderr.write(`circle-ws ${command}: ${failed.length} of ${outcomes.length} circles failed\n`);
  const needsKey = failed.some((o) => !o.ok && o.error instanceof RpcError && o.error.rpcCode === RpcErrorCode.AuthenticationRequired);
  if (privateKey === null && needsKey) io.stderr.write(`hint: this needs authentication; pass --key-file FILE or set ${KEY_ENV}\n`);
  return EXIT.failure;
}
