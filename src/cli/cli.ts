/**
 * The `circle-ws` command line as a function, apart from the process it runs in. It answers
 * help and invocation mistakes itself, loads only the subcommand asked for, turns a thrown
 * `UsageError` into exit status 2 with that command's usage, a `CliFailure` into its one line
 * and status 1, and any other error into its description and status 1.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliFailure, refuseInlineKeys, refuseKeyLikeArguments, UsageError, wantsHelp } from './args.js';
import { type CliIo, type CommandRun, describeError, EXIT } from './io.js';
import { type CommandName, TOP_USAGE, USAGE } from './usage.js';

// Loaded on demand: the client, the server and the crypto they pull in take longer to load
// than a usage error takes to print.
const commands: Record<CommandName, () => Promise<CommandRun>> = {
  demo: async () => (await import('./demo.js')).runDemo,
  keygen: async () => (await import('./keygen.js')).runKeygen,
  serve: async () => (await import('./serve.js')).runServe,
  connect: async () => (await import('./connect.js')).runConnect,
  call: async () => (await import('./call.js')).runCall,
  play: async () => (await import('./call.js')).runPlay,
  watch: async () => (await import('./watch.js')).runWatch,
};

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(commands, name);
}

/** The package version, found by walking up from this file (dist/src/cli or src/cli). */
function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'circle-ws-client' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not here; keep climbing.
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

/**
 * Runs the command line `argv` (without `node` and the script) and resolves with the exit status.
 * @example
 * const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
 * process.exitCode = await main(['keygen', '--out', 'me.key'], io);
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  // Before anything else can quote an argument back (an unknown command, a bad value), and
  // before help: the explanation matters more than the usage.
  try {
    refuseInlineKeys(argv);
    refuseKeyLikeArguments(argv);
  } catch (error) {
    const command = isCommand(first) ? first : null;
    io.stderr.write(`circle-ws${command ? ` ${command}` : ''}: ${(error as Error).message}\n\n${command ? USAGE[command] : TOP_USAGE}`);
    return EXIT.usage;
  }
  if (first === '-h' || first === '--help') {
    io.stdout.write(TOP_USAGE);
    return EXIT.ok;
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'help') {
    if (rest[0] !== undefined && !isCommand(rest[0])) {
      io.stderr.write(`circle-ws: unknown command ${JSON.stringify(rest[0])}\n\n${TOP_USAGE}`);
      return EXIT.usage;
    }
    io.stdout.write(isCommand(rest[0]) ? USAGE[rest[0]] : TOP_USAGE);
    return EXIT.ok;
  }
  if (!isCommand(first)) {
    const problem =
      first === undefined
        ? 'missing command'
        : first.startsWith('-')
          ? `unknown option '${first.split('=', 1)[0]}' (options go after the command)`
          : `unknown command ${JSON.stringify(first)}`;
    io.stderr.write(`circle-ws: ${problem}\n\n${TOP_USAGE}`);
    return EXIT.usage;
  }
  const usage = USAGE[first];
  try {
    if (wantsHelp(rest)) {
      io.stdout.write(usage);
      return EXIT.ok;
    }
    const run = await commands[first]();
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`circle-ws ${first}: ${error.message}\n\n${usage}`);
      return EXIT.usage;
    }
    if (error instanceof CliFailure) {
      io.stderr.write(`circle-ws ${first}: ${error.message}\n`);
      return EXIT.failure;
    }
    io.stderr.write(`circle-ws ${first}: ${describeError(error)}\n`);
    return EXIT.failure;
  }
}
