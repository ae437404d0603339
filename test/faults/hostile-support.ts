/**
 * For the hostile-peer tests: the reference server and the attacker each in a child process of
 * their own (so neither slows the measuring client's event loop), and a real client that calls
 * `play` every 50 ms and records how long each call took.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CircleWsClient, generateKeypair } from '../../src/index.js';
import type { CircleServerOptions } from '../../src/server/index.js';

const SERVER = fileURLToPath(new URL('./hostile-server.mjs', import.meta.url));
const ATTACKER = fileURLToPath(new URL('./hostile-attacker.mjs', import.meta.url));

const children = new Set<ChildProcess>();

/** Kills every child still running; for `afterEach`. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}

interface Child {
  /** The next stdout line starting with `prefix` (the prefix removed). */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  send(line: string): void;
  child: ChildProcess;
}

function start(script: string, args: string[]): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('close', () => children.delete(child));
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  return {
    child,
    send: (l) => child.stdin?.write(`${l}\n`),
    line(prefix, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no '${prefix}' line from ${script} in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        const look = (): void => {
          const at = lines.findIndex((l) => l.startsWith(prefix));
          if (at >= 0) {
            clearTimeout(timer);
            resolve(lines.splice(0, at + 1)[at]!.slice(prefix.length).trim());
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`${script} exited (${child.exitCode}) before '${prefix}'; stderr: ${stderr}`));
          } else waiters.push(look);
        };
        look();
      });
    },
  };
}

export interface ServerStats {
  rss: number;
  peakRss: number;
  /** Longest event-loop stall since the previous stats. */
  maxLagMs: number;
  /** CPU time the server used since the previous stats, as a share of one core. */
  cpuShare: number;
  connections: number;
}

export interface HostileServer {
  /** ws://host:port/<circle> */
  url: string;
  stats(): Promise<ServerStats>;
}

/** Starts the reference server (built package) in its own process. */
export async function startServer(options: CircleServerOptions = {}): Promise<HostileServer> {
  const circle = generateKeypair().publicKeyCompressed;
  const server = start(SERVER, [JSON.stringify(options)]);
  const base = await server.line('listening on');
  return {
    url: `${base}/${circle}`,
    async stats() {
      server.send('stats');
      return JSON.parse(await server.line('stats')) as ServerStats;
    },
  };
}

export interface AttackReport {
  attack: string;
  connections: number;
  frames: number;
  closes: Record<string, number>;
  refusals: Record<string, number>;
  retryAfter?: string;
  errors: number;
  open: number;
}

/** Starts an attack in its own process; resolves once it runs. `stop()` ends it and returns its counts. */
export async function startAttack(attack: string, url: string, params: Record<string, unknown> = {}): Promise<{ stop(): Promise<AttackReport> }> {
  const attacker = start(ATTACKER, [attack, url, JSON.stringify(params)]);
  await attacker.line('ready', 60_000);
  return {
    async stop() {
      attacker.send('stop');
      return JSON.parse(await attacker.line('report')) as AttackReport;
    },
  };
}

export interface PlayFigures {
  calls: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A real, authenticated client: connects now; `measure(ms)` calls `play` every 50 ms for that long. */
export async function realClient(url: string): Promise<{ measure(ms: number): Promise<PlayFigures>; disconnect(): Promise<void> }> {
  const client = CircleWsClient.builder(url).withKeypair(generateKeypair().privateKey).withRequestTimeout(10_000).build();
  await client.connect();
  return {
    async measure(ms) {
      const latencies: number[] = [];
      let failed = 0;
      const calls: Promise<void>[] = [];
      const end = performance.now() + ms;
      while (performance.now() < end) {
        const started = performance.now();
        calls.push(
          client.play('6 * 7').then(
            (output) => {
              if (output === '42') latencies.push(performance.now() - started);
              else failed++;
            },
            () => {
              failed++;
            },
          ),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all(calls);
      const sorted = latencies.sort((a, b) => a - b);
      const round = (n: number) => Math.round(n * 10) / 10;
      return { calls: calls.length, failed, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? Number.NaN) };
    },
    disconnect: () => client.disconnect(),
  };
}

export const MB = 1024 * 1024;
