/**
 * The pending table: calls sent and not yet answered, by id. Responses may come in any order;
 * each settles its own call exactly once, and a dropped connection settles all of them.
 */

/** One call, from `client.call()` to its settlement. */
export interface Call {
  id: string;
  method: string;
  /** The encoded request, built once. */
  frame: string;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  /** The call's deadline timer (none for handshake requests, which the machine bounds). */
  timer: unknown;
  /** Removes the AbortSignal listener. */
  detach: (() => void) | undefined;
  /** Safe to send again after a drop (the call said so, or the method only reads). */
  idempotent: boolean;
  /** A handshake or probe request of the client itself, never queued or re-sent. */
  internal: boolean;
}

interface TimerClock {
  clearTimeout(handle: unknown): void;
}

export class PendingCalls {
  readonly #calls = new Map<string, Call>();

  get size(): number {
    return this.#calls.size;
  }

  add(call: Call): void {
    this.#calls.set(call.id, call);
  }

  /** Removes the call without settling it; true when it was there. */
  delete(id: string): boolean {
    return this.#calls.delete(id);
  }

  /** Removes the call answered by `id` and releases its timer and abort listener; the caller settles it. */
  take(id: string, clock: TimerClock): Call | undefined {
    const call = this.#calls.get(id);
    if (call === undefined) return undefined;
    this.#calls.delete(id);
    if (call.timer !== undefined) clock.clearTimeout(call.timer);
    call.detach?.();
    return call;
  }

  /** Removes and returns every call (the connection is gone); the caller settles or re-queues each. */
  takeAll(): Call[] {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    return calls;
  }
}
