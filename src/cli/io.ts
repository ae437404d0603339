/**
 * What every subcommand shares: the streams it writes to, the shape of a command, how an error
 * is shown to a person, and a logger that keeps stdout clean for results.
 */
import type { Readable, Writable } from 'node:stream';
import { CircleWsError, ConnectionFailedError, RpcError } from '../errors.js';
import type { Logger, LogLevel } from '../logger.js';

/** The process's streams and environment, passed in so commands never reach for globals. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/** A subcommand's body: it gets the arguments after its name and resolves with the exit status. */
export type CommandRun = (argv: string[], io: CliIo) => Promise<number>;

/** Exit statuses: success, a failure at run time, a mistake in the invocation. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * One line for a person: the error's class, its stable code, its message, and the details
 * that help (JSON-RPC code and data, HTTP status of a refused upgrade). Library messages never
 * contain keys, so printing them is safe.
 * @example describeError(new RpcError(-32601, 'Method not found')); // 'RpcError RPC_ERROR: Method not found (JSON-RPC error -32601)'
 */
export function describeError(error: unknown): string {
  if (error instanceof RpcError) {
    const data = error.data === undefined ? '' : ` data: ${truncate(JSON.stringify(error.data) ?? String(error.data), 300)}`;
    return `RpcError ${error.code}: ${error.message}${data}`;
  }
  if (error instanceof ConnectionFailedError) {
    const details = [error.status === undefined ? '' : `HTTP ${error.status}`, error.closeCode === undefined ? '' : `close ${error.closeCode}`]
      .filter(Boolean)
      .join(', ');
    return `${error.name} ${error.code}${details ? ` (${details})` : ''}: ${error.message}`;
  }
  if (error instanceof CircleWsError) return `${error.name} ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}`;
  }
  return `Error: ${String(error)}`;
}

/**
 * Makes text safe for one tab-separated field: a backslash, newline, carriage return or tab
 * becomes `\\`, `\n`, `\r` or `\t` (the escapes of PostgreSQL's text format and of
 * "linear TSV"), so a multi-line script output stays on its circle's line.
 * @example escapeField('a\tb\nc'); // 'a\\tb\\nc'
 */
export function escapeField(text: string): string {
  return text.replace(/[\\\n\r\t]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/**
 * A logger writing timestamped lines to `stream` (stderr in practice, so stdout carries only
 * results and can be piped). The library's own `consoleLogger` writes info to stdout, hence this.
 * @example const logger = streamLogger(process.stderr, 'info', 'serve');
 */
export function streamLogger(stream: Writable, level: LogLevel, prefix: string): Logger {
  const make =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (levels[at] < levels[level]) return;
      const rest = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      stream.write(`${new Date().toISOString()} ${prefix} ${at} ${message}${rest}\n`);
    };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

/**
 * A short form of a long hex key for display, e.g. `02ab12cd…9f3e`.
 * @example shortHex('04' + 'a'.repeat(128)); // '04aaaaaaaa…aaaa'
 */
export function shortHex(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 10)}…${hex.slice(-4)}` : hex;
}
