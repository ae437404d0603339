/**
 * The logger the client and the reference server write to. Fields are plain data; callers
 * never put keys, full nonces or signatures in them.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger that drops everything (the default: a library stays quiet unless asked). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A logger writing one line per record to standard error (`console.error`) at or above `level`,
 * so logs never mix with a program's output.
 * @example const client = CircleWsClient.builder(url).withLogger(consoleLogger('debug')).build();
 */
export function consoleLogger(level: LogLevel = 'info', prefix = 'circle-ws'): Logger {
  const make =
    (at: Exclude<LogLevel, 'silent'>, sink: (line: string) => void) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (order[at] < order[level]) return;
      sink(`${prefix} ${at} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
    };
  return {
    debug: make('debug', (l) => console.error(l)),
    info: make('info', (l) => console.error(l)),
    warn: make('warn', (l) => console.error(l)),
    error: make('error', (l) => console.error(l)),
  };
}
