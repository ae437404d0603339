/**
 * Argument parsing shared by every subcommand, on Node's built-in `util.parseArgs` (no
 * dependency). It adds what `parseArgs` lacks: `--help` that wins over other mistakes, a refusal
 * of private keys on the command line, positional counts, and error messages that never repeat
 * an option's value (a mistyped option may carry a secret).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was invoked: reported with the usage text, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** The values `parseArgs` returns for an options table, typed by it. */
export type ParsedValues<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>['values'];

/** What a command receives after parsing. */
export interface Parsed<O extends OptionsConfig> {
  values: ParsedValues<O>;
  positionals: string[];
}

// Spellings someone might reach for to pass a key inline. Matched on the name only, before `=`.
const KEY_OPTIONS = new Set(['--key', '--private-key', '--privatekey', '--priv-key', '--secret', '--secret-key', '-k']);

/** The arguments that are options, i.e. everything before a `--` terminator. */
function optionPart(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end === -1 ? argv : argv.slice(0, end);
}

/**
 * Refuses a private key given as an argument. Process arguments are visible to every user of
 * the machine (`ps`, `/proc/PID/cmdline`) and end up in shell history, so a key passed that way
 * is already leaked; the message says so and never repeats the value.
 * @example refuseInlineKeys(['call', 'ws://h/02..', 'whoami']); // passes
 * @example refuseInlineKeys(['--key', 'abcd']); // throws UsageError
 */
export function refuseInlineKeys(argv: readonly string[]): void {
  for (const arg of optionPart(argv)) {
    const name = arg.split('=', 1)[0] ?? arg;
    if (KEY_OPTIONS.has(name)) {
      throw new UsageError(
        `${name} is refused: a private key on the command line can be read by other users (ps, /proc) ` +
          'and is kept in shell history. Put it in a file with mode 0600 and pass --key-file FILE, ' +
          'or set the CIRCLE_WS_KEY environment variable.',
      );
    }
  }
}

/** True when `-h` or `--help` appears among the options. */
export function wantsHelp(argv: readonly string[]): boolean {
  return optionPart(argv).some((arg) => arg === '-h' || arg === '--help');
}

/** Rewrites a `parseArgs` error in our words; its own messages may quote an option's value. */
function usageErrorFrom(error: unknown): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1]?.split('=', 1)[0]?.split(' ', 1)[0] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(
        `unknown option '${quoted}' (an argument that starts with '-' goes after --, as in: -- "-1 + 2")`,
      );
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (message.includes('does not take an argument')) return new UsageError(`option '${quoted}' does not take a value`);
      if (message.includes('ambiguous')) {
        return new UsageError(`option '${quoted}' needs a value; a value starting with '-' is written ${quoted}=-VALUE`);
      }
      return new UsageError(`option '${quoted}' needs a value`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError('this command takes no arguments besides its options');
    default:
      return new UsageError(message);
  }
}

/**
 * Parses one subcommand's arguments strictly: unknown options, missing values and a wrong number
 * of positionals throw {@link UsageError}. (`--help` is answered before a command is loaded.)
 * @example
 * const { values } = parseCommand(['--port', '80'], { port: { type: 'string' } }, { min: 0, max: 0 });
 * values.port; // '80'
 */
export function parseCommand<const O extends OptionsConfig>(
  argv: string[],
  options: O,
  positionals: { min: number; max: number; names?: string },
): Parsed<O> {
  refuseInlineKeys(argv);
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorFrom(error);
  }
  const count = parsed.positionals.length;
  const names = positionals.names ? ` (${positionals.names})` : '';
  if (count < positionals.min) {
    throw new UsageError(`missing argument${positionals.min - count > 1 ? 's' : ''}: expected ${positionals.min}${names}, got ${count}`);
  }
  if (count > positionals.max) {
    throw new UsageError(
      positionals.max === 0
        ? 'this command takes no arguments besides its options'
        : `too many arguments: expected at most ${positionals.max}${names}, got ${count} (quote a script or JSON that contains spaces)`,
    );
  }
  return parsed;
}

/**
 * A TCP port, 0 to 65535 (0 asks the system for a free one).
 * @example parsePort('8080'); // 8080
 */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be a whole number from 0 to 65535, got ${JSON.stringify(text)}`);
  return port;
}

/**
 * A positive whole number of milliseconds that `setTimeout` can honour.
 * @example parseMs('--timeout', '5000'); // 5000
 */
export function parseMs(option: string, text: string): number {
  const ms = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(ms >= 1 && ms <= 2_147_483_647)) {
    throw new UsageError(`${option} must be a whole number of milliseconds from 1 to 2147483647, got ${JSON.stringify(text)}`);
  }
  return ms;
}

/**
 * JSON-RPC named parameters: a JSON object (`{}` when absent), as the protocol requires.
 * @example parseParams('{"script":"1 + 1"}'); // { script: '1 + 1' }
 */
export function parseParams(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the params are not valid JSON (${(error as Error).message}); quote them, as in '{"script":"1 + 1"}'`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError('the params must be a JSON object (named parameters), such as {} or {"script":"1 + 1"}');
  }
  return value as Record<string, unknown>;
}

/**
 * The server's result shapes: `v2` (OpenRPC v0.2.0) or `v1` (Circles RPC v1.0.0).
 * @example parseCompat('v1'); // 'v1'
 */
export function parseCompat(text: string): 'v1' | 'v2' {
  if (text !== 'v1' && text !== 'v2') throw new UsageError(`--compat must be v1 or v2, got ${JSON.stringify(text)}`);
  return text;
}
