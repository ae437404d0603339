/**
 * The `circle-ws` command line as a function, apart from the process it runs in. It picks the
 * subcommand, turns a thrown `UsageError` into exit status 2 with the command's usage, and any
 * other error into status 1.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { refuseInlineKeys, UsageError } from './args.js';
import { call, play } from './call.js';
import { connect } from './connect.js';
import { demo } from './demo.js';
import { type CliIo, type Command, describeError, EXIT } from './io.js';
import { KEY_ENV } from './keys.js';
import { keygen } from './keygen.js';
import { serve } from './serve.js';

const commands: readonly Command[] = [demo, keygen, serve, connect, call, play];

const usage = `Usage: circle-ws <command> [options]

A client and a reference server for Circle WebSocket JSON-RPC servers.

Commands:
  demo                    start a local server and show connect, authenticate, play, restart, reconnect
  keygen [--out FILE]     make a new key pair (JSON on stdout, or the private key in a 0600 file)
  serve [options]         run the reference server until SIGINT or SIGTERM
  connect URL             open an interactive session (play, call, whoami, status, quit)
  call URL METHOD [JSON]  make one JSON-RPC call and print its result as JSON
  play URL SCRIPT         run one script on a circle and print its output

Options:
  -h, --help              show this help; "circle-ws COMMAND --help" shows a command's options
  -V, --version           print the version

URL is ws://HOST:PORT/CIRCLE_PK. The private key comes from --key-file FILE (mode 0600) or the
${KEY_ENV} environment variable, never from an argument: other users can read process
arguments.

Exit status: 0 success, 1 failure, 2 usage error.
`;

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
 * @example process.exitCode = await main(['keygen'], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env });
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '-h' || first === '--help') {
    io.stdout.write(usage);
    return EXIT.ok;
  }
  if (first === '-V' || first === '--version') {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (first === 'help') {
    const topic = commands.find((command) => command.name === rest[0]);
    if (rest[0] !== undefined && topic === undefined) {
      io.stderr.write(`circle-ws: unknown command ${JSON.stringify(rest[0])}\n\n${usage}`);
      return EXIT.usage;
    }
    io.stdout.write(topic ? topic.usage : usage);
    return EXIT.ok;
  }
  const command = commands.find((candidate) => candidate.name === first);
  if (command === undefined) {
    let problem: string;
    try {
      refuseInlineKeys(argv);
      problem =
        first === undefined
          ? 'missing command'
          : first.startsWith('-')
            ? `unknown option '${first.split('=', 1)[0]}' (options go after the command)`
            : `unknown command ${JSON.stringify(first)}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    io.stderr.write(`circle-ws: ${problem}\n\n${usage}`);
    return EXIT.usage;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`circle-ws ${command.name}: ${error.message}\n\n${command.usage}`);
      return EXIT.usage;
    }
    io.stderr.write(`circle-ws ${command.name}: ${describeError(error)}\n`);
    return EXIT.failure;
  }
}
