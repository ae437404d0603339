/**
 * One connection's session: its authentication state, its pending nonce, and the four methods
 * of protocol section 3. The transport (frames, close codes, liveness) is `server.ts`'s job;
 * this module only turns request text into reply objects and asks for a 1008 close.
 *
 * Decisions where the protocol leaves a choice:
 * - Every refused `authenticate` (bad signature, no pending nonce, expired nonce, nonce issued
 *   to another key) is answered with error -32002 "Invalid Credentials", never with a `false`
 *   result, in both compat modes. An error cannot be mistaken for success by a sloppy client,
 *   and `data.reason` tells a developer which rule refused them (the reasons reveal nothing a
 *   client does not already know about its own connection).
 * - A malformed `pubkey`, or a `signature` that is not a string, is -32602 and is not an
 *   authentication attempt: it neither consumes the nonce nor counts toward the lock-out.
 *   A string that is not a valid signature *is* an attempt (refused as a bad signature).
 * - The lock-out counts refusals over the connection's life, not consecutive ones: the fifth
 *   refusal closes the connection with 1008 even if an earlier attempt succeeded.
 * - A refused attempt does not undo an earlier successful authentication; a successful one
 *   switches the session to the new key.
 * - `play` checks authentication before its params, so an unauthenticated client learns
 *   nothing about the method beyond -32001.
 */
import { RpcErrorCode } from '../errors.js';
import { normalizePublicKey, verifySignature } from '../auth/crypto.js';
import { failure, parseMessage, RpcFault, success, type RpcFailure, type RpcSuccess } from './jsonrpc.js';
import { NonceSlot, type NonceRefusal } from './nonces.js';
import type { PlaySession, ResolvedOptions } from './options.js';
import { ScriptError } from './evaluator.js';
import { shortKey, shortText } from './redact.js';

/** Refusals allowed on one connection; the last one is answered and then the connection is closed. */
export const MAX_REFUSED_AUTHENTICATIONS = 5;

type RefusalReason = NonceRefusal | 'bad_signature';

export interface SessionHost {
  /** The connection id used in logs, such as `c1`. */
  readonly id: string;
  /** The circle key from the path. */
  readonly circle: string;
  /** Sends one reply if the connection is still open. */
  send(message: RpcSuccess | RpcFailure): void;
  /** Closes the connection with 1008 after the replies already sent. */
  lockOut(): void;
  /** Told of every frame's verdict: false for one answered as malformed (-32700, -32600). */
  checked(wellFormed: boolean): void;
  /** The connection has just authenticated (first success only). */
  authenticated(): void;
}

export class Session {
  private authenticatedKey: string | null = null;
  private refusals = 0;
  private readonly nonces: NonceSlot;
  private closed = false;

  constructor(
    private readonly host: SessionHost,
    private readonly options: ResolvedOptions,
  ) {
    this.nonces = new NonceSlot(options.nonceTtlMs, options.now);
  }

  /** Handles one text frame; replies through the host. Never rejects. */
  async receive(text: string): Promise<void> {
    if (this.closed) return;
    const message = parseMessage(text);
    if (message.kind === 'invalid') {
      this.options.logger.debug('invalid message', { conn: this.host.id, code: message.reply.error.code });
      this.host.send(message.reply);
      this.host.checked(false);
      return;
    }
    this.host.checked(true);
    if (message.kind === 'notification') {
      this.options.logger.debug('notification ignored', { conn: this.host.id, method: shortText(message.method) });
      return;
    }
    const { id, method, params } = message;
    this.options.logger.debug('request', { conn: this.host.id, method: shortText(method) });
    let reply: RpcSuccess | RpcFailure;
    try {
      reply = success(id, await this.dispatch(method, params));
    } catch (err) {
      if (err instanceof RpcFault) {
        reply = failure(id, err.code, err.message, err.data);
      } else {
        this.options.logger.error('internal error', { conn: this.host.id, method: shortText(method), error: String(err) });
        reply = failure(id, RpcErrorCode.InternalError, 'Internal error');
      }
    }
    // The connection may have closed while a script ran; the host drops replies to closed sockets.
    this.host.send(reply);
    if (this.refusals >= MAX_REFUSED_AUTHENTICATIONS && !this.closed) {
      this.closed = true;
      this.options.logger.warn('too many refused authentications, closing with 1008', { conn: this.host.id });
      this.host.lockOut();
    }
  }

  /** The connection closed: forget the nonce and ignore anything still in flight. */
  dispose(): void {
    this.closed = true;
    this.nonces.clear();
  }

  private dispatch(method: string, params: Record<string, unknown>): unknown {
    const v1 = this.options.compat === 'v1';
    switch (method) {
      case 'fetch_nonce':
        return this.fetchNonce(params, v1);
      case 'authenticate':
        return this.authenticate(params, v1);
      case 'whoami':
        // Circles RPC v1.0.0 has no whoami; a v1 server answers as for any unknown method.
        if (!v1) return { authenticated: this.authenticatedKey !== null, pubkey: this.authenticatedKey, circle: this.host.circle };
        break;
      case 'play':
        return this.play(params, v1);
    }
    throw new RpcFault(RpcErrorCode.MethodNotFound, `Method not found: ${shortText(method)}`);
  }

  private fetchNonce(params: Record<string, unknown>, v1: boolean): unknown {
    const pubkey = this.publicKeyParam(params);
    const { nonce, expiresAtMs } = this.nonces.issue(pubkey);
    this.options.logger.debug('nonce issued', { conn: this.host.id, pubkey: shortKey(pubkey) });
    return v1 ? { nonce, expires_at: Math.floor(expiresAtMs / 1000) } : nonce;
  }

  private authenticate(params: Record<string, unknown>, v1: boolean): unknown {
    const pubkey = this.publicKeyParam(params);
    const { signature } = params;
    if (typeof signature !== 'string') {
      throw new RpcFault(RpcErrorCode.InvalidParams, 'Invalid params: signature must be a hex string');
    }
    const taken = this.nonces.take(pubkey);
    if (!taken.ok) return this.refuse(pubkey, taken.reason);
    if (!verifySignature(taken.nonce, signature, pubkey)) return this.refuse(pubkey, 'bad_signature');
    const first = this.authenticatedKey === null;
    this.authenticatedKey = pubkey;
    if (first) this.host.authenticated();
    this.options.logger.info('authenticated', { conn: this.host.id, pubkey: shortKey(pubkey) });
    return v1 ? { authenticated: true } : true;
  }

  private refuse(pubkey: string, reason: RefusalReason): never {
    this.refusals++;
    const attemptsLeft = Math.max(0, MAX_REFUSED_AUTHENTICATIONS - this.refusals);
    this.options.logger.warn('authentication refused', {
      conn: this.host.id,
      pubkey: shortKey(pubkey),
      reason,
      refusals: this.refusals,
    });
    throw new RpcFault(RpcErrorCode.InvalidCredentials, 'Invalid Credentials', { reason, attemptsLeft });
  }

  private async play(params: Record<string, unknown>, v1: boolean): Promise<unknown> {
    if (this.options.auth && this.authenticatedKey === null) {
      throw new RpcFault(RpcErrorCode.AuthenticationRequired, 'Authentication Required: call fetch_nonce and authenticate first');
    }
    const { script } = params;
    if (typeof script !== 'string') {
      throw new RpcFault(RpcErrorCode.InvalidParams, 'Invalid params: script must be a string');
    }
    const session: PlaySession = {
      circle: this.host.circle,
      pubkey: this.authenticatedKey,
      authenticated: this.authenticatedKey !== null,
    };
    let output: unknown;
    try {
      output = await this.options.play(script, session);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.options.logger.info('play failed', { conn: this.host.id, error: shortText(message) });
      const data = err instanceof ScriptError ? { kind: err.kind, line: err.line, column: err.column } : undefined;
      throw new RpcFault(RpcErrorCode.ExecutionError, message || 'Execution Error', data);
    }
    if (typeof output !== 'string') {
      // A broken handler is the server's fault, not the script's.
      throw new Error(`the play handler resolved with ${typeof output}, not a string`);
    }
    return v1 ? output : { output };
  }

  private publicKeyParam(params: Record<string, unknown>): string {
    const { pubkey } = params;
    if (typeof pubkey !== 'string') {
      throw new RpcFault(RpcErrorCode.InvalidParams, 'Invalid params: pubkey must be a hex string');
    }
    try {
      return normalizePublicKey(pubkey);
    } catch (err) {
      throw new RpcFault(RpcErrorCode.InvalidParams, `Invalid params: ${(err as Error).message}`);
    }
  }
}
