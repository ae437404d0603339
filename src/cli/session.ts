/**
 * Client plumbing shared by `connect`, `call`, `play` and `demo`: building a client from
 * command-line input, saying what a state means, and waiting for a state.
 */
import {
  CircleWsClient,
  type CircleWsStatus,
  InvalidArgumentError,
  type Logger,
  type ReconnectPolicy,
} from '../index.js';
import { UsageError } from './args.js';

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
    const builder = CircleWsClient.builder(url)
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
