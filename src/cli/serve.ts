/**
 * `circle-ws serve`: the reference server in the foreground, for trying a client by hand or
 * pointing a frontend at. URLs go to stdout (so a script can read them), logs to stderr.
 */
import { generateKeypair, normalizePublicKey } from '../auth/crypto.js';
import { type CircleServer, createCircleServer } from '../server/index.js';
import { CliFailure, parseCommand, parseCompat, parseMs, parsePort, UsageError } from './args.js';
import { type CliIo, EXIT, streamLogger } from './io.js';

/**
 * A circle public key in hex (66 compressed or 130 uncompressed characters, optional `0x`),
 * returned without the prefix and in lower case, the spelling the server's URLs use.
 * @example parseCircleKey('0x02ab…'); // '02ab…'
 */
function parseCircleKey(text: string): string {
  try {
    normalizePublicKey(text);
  } catch (error) {
    // The value is not repeated: a private key pasted here by mistake must not reach the terminal.
    throw new UsageError(`a --circle value is not a secp256k1 public key: ${(error as Error).message}`);
  }
  return text.replace(/^0x/i, '').toLowerCase();
}

/** A failure to listen in words that say what to do; other errors pass through. */
function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new CliFailure(
        `port ${port} is already in use on ${host} (EADDRINUSE): another program listens there. ` +
          `Pick another port with --port N, or --port 0 for any free one (the URL is printed)`,
      );
    case 'EACCES':
      return new CliFailure(`not allowed to listen on ${where} (EACCES): ports below 1024 need privileges. Pick another with --port N, or --port 0 for any free one`);
    case 'EADDRNOTAVAIL':
      return new CliFailure(`${host} is not an address of this machine (EADDRNOTAVAIL); use --host 127.0.0.1, or 0.0.0.0 for every interface`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliFailure(`cannot resolve --host ${host} (${code}); give an IP address such as 127.0.0.1`);
    default:
      return error;
  }
}

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
 * @example await runServe(['--port', '0', '--no-auth'], io); // until SIGINT or SIGTERM
 */
export async function runServe(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('serve', argv);
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
    throw listenFailure(error, host, port);
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
}
