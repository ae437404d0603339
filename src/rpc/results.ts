/**
 * The two protocol versions shape results differently (protocol section 3). These turn either
 * shape into the one value the application gets, and reject anything else with a ProtocolError.
 */
import { ProtocolError } from '../errors.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `fetch_nonce`: a bare string (v0.2.0) or `{ nonce, expires_at }` (v1.0.0). */
export function nonceFrom(result: unknown): string {
  if (typeof result === 'string' && result.length > 0) return result;
  if (isRecord(result) && typeof result.nonce === 'string' && result.nonce.length > 0) return result.nonce;
  throw new ProtocolError('fetch_nonce returned neither a nonce string nor { nonce }');
}

/** `authenticate`: `true`/`false` (v0.2.0) or `{ authenticated }` (v1.0.0). */
export function authenticatedFrom(result: unknown): boolean {
  if (typeof result === 'boolean') return result;
  if (isRecord(result) && typeof result.authenticated === 'boolean') return result.authenticated;
  throw new ProtocolError('authenticate returned neither a boolean nor { authenticated }');
}

/** `play`: `{ output }` (v0.2.0) or a bare string (v1.0.0). */
export function playOutputFrom(result: unknown): string {
  if (typeof result === 'string') return result;
  if (isRecord(result) && typeof result.output === 'string') return result.output;
  throw new ProtocolError('play returned neither { output } nor a string');
}

/** What `whoami` reports; the reference server's shape, with unknown fields kept. */
export interface WhoAmI {
  authenticated: boolean;
  pubkey: string | null;
  circle?: string;
  [field: string]: unknown;
}

/** `whoami`: an object; `authenticated` and `pubkey` are read liberally. */
export function whoamiFrom(result: unknown): WhoAmI {
  if (!isRecord(result)) throw new ProtocolError('whoami returned something other than an object');
  const pubkey = typeof result.pubkey === 'string' ? result.pubkey : null;
  return { ...result, authenticated: result.authenticated === true, pubkey };
}
