/**
 * Per-connection limits of the reference server: a token bucket for the request rate and a cheap
 * nesting-depth scan run before `JSON.parse`.
 */

/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. Each inbound frame takes
 * one; a frame that finds the bucket empty is over the rate.
 *
 * @example
 * const bucket = new TokenBucket(10, 20, () => performance.now());
 * if (!bucket.take()) closeTheConnection();
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private ratePerSecond: number,
    private burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Switches to new limits (after authentication); the tokens left are kept and the extra burst is added. */
  reconfigure(ratePerSecond: number, burst: number): void {
    this.refill();
    // The extra burst is granted at once: a client that just authenticated flushes its queue.
    this.tokens = Math.min(burst, this.tokens + Math.max(0, burst - this.burst));
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }
}

/**
 * Nesting allowed in a request. A valid request nests three levels (`{"params":{"script":…}}`);
 * the bound leaves room for extra members while keeping `JSON.parse` away from the deep inputs
 * that cost it seconds (1 MiB of `[` takes 0.2–1.5 s to parse on a 2-core machine).
 */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text nests arrays or objects deeper than `maxDepth`. Runs in one pass,
 * skips string contents, and stops at the first level over the bound; it does not validate the
 * JSON (`JSON.parse` does that afterwards).
 *
 * @example
 * jsonDepthExceeds('[[[1]]]', 2); // true
 * jsonDepthExceeds('{"a":"[[[["}', 2); // false
 */
export function jsonDepthExceeds(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
