/**
 * A clock that moves only when a test moves it, for the client's `withClock()`. Unlike
 * `setTimeout` under fake timers, it can also fire one chosen timer out of order, which is how a
 * model-based test plays "this timer fired" as an event.
 */
import type { Clock } from '../client/options.js';

/** One scheduled timer. */
export interface ScheduledTimer {
  readonly id: number;
  /** The delay it was scheduled with. */
  readonly ms: number;
  /** When it is due, on this clock. */
  readonly due: number;
}

interface Entry extends ScheduledTimer {
  fn: () => void;
}

/**
 * @example
 * const clock = new ManualClock();
 * const client = CircleWsClient.builder(url).withClock(clock).build();
 * clock.advance(30_000); // fires every timer due in the next 30 s, in order
 */
export class ManualClock implements Clock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Entry>();

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
    this.#timers.set(id, { id, ms: delay, due: this.#now + delay, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** The timers still scheduled, earliest first. */
  pending(): ScheduledTimer[] {
    return [...this.#timers.values()].sort((a, b) => a.due - b.due || a.id - b.id).map(({ id, ms, due }) => ({ id, ms, due }));
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order (timers they schedule included). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const next = this.pending()[0];
      if (!next || next.due > until) break;
      this.#now = Math.max(this.#now, next.due);
      this.#run(next.id);
    }
    this.#now = until;
  }

  /** Fires the earliest timer (moving time to its due time); false when none is scheduled. */
  runNext(): boolean {
    const next = this.pending()[0];
    if (!next) return false;
    this.#now = Math.max(this.#now, next.due);
    this.#run(next.id);
    return true;
  }

  /**
   * Fires the first timer matching `which` (by scheduling order), moving time to its due time,
   * even if others are due earlier: a test's way to choose which of several timers wins.
   */
  fire(which: (timer: ScheduledTimer) => boolean): ScheduledTimer {
    const match = [...this.#timers.values()].sort((a, b) => a.id - b.id).find(which);
    if (!match) throw new Error(`ManualClock: no scheduled timer matches (pending delays: ${this.pending().map((t) => t.ms).join(', ') || 'none'})`);
    this.#now = Math.max(this.#now, match.due);
    this.#run(match.id);
    return { id: match.id, ms: match.ms, due: match.due };
  }

  #run(id: number): void {
    const entry = this.#timers.get(id);
    if (!entry) return;
    this.#timers.delete(id);
    entry.fn();
  }
}
