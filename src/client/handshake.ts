/**
 * The three steps of the handshake (protocol section 4): fetch a nonce, sign it, authenticate.
 * The nonce and the signature are held on the socket they belong to, never in the machine, so no
 * inspector, snapshot or persisted state can show them, and a step that finds its socket gone
 * fails instead of using another socket's secrets. Each step turns the server's answer into the
 * failure code the machine judges by (a refusal is final; a server fault is retried).
 */
import type { Signer } from '../auth/crypto.js';
import { checkNonce, type CompiledNonceRule } from '../auth/nonce-rule.js';
import { AuthError, ConnectionLostError, RpcError, ServerError } from '../errors.js';
import { authenticatedFrom, nonceFrom } from '../rpc/results.js';

/** What a step needs of a socket: whether it is gone, and the secrets held on it. */
export interface SocketSecrets {
  readonly closed: boolean;
  /** The nonce of this socket's handshake, until it is signed. */
  nonce: string | null;
  /** The signature of this socket's handshake, until it is sent. */
  signature: string | null;
}

/** What the steps need from their client: the current socket, a way to ask it, the key, the rule. */
export interface HandshakeHost<Link extends SocketSecrets = SocketSecrets> {
  /** The socket of the current session attempt, or null when there is none. */
  readonly link: Link | null;
  readonly signer: Signer | null;
  readonly nonceRule: CompiledNonceRule;
  /** Sends a request on `link` at once (no ready gate, no timer: the machine bounds each step). */
  request(link: Link, method: string, params: Record<string, unknown>): Promise<unknown>;
}

/** `fetch_nonce`: resolves once a nonce that passes the rule is held for this socket. */
export async function fetchNonce<Link extends SocketSecrets>(host: HandshakeHost<Link>, publicKey: string): Promise<void> {
  const link = openLink(host, 'fetch_nonce');
  try {
    const nonce = nonceFrom(await host.request(link, 'fetch_nonce', { pubkey: publicKey }));
    // Checked as it arrives, so text that is not a nonce never reaches the signer (protocol section 4).
    checkNonce(nonce, host.nonceRule);
    if (link === host.link) {
      link.nonce = nonce;
      link.signature = null;
    }
  } catch (error) {
    if (isServerFault(error)) throw serverFault('fetch_nonce', error);
    if (error instanceof RpcError) {
      throw new AuthError('NONCE_REFUSED', `the server would not issue a nonce: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** Signs the nonce held for this socket with the injected signer; the nonce is let go as it is used. */
export async function signNonce<Link extends SocketSecrets>(host: HandshakeHost<Link>): Promise<void> {
  const signer = host.signer;
  if (signer === null) throw new AuthError('SIGNING_FAILED', 'no key pair was given');
  const link = openLink(host, 'sign');
  const nonce = link.nonce;
  if (nonce === null) throw new ConnectionLostError('no nonce is held for this socket');
  link.nonce = null;
  link.signature = await signer.sign(nonce);
}

/** `authenticate` with the signature held for this socket; resolves when the server accepts it. */
export async function authenticate<Link extends SocketSecrets>(host: HandshakeHost<Link>, publicKey: string): Promise<true> {
  const link = openLink(host, 'authenticate');
  const signature = link.signature;
  if (signature === null) throw new ConnectionLostError('no signature is held for this socket');
  link.signature = null;
  let accepted: boolean;
  try {
    accepted = authenticatedFrom(await host.request(link, 'authenticate', { pubkey: publicKey, signature }));
  } catch (error) {
    if (isServerFault(error)) throw serverFault('authenticate', error);
    if (error instanceof RpcError) {
      if (nonceExpired(error)) {
        throw new AuthError('NONCE_EXPIRED', `the nonce expired before the signature reached the server: ${error.message}`, { cause: error });
      }
      throw new AuthError('AUTH_REFUSED', `the server refused the credentials of ${short(publicKey)}: ${error.message}`, { cause: error });
    }
    throw error;
  }
  if (!accepted) throw new AuthError('AUTH_REFUSED', `the server refused the credentials of ${short(publicKey)}`);
  return true;
}

/** The current socket, still open; a step that finds none lost its socket. */
function openLink<Link extends SocketSecrets>(host: HandshakeHost<Link>, step: string): Link {
  const link = host.link;
  if (link === null || link.closed) throw new ConnectionLostError(`no open socket to ${step} on`);
  return link;
}

/**
 * Whether a refusal of `authenticate` blames an expired nonce rather than the key: the reference
 * server says so in `data.reason`, other servers may only say it in the message.
 */
function nonceExpired(error: RpcError): boolean {
  const reason = typeof error.data === 'object' && error.data !== null ? (error.data as { reason?: unknown }).reason : undefined;
  return reason === 'expired' || /\bexpired\b/i.test(error.message);
}

/**
 * An internal error (-32603) answering a handshake step is the server's hiccup, not a verdict on
 * the key. The number is written out: `RpcErrorCode.InternalError` would pull the whole code
 * table into every browser bundle (about 95 bytes gzipped).
 */
function isServerFault(error: unknown): error is RpcError {
  return error instanceof RpcError && error.rpcCode === -32603;
}

function serverFault(step: string, error: RpcError): ServerError {
  return new ServerError(`the server failed internally while answering ${step} (${error.message}); retrying with backoff`, { cause: error });
}

/** A short, log-safe form of a public key. */
function short(publicKey: string): string {
  return publicKey.length > 12 ? `${publicKey.slice(0, 10)}…` : publicKey;
}
