/** Reconnection policy: plain data, so it can live in the machine's context and the inspector. */
export interface ReconnectPolicy {
  /** The first delay's ceiling, in ms. */
  initialDelayMs: number;
  /** No delay is longer than this, in ms. */
  maxDelayMs: number;
  /** Each failed attempt multiplies the ceiling by this. */
  multiplier: number;
  /** 0 = no jitter, 1 = full jitter (uniform between 0 and the ceiling); in between shortens by up to that fraction. */
  jitter: number;
  /** Reconnection attempts in a row before giving up; `Infinity` never gives up. */
  maxAttempts: number;
}

export const defaultReconnectPolicy: ReconnectPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 1,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/**
 * The ceiling of the delay before reconnection attempt `attempt` (1 for the first retry):
 * `min(maxDelayMs, initialDelayMs * multiplier^(attempt-1))`.
 */
export function backoffCeiling(attempt: number, policy: ReconnectPolicy): number {
  const exponent = Math.max(0, attempt - 1);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** exponent);
}

/**
 * The delay before reconnection attempt `attempt`, with jitter drawn from `random` (0 ≤ r < 1):
 * `ceiling * (1 - jitter * r)`. Full jitter spreads a crowd of clients that lost the same server,
 * so they do not all come back in the same millisecond. A server's `Retry-After` (`retryAfterMs`)
 * is a floor, itself capped by `maxDelayMs` so a hostile or mistaken header cannot park the client:
 * the delay is `max(drawn, min(retryAfterMs, maxDelayMs))`.
 * @example backoffDelay(3, defaultReconnectPolicy, () => 0.5) // 1000: ceiling 2000, halved
 * @example backoffDelay(1, defaultReconnectPolicy, () => 0.5, 5_000) // 5000: Retry-After: 5
 */
export function backoffDelay(attempt: number, policy: ReconnectPolicy, random: () => number, retryAfterMs?: number): number {
  const ceiling = backoffCeiling(attempt, policy);
  const drawn = Math.round(ceiling * (1 - policy.jitter * random()));
  if (retryAfterMs === undefined || !(retryAfterMs >= 0)) return drawn;
  return Math.max(drawn, Math.min(policy.maxDelayMs, Math.round(retryAfterMs)));
}
