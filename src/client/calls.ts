/**
 * One call's whole life, for every call of one client: made (with its deadline and abort
 * listener), queued while the session is not ready, sent and pending until its answer, and
 * settled exactly once, by its answer, its deadline, an abort, or the socket's end (re-queued when
 * safe to repeat, `OutcomeUnknownError` when not). Responses may come in any order; each settles
 * its own call.
 */
import {
  AbortError,
  ConnectionLostError,
  FrameTooLargeError,
  NotConnectedError,
  OutcomeUnknownError,
  QueueFullError,
  TimeoutError,
} from '../errors.js';
import { encodeRequest, utf8ByteLength } from '../rpc/codec.js';
import type { CloseInfo, Transport } from '../transport/types.js';
import type { Logger } from '../logger.js';
import type { Clock } from './options.js';

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

/** What the calls need from their client's options. */
export interface CallSettings {
  readonly clock: Clock;
  readonly logger: Logger;
  /** At most this many calls wait for the session to be ready. */
  readonly queueLimit: number;
}

/** A call's own options, already checked. */
export interface NewCall {
  method: string;
  frame: string;
  id: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  idempotent: boolean;
}

/** The state of the session a call was made in, for the message of a call that timed out unsent. */
export interface SessionState {
  readonly status: string;
}

export class Calls {
  /** Sent and not yet answered, by id. Created on first use: an idle client holds no table. */
  #sent: Map<string, Call> | undefined;
  /** Made while the session was not ready, in order; sent only once it is. */
  #waiting: Map<string, Call> | undefined;
  #nextId = 0;
  readonly #settings: CallSettings;
  readonly #session: SessionState;

  constructor(settings: CallSettings, session: SessionState) {
    this.#settings = settings;
    this.#session = session;
  }

  /** The id of the next request (handshake, probe or call): unique on this client. */
  nextId(): string {
    return String(++this.#nextId);
  }

  get waitingCount(): number {
    return this.#waiting?.size ?? 0;
  }

  /**
   * Makes an application call: arms its deadline and abort listener and returns it with the promise
   * it settles. The caller then sends it (`send`) or queues it (`enqueue`).
   */
  make(spec: NewCall): { call: Call; promise: Promise<unknown> } {
    const { clock } = this.#settings;
    const { id, method, timeoutMs, signal } = spec;
    let call!: Call;
    const promise = new Promise<unknown>((resolve, reject) => {
      call = { id, method, frame: spec.frame, resolve, reject, timer: undefined, detach: undefined, idempotent: spec.idempotent, internal: false };
    });
    call.timer = clock.setTimeout(() => {
      const wasSent = this.#sent?.delete(id) ?? false;
      this.#waiting?.delete(id);
      call.detach?.();
      call.reject(new TimeoutError(`${method} got no answer within ${timeoutMs} ms${wasSent ? '' : ` (never sent: the session was ${this.#session.status})`}`));
    }, timeoutMs);
    if (signal) {
      const onAbort = (): void => {
        this.#sent?.delete(id);
        this.#waiting?.delete(id);
        clock.clearTimeout(call.timer);
        call.reject(new AbortError(`${method} was aborted`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.detach = () => signal.removeEventListener('abort', onAbort);
    }
    return { call, promise };
  }

  /** Handshake and probe requests: sent at once on this socket, with no timer (the machine bounds each step and the probe). */
  request(transport: Transport, method: string, params: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = this.nextId();
      const frame = encodeRequest(id, method, params);
      this.send({ id, method, frame, resolve, reject, timer: undefined, detach: undefined, idempotent: false, internal: true }, transport);
    });
  }

  send(call: Call, transport: Transport): void {
    const sent = (this.#sent ??= new Map());
    sent.set(call.id, call);
    try {
      transport.send(call.frame);
    } catch (error) {
      this.#take(call.id);
      call.reject(new ConnectionLostError(`${call.method} could not be sent: ${error instanceof Error ? error.message : String(error)}`));
    }
  }

  /** Queues a call until the session is ready, within the queue limit. */
  enqueue(call: Call): void {
    const { queueLimit } = this.#settings;
    if (this.waitingCount >= queueLimit) {
      this.#settle(call, new QueueFullError(queueLimit));
      return;
    }
    (this.#waiting ??= new Map()).set(call.id, call);
  }

  /** The session is ready: the queued calls go out, in the order they were made. */
  flush(transport: Transport): void {
    const waiting = this.#waiting;
    if (!waiting || waiting.size === 0) return;
    const queued = [...waiting.values()];
    waiting.clear();
    for (const call of queued) this.send(call, transport);
  }

  /** Settles the call answered by `id` with its result; false when no call has that id. */
  answer(id: string, result: unknown): boolean {
    const call = this.#take(id);
    call?.resolve(result);
    return call !== undefined;
  }

  /** Rejects the call answered by `id` with the server's error; false when no call has that id. */
  refuse(id: string, error: Error): boolean {
    const call = this.#take(id);
    call?.reject(error);
    return call !== undefined;
  }

  /** Rejects every queued call (the session will not become ready). */
  rejectWaiting(error: Error): void {
    const waiting = this.#waiting;
    if (!waiting || waiting.size === 0) return;
    const queued = [...waiting.values()];
    waiting.clear();
    for (const call of queued) this.#settle(call, error);
  }

  /** Rejects every call, sent or queued (the machine stopped). */
  rejectAll(error: Error): void {
    this.rejectWaiting(error);
    for (const call of this.#takeAllSent()) this.#settle(call, error);
  }

  /**
   * The socket is gone with calls in flight. Never a silent re-send of a write: calls safe to
   * repeat go back to the queue (sent again once the session is ready), the rest reject with
   * `OutcomeUnknownError`; after `disconnect()` (`stopped`) everything rejects with
   * `NotConnectedError`. A close with 1009 (a frame too big for one side) re-sends nothing: the
   * call that caused it cannot be told for sure, and re-sending it would fail the next session the
   * same way. The largest call in flight, the likely cause of a server's 1009, rejects with
   * `FrameTooLargeError`.
   */
  lost(stopped: boolean, close?: CloseInfo): void {
    const calls = this.#takeAllSent();
    if (calls.length === 0) return;
    const tooBig = close?.code === 1009;
    let suspect: Call | undefined;
    if (tooBig && !close.inboundTooLarge) {
      for (const call of calls) if (!call.internal && (!suspect || call.frame.length > suspect.frame.length)) suspect = call;
    }
    for (const call of calls) {
      if (stopped) this.#settle(call, new NotConnectedError(`the client was disconnected while ${call.method} was in flight`));
      else if (call.internal) this.#settle(call, new ConnectionLostError(`the connection dropped during ${call.method}`));
      else if (call === suspect) {
        const bytes = utf8ByteLength(call.frame);
        const message = `the server closed the connection with 1009 (message too big) while ${call.method} (${bytes} bytes, the largest call in flight) was in flight; it was not re-sent`;
        this.#settle(call, new FrameTooLargeError('outbound', message, { bytes }));
      } else if (tooBig) {
        const why = close.inboundTooLarge
          ? 'a frame from the server was over the inbound limit (1009): an answer too big would fail the same way again'
          : 'calls in flight at a 1009 close (message too big) are never re-sent';
        this.#settle(call, new OutcomeUnknownError(call.method, why));
      } else if (call.idempotent) {
        this.#settings.logger.info('will re-send after reconnecting (idempotent)', { method: call.method, id: call.id });
        this.enqueue(call);
      } else this.#settle(call, new OutcomeUnknownError(call.method));
    }
  }

  /** Removes the call answered by `id` and releases its timer and abort listener; the caller settles it. */
  #take(id: string): Call | undefined {
    const call = this.#sent?.get(id);
    if (call === undefined) return undefined;
    this.#sent?.delete(id);
    if (call.timer !== undefined) this.#settings.clock.clearTimeout(call.timer);
    call.detach?.();
    return call;
  }

  #takeAllSent(): Call[] {
    const sent = this.#sent;
    if (!sent || sent.size === 0) return [];
    const calls = [...sent.values()];
    sent.clear();
    return calls;
  }

  /** Rejects a call that is in neither table any more, releasing its timer and abort listener. */
  #settle(call: Call, error: Error): void {
    this.#settings.clock.clearTimeout(call.timer);
    call.detach?.();
    call.reject(error);
  }
}
