/**
 * `circle-ws connect`: an interactive session on one circle. Lines are handled one at a time,
 * in order, so piped input (`printf 'whoami\nquit\n' | circle-ws connect URL`) behaves like typing.
 */
import { createInterface, type Interface } from 'node:readline';
import type { CircleWsClient } from '../index.js';
import { parseCommand, parseMs, parseParams, UsageError } from './args.js';
import { type CliIo, describeError, EXIT } from './io.js';
import { KEY_ENV, loadPrivateKey } from './keys.js';
import { buildClient, describeStatus } from './session.js';
import { DEFAULTS, SESSION_HELP } from './usage.js';

/**
 * Runs `connect`.
 * @example await runConnect(['ws://127.0.0.1:8080/02ab…', '--key-file', 'me.key'], io);
 */
export async function runConnect(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand(argv, { 'key-file': { type: 'string' }, timeout: { type: 'string' } }, { min: 1, max: 1, names: 'URL' });
  const url = parsed.positionals[0] ?? '';
  const timeoutMs = parsed.values.timeout === undefined ? DEFAULTS.timeoutMs : parseMs('--timeout', parsed.values.timeout);
  const privateKey = loadPrivateKey({ keyFile: parsed.values['key-file'], env: io.env, warn: (line) => io.stderr.write(`${line}\n`) });
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

  constructor(client: CircleWsClient, io: CliIo, anonymous: boolean) {
    this.#client = client;
    this.#io = io;
    this.#anonymous = anonymous;
    this.#terminal = io.stdin.isTTY === true && io.stdout.isTTY === true;
  }

  async run(timeoutMs: number): Promise<number> {
    this.#offStatus = this.#client.on('status', (status) => this.#say(`[${describeStatus(this.#client, status)}]`));
    this.#say(`connecting to ${this.#client.actor.getSnapshot().context.url}${this.#anonymous ? ' without a key (anonymous)' : ''}`);
    try {
      await this.#client.connect({ timeoutMs });
    } catch (error) {
      this.#say(`could not connect: ${describeError(error)}`, true);
      // From `failed` nothing more will happen; from `backoff` the client keeps trying, so the user may wait.
      if (this.#client.status === 'failed' || this.#client.status === 'disconnected') return EXIT.failure;
    }
    this.#say(`type "help" for commands`);

    const rl = createInterface({ input: this.#io.stdin, output: this.#io.stdout, terminal: this.#terminal, prompt: 'circle> ' });
    this.#rl = rl;
    // Ctrl-C at the prompt leaves like quit; readline would otherwise only pause.
    rl.on('SIGINT', () => rl.close());
    const onSignal = (): void => rl.close();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      this.#idle();
      for await (const line of rl) {
        this.#busy = true;
        const keepGoing = await this.#handle(line.trim());
        if (!keepGoing) break;
        this.#idle();
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return EXIT.ok;
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
      this.#say(error instanceof UsageError ? error.message : `error: ${describeError(error)}`, true);
      return true;
    }
  }
}
