/**
 * Client plumbing shared by `connect`, `call`, `play` and `demo`: building a client from
 * command-line input, saying what a state means, and waiting for a state.
 */
import {
  CircleWsClient,
  CircleWsManager,
  type CircleWsStatus,
  InvalidArgumentError,
  type Logger,
  type ReconnectPolicy,
} from '../index.js';
import { normalizePublicKey } from '../auth/crypto.js';
import { UsageError } from './args.js';
import type { CliIo } from './io.js';
import { loadPrivateKey } from './keys.js';

/** The options `connect`, `call` and `play` share, as parsed. */
export interface ClientOptionValues {
  'key-file'?: string;
  'allow-open-key-file'?: boolean;
  timeout?: string;
}

/**
 * The private key the options and the environment give, or null for an anonymous client.
 * @example const key = privateKeyFrom({ 'key-file': 'me.key' }, io);
 */
export function privateKeyFrom(values: ClientOptionValues, io: CliIo): string | null {
  if (values['allow-open-key-file'] === true && values['key-file'] === undefined) {
    throw new UsageError('--allow-open-key-file only applies with --key-file FILE');
  }
  return loadPrivateKey({
    keyFile: values['key-file'],
    allowOpen: values['allow-open-key-file'] === true,
    env: io.env,
    warn: (line) => io.stderr.write(`${line}\n`),
  });
}

/**
 * Refuses a URL whose path cannot name a circle, before any connection: the server would only
 * answer HTTP 404, which says nothing about why. The path must be `/` and the circle's public
 * key (66 or 130 hex characters, a point on the curve); a query string is allowed.
 * @example checkCircleUrl('ws://127.0.0.1:8080/02ab…'); // passes for a valid key
 */
export function checkCircleUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return; // Not a URL at all: the client's builder says so in its own words.
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') return; // Likewise.
  const path = parsed.pathname;
  const expected = 'its path must be /CIRCLE_PK, the circle\'s public key in hex (66 or 130 characters), as circle-ws serve prints it';
  if (path === '' || path === '/') throw new UsageError(`the URL names no circle: ${expected}`);
  const key = path.slice(1);
  const got = path.length <= 24 ? JSON.stringify(path) : `a path of ${path.length} characters`;
  let problem: string | null = null;
  if (/^0x/i.test(key)) problem = 'a 0x prefix';
  else if (!/^[0-9a-fA-F]+$/.test(key)) problem = 'characters that are not hexadecimal';
  else if (key.length !== 66 && key.length !== 130) problem = `${key.length} hex characters`;
  else {
    try {
      normalizePublicKey(key);
    } catch {
      problem = 'a key that is not a point on the secp256k1 curve';
    }
  }
  if (problem !== null) throw new UsageError(`the URL's path is not a circle public key (got ${got}, with ${problem}): ${expected}`);
}

/** How a command wants its client to behave. */
export interface ClientSetup {
  /** The private key, or null for an anonymous client (it never authenticates). */
  privateKey: string | null;
  /** Bounds the socket opening, each handshake step, and each call. */
  timeoutMs: number;
  reconnect: Partial<ReconnectPolicy>;
  /** Probe a quiet link; one-shot commands do not live long enough to need it. */
  keepAlive: boolean;
  logger?: Logger;
}

/**
 * Builds a client for `url`; a malformed URL is the user's mistake, so it becomes a {@link UsageError}.
 * @example const client = buildClient('ws://127.0.0.1:8080/02ab…', { privateKey: null, timeoutMs: 10_000, reconnect: {}, keepAlive: false });
 */
export function buildClient(url: string, setup: ClientSetup): CircleWsClient {
  try {
    const builder = CircleWsClient.builder(url);
    checkCircleUrl(url);
    builder
      .withReconnect(setup.reconnect)
      .withTimeouts({ connectMs: setup.timeoutMs, authMs: setup.timeoutMs })
      .withRequestTimeout(setup.timeoutMs);
    if (!setup.keepAlive) builder.withKeepAlive(false);
    if (setup.logger) builder.withLogger(setup.logger);
    if (setup.privateKey !== null) builder.withKeypair(setup.privateKey);
    return builder.build();
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * Builds a manager for `urls` (one client each, one identity), configured like {@link buildClient}.
 * A malformed or repeated URL is the user's mistake: a {@link UsageError}, before any connection.
 * @example const manager = buildManager([urlA, urlB], { privateKey: null, timeoutMs: 10_000, reconnect: {}, keepAlive: false });
 */
export function buildManager(urls: readonly string[], setup: ClientSetup): CircleWsManager {
  for (const url of urls) checkCircleUrl(url);
  try {
    const builder = CircleWsManager.builder()
      .withCircle(urls)
      .withClient((client) => {
        client
          .withReconnect(setup.reconnect)
          .withTimeouts({ connectMs: setup.timeoutMs, authMs: setup.timeoutMs })
          .withRequestTimeout(setup.timeoutMs);
        if (!setup.keepAlive) client.withKeepAlive(false);
        if (setup.logger) client.withLogger(setup.logger);
      });
    if (setup.privateKey !== null) builder.withKeypair(setup.privateKey);
    return builder.build();
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message);
    throw error;
  }
}

/**
 * The state with what explains it: the attempt and the jittered wait for `backoff`, the reason
 * for `backoff` and `failed`.
 * @example describeStatus(client, 'backoff'); // 'backoff (attempt 1, next try in 137 ms; the connection closed with code 1001 …)'
 */
export function describeStatus(client: CircleWsClient, status: CircleWsStatus): string {
  const { context } = client.actor.getSnapshot();
  const reason = context.lastFailure?.message;
  if (status === 'backoff' && context.reconnect) {
    return `backoff (attempt ${context.attempt}, next try in ${context.retryDelayMs} ms${reason ? `; ${reason}` : ''})`;
  }
  if (status === 'failed') return `failed${reason ? ` (${reason})` : ''}`;
  return status;
}

/**
 * Resolves when the client reaches `wanted`; rejects if it lands in `failed` first (the client
 * will not retry from there) or when `signal` aborts. With `next`, the current state does not
 * count: it waits for the client to enter `wanted` again (after a restart, say).
 * @example await waitForStatus(client, 'authenticated', AbortSignal.timeout(5000));
 */
export function waitForStatus(
  client: CircleWsClient,
  wanted: CircleWsStatus,
  signal: AbortSignal,
  options: { next?: boolean } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.status === wanted && options.next !== true) {
      resolve();
      return;
    }
    const finish = (error?: unknown): void => {
      off();
      signal.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = (): void => finish(signal.reason);
    const off = client.on('status', (status) => {
      if (status === wanted) finish();
      else if (status === 'failed') finish(new Error(`the client stopped trying: ${describeStatus(client, status)}`));
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
