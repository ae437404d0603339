/**
 * `circle-ws serve`: the reference server in the foreground, for trying a client by hand or
 * pointing a frontend at. URLs go to stdout (so a script can read them), logs to stderr.
 */
import { generateKeypair } from '../auth/crypto.js';
import { type CircleServer, createCircleServer } from '../server/index.js';
import { parseCircleKey, parseCommand, parseCompat, parseMs, parsePort } from './args.js';
import { type CliIo, type Command, EXIT, streamLogger } from './io.js';

const usage = `Usage: circle-ws serve [--host HOST] [--port PORT] [--circle PK]... [--no-auth]
                       [--compat v1|v2] [--nonce-ttl MS]

Runs the reference Circle WebSocket server until SIGINT (Ctrl-C) or SIGTERM. Prints
"listening on ws://HOST:PORT" and one URL per circle on stdout; logs go to stderr.

Options:
  --host HOST      interface to listen on (default 127.0.0.1)
  --port PORT      TCP port, 0 for any free one (default 8080)
  --circle PK      serve the circle with this public key (hex, compressed or not); repeatable.
                   Without it a new circle key is generated and its URL printed.
  --no-auth        let play run without authentication
  --compat v1|v2   result shapes: v2 (OpenRPC v0.2.0, default) or v1 (Circles RPC v1.0.0)
  --nonce-ttl MS   how long an issued nonce stays valid (default 300000)
  -h, --help       show this help
`;

const options = {
  host: { type: 'string' },
  port: { type: 'string' },
  circle: { type: 'string', multiple: true },
  'no-auth': { type: 'boolean' },
  compat: { type: 'string' },
  'nonce-ttl': { type: 'string' },
} as const;

/** The first SIGINT or SIGTERM from now on; `cancel` gives the signals back to Node's defaults. */
function nextStopSignal(): { received: Promise<NodeJS.Signals>; cancel: () => void } {
  let on!: (signal: NodeJS.Signals) => void;
  const cancel = (): void => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  const received = new Promise<NodeJS.Signals>((resolve) => {
    on = (signal) => {
      cancel();
      resolve(signal);
    };
  });
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return { received, cancel };
}

/**
 * Runs `serve`.
 * @example await serve.run(['--port', '0', '--no-auth'], io); // until SIGINT or SIGTERM
 */
export const serve: Command = {
  name: 'serve',
  summary: 'run the reference server until SIGINT or SIGTERM',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const parsed = parseCommand(argv, options, { min: 0, max: 0 });
    if (parsed === 'help') {
      io.stdout.write(usage);
      return EXIT.ok;
    }
    const { values } = parsed;
    const host = values.host ?? '127.0.0.1';
    const port = values.port === undefined ? 8080 : parsePort(values.port);
    const compat = values.compat === undefined ? 'v2' : parseCompat(values.compat);
    const nonceTtlMs = values['nonce-ttl'] === undefined ? undefined : parseMs('--nonce-ttl', values['nonce-ttl']);
    let circles = (values.circle ?? []).map(parseCircleKey);
    if (circles.length === 0) {
      circles = [generateKeypair().publicKeyCompressed];
      io.stderr.write('no --circle given: serving a newly generated circle key\n');
    }

    // Listening before the first signal would leave a window where Ctrl-C kills us uncleanly;
    // the handlers go in first and are honoured once the server is up.
    const stop = nextStopSignal();
    let server: CircleServer;
    try {
      server = await createCircleServer({
        host,
        port,
        circles,
        auth: values['no-auth'] !== true,
        compat,
        ...(nonceTtlMs === undefined ? {} : { nonceTtlMs }),
        logger: streamLogger(io.stderr, 'info', 'circle-ws serve'),
      });
    } catch (error) {
      stop.cancel();
      throw error;
    }
    io.stdout.write(`listening on ${server.url}\n`);
    for (const circle of circles) io.stdout.write(`circle ${server.urlFor(circle)}\n`);

    const signal = await stop.received;
    io.stderr.write(`${signal}: closing the server\n`);
    // A second signal means the user is done waiting for the clients' close handshakes.
    const force = (): void => {
      io.stderr.write('second signal: exiting without waiting\n');
      process.exit(EXIT.failure);
    };
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    try {
      await server.close();
    } finally {
      process.off('SIGINT', force);
      process.off('SIGTERM', force);
    }
    return EXIT.ok;
  },
};
