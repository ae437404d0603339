/**
 * `circle-ws demo` (and `npm start`): the whole story in a few seconds on loopback. A server,
 * a fresh key, every state of the handshake, a script, whoami, then a server restart to show
 * backoff and re-authentication, then a clean shutdown.
 */
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CircleWsClient, type CircleWsStatus, generateKeypair, type WhoAmI } from '../index.js';
import { type CircleServer, createCircleServer } from '../server/index.js';
import { parseCommand, parseMs } from './args.js';
import { type CliIo, describeError, EXIT, shortHex, streamLogger } from './io.js';
import { describeStatus, waitForStatus } from './session.js';
import { DEFAULTS } from './usage.js';

const SCRIPT = DEFAULTS.demoScript;
/** Long enough that the client's first retries find the port closed, so backoff is visible. */
const DOWNTIME_MS = 500;

/**
 * Shows state changes: one plain line each when piped, a live line redrawn in place in a
 * terminal. Other text is printed above the live line, which is then drawn again.
 */
class StatusView {
  readonly #out: Writable & { columns?: number };
  readonly #live: boolean;
  readonly #start: number;
  #trail: string[] = [];
  #current = '';
  #lastReason = '';
  #ticker: NodeJS.Timeout | undefined;

  constructor(out: Writable & { isTTY?: boolean; columns?: number }, start: number) {
    this.#out = out;
    this.#live = out.isTTY === true;
    this.#start = start;
    if (this.#live) {
      // The elapsed time keeps moving while a state lasts, which is the point of a live line.
      this.#ticker = setInterval(() => this.#draw(), 100);
      this.#ticker.unref();
    }
  }

  elapsed(): number {
    return Math.round(performance.now() - this.#start);
  }

  /** `detail` is the full description; the live line shows `label` and prints a new `reason` once. */
  state(status: CircleWsStatus, detail: string, label: string, reason: string | undefined): void {
    const at = this.elapsed();
    if (!this.#live) {
      this.#out.write(`${stamp(at)} ${detail}\n`);
      return;
    }
    if (reason && reason !== this.#lastReason && (status === 'backoff' || status === 'failed')) {
      this.#lastReason = reason;
      this.note(`           ${status}: ${reason}`);
    }
    this.#current = label;
    this.#trail.push(`${status} ${at}`);
    this.#draw();
  }

  note(text: string): void {
    if (!this.#live) {
      this.#out.write(`${text}\n`);
      return;
    }
    this.#out.write(`\r\x1b[2K${text}\n`);
    this.#draw();
  }

  /** Ends the current live line so it stays on screen, whole; the next state starts a new one. */
  commit(): void {
    if (!this.#live || this.#trail.length === 0) return;
    // Nothing redraws this line any more, so it may wrap.
    this.#out.write(`\r\x1b[2K${stamp(this.elapsed())} ${this.#trail.join(' › ')} ms\n`);
    this.#trail = [];
    this.#current = '';
  }

  stop(): void {
    clearInterval(this.#ticker);
    this.commit();
  }

  #draw(): void {
    if (this.#trail.length === 0) return;
    const head = `${stamp(this.elapsed())} ${this.#current}  ·  `;
    // A line wider than the terminal wraps, and \r then redraws only its last row: keep the
    // newest states and drop the oldest.
    const room = (this.#out.columns || 80) - 1 - head.length;
    let trail = `${this.#trail.join(' › ')} ms`;
    if (trail.length > room) trail = room > 1 ? `…${trail.slice(trail.length - room + 1)}` : '';
    this.#out.write(`\r\x1b[2K${head}${trail}`);
  }
}

function stamp(ms: number): string {
  return `[${String(ms).padStart(6)} ms]`;
}

/** A short form of the state for the live line, e.g. `backoff #2 in 312 ms`. */
function labelOf(client: CircleWsClient, status: CircleWsStatus): string {
  const { context } = client.actor.getSnapshot();
  if (status === 'backoff' && context.reconnect) return `backoff #${context.attempt} in ${context.retryDelayMs} ms`;
  return status;
}

/** Rejects when `signal` aborts, so every step of the demo stays under the overall deadline. */
function bounded<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Binds `port` again after a close; a brief retry covers the moment the kernel takes to free it. */
async function restartOn(port: number, start: () => Promise<CircleServer>, signal: AbortSignal): Promise<CircleServer> {
  for (let tries = 1; ; tries++) {
    try {
      return await start();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || tries >= 10) {
        throw new Error(`could not listen on port ${port} again: ${describeError(error)}`);
      }
      await sleep(100, undefined, { signal });
    }
  }
}

/** whoami's answer as JSON with the keys shortened, and whether the server sees our key. */
function whoamiLine(who: WhoAmI, ours: string): string {
  const shown = Object.fromEntries(Object.entries(who).map(([name, value]) => [name, typeof value === 'string' ? shortHex(value) : value]));
  return `${JSON.stringify(shown)}${who.pubkey === ours ? ' (our public key)' : ''}`;
}

async function showDemo(io: CliIo, signal: AbortSignal, verbose: boolean, view: StatusView): Promise<void> {
  const circle = generateKeypair();
  const me = generateKeypair();
  const logger = verbose ? streamLogger(io.stderr, 'info', 'server') : undefined;
  const startServer = (port: number): Promise<CircleServer> =>
    createCircleServer({ host: '127.0.0.1', port, circles: [circle.publicKeyCompressed], ...(logger ? { logger } : {}) });

  let server: CircleServer | null = null;
  let client: CircleWsClient | null = null;
  try {
    server = await bounded(startServer(0), signal);
    const { port } = server;
    const url = server.urlFor(circle.publicKeyCompressed);
    view.note(`server   ${url.replace(circle.publicKeyCompressed, shortHex(circle.publicKeyCompressed))}`);
    view.note(`client   public key ${shortHex(me.publicKey)} (new, kept in memory only)`);

    client = CircleWsClient.builder(url)
      .withKeypair(me.privateKey)
      // Short delays keep the restart brief; the defaults (500 ms and up) suit real networks.
      .withReconnect({ initialDelayMs: 200, maxDelayMs: 1_000 })
      .withTimeouts({ connectMs: 5_000, authMs: 5_000 })
      .withRequestTimeout(5_000)
      .build();
    const watched = client;
    view.state(watched.status, watched.status, watched.status, undefined);
    watched.on('status', (status) =>
      view.state(status, describeStatus(watched, status), labelOf(watched, status), watched.actor.getSnapshot().context.lastFailure?.message),
    );

    await bounded(watched.connect({ timeoutMs: 10_000 }), signal);
    view.commit();
    const output = await bounded(watched.play(SCRIPT), signal);
    view.note(`play(${JSON.stringify(SCRIPT)}) → ${output}`);
    view.note(`whoami → ${whoamiLine(await bounded(watched.whoami(), signal), me.publicKey)}`);

    view.note(`restarting the server on port ${port} (down for ${DOWNTIME_MS} ms)…`);
    // Listen before closing, so no state change can slip by between the two.
    const back = waitForStatus(watched, 'authenticated', signal, { next: true });
    back.catch(() => {});
    await bounded(server.close(), signal);
    server = null;
    await sleep(DOWNTIME_MS, undefined, { signal });
    server = await restartOn(port, () => startServer(port), signal);
    view.note(`server   listening again on port ${port}`);
    await back;
    view.commit();
    view.note(`whoami → ${whoamiLine(await bounded(watched.whoami(), signal), me.publicKey)}`);

    await bounded(watched.disconnect(), signal);
    view.commit();
    await bounded(server.close(), signal);
    server = null;
    view.note(`done in ${view.elapsed()} ms: disconnected and the server is closed`);
  } finally {
    // On failure too: a dangling socket or listener would keep the process from exiting.
    await client?.disconnect().catch(() => {});
    await server?.close().catch(() => {});
  }
}

/**
 * Runs `demo`.
 * @example await runDemo([], io); // prints the states, 20, whoami, the restart; resolves 0
 */
export async function runDemo(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('demo', argv);
  const timeoutMs = parsed.values.timeout === undefined ? DEFAULTS.demoTimeoutMs : parseMs('--timeout', parsed.values.timeout);
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(new Error(`the demo did not finish within ${timeoutMs} ms`)), timeoutMs);
  const interrupt = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const view = new StatusView(io.stdout, performance.now());
  try {
    await showDemo(io, controller.signal, parsed.values.verbose === true, view);
    view.stop();
    return EXIT.ok;
  } catch (error) {
    view.stop();
    // After an abort, whichever step was waiting fails in its own words; the abort's reason says more.
    const cause: unknown = controller.signal.aborted ? controller.signal.reason : error;
    io.stderr.write(`demo failed after ${view.elapsed()} ms: ${describeError(cause)}\n`);
    return EXIT.failure;
  } finally {
    clearTimeout(deadline);
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
