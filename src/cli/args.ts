/**
 * Argument parsing shared by every subcommand, on Node's built-in `util.parseArgs` (no
 * dependency). It adds what `parseArgs` lacks: `--help` that wins over other mistakes, a refusal
 * of private keys on the command line, positional counts, and error messages that never repeat
 * an option's value (a mistyped option may carry a secret).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ARGUMENTS, type CommandName, OPTIONS } from './usage.js';

/** A mistake in how the command was invoked: reported with the usage text, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A failure the user can act on, said in one line (no usage, no error class): a key file that
 * cannot be used, a port that is taken. Exit status 1.
 */
export class CliFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliFailure';
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
  /** For a command that takes several URLs, the URLs, in the order given; otherwise empty. */
  urls: string[];
  /** The arguments after the URLs (all of them for a command that takes no URL list). */
  rest: string[];
}

// A scheme and `//`: what tells the next URL from a METHOD or a SCRIPT. No script or method name
// starts that way, so `play URL URL '1 + 1'` needs no separator between URLs and script.
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Splits the arguments of a command that takes several URLs: the first argument is always a URL
 * (a malformed one is then reported as a URL), and so is each following one that starts with
 * `scheme://`, up to the first that does not.
 * @example splitUrls(['ws://a/02…', 'ws://b/03…', '1 + 1']); // { urls: [a, b], rest: ['1 + 1'] }
 */
export function splitUrls(positionals: readonly string[]): { urls: string[]; rest: string[] } {
  let end = Math.min(1, positionals.length);
  while (end < positionals.length && URL_LIKE.test(positionals[end] ?? '')) end++;
  return { urls: positionals.slice(0, end), rest: positionals.slice(end) };
}

// Spellings someone might reach for to pass a key inline. Matched on the name only, before `=`.
const KEY_OPTIONS = new Set(['--key', '--private-key', '--privatekey', '--priv-key', '--secret', '--secret-key', '-k']);

const KEY_ADVICE =
  'A private key on the command line can be read by other users (ps, /proc) and is kept in shell history. ' +
  'Put it in a file with mode 0600 and pass --key-file FILE, or set the CIRCLE_WS_KEY environment variable.';

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
    if (KEY_OPTIONS.has(name)) throw new UsageError(`${name} is refused: ${KEY_ADVICE.charAt(0).toLowerCase()}${KEY_ADVICE.slice(1)}`);
  }
}

// A secp256k1 private key is 32 bytes: 64 hex digits, perhaps with 0x. Public keys (66 or 130
// digits) are longer runs, so they never match, neither whole nor inside a URL.
const KEY_LIKE = /^\s*(?:0[xX])?[0-9a-fA-F]{64}\s*$/;
const KEY_LIKE_INSIDE = /(?<![0-9a-fA-F])[0-9a-fA-F]{64}(?![0-9a-fA-F])/;

/**
 * Whether `text` could be a private key: 64 hex digits (with or without `0x`), or a URL with
 * such a run in it (a key pasted where the circle's public key belongs).
 * @example looksLikePrivateKey('0x' + 'ab'.repeat(32)); // true
 * @example looksLikePrivateKey('ws://h:1/02' + 'ab'.repeat(32)); // false: a public key
 */
export function looksLikePrivateKey(text: string): boolean {
  return KEY_LIKE.test(text) || (text.includes('://') && KEY_LIKE_INSIDE.test(text));
}

function keyLikeRefused(where: string): UsageError {
  return new UsageError(`refused a value that looks like a private key (64 hex characters) given ${where}; it is not shown here. ${KEY_ADVICE}`);
}

/**
 * Refuses any argument that looks like a private key, wherever it was put (as the command, an
 * option's value, the URL, a script), naming the place but never the value. `argv` is the whole
 * command line: its first word is the command, whose table of options tells an option's value
 * from an argument and whose argument names say which argument it was.
 * @example refuseKeyLikeArguments(['connect', 'ws://h:1/02ab…']); // passes
 * @example refuseKeyLikeArguments(['play', 'ab'.repeat(32), '1']); // throws: "given in place of the URL"
 */
export function refuseKeyLikeArguments(argv: readonly string[]): void {
  const [first, ...rest] = argv;
  if (first === undefined) return;
  if (looksLikePrivateKey(first)) throw keyLikeRefused('in place of the command name');
  const command = Object.hasOwn(OPTIONS, first) ? (first as CommandName) : undefined;
  if (first === 'help') {
    rest.forEach((arg) => {
      if (looksLikePrivateKey(arg)) throw keyLikeRefused('in place of a command name after help');
    });
    return;
  }
  const options: OptionsConfig = command ? OPTIONS[command] : {};
  const names: readonly string[] = command ? ARGUMENTS[command].names : [];
  const manyUrls = command ? ARGUMENTS[command].manyUrls : false;
  // While true, a URL-like argument is one more of the command's URLs, not its next argument.
  let inUrls = manyUrls;
  // Options before the command (a mistake of its own) are still options, with values.
  const words = first.startsWith('-') ? argv : rest;
  let afterTerminator = false;
  let positional = 0;
  for (let i = 0; i < words.length; i++) {
    const arg = words[i] ?? '';
    if (!afterTerminator && arg === '--') {
      afterTerminator = true;
      continue;
    }
    if (!afterTerminator && arg.startsWith('-') && arg !== '-') {
      const equals = arg.indexOf('=');
      const name = equals === -1 ? arg : arg.slice(0, equals);
      if (looksLikePrivateKey(name.replace(/^-+/, ''))) throw keyLikeRefused('as an option name');
      if (equals !== -1) {
        if (looksLikePrivateKey(arg.slice(equals + 1))) throw keyLikeRefused(`as the value of ${name}`);
        continue;
      }
      // An unknown option is assumed to take a value: saying "the value of --kye-file" is the
      // likelier story than "argument 2".
      const known = name.startsWith('--') && Object.hasOwn(options, name.slice(2));
      const takesValue = name.startsWith('--') && (!known || options[name.slice(2)]?.type !== 'boolean');
      if (takesValue && i + 1 < words.length && words[i + 1] !== '--') {
        i++;
        if (looksLikePrivateKey(words[i] ?? '')) throw keyLikeRefused(`as the value of ${name}`);
      }
      continue;
    }
    if (inUrls && positional === 1 && URL_LIKE.test(arg)) {
      if (looksLikePrivateKey(arg)) throw keyLikeRefused(`in place of a URL${afterTerminator ? ' (after --)' : ''}`);
      continue;
    }
    if (positional >= 1) inUrls = false;
    const name = names[positional];
    positional++;
    if (looksLikePrivateKey(arg)) {
      throw keyLikeRefused(`${name === undefined ? `as argument ${positional}` : `in place of the ${name}`}${afterTerminator ? ' (after --)' : ''}`);
    }
  }
}

/** True when `-h` or `--help` appears among the options. */
export function wantsHelp(argv: readonly string[]): boolean {
  return optionPart(argv).some((arg) => arg === '-h' || arg === '--help');
}

/** What to add about an unknown option: only play and call take arguments that may start with '-'. */
function unknownOptionHint(command: CommandName): string {
  switch (command) {
    case 'play':
      return ` (a script that starts with '-' goes after --, as in: circle-ws play URL -- "-1 + 2")`;
    case 'call':
      return ` (an argument that starts with '-' goes after --, as in: circle-ws call URL -- METHOD '{}')`;
    default:
      return '';
  }
}

/** Rewrites a `parseArgs` error in our words; its own messages may quote an option's value. */
function usageErrorFrom(error: unknown, command: CommandName): UsageError {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  const quoted = /'([^']*)'/.exec(message)?.[1]?.split('=', 1)[0]?.split(' ', 1)[0] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option '${quoted}'${unknownOptionHint(command)}`);
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
 * An argument after `--` spelled like one of the command's options was almost surely meant as
 * one; `--` makes everything after it an argument, so say that instead of a puzzling count or
 * JSON error later.
 */
function refuseOptionsAfterTerminator(command: CommandName, argv: readonly string[]): void {
  const end = argv.indexOf('--');
  if (end === -1) return;
  const options: OptionsConfig = OPTIONS[command];
  for (const arg of argv.slice(end + 1)) {
    const name = arg.split('=', 1)[0] ?? arg;
    const known = name === '-h' || name === '--help' || (name.startsWith('--') && Object.hasOwn(options, name.slice(2)));
    if (known) {
      const takesArguments = ARGUMENTS[command].names.length > 0;
      const value = Object.hasOwn(options, name.slice(2)) && options[name.slice(2)]?.type === 'string' ? ' VALUE' : '';
      throw new UsageError(
        `${name} comes after --, so it is read as an argument, not as an option; put options before --, ` +
          `as in: circle-ws ${command}${takesArguments ? ' URL' : ''} ${name}${value}${takesArguments ? ' -- …' : ''}`,
      );
    }
  }
}

/**
 * Parses one subcommand's arguments strictly with its table from `OPTIONS` and `ARGUMENTS`:
 * unknown options, missing values and a wrong number of arguments throw {@link UsageError}.
 * (`--help` is answered before a command is loaded.)
 * @example
 * const { values } = parseCommand('serve', ['--port', '80']);
 * values.port; // '80'
 */
export function parseCommand<const C extends CommandName>(command: C, argv: string[]): Parsed<(typeof OPTIONS)[C]> {
  refuseInlineKeys(argv);
  refuseKeyLikeArguments([command, ...argv]);
  refuseOptionsAfterTerminator(command, argv);
  const options = OPTIONS[command];
  let parsed: Omit<Parsed<(typeof OPTIONS)[C]>, 'urls' | 'rest'>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageErrorFrom(error, command);
  }
  const { required, manyUrls } = ARGUMENTS[command];
  const names: readonly string[] = ARGUMENTS[command].names;
  const { urls, rest } = manyUrls ? splitUrls(parsed.positionals) : { urls: [], rest: parsed.positionals };
  // The URLs count as one argument, so one URL reads exactly as before.
  const count = manyUrls ? Math.min(1, urls.length) + rest.length : rest.length;
  if (count < required) {
    const got = urls.length > 1 ? `${urls.length} URLs and nothing after them` : `${count} argument${count === 1 ? '' : 's'}`;
    throw new UsageError(`missing argument${required - count > 1 ? 's' : ''}: expected ${names.slice(0, required).join(' ')}, got ${got}`);
  }
  if (count > names.length) {
    throw new UsageError(
      names.length === 0
        ? 'this command takes no arguments besides its options'
        : manyUrls && names.length === 1
          ? `expected only URLs, got an argument that does not start with ws:// or wss:// after ${urls.length === 1 ? 'the URL' : 'the URLs'}`
          : `too many arguments: expected at most ${names.length} (${names.join(' ')}), got ${count} (quote a script or JSON that contains spaces)`,
    );
  }
  return { ...parsed, urls, rest };
}

/** A bad value, quoted when short; a long one might be a secret pasted in the wrong place. */
function shown(text: string): string {
  return text.length <= 24 ? JSON.stringify(text) : `a value of ${text.length} characters`;
}

/**
 * A TCP port, 0 to 65535 (0 asks the system for a free one).
 * @example parsePort('8080'); // 8080
 */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port must be a whole number from 0 to 65535, got ${shown(text)}`);
  return port;
}

/**
 * A positive whole number of milliseconds that `setTimeout` can honour.
 * @example parseMs('--timeout', '5000'); // 5000
 */
export function parseMs(option: string, text: string): number {
  const ms = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(ms >= 1 && ms <= 2_147_483_647)) {
    throw new UsageError(`${option} must be a whole number of milliseconds from 1 to 2147483647, got ${shown(text)}`);
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
    // V8 quotes a piece of the input in its message; the input may hold a secret, so drop it.
    const reason = (error as Error).message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
    throw new UsageError(`the params are not valid JSON (${reason}); quote them, as in '{"script":"1 + 1"}'`);
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
  if (text !== 'v1' && text !== 'v2') throw new UsageError(`--compat must be v1 or v2, got ${shown(text)}`);
  return text;
}
