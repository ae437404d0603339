/**
 * The client's options: one documented object, validated once by the builder, with every
 * default in one place.
 */
import type { InspectionEvent, Observer } from 'xstate';
import { defaultReconnectPolicy, type KeepAlivePolicy, type ReconnectPolicy, type ResignPolicy } from '../../machines/connection.js';
import { InvalidArgumentError } from '../errors.js';
import type { CompiledNonceRule } from '../auth/nonce-rule.js';
import type { Logger } from '../logger.js';
import type { TransportFactory } from '../transport/types.js';

/** Timers come from here, so tests can drive them with a simulated clock (xstate's `SimulatedClock` fits). */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Wall-clock milliseconds; keep-alive deadlines are checked against it, not against timer counts. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** An XState inspector: an observer or a function of inspection events (e.g. `createBrowserInspector().inspect`). */
export type Inspect = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export interface Timeouts {
  /** Per-call deadline (default 30 s), overridable per call. */
  requestMs: number;
  /** How long a socket may take to open (default 10 s). */
  connectMs: number;
  /** How long each handshake step may take (default 10 s). */
  authMs: number;
  /**
   * How long the signer may take to sign a nonce. Default: `authMs` for a key held in-process
   * (`withKeypair`), 120 s for a signer that holds its key elsewhere (`withSigner`), whose wallet
   * prompt waits for a person.
   */
  signMs: number;
}

/** The deadlines every client starts with; `signMs` depends on the signer (see {@link Timeouts}). */
export const defaultTimeouts: Omit<Timeouts, 'signMs'> = { requestMs: 30_000, connectMs: 10_000, authMs: 10_000 };
/** The signing deadline of an external signer (`withSigner`): a person reads and answers the wallet's prompt. */
export const externalSignMs = 120_000;

/** Options of `withSigner`. */
export interface SignerOptions {
  /**
   * When the client may ask the signer for a new signature by itself. `'onConnect'` (the default
   * for `withSigner`): at most once per `connect()` call; a dropped session that would need a new
   * signature leaves the client `disconnected` (with `lastError` saying why it dropped) until
   * `connect()` is called again. `'automatic'`: on every reconnection, as a key held in-process does.
   */
  resign?: ResignPolicy;
}
export const defaultKeepAlive: KeepAlivePolicy = { intervalMs: 30_000, timeoutMs: 10_000 };
/** A session must stay ready this long before the reconnection counter resets. */
export const stableAfterMs = 5_000;

/** Everything `build()` hands the client. */
export interface ResolvedOptions {
  url: string;
  keepAlive: KeepAlivePolicy | null;
  reconnect: ReconnectPolicy | null;
  timeouts: Timeouts;
  /** When the signer may be asked again without a new `connect()`. */
  resign: ResignPolicy;
  /** What a nonce must look like to be signed (`withNonceRule`). */
  nonceRule: CompiledNonceRule;
  transport: TransportFactory;
  clock: Clock;
  logger: Logger;
  random: () => number;
  inspect: Inspect | undefined;
  /** At most this many calls wait for the session to be ready. */
  queueLimit: number;
  /** The largest request frame a call may make, in UTF-8 bytes. */
  maxFrameBytes: number;
  /** The largest frame accepted from the server, in bytes. */
  maxInboundFrameBytes: number;
  /** Where `online`/`offline` events come from (a browser's `window`); undefined in Node. */
  network: NetworkEvents | undefined;
}

/** The part of `window` the client listens to for `online` and `offline`. */
export interface NetworkEvents {
  addEventListener(type: 'online' | 'offline', listener: () => void): void;
  removeEventListener(type: 'online' | 'offline', listener: () => void): void;
}

export const defaultQueueLimit = 1_000;
/** The protocol's frame limit (the reference server closes with 1009 above it). */
export const defaultMaxFrameBytes = 1024 * 1024;
/** Room for large script outputs, far below the 100 MiB `ws` would otherwise accept. */
export const defaultMaxInboundFrameBytes = 4 * 1024 * 1024;

/** A frame limit in bytes: a whole number from 1 KiB (every handshake frame fits) to 2^31-1. */
export function checkFrameBytes(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1024 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${name} takes a whole number of bytes from 1024 to 2147483647, got ${String(value)}`);
  }
  return value;
}

/** The browser's `window` when there is one (it fires `online`/`offline`), else undefined. */
export function defaultNetworkEvents(): NetworkEvents | undefined {
  const g = globalThis as { window?: unknown; navigator?: { onLine?: unknown } };
  if (typeof g.window !== 'object' || g.window === null || typeof g.navigator?.onLine !== 'boolean') return undefined;
  const w = g.window as Partial<NetworkEvents>;
  return typeof w.addEventListener === 'function' && typeof w.removeEventListener === 'function' ? (w as NetworkEvents) : undefined;
}

export function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0) {
    throw new InvalidArgumentError('the server URL must be a non-empty string such as ws://127.0.0.1:8080/CIRCLE_PK');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`the server URL is not a valid URL: ${JSON.stringify(url.slice(0, 200))}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new InvalidArgumentError(`the server URL must start with ws:// or wss://, not ${parsed.protocol}//`);
  }
  return url;
}

/** A whole number of milliseconds, positive (or zero where `allowZero`). */
export function checkMs(name: string, value: unknown, { allowZero = false } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new InvalidArgumentError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number of milliseconds, got ${String(value)}`);
  }
  // setTimeout clamps anything above 2^31-1 ms to 1 ms, which would turn a long deadline into an instant one.
  if (value > 2_147_483_647) throw new InvalidArgumentError(`${name} must be at most 2147483647 ms, got ${value}`);
  return value;
}

export function checkKeepAlive(value: Partial<KeepAlivePolicy>): KeepAlivePolicy {
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('withKeepAlive takes { intervalMs, timeoutMs } or false');
  return {
    intervalMs: checkMs('keepAlive.intervalMs', value.intervalMs ?? defaultKeepAlive.intervalMs),
    timeoutMs: checkMs('keepAlive.timeoutMs', value.timeoutMs ?? defaultKeepAlive.timeoutMs),
  };
}

export function checkReconnect(value: Partial<ReconnectPolicy>): ReconnectPolicy {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError('withReconnect takes { initialDelayMs, maxDelayMs, multiplier, jitter, maxAttempts } or false');
  }
  const policy: ReconnectPolicy = { ...defaultReconnectPolicy };
  if (value.initialDelayMs !== undefined) policy.initialDelayMs = checkMs('reconnect.initialDelayMs', value.initialDelayMs, { allowZero: true });
  if (value.maxDelayMs !== undefined) policy.maxDelayMs = checkMs('reconnect.maxDelayMs', value.maxDelayMs, { allowZero: true });
  if (policy.maxDelayMs < policy.initialDelayMs) {
    throw new InvalidArgumentError(`reconnect.maxDelayMs (${policy.maxDelayMs}) must not be below reconnect.initialDelayMs (${policy.initialDelayMs})`);
  }
  if (value.multiplier !== undefined) {
    if (typeof value.multiplier !== 'number' || !Number.isFinite(value.multiplier) || value.multiplier < 1) {
      throw new InvalidArgumentError(`reconnect.multiplier must be a finite number of at least 1, got ${String(value.multiplier)}`);
    }
    policy.multiplier = value.multiplier;
  }
  if (value.jitter !== undefined) {
    if (typeof value.jitter !== 'number' || !(value.jitter >= 0 && value.jitter <= 1)) {
      throw new InvalidArgumentError(`reconnect.jitter must be between 0 (none) and 1 (full jitter), got ${String(value.jitter)}`);
    }
    policy.jitter = value.jitter;
  }
  if (value.maxAttempts !== undefined) {
    const n = value.maxAttempts;
    if (typeof n !== 'number' || Number.isNaN(n) || n < 0 || (Number.isFinite(n) && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`reconnect.maxAttempts must be a whole number ≥ 0 or Infinity, got ${String(n)}`);
    }
    policy.maxAttempts = n;
  }
  return policy;
}
