/**
 * `circle-ws connect`: an interactive session on one circle. Lines are handled one at a time,
 * in order, so piped input (`printf 'whoami\nquit\n' | circle-ws connect URL`) behaves like typing.
 */
import { constants } from 'node:os';
import { createInterface, type Interface } from 'node:readline';
import type { CircleWsClient } from '../index.js';
import { parseCommand, parseMs, parseParams, UsageError } from './args.js';
import { type CliIo, describeError, EXIT } from './io.js';
import { buildClient, checkCircleUrl, describeStatus, privateKeyFrom } from './session.js';
import { DEFAULTS, SESSION_HELP } from './usage.js';

/** The status a shell expects after a signal ended a program: 128 + its number (130 for Ctrl-C). */
function exitForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Runs `connect`. It exits 0 on `quit`, `exit` or end of input, 130 on Ctrl-C (SIGINT), 143 on
 * SIGTERM, 1 when the first connection fails for good.
 * @example await runConnect(['ws://127.0.0.1:8080/02ab…', '--key-file', 'me.key'], io);
 */
export async function runConnect(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('connect', argv);
  const url = parsed.positionals[0] ?? '';
  const timeoutMs = parsed.values.timeout === undefined ? DEFAULTS.timeoutMs : parseMs('--timeout', parsed.values.timeout);
  checkCircleUrl(url);
  const privateKey = privateKeyFrom(parsed.values, io);
  const client = buildClient(url, { privateKey, timeoutMs, reconnect: {}, keepAlive: true });
  const session = new Session(client, io, privateKey === null);
  try {
    return await session.run(timeoutMs);
  } finally {
    session.close();
    await client.disconnect();
  }
}

class Session {
  readonly #client: CircleWsClient;
  readonly #io: CliIo;
  readonly #anonymous: boolean;
  /** Only a terminal on both ends gets prompts and line editing; piped input stays plain. */
  readonly #terminal: boolean;
  #rl: Interface | null = null;
  #busy = true;
  #offStatus: () => void = () => {};
  /** The signal that ended the session, if one did. */
  #stoppedBy: NodeJS.Signals | null = null;
  readonly #stop = new AbortController();

  constructor(client: CircleWsClient, io: CliIo, anonymous: boolean) {
    this.#client = client;
    this.#io = io;
    this.#anonymous = anonymous;
    this.#terminal = io.stdin.isTTY === true && io.stdout.isTTY === true;
  }

  async run(timeoutMs: number): Promise<number> {
    // From the start, not only at the prompt: Ctrl-C while the client is still trying to
    // connect must end the session the same way.
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.#stoppedBy !== null) return;
      this.#stoppedBy = signal;
      this.#stop.abort();
      // Closed first, so no prompt is drawn again under the line; the line clears the prompt.
      this.#rl?.close();
      this.#io.stderr.write(`${this.#terminal ? '\r\x1b[2K' : ''}${signal}: disconnecting\n`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const stopped = new Promise<false>((resolve) => this.#stop.signal.addEventListener('abort', () => resolve(false), { once: true }));
    try {
      const connected = await this.#session(timeoutMs, onSignal, stopped);
      if (this.#stoppedBy !== null) return exitForSignal(this.#stoppedBy);
      return connected ? EXIT.ok : EXIT.failure;
    } catch (error) {
      if (this.#stoppedBy !== null) return exitForSignal(this.#stoppedBy);
      throw error;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }

  /** The session itself; false when the first connection failed for good (already reported). */
  async #session(timeoutMs: number, onSignal: (signal: NodeJS.Signals) => void, stopped: Promise<false>): Promise<boolean> {
    this.#offStatus = this.#client.on('status', (status) => this.#say(`[${describeStatus(this.#client, status)}]`));
    this.#say(`connecting to ${this.#client.actor.getSnapshot().context.url}${this.#anonymous ? ' without a key (anonymous)' : ''}`);
    try {
      await this.#client.connect({ timeoutMs, signal: this.#stop.signal });
    } catch (error) {
      if (this.#stoppedBy !== null) return true;
      this.#say(`could not connect: ${describeError(error)}`, true);
      // From `failed` nothing more will happen; from `backoff` the client keeps trying, so the user may wait.
      if (this.#client.status === 'failed' || this.#client.status === 'disconnected') return false;
    }
    if (this.#stoppedBy !== null) return true;
    this.#say(`type "help" for commands`);

    const rl = createInterface({ input: this.#io.stdin, output: this.#io.stdout, terminal: this.#terminal, prompt: 'circle> ' });
    this.#rl = rl;
    // A closed interface throws on prompt(); lines said after it go out plain.
    rl.on('close', () => {
      if (this.#rl === rl) this.#rl = null;
    });
    // A terminal in raw mode delivers Ctrl-C to readline, not as a signal.
    rl.on('SIGINT', () => onSignal('SIGINT'));
    this.#idle();
    for await (const line of rl) {
      this.#busy = true;
      // A call in flight does not hold Ctrl-C up: the disconnect that follows settles it.
      const keepGoing = await Promise.race([this.#handle(line.trim()), stopped]);
      if (!keepGoing || this.#stoppedBy !== null) break;
      this.#idle();
    }
    return true;
  }

  close(): void {
    this.#offStatus();
    this.#rl?.close();
  }

  #idle(): void {
    this.#busy = false;
    if (this.#terminal) this.#rl?.prompt();
  }

  /** Prints a line without trampling what the user is typing at the prompt; problems go to stderr. */
  #say(line: string, problem = false): void {
    const stream = problem ? this.#io.stderr : this.#io.stdout;
    if (this.#terminal && this.#rl && !this.#busy) {
      stream.write(`\r\x1b[2K${line}\n`);
      this.#rl.prompt(true);
      return;
    }
    stream.write(`${line}\n`);
  }

  /** Runs one line; false means leave. Errors are printed and the session goes on. */
  async #handle(line: string): Promise<boolean> {
    if (line === '' || line.startsWith('#')) return true;
    const [word = '', ...rest] = line.split(/\s+/);
    const argument = line.slice(word.length).trim();
    try {
      switch (word) {
        case 'quit':
        case 'exit':
          return false;
        case 'help':
        case '?':
          this.#io.stdout.write(SESSION_HELP);
          return true;
        case 'status':
          this.#say(describeStatus(this.#client, this.#client.status));
          return true;
        case 'whoami':
          this.#say(JSON.stringify(await this.#client.whoami(), null, 2));
          return true;
        case 'play':
          if (argument === '') throw new UsageError('play needs a script, as in: play let x = 10; x * 2');
          this.#say(await this.#client.play(argument));
          return true;
        case 'call': {
          const method = rest[0];
          if (method === undefined || method === '') throw new UsageError('call needs a method, as in: call whoami {}');
          const params = parseParams(argument.slice(method.length).trim());
          this.#say(JSON.stringify((await this.#client.call(method, params)) ?? null, null, 2));
          return true;
        }
        default:
          throw new UsageError(`unknown command ${JSON.stringify(word)}; type "help" for the list`);
      }
    } catch (error) {
      // After Ctrl-C the disconnect rejects what was in flight; that is not news to the user.
      if (this.#stoppedBy !== null) return false;
      this.#say(error instanceof UsageError ? error.message : `error: ${describeError(error)}`, true);
      return true;
    }
  }
}
