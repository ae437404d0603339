/**
 * `circle-ws watch URL…`: connects every circle through one `CircleWsManager` and shows each
 * circle's status as it changes. On a terminal the table is redrawn in place; otherwise each
 * change is one timestamped line, since a file or pipe is read later, when the order of the
 * lines alone no longer says how long a circle stayed in backoff.
 */
import type { CircleState, CircleWsManager, CircleWsStatus } from '../index.js';
import { parseCommand, parseMs, UsageError } from './args.js';
import { type CliIo, EXIT } from './io.js';
import { buildManager, privateKeyFrom } from './session.js';
import { DEFAULTS } from './usage.js';
import { overallState, plainLine, redraw, tableLines } from './watch-view.js';

/** How a watch ends: its exit status and what to say on stderr about it. */
interface End {
  code: number;
  message: string | null;
}

/** Shows changes: redrawn in place on a terminal, one line each elsewhere. */
type View = (url: string) => void;

function terminalView(circles: Readonly<Record<string, CircleState>>, urls: readonly string[], io: CliIo): View {
  let drawn = 0;
  const draw = (): void => {
    const lines = tableLines(circles, urls, io.stdout.columns, io.stdout.rows);
    io.stdout.write(redraw(lines, drawn));
    drawn = lines.length;
  };
  draw();
  return draw;
}

function lineView(circles: Readonly<Record<string, CircleState>>, io: CliIo): View {
  return (url) => {
    const circle = circles[url];
    if (circle) io.stdout.write(plainLine(new Date(), url, circle));
  };
}

/**
 * A circle's state as its client has it now. Not `manager.status`: a change that happens while
 * the manager's statechart is itself acting (the first "connecting", inside `connectAll()`)
 * reaches the listener before the statechart has recorded it, and would show the state before.
 */
function stateOf(manager: CircleWsManager, url: string, status: CircleWsStatus): CircleState {
  const { attempt, retryDelayMs, lastFailure } = manager.client(url).actor.getSnapshot().context;
  return { status, attempt, retryDelayMs, lastFailure: lastFailure ? { code: lastFailure.code, message: lastFailure.message } : null };
}

function parseUntil(text: string): 'ready' {
  if (text !== 'ready') throw new UsageError(`--until takes "ready" (exit once every circle is ready), got ${JSON.stringify(text.slice(0, 24))}`);
  return text;
}

/**
 * Runs `watch URL… [--until ready] [--for MS]`. Exit status 0 after SIGINT or SIGTERM (watching
 * until stopped is the normal end), after `--for MS` alone, or once every circle is ready with
 * `--until ready`; 1 with `--until ready` when a circle fails for good (it will not retry, so
 * "every circle ready" cannot come) or `--for MS` runs out first.
 * @example await runWatch(['ws://127.0.0.1:8080/02ab…', 'ws://127.0.0.1:8081/03cd…', '--until', 'ready'], io);
 */
export async function runWatch(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('watch', argv);
  const { values, urls } = parsed;
  const timeoutMs = values.timeout === undefined ? DEFAULTS.timeoutMs : parseMs('--timeout', values.timeout);
  const until = values.until === undefined ? null : parseUntil(values.until);
  const forMs = values.for === undefined ? null : parseMs('--for', values.for);
  const privateKey = privateKeyFrom(values, io);
  // Like `connect`: keep-alive on and retrying without end, since watching recovery is the point.
  const manager = buildManager(urls, { privateKey, timeoutMs, reconnect: {}, keepAlive: true });

  let finish: (end: End) => void = () => {};
  const ended = new Promise<End>((resolve) => {
    finish = resolve; // The first end wins; later calls do nothing.
  });
  const circles: Record<string, CircleState> = { ...manager.status.circles };
  const check = (): void => {
    if (until !== 'ready') return;
    const state = overallState(circles);
    if (state === 'ready') finish({ code: EXIT.ok, message: `every circle is ready (${urls.length})` });
    else if (state === 'degraded') {
      const failed = urls.filter((url) => circles[url]?.status === 'failed');
      finish({ code: EXIT.failure, message: `not every circle can be ready: failed for good (no more retries): ${failed.join(' ')}` });
    }
  };
  const view = io.stdout.isTTY === true ? terminalView(circles, urls, io) : lineView(circles, io);
  const offStatus = manager.on('status', (url, status) => {
    circles[url] = stateOf(manager, url, status);
    view(url);
    check();
  });
  const onSignal = (signal: NodeJS.Signals): void => finish({ code: EXIT.ok, message: `${signal}: disconnecting` });
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer =
    forMs === null
      ? undefined
      : setTimeout(
          () => finish(until === null ? { code: EXIT.ok, message: null } : { code: EXIT.failure, message: `not every circle was ready after ${forMs} ms` }),
          forMs,
        );
  try {
    // Its report is not needed: a circle that times out keeps trying, and every change reaches the view.
    manager.connectAll({ timeoutMs }).catch(() => {});
    const end = await ended;
    // Stopped before disconnecting: the table keeps the last state seen, not a column of "disconnected".
    offStatus();
    if (end.message !== null) io.stderr.write(`circle-ws watch: ${end.message}\n`);
    return end.code;
  } finally {
    offStatus();
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await manager.disconnectAll();
  }
}
