/**
 * Options of the reference server, their defaults and their validation. Validation is strict
 * (unknown keys are refused too) because the server is mostly configured from tests and a
 * command line, where a typo silently falling back to a default wastes an afternoon.
 */
import { InvalidArgumentError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { normalizePublicKey } from '../auth/crypto.js';
import { evaluateScript } from './evaluator.js';

/** What a `play` handler knows about the connection that sent the script. */
export interface PlaySession {
  /** The circle public key named by the connection's path, lowercase hex as the client wrote it. */
  circle: string;
  /** The authenticated public key (uncompressed lowercase hex), or null. */
  pubkey: string | null;
  authenticated: boolean;
}

/**
 * Runs a script and resolves with its output. A rejection becomes JSON-RPC error -32000
 * (Execution Error) whose message is the rejection's message.
 */
export type PlayHandler = (script: string, session: PlaySession) => Promise<string>;

export interface CircleServerOptions {
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string;
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Circle public keys served (hex, compressed or uncompressed; the same point in either form
   * is one circle). Default: any well-formed circle key in the path is served.
   */
  circles?: string[];
  /** Whether `play` requires authentication. Default true. */
  auth?: boolean;
  /** Script runner. Default: {@link evaluateScript}, the integer-arithmetic evaluator. */
  play?: PlayHandler;
  /** How long an issued nonce stays valid, in ms. Default 300,000 (5 minutes). */
  nonceTtlMs?: number;
  /** Largest accepted frame in bytes; a bigger one closes the connection with 1009. Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * Interval between WebSocket pings, in ms; a client silent (no pong, no frame) for two
   * intervals is dropped, and so is one that has left a message unfinished (fragments without the
   * last one, or a frame cut short) for two intervals, closed with 1008. Default 30,000. 0 turns
   * pings and both checks off.
   */
  pingIntervalMs?: number;
  /** Result shapes: `'v2'` (OpenRPC v0.2.0, the default) or `'v1'` (Circles RPC v1.0.0). */
  compat?: 'v2' | 'v1';
  /** Where the server logs. Default: {@link silentLogger}. */
  logger?: Logger;
  /** Clock for nonce expiry, in ms. Default `Date.now`. Liveness uses the real clock. */
  now?: () => number;
  /**
   * Largest frame accepted before the connection is authenticated, in bytes (fragments of one
   * message count together); a bigger one closes with 1009 as soon as its header announces it.
   * The handshake needs less than 1 KiB. Ignored when `auth` is false. Capped at `maxFrameBytes`.
   * @default 4096
   */
  maxFrameBytesBeforeAuth?: number;
  /**
   * Unsent output one connection may hold, in bytes. Reading from a connection pauses while its
   * unsent output is over a quarter of this bound (and resumes once it drains); a reply that
   * finds the output already over the bound is dropped and the connection is closed with 1013
   * (Try Again Later): the peer does not read what it asks for.
   * @default 4194304 (4 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Sustained frames per second allowed on an authenticated connection (every text frame and
   * ping takes a token); a frame over the rate closes the connection with 1013.
   * @default 1000
   */
  maxRequestsPerSecond?: number;
  /** Frames an authenticated connection may send at once above the sustained rate. @default 2000 */
  requestBurst?: number;
  /**
   * Sustained frames per second before authentication (and burst: twice this); a frame over it
   * closes with 1013. Ignored when `auth` is false: every connection gets the authenticated rate.
   * @default 10 (burst 20)
   */
  maxRequestsPerSecondBeforeAuth?: number;
  /**
   * Malformed frames in a row (not JSON, nested deeper than 32 levels, or not a JSON-RPC
   * request) after which the connection is closed with 1008; each is answered until then.
   * @default 10
   */
  maxMalformedFrames?: number;
  /**
   * Open connections allowed; past it the upgrade is refused with HTTP 503 and `Retry-After`.
   * @default 1000
   */
  maxConnections?: number;
  /**
   * How long a connection may stay unauthenticated, in ms; then it is closed with 1008 (with any
   * unfinished fragmented message). 0 turns the deadline off. Ignored when `auth` is false.
   * @default 30000
   */
  handshakeTimeoutMs?: number;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  /** Served circles as uncompressed lowercase hex, or null for "any well-formed key". */
  circles: ReadonlySet<string> | null;
  auth: boolean;
  play: PlayHandler;
  nonceTtlMs: number;
  maxFrameBytes: number;
  pingIntervalMs: number;
  compat: 'v2' | 'v1';
  logger: Logger;
  now: () => number;
  maxFrameBytesBeforeAuth: number;
  maxBufferedBytes: number;
  maxRequestsPerSecond: number;
  requestBurst: number;
  maxRequestsPerSecondBeforeAuth: number;
  maxMalformedFrames: number;
  maxConnections: number;
  handshakeTimeoutMs: number;
}

const KNOWN = new Set([
  'host',
  'port',
  'circles',
  'auth',
  'play',
  'nonceTtlMs',
  'maxFrameBytes',
  'pingIntervalMs',
  'compat',
  'logger',
  'now',
  'maxFrameBytesBeforeAuth',
  'maxBufferedBytes',
  'maxRequestsPerSecond',
  'requestBurst',
  'maxRequestsPerSecondBeforeAuth',
  'maxMalformedFrames',
  'maxConnections',
  'handshakeTimeoutMs',
]);

/** Seconds a client refused for `maxConnections` is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 5;

/** The default `play` handler: the arithmetic evaluator, ignoring the session. */
export const defaultPlay: PlayHandler = async (script) => evaluateScript(script);

function fail(message: string): never {
  throw new InvalidArgumentError(`createCircleServer: ${message}`);
}

function integer(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? value : typeof value}`);
  }
  return value;
}

/**
 * Checks every option and fills in the defaults; throws `InvalidArgumentError` naming the bad option.
 * @example resolveOptions({ port: 8080 }).pingIntervalMs; // 30000
 */
export function resolveOptions(options: CircleServerOptions | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) fail(`unknown option '${key}'`);
  }
  const { host = '127.0.0.1', auth = true, compat = 'v2', logger = silentLogger, now = Date.now, play = defaultPlay } = options;
  if (typeof host !== 'string' || host.trim() === '') fail('host must be a non-empty string');
  if (typeof auth !== 'boolean') fail('auth must be a boolean');
  if (compat !== 'v1' && compat !== 'v2') fail(`compat must be 'v2' or 'v1', got ${JSON.stringify(compat)}`);
  if (typeof play !== 'function') fail('play must be a function (script, session) => Promise<string>');
  if (typeof now !== 'function') fail('now must be a function returning milliseconds');
  if (
    typeof logger !== 'object' ||
    logger === null ||
    !(['debug', 'info', 'warn', 'error'] as const).every((level) => typeof logger[level] === 'function')
  ) {
    fail('logger must have debug, info, warn and error methods');
  }

  let circles: Set<string> | null = null;
  if (options.circles !== undefined) {
    if (!Array.isArray(options.circles)) fail('circles must be an array of hex public keys');
    circles = new Set();
    for (const [index, key] of options.circles.entries()) {
      try {
        circles.add(normalizePublicKey(key));
      } catch (err) {
        fail(`circles[${index}] is not a valid secp256k1 public key: ${(err as Error).message}`);
      }
    }
  }

  // The shortest useful request is about 60 bytes; a smaller limit can only be a mistake.
  const maxFrameBytes = integer('maxFrameBytes', options.maxFrameBytes, 64, 2 ** 31 - 1, 1024 * 1024);
  const maxFrameBytesBeforeAuth = integer('maxFrameBytesBeforeAuth', options.maxFrameBytesBeforeAuth, 64, 2 ** 31 - 1, 4096);
  if (options.maxFrameBytesBeforeAuth !== undefined && maxFrameBytesBeforeAuth > maxFrameBytes) {
    fail(`maxFrameBytesBeforeAuth (${maxFrameBytesBeforeAuth}) must not be larger than maxFrameBytes (${maxFrameBytes})`);
  }
  const maxRequestsPerSecond = integer('maxRequestsPerSecond', options.maxRequestsPerSecond, 1, 1_000_000, 1000);
  return {
    host,
    port: integer('port', options.port, 0, 65535, 0),
    circles,
    auth,
    play,
    nonceTtlMs: integer('nonceTtlMs', options.nonceTtlMs, 1, 2 ** 31 - 1, 300_000),
    maxFrameBytes,
    // setInterval cannot take more than 2^31-1 ms.
    pingIntervalMs: integer('pingIntervalMs', options.pingIntervalMs, 0, 2 ** 31 - 1, 30_000),
    compat,
    logger,
    now,
    maxFrameBytesBeforeAuth: Math.min(maxFrameBytesBeforeAuth, maxFrameBytes),
    // Below 16 KiB a single reply (a nonce, a whoami) could already trip it.
    maxBufferedBytes: integer('maxBufferedBytes', options.maxBufferedBytes, 16 * 1024, 2 ** 31 - 1, 4 * 1024 * 1024),
    maxRequestsPerSecond,
    requestBurst: integer('requestBurst', options.requestBurst, 1, 1_000_000, Math.max(2000, maxRequestsPerSecond)),
    maxRequestsPerSecondBeforeAuth: integer('maxRequestsPerSecondBeforeAuth', options.maxRequestsPerSecondBeforeAuth, 1, 1_000_000, 10),
    maxMalformedFrames: integer('maxMalformedFrames', options.maxMalformedFrames, 1, 1_000_000, 10),
    maxConnections: integer('maxConnections', options.maxConnections, 1, 1_000_000, 1000),
    handshakeTimeoutMs: integer('handshakeTimeoutMs', options.handshakeTimeoutMs, 0, 2 ** 31 - 1, 30_000),
  };
}
