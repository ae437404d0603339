/**
 * Runs in the test page (compiled by esbuild, no bundling): drives one client of the package's
 * browser bundle for `page.evaluate`, and records what a test needs to see from the outside: every
 * status change with its time, and every nonce the server issued (read off the socket, through a
 * wrapper around the browser transport).
 *
 * The page loads it as `install(await import('/circle-ws-client.js'))`.
 */
import type * as Package from '../../src/index.js';

type Api = typeof Package;
type Client = InstanceType<Api['CircleWsClient']>;

export interface StartOptions {
  url: string;
  keepAlive?: { intervalMs: number; timeoutMs: number } | false;
  reconnect?: { initialDelayMs: number; maxDelayMs: number; maxAttempts?: number } | false;
  timeouts?: { connectMs?: number; authMs?: number };
  /** Wrap the browser transport to record nonces (the default transport otherwise). */
  recordFrames?: boolean;
}

export interface StatusChange {
  status: string;
  previous: string;
  /** `performance.now()` in the page. */
  at: number;
  /** The code of the machine's last failure at that moment (`LINK_DEAD`, `CONNECTION_LOST`…), or null. */
  failure: string | null;
}

export interface ConnectError {
  name: string;
  code: string | null;
  message: string;
  status: number | null;
  connectionFailed: boolean;
}

export interface Harness {
  /** Builds a client with a fresh key pair; resolves with its public key. */
  start(options: StartOptions): { publicKey: string };
  connect(timeoutMs: number): Promise<string>;
  /** `connect()` expected to fail: resolves with what the error says (null if it connected). */
  connectError(timeoutMs: number): Promise<ConnectError | null>;
  play(script: string): Promise<string>;
  whoami(): Promise<{ authenticated: boolean; pubkey: string | null }>;
  disconnect(): Promise<string>;
  status(): string;
  changes(): StatusChange[];
  /** The results of every `fetch_nonce` seen on the wire, in order. */
  nonces(): unknown[];
  /** The machine's last failure (code and message), or null. */
  failure(): { code: string; message: string } | null;
}

declare global {
  interface Window {
    harness?: Harness;
  }
}

export function install(api: Api): void {
  let client: Client | null = null;
  const changes: StatusChange[] = [];
  const nonces: unknown[] = [];

  const recording: Package.TransportFactory = (url, handlers) => {
    const methods = new Map<string, string>();
    const inner = api.browserTransport(url, {
      ...handlers,
      message: (data) => {
        try {
          const frame = JSON.parse(data) as { id?: unknown; result?: unknown };
          if (methods.get(String(frame.id)) === 'fetch_nonce' && 'result' in frame) nonces.push(frame.result);
        } catch {
          // not JSON: the client reports it
        }
        handlers.message(data);
      },
    });
    return {
      send: (data) => {
        const frame = JSON.parse(data) as { id?: unknown; method?: unknown };
        methods.set(String(frame.id), String(frame.method));
        inner.send(data);
      },
      ping: () => inner.ping(),
      close: (code, reason) => inner.close(code, reason),
      terminate: () => inner.terminate(),
      get bufferedAmount() {
        return inner.bufferedAmount;
      },
    };
  };

  const current = (): Client => {
    if (client === null) throw new Error('harness.start() first');
    return client;
  };

  window.harness = {
    start(options) {
      const keys = api.generateKeypair();
      let builder = api.CircleWsClient.builder(options.url).withKeypair(keys.privateKey);
      if (options.keepAlive !== undefined) builder = builder.withKeepAlive(options.keepAlive);
      if (options.reconnect !== undefined) builder = builder.withReconnect(options.reconnect);
      if (options.timeouts !== undefined) builder = builder.withTimeouts(options.timeouts);
      if (options.recordFrames) builder = builder.withTransport(recording);
      const built = builder.build();
      built.on('status', (status, previous) =>
        changes.push({ status, previous, at: performance.now(), failure: built.actor.getSnapshot().context.lastFailure?.code ?? null }),
      );
      client = built;
      return { publicKey: keys.publicKey };
    },
    async connect(timeoutMs) {
      await current().connect({ timeoutMs });
      return current().status;
    },
    connectError: (timeoutMs) =>
      current()
        .connect({ timeoutMs })
        .then(
          () => null,
          (error: Error & { code?: string; status?: number }) => ({
            name: error.name,
            code: error.code ?? null,
            message: error.message,
            status: error.status ?? null,
            connectionFailed: error instanceof api.ConnectionFailedError,
          }),
        ),
    play: (script) => current().play(script),
    async whoami() {
      const { authenticated, pubkey } = await current().whoami();
      return { authenticated, pubkey };
    },
    async disconnect() {
      await current().disconnect();
      return current().status;
    },
    status: () => current().status,
    changes: () => [...changes],
    nonces: () => [...nonces],
    failure() {
      const failure = current().actor.getSnapshot().context.lastFailure;
      return failure ? { code: failure.code, message: failure.message } : null;
    },
  };
}
