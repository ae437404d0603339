/**
 * `CircleWsManagerBuilder`: collects and checks a manager's options. Like the client's builder,
 * every `with…` method checks its argument at once and throws a typed error saying what was wrong.
 */
import type { ConnectPolicy } from '../../machines/manager.js';
import { createSigner, parsePrivateKey, type Signer } from '../auth/crypto.js';
import { adoptSigner } from '../auth/external-signer.js';
import type { CircleWsClientBuilder } from '../client/client.js';
import { checkUrl, type Inspect } from '../client/options.js';
import { InvalidArgumentError } from '../errors.js';

/** The identity of one circle, when it differs from the manager's. */
export interface CircleOptions {
  /** This circle's own private key (64 hex characters). */
  keypair?: string;
  /** This circle's own signer (see `withSigner` on the client's builder). */
  signer?: Signer;
}

/** Applied to every client's builder (with its circle's URL), before the manager sets its identity and inspector. */
export type ClientDefaults = (builder: CircleWsClientBuilder, url: string) => CircleWsClientBuilder | void;

/** What `build()` hands the manager. */
export interface ManagerOptions {
  signer: Signer | null;
  circles: Map<string, CircleOptions>;
  configure: ClientDefaults[];
  connect: ConnectPolicy;
  inspect: Inspect | undefined;
}

/** Checks a circle's own identity; returns it with a key turned into a signer, or undefined. */
export function checkCircleOptions(options: CircleOptions | undefined): Signer | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('a circle\'s options are { keypair } or { signer }');
  if (options.keypair !== undefined && options.signer !== undefined) {
    throw new InvalidArgumentError('a circle takes a keypair or a signer, not both');
  }
  if (options.keypair !== undefined) return createSigner(options.keypair);
  if (options.signer !== undefined) return adoptSigner(options.signer);
  return undefined;
}

/**
 * The `with…` methods of the manager's builder (`CircleWsManager.builder()`; `build()` is with the
 * manager, in `manager.ts`).
 * @example
 * const manager = CircleWsManager.builder().withKeypair(key).withCircle(url).build();
 */
export abstract class ManagerBuilderBase {
  #privateKey: string | null = null;
  #signer: Signer | null = null;
  readonly #circles = new Map<string, CircleOptions>();
  readonly #configure: ClientDefaults[] = [];
  #connect: ConnectPolicy = 'eager';
  #inspect: Inspect | undefined;

  /**
   * One identity for every circle: the key is parsed once, at `build()`, into one signer that every
   * client shares. Without it (or `withSigner`) the clients are anonymous.
   * @example builder.withKeypair(readFileSync('circle.key', 'utf8').trim())
   */
  withKeypair(privateKeyHex: string): this {
    parsePrivateKey(privateKeyHex).fill(0); // throws AuthError INVALID_KEY naming the problem, never the key
    this.#privateKey = privateKeyHex;
    this.#signer = null;
    return this;
  }

  /**
   * One signer for every circle, holding its key elsewhere (a wallet, a device, a remote service).
   * @example builder.withSigner(await eip1193Signer(window.ethereum, account))
   */
  withSigner(signer: Signer): this {
    this.#signer = adoptSigner(signer);
    this.#privateKey = null;
    return this;
  }

  /**
   * Adds a circle (a server URL `ws://HOST:PORT/CIRCLE_PK`), or a list of them, optionally with an
   * identity of its own. URLs are compared as written. Adding a URL twice throws.
   * @example builder.withCircle('ws://127.0.0.1:8080/02ab…').withCircle(other, { keypair: otherKey })
   */
  withCircle(url: string | readonly string[], options?: CircleOptions): this {
    const urls = typeof url === 'string' ? [url] : url;
    if (!Array.isArray(urls)) throw new InvalidArgumentError('withCircle takes a URL or a list of URLs');
    if (options !== undefined) checkCircleOptions(options);
    for (const one of urls) {
      checkUrl(one);
      if (this.#circles.has(one)) throw new InvalidArgumentError(`the circle ${one} was added twice`);
      this.#circles.set(one, options ?? {});
    }
    return this;
  }

  /**
   * Options for every client (keep-alive, reconnection, timeouts, transport, clock, logger…), as a
   * function of each client's builder and its circle's URL. The manager sets the identity and the
   * inspector after it.
   * @example builder.withClient((b) => b.withKeepAlive({ intervalMs: 20_000, timeoutMs: 5_000 }))
   */
  withClient(configure: ClientDefaults): this {
    if (typeof configure !== 'function') throw new InvalidArgumentError('withClient takes a function of the client builder');
    this.#configure.push(configure);
    return this;
  }

  /**
   * When circles connect: `'eager'` at `connectAll()` (and circles added later while running, at
   * once); `'lazy'` each on its first call (`connectAll()` still connects every circle).
   * @default 'eager'
   * @example builder.withConnect('lazy')
   */
  withConnect(policy: ConnectPolicy): this {
    if (policy !== 'eager' && policy !== 'lazy') throw new InvalidArgumentError(`withConnect takes 'eager' or 'lazy', got ${String(policy)}`);
    this.#connect = policy;
    return this;
  }

  /**
   * An XState inspector for the manager's actor and every client's: each client's snapshots carry
   * its `url`, so the inspector can tell which circle an actor belongs to.
   * @example builder.withInspect(createBrowserInspector().inspect)
   */
  withInspect(inspect: Inspect): this {
    this.#inspect = inspect;
    return this;
  }

  /** The checked options; the manager's key becomes one signer here. */
  protected resolve(): ManagerOptions {
    const signer = this.#signer ?? (this.#privateKey === null ? null : createSigner(this.#privateKey));
    return {
      signer,
      circles: new Map(this.#circles),
      configure: [...this.#configure],
      connect: this.#connect,
      inspect: this.#inspect,
    };
  }
}
