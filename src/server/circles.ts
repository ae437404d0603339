/**
 * Which circle a connection's request path names (protocol section 1: `/CIRCLE_PK`), decided
 * before the WebSocket upgrade so an unknown circle is refused with HTTP 404.
 */
import { normalizePublicKey } from '../auth/crypto.js';

// Exactly one path segment of compressed (66) or uncompressed (130) hex; no `0x`, no trailing
// slash, so each circle has one obvious URL and typos do not silently resolve.
const CIRCLE_PATH = /^\/([0-9a-fA-F]{66}|[0-9a-fA-F]{130})$/;

/**
 * Returns the circle key named by `requestUrl` (lowercase, as written in the path) when the
 * server serves it, or null. `served` holds uncompressed lowercase keys, or is null to serve
 * every well-formed key (a valid curve point).
 * @example
 * circleFromPath('/02ab…(66 hex)', null);       // '02ab…' (any valid key is served)
 * circleFromPath('/02ab…(66 hex)/extra', null); // null → the upgrade is refused with 404
 */
export function circleFromPath(requestUrl: string | undefined, served: ReadonlySet<string> | null): string | null {
  // The query string is not part of the circle's name; clients may add one for their own use.
  const path = (requestUrl ?? '').split('?', 1)[0] ?? '';
  const match = CIRCLE_PATH.exec(path);
  if (!match?.[1]) return null;
  let normalized: string;
  try {
    normalized = normalizePublicKey(match[1]);
  } catch {
    return null;
  }
  if (served && !served.has(normalized)) return null;
  return match[1].toLowerCase();
}

/**
 * Checks a circle key for `CircleServer.urlFor`: the same rule the path must follow.
 * @example isCircleKey('02' + 'ab'.repeat(32)); // true only if that is a point on the curve
 */
export function isCircleKey(key: unknown): key is string {
  return typeof key === 'string' && circleFromPath(`/${key}`, null) !== null;
}
