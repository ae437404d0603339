/**
 * The options half of `CircleWsClientBuilder`: collects and validates the options. Every
 * `with…` method checks its argument at once and throws `InvalidArgumentError` (or `AuthError`
 * for a bad key) saying what was wrong. `build()` lives with the client (`client.ts`), so this
 * module does not import the client and the client can import it: no import circle.
 */
import { defaultTransport } from '#transport';
import type { KeepAlivePolicy, ReconnectPolicy, ResignPolicy } from '../../machines/connection.js';
import { type CryptoService, createSigner, nobleCrypto, parsePrivateKey, type Signer } from '../auth/crypto.js';
import { adoptSigner } from '../auth/external-signer.js';
import { isOwnSigner } from '../auth/own-signers.js';
import { type CompiledNonceRule, compileNonceRule, defaultCompiledNonceRule, type NonceRule } from '../auth/nonce-rule.js';
import { InvalidArgumentError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { TransportFactory } from '../transport/types.js';
import {
  type Clock,
  defaultNetworkEvents,
  defaultQueueLimit,
  type NetworkEvents,
  checkKeepAlive,
  checkMs,
  checkReconnect,
  checkUrl,
  checkFrameBytes,
  defaultKeepAlive,
  defaultMaxFrameBytes,
  defaultMaxInboundFrameBytes,
  defaultTimeouts,
  externalSignMs,
  type Inspect,
  type ResolvedOptions,
  type SignerOptions,
  systemClock,
  type Timeouts,
} from './options.js';
import { defaultReconnectPolicy } from '../../machines/backoff.js';

/**
 * The `with…` methods of `CircleWsClientBuilder` (use that class; this one cannot build).
 * @example
 * const client = new CircleWsClientBuilder('ws://127.0.0.1:8080/02abc…')
 *   .withReconnect({ maxAttempts: 10 })
 *   .build();
 */
export abstract class ClientBuilderBase {
  readonly #url: string;
  // Private fields: the key is not enumerable, not serialised and not shown by util.inspect.
  #privateKey: string | null = null;
  #signer: Signer | null = null;
  #resign: ResignPolicy = 'automatic';
  /** The signer is the application's (a wallet, a device): signing may wait for a person. */
  #external = false;
  #crypto: CryptoService = nobleCrypto;
  #nonceRule: CompiledNonceRule = defaultCompiledNonceRule;
  #keepAlive: KeepAlivePolicy | null = { ...defaultKeepAlive };
  #reconnect: ReconnectPolicy | null = { ...defaultReconnectPolicy };
  #timeouts: Omit<Timeouts, 'signMs'> = { ...defaultTimeouts };
  /** Set by `withTimeouts({ signMs })`; otherwise it follows the signer (see `resolve`). */
  #signMs: number | undefined;
  #transport: TransportFactory = defaultTransport;
  #clock: Clock = systemClock;
  #logger: Logger = silentLogger;
  #random: () => number = Math.random;
  #inspect: Inspect | undefined;
  #queueLimit = defaultQueueLimit;
  #maxFrameBytes = defaultMaxFrameBytes;
  #maxInboundFrameBytes = defaultMaxInboundFrameBytes;
  #network: NetworkEvents | undefined = defaultNetworkEvents();

  /** @param url `ws://host:port/CIRCLE_PK` or `wss://…` */
  constructor(url: string) {
    this.#url = checkUrl(url);
  }

  /**
   * Authenticate with this secp256k1 private key (64 hex characters, with or without `0x`).
   * Without a key pair the client never authenticates (status `connected` when ready).
   * @default none: an anonymous client that never authenticates
   * @example builder.withKeypair(readFileSync('circle.key', 'utf8').trim())
   */
  withKeypair(privateKeyHex: string): this {
    parsePrivateKey(privateKeyHex); // throws AuthError INVALID_KEY naming the problem, never the key
    this.#privateKey = privateKeyHex;
    this.#signer = null;
    this.#resign = 'automatic';
    this.#external = false;
    return this;
  }

  /**
   * Authenticate with a signer that holds the key elsewhere (a wallet, a hardware device, a
   * remote service): `{ publicKey, sign(nonce) }`, where `sign` resolves with the EIP-191
   * signature `r ‖ s ‖ v` in hex. The private key never enters the process. Replaces
   * `withKeypair`. One signer may serve many clients (`CircleWsManager` does so).
   *
   * A signature may need a person (a wallet prompt), so by default (`resign: 'onConnect'`) the
   * client signs at most once per `connect()`: after a drop that would need a new signature it
   * stays `disconnected` until `connect()` is called again. Signing gets 120 s unless
   * `withTimeouts({ signMs })` says otherwise. A signer that throws `AuthError('SIGNING_DECLINED')`
   * (`eip1193Signer` does when the user refuses) leaves the client `failed`, with no new prompt.
   * A signer this package made from a key (`createSigner`) keeps a key's behaviour instead: it
   * signs again by itself after a drop, within `authMs` (a manager shares one between its clients).
   * @default none; `{ resign: 'onConnect' }`
   * @example builder.withSigner(await eip1193Signer(window.ethereum, account))
   */
  withSigner(signer: Signer, options: SignerOptions = {}): this {
    // A signer `createSigner` made (a manager shares one) signs by itself: it keeps a key's behaviour.
    const own = isOwnSigner(signer);
    const resign: unknown = options?.resign ?? (own ? 'automatic' : 'onConnect');
    if (resign !== 'onConnect' && resign !== 'automatic') {
      throw new InvalidArgumentError(`withSigner's resign option must be 'onConnect' or 'automatic', got ${typeof resign === 'string' ? JSON.stringify(resign.slice(0, 40)) : typeof resign}`);
    }
    this.#signer = adoptSigner(signer);
    this.#privateKey = null;
    this.#resign = resign;
    this.#external = !own;
    return this;
  }

  /**
   * Probe after `intervalMs` without an inbound frame; declare the link dead after `timeoutMs` more
   * (it then drops the socket and reconnects with backoff). `false` turns it off; fields left out
   * keep their defaults.
   * @default { intervalMs: 30_000, timeoutMs: 10_000 }
   * @example builder.withKeepAlive({ intervalMs: 15_000, timeoutMs: 5_000 })
   */
  withKeepAlive(options: Partial<KeepAlivePolicy> | false): this {
    this.#keepAlive = options === false ? null : checkKeepAlive(options);
    return this;
  }

  /**
   * Reconnection with jittered exponential backoff; fields left out keep their defaults. `false`
   * turns it off: a failure that would be retried leaves the client `disconnected` instead.
   * A `Retry-After` on a 429/503 upgrade refusal (Node) is a floor under the next delay, capped by `maxDelayMs`.
   *
   * Retried: drops, timeouts, a dead link, a close with 1009, 5xx/408/429 upgrade refusals, the
   * server's internal errors (-32603) during the handshake. Never retried (the client goes to
   * `failed` and stays there until you call `connect()`): refused credentials (`AUTH_REFUSED`), a
   * nonce the server would not issue (`NONCE_REFUSED`), a nonce that expired again after its one
   * refetch (`NONCE_EXPIRED`), text that is not a nonce (`NONCE_REJECTED`, never signed), a
   * crypto service that failed (`SIGNING_FAILED`, `INVALID_KEY`), close 1008 (`AUTH_LOCKED`), a 3xx
   * redirect (not followed) or a 4xx upgrade refusal other than 408/429 (`CONNECTION_FAILED`), and
   * `maxAttempts` attempts in a row without a stable session (`RECONNECT_EXHAUSTED`).
   * @default { initialDelayMs: 500, maxDelayMs: 30_000, multiplier: 2, jitter: 1, maxAttempts: Infinity }
   * @example builder.withReconnect({ initialDelayMs: 250, maxAttempts: 20 })
   */
  withReconnect(options: Partial<ReconnectPolicy> | false): this {
    this.#reconnect = options === false ? null : checkReconnect(options);
    return this;
  }

  /**
   * The default deadline of each call, from the moment it is made (queued time included); a call's
   * own `timeoutMs` overrides it.
   * @default 30_000 (30 s)
   * @example builder.withRequestTimeout(5_000)
   */
  withRequestTimeout(ms: number): this {
    this.#timeouts.requestMs = checkMs('requestTimeout', ms);
    return this;
  }

  /**
   * Deadlines of the connection itself: opening the socket (`connectMs`), the handshake's
   * requests (`authMs`) and signing the nonce (`signMs`). Past any of them, the socket is dropped
   * and the client backs off (a `TimeoutError` as `lastError`). Fields left out keep their values.
   *
   * `signMs` defaults to `authMs` for a key held in-process and to 120 s for `withSigner`, where a
   * person answers a wallet prompt. The server's nonce lifetime bounds it anyway (5 minutes on
   * the reference server): a signature that arrives after the nonce expired is refused
   * (`NONCE_EXPIRED`), so a `signMs` longer than that lifetime buys nothing.
   * @default { connectMs: 10_000, authMs: 10_000, signMs: authMs, or 120_000 with withSigner }
   * @example builder.withTimeouts({ connectMs: 3_000, signMs: 60_000 })
   */
  withTimeouts(timeouts: Partial<Omit<Timeouts, 'requestMs'>>): this {
    if (timeouts.connectMs !== undefined) this.#timeouts.connectMs = checkMs('connectMs', timeouts.connectMs);
    if (timeouts.authMs !== undefined) this.#timeouts.authMs = checkMs('authMs', timeouts.authMs);
    if (timeouts.signMs !== undefined) this.#signMs = checkMs('signMs', timeouts.signMs);
    return this;
  }

  /**
   * The WebSocket implementation.
   * @default `ws` in Node, the global `WebSocket` (`browserTransport`) in browsers
   * @example builder.withTransport(browserTransport)
   */
  withTransport(factory: TransportFactory): this {
    if (typeof factory !== 'function') throw new InvalidArgumentError('withTransport takes a transport factory function');
    this.#transport = factory;
    return this;
  }

  /**
   * The signing implementation. It receives the key; the machine never does.
   * @default nobleCrypto (`@noble/secp256k1`)
   * @example builder.withCrypto({ derivePublicKey, signNonce: hsmSign })
   */
  withCrypto(service: CryptoService): this {
    if (typeof service?.derivePublicKey !== 'function' || typeof service.signNonce !== 'function') {
      throw new InvalidArgumentError('withCrypto takes { derivePublicKey, signNonce }');
    }
    this.#crypto = service;
    return this;
  }

  /**
   * What a server's nonce must look like before the client signs it. The signature covers only
   * the nonce, so signing arbitrary text would make the client a signing oracle (a hostile server
   * could have it sign a login message for another service): by default only nonces of at most
   * 256 characters from `A-Z a-z 0-9 _ - . :` are signed. Anything else fails the handshake with
   * `AuthError('NONCE_REJECTED')`, nothing signed and nothing sent. Relax it only for a server you
   * trust whose nonces differ; fields left out keep their defaults. `pattern` is matched against
   * the whole nonce; `maxLength` is at most 65,536.
   * @default { maxLength: 256, pattern: /[A-Za-z0-9_.:-]+/ } (`defaultNonceRule`)
   * @example builder.withNonceRule({ pattern: /[A-Za-z0-9+/=]+/ }) // a server issuing base64 nonces
   */
  withNonceRule(rule: Partial<NonceRule>): this {
    this.#nonceRule = compileNonceRule(rule);
    return this;
  }

  /**
   * An XState inspector, attached when the actor is created so it receives the machine definition.
   * @default none
   * @example builder.withInspect(createBrowserInspector().inspect)
   */
  withInspect(inspect: Inspect): this {
    this.#inspect = inspect;
    return this;
  }

  /**
   * The clock for every timer of the client (tests pass a simulated one).
   * @default systemClock (the global `setTimeout`, `clearTimeout` and `Date.now`)
   * @example builder.withClock(new SimulatedClock() as Clock)
   */
  withClock(clock: Clock): this {
    if (typeof clock?.setTimeout !== 'function' || typeof clock.clearTimeout !== 'function' || typeof clock.now !== 'function') {
      throw new InvalidArgumentError('withClock takes { setTimeout, clearTimeout, now }');
    }
    this.#clock = clock;
    return this;
  }

  /**
   * Where the client reports what it ignores or recovers from.
   * @default silentLogger (logs nothing)
   * @example builder.withLogger(consoleLogger('debug'))
   */
  withLogger(logger: Logger): this {
    this.#logger = logger;
    return this;
  }

  /**
   * The random source of the backoff jitter (0 ≤ r < 1), for deterministic tests.
   * @default Math.random
   * @example builder.withRandom(() => 0.5)
   */
  withRandom(random: () => number): this {
    if (typeof random !== 'function') throw new InvalidArgumentError('withRandom takes a function returning 0 ≤ r < 1');
    this.#random = random;
    return this;
  }

  /**
   * How many calls may wait for the session to be ready; past that a call rejects with `QueueFullError`.
   * @default 1000
   * @example builder.withQueueLimit(100)
   */
  withQueueLimit(limit: number): this {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
      throw new InvalidArgumentError(`withQueueLimit takes a whole number ≥ 0, got ${String(limit)}`);
    }
    this.#queueLimit = limit;
    return this;
  }

  /**
   * The largest request a call may send, in UTF-8 bytes of its JSON-RPC frame. A larger call
   * rejects at once with `FrameTooLargeError` (code `FRAME_TOO_LARGE`, `direction: 'outbound'`)
   * and is neither sent nor queued. Match it to the server's limit (a larger frame makes the
   * server close with 1009, failing every call in flight).
   * @default 1048576 (1 MiB, the protocol's limit)
   * @example builder.withMaxFrameBytes(256 * 1024)
   */
  withMaxFrameBytes(bytes: number): this {
    this.#maxFrameBytes = checkFrameBytes('withMaxFrameBytes', bytes);
    return this;
  }

  /**
   * The largest frame accepted from the server, in bytes. In Node a larger frame is refused from
   * its header, before it is buffered: the socket closes with 1009 and the client backs off
   * (`lastError` is a `FrameTooLargeError`, code `FRAME_TOO_LARGE`). Browsers cannot refuse a
   * frame: one over the limit is dropped before parsing and logged as a warning.
   * @default 4194304 (4 MiB)
   * @example builder.withMaxInboundFrameBytes(16 * 1024 * 1024)
   */
  withMaxInboundFrameBytes(bytes: number): this {
    this.#maxInboundFrameBytes = checkFrameBytes('withMaxInboundFrameBytes', bytes);
    return this;
  }

  /**
   * Where `online`/`offline` events come from; `false` ignores them.
   * `offline` while ready probes the link at once; `online` during backoff retries at once, keeping the failure counters.
   * @default the browser's `window`; none in Node
   * @example builder.withNetworkEvents(false)
   */
  withNetworkEvents(source: NetworkEvents | false): this {
    if (source !== false && (typeof source?.addEventListener !== 'function' || typeof source.removeEventListener !== 'function')) {
      throw new InvalidArgumentError('withNetworkEvents takes an EventTarget-like { addEventListener, removeEventListener } or false');
    }
    this.#network = source === false ? undefined : source;
    return this;
  }

  /** The checked options and the signer a client is built from (a fresh signer each time). */
  protected resolve(): { options: ResolvedOptions; signer: Signer | null } {
    const external = this.#external;
    const signer = this.#signer ?? (this.#privateKey === null ? null : createSigner(this.#privateKey, this.#crypto));
    return {
      options: {
        url: this.#url,
        keepAlive: this.#keepAlive,
        reconnect: this.#reconnect,
        timeouts: { ...this.#timeouts, signMs: this.#signMs ?? (external ? externalSignMs : this.#timeouts.authMs) },
        resign: this.#resign,
        nonceRule: this.#nonceRule,
        transport: this.#transport,
        clock: this.#clock,
        logger: this.#logger,
        random: this.#random,
        inspect: this.#inspect,
        queueLimit: this.#queueLimit,
        maxFrameBytes: this.#maxFrameBytes,
        maxInboundFrameBytes: this.#maxInboundFrameBytes,
        network: this.#network,
      },
      signer,
    };
  }
}
