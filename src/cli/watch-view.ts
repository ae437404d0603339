/**
 * What `circle-ws watch` prints, as pure functions of the manager's status, so the exact bytes
 * (escape sequences included) are tested without a terminal: the table a terminal redraws in
 * place, and the plain line written per change when stdout is a file or a pipe.
 */
import type { CircleState, ManagerStatus } from '../index.js';
import { escapeField } from './io.js';

/** Moves the cursor up `n` lines (CSI n A). */
const up = (n: number): string => `\x1b[${n}A`;
/** Clears from the cursor to the end of the screen (CSI J). */
const CLEAR_BELOW = '\x1b[J';

const HEADER = ['CIRCLE', 'STATE', 'ATTEMPT', 'NEXT RETRY', 'LAST FAILURE'] as const;

/**
 * A circle URL short enough for a column: the circle's public key (the path, 66 or 130 hex
 * characters) cut to its first 8 and last 4 digits, a query to 12 characters. Scheme, host and
 * port stay whole: they are what tells two servers apart.
 * @example shortUrl('ws://127.0.0.1:8080/02' + 'ab'.repeat(32)); // 'ws://127.0.0.1:8080/02abababab…abab'
 */
export function shortUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.length > 48 ? `${url.slice(0, 47)}…` : url;
  }
  const key = parsed.pathname.slice(1);
  const path = key.length > 16 ? `/${key.slice(0, 10)}…${key.slice(-4)}` : parsed.pathname;
  const query = parsed.search.length > 12 ? `${parsed.search.slice(0, 11)}…` : parsed.search;
  return `${parsed.protocol}//${parsed.host}${path}${query}`;
}

function retryCell(circle: CircleState): string {
  return circle.status === 'backoff' ? `${circle.retryDelayMs} ms` : '-';
}

/** Cuts a line to `width` characters; a line as wide as the terminal could wrap and break the count of lines to move up. */
function fit(line: string, width: number | undefined): string {
  if (width === undefined || width < 2 || line.length < width) return line;
  return `${line.slice(0, width - 2)}…`;
}

const isReady = (circle: CircleState): boolean => circle.status === 'authenticated' || circle.status === 'connected';

/**
 * The whole picture in the manager's words, from the circles' states: `ready` when every circle
 * is, `degraded` when one failed for good, else `converging`.
 * @example overallState({ [url]: { status: 'failed', attempt: 0, retryDelayMs: 0, lastFailure: null } }); // 'degraded'
 */
export function overallState(circles: Readonly<Record<string, CircleState>>): Exclude<ManagerStatus, 'idle' | 'stopping'> {
  const all = Object.values(circles);
  if (all.some((circle) => circle.status === 'failed')) return 'degraded';
  return all.length > 0 && all.every(isReady) ? 'ready' : 'converging';
}

/**
 * The table's lines, one row per circle in `urls` order, then a summary line. `columns` (the
 * terminal's width) cuts each line shorter than it, so no line wraps; `height` (its rows) drops
 * the circles that do not fit, since lines scrolled off the top could not be moved up to and
 * redrawn. Every circle still counts in the summary.
 * @example tableLines(circles, urls, process.stdout.columns, process.stdout.rows);
 */
export function tableLines(circles: Readonly<Record<string, CircleState>>, urls: readonly string[], columns?: number, height?: number): string[] {
  const table: string[][] = [[...HEADER]];
  let ready = 0;
  for (const url of urls) {
    const circle = circles[url];
    if (circle === undefined) continue;
    if (isReady(circle)) ready++;
    table.push([shortUrl(url), circle.status, String(circle.attempt), retryCell(circle), circle.lastFailure?.code ?? '-']);
  }
  const total = table.length - 1;
  // Header and summary always fit; the cursor rests on one more line below the table.
  // A terminal that reports no size (0 rows, as a pty nobody sized) is taken as tall enough.
  const room = height === undefined || height <= 0 ? total : Math.max(0, height - 3);
  const shown = table.slice(0, 1 + Math.min(total, room));
  const widths = HEADER.map((_, column) => Math.max(...shown.map((row) => row[column]!.length)));
  const lines = shown.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
  const hidden = total - (shown.length - 1);
  lines.push(
    `${overallState(circles)}: ${ready} of ${total} circle${total === 1 ? '' : 's'} ready${hidden > 0 ? ` (${hidden} not shown: the terminal is too short)` : ''}`,
  );
  return lines.map((line) => fit(line, columns));
}

/**
 * The bytes that replace the `previousLines` lines drawn last time by `lines`: move up over the
 * old table, clear from there down, draw the new one. Each drawing ends with a newline, so the
 * cursor rests at the start of the line below it, where the next redraw starts counting.
 * @example process.stdout.write(redraw(lines, drawn)); drawn = lines.length;
 */
export function redraw(lines: readonly string[], previousLines: number): string {
  const erase = previousLines > 0 ? `${up(previousLines)}\r${CLEAR_BELOW}` : '';
  return `${erase}${lines.join('\n')}\n`;
}

/**
 * One change as a plain line, tab-separated: time (ISO 8601, UTC), URL (whole, so a log can be
 * searched for it), state, attempt, next retry in ms (`-` unless in backoff), last failure as
 * `CODE: message` (`-` if none). Fields are escaped as `play`'s lines are, so one change is one line.
 * @example plainLine(new Date(0), url, { status: 'connecting', attempt: 0, retryDelayMs: 0, lastFailure: null });
 * // '1970-01-01T00:00:00.000Z\tws://…\tconnecting\t0\t-\t-\n'
 */
export function plainLine(time: Date, url: string, circle: CircleState): string {
  const retry = circle.status === 'backoff' ? String(circle.retryDelayMs) : '-';
  const failure = circle.lastFailure ? `${circle.lastFailure.code}: ${circle.lastFailure.message}` : '-';
  return `${[time.toISOString(), url, circle.status, String(circle.attempt), retry, failure].map(escapeField).join('\t')}\n`;
}
