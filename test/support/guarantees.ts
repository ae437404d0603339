/**
 * The connection chart's guarantees, written out by hand from the README and
 * /work/shared/protocol.md, NOT derived from `machines/connection.ts`. The model-based tests check
 * every step against this table as well as against the chart's own prediction, so a bug written
 * into the chart shows up as a disagreement here.
 *
 * This is today's chart. When the chart changes on purpose, change this table in the same commit:
 * - a new failure: add a row to `failures` (terminal or transient, and the code it records);
 * - a new state or timer: add it to `framesAllowed` and `timers`.
 * (The model does not produce an internal error, -32603, answering the handshake, which is
 * transient, nor a 3xx redirect, which is terminal: test/client/retry-policy.test.ts has those.)
 */
import type { ModelEvent } from './model.js';

/** Where the client is, as the table names it: a flat status, or `ready.<keep-alive sub-state>`. */
export type Place =
  | 'disconnected'
  | 'connecting'
  | 'fetchingNonce'
  | 'signing'
  | 'authenticating'
  | 'ready.idle'
  | 'ready.probing'
  | 'ready.overdue'
  | 'ready.unmonitored'
  | 'backoff'
  | 'failed';

/**
 * Which requests may leave the client on a step that ends in each place (`'*'`: any, the session
 * is ready). Pings are counted apart (`pingAllowed`). Before authentication only the handshake
 * goes out, each step its own request.
 */
export const framesAllowed: Record<Place, readonly string[]> = {
  disconnected: [],
  connecting: [],
  fetchingNonce: ['fetch_nonce'],
  signing: [],
  authenticating: ['authenticate'],
  'ready.idle': ['*'],
  'ready.probing': ['*'],
  'ready.overdue': ['*'],
  'ready.unmonitored': ['*'],
  backoff: [],
  failed: [],
};

/** Where a ping frame (the keep-alive probe) may be sent: only on entering `probing`. */
export const pingAllowed: readonly Place[] = ['ready.probing'];

/** The model tests' settings (test/support/model.ts), repeated here as plain numbers. */
const ms = { connect: 700, auth: 800, sign: 900, keepAliveInterval: 20_000, keepAliveTimeout: 300, stable: 5_000 };

/** A timer the client may have scheduled in a place: its delay in ms, or a range for the keep-alive interval (it runs from the last inbound frame). */
export interface TimerRule {
  name: string;
  matches: (delayMs: number) => boolean;
  /** Must be pending whenever the client is in the place. */
  required: boolean;
}
const exactly = (name: string, delay: number, required = true): TimerRule => ({ name, matches: (d) => d === delay, required });
// Scheduled when the session became ready, gone once it fired (the counter reset).
const stable = exactly('stable session 5 s', ms.stable, false);

/**
 * The timers pending in each place (application call deadlines excluded). Backoff's delay
 * depends on the attempt: see `backoffDelays`.
 */
export const timers: Record<Exclude<Place, 'backoff'>, readonly TimerRule[]> = {
  disconnected: [],
  failed: [],
  connecting: [exactly('connect timeout', ms.connect)],
  fetchingNonce: [exactly('handshake step timeout', ms.auth)],
  // Signing has its own deadline (withTimeouts({ signMs })): a wallet prompt waits for a person.
  signing: [exactly('signing timeout', ms.sign)],
  authenticating: [exactly('handshake step timeout', ms.auth)],
  'ready.idle': [{ name: 'keep-alive interval', matches: (d) => d > 0 && d <= ms.keepAliveInterval, required: true }, stable],
  'ready.probing': [exactly('probe deadline', ms.keepAliveTimeout), stable],
  'ready.overdue': [exactly('grace turn', 0), stable],
  'ready.unmonitored': [stable],
};

/**
 * The backoff delay before reconnection attempt n (index n - 1) with the model's policy
 * (100 ms, doubling, random source 0 so no jitter is drawn); attempts past the list give up.
 */
export const backoffDelays: readonly number[] = [100, 200];

export interface FailureRule {
  /** True: the client stops in `failed`; false: it backs off and tries again (or stops in `disconnected` with reconnection off). */
  terminal: boolean;
  /** The failure code recorded in the machine's context. */
  code: string;
  /** Terminal only the second time on the same socket (one fresh nonce is allowed). */
  secondTime?: boolean;
}

/** What each failure the model can produce must lead to. */
export const failures: Record<string, FailureRule> = {
  'close 1006': { terminal: false, code: 'CONNECTION_LOST' },
  'close 1008': { terminal: true, code: 'AUTH_LOCKED' },
  'upgrade refused 404': { terminal: true, code: 'CONNECTION_FAILED' },
  'fetch_nonce refused': { terminal: true, code: 'NONCE_REFUSED' },
  'fetch_nonce garbage': { terminal: false, code: 'PROTOCOL_ERROR' },
  // docs/security.md: text that does not look like a nonce is never signed, and never asked for again.
  'fetch_nonce not a nonce': { terminal: true, code: 'NONCE_REJECTED' },
  'signer refused': { terminal: true, code: 'SIGNING_FAILED' },
  // README: the user declined in the wallet; asking again by itself would be a loop of prompts.
  'signer declined': { terminal: true, code: 'SIGNING_DECLINED' },
  'authenticate refused': { terminal: true, code: 'AUTH_REFUSED' },
  'authenticate garbage': { terminal: false, code: 'PROTOCOL_ERROR' },
  'nonce expired': { terminal: true, code: 'NONCE_EXPIRED', secondTime: true },
  'connect timeout': { terminal: false, code: 'TIMEOUT' },
  'handshake step timeout': { terminal: false, code: 'TIMEOUT' },
  'signing timeout': { terminal: false, code: 'TIMEOUT' },
  'keep-alive probe unanswered': { terminal: false, code: 'LINK_DEAD' },
};

/** The row of `failures` a model event stands for, or undefined when the event is no failure. */
export function failureOf(event: ModelEvent, place: Place): string | undefined {
  const code = (event.error as { code?: string } | undefined)?.code;
  switch (event.type) {
    case 'socket.closed':
      if (event.status !== undefined) return `upgrade refused ${String(event.status)}`;
      return `close ${String(event.code)}`;
    case 'xstate.error.actor.fetchNonce':
      return code === 'NONCE_REFUSED' ? 'fetch_nonce refused' : code === 'NONCE_REJECTED' ? 'fetch_nonce not a nonce' : 'fetch_nonce garbage';
    case 'xstate.error.actor.signNonce':
      return code === 'SIGNING_DECLINED' ? 'signer declined' : 'signer refused';
    case 'xstate.error.actor.authenticate':
      return code === 'AUTH_REFUSED' ? 'authenticate refused' : code === 'NONCE_EXPIRED' ? 'nonce expired' : 'authenticate garbage';
  }
  if (event.type.startsWith('xstate.after.connectTimeout')) return 'connect timeout';
  if (event.type.startsWith('xstate.after.authTimeout')) return 'handshake step timeout';
  if (event.type.startsWith('xstate.after.signTimeout')) return 'signing timeout';
  if (event.type.startsWith('xstate.after.graceTurn') && place === 'ready.overdue') return 'keep-alive probe unanswered';
  return undefined;
}

/** The table's name for where a snapshot value is. */
export function placeOf(value: unknown): Place {
  if (typeof value === 'string') return value as Place;
  const session = (value as { session?: unknown }).session;
  if (typeof session === 'string') return session as Place;
  const [ready, sub] = Object.entries(session as Record<string, unknown>)[0] ?? [];
  if (ready !== 'authenticated' && ready !== 'connected') throw new Error(`unknown place ${JSON.stringify(value)}`);
  return `ready.${String(sub)}` as Place;
}
