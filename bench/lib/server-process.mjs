/**
 * Starts and stops the bench server (bench/server.mjs) in a child process.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));

/**
 * Forks the bench server and resolves once it listens.
 * @param {{ port?: number, verify?: boolean }} options
 * @returns {Promise<{ port: number, child: import('node:child_process').ChildProcess, listeningAt: number, kill: () => Promise<number>, stop: () => Promise<void> }>}
 */
export function startServer({ port = 0, verify = false } = {}) {
  const args = ['--port', String(port)];
  if (verify) args.push('--verify');
  // execArgv: [] so a profiled or gc-exposed bench does not pass its flags to the server.
  const child = fork(SERVER, args, { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the bench server did not start within 20 s'));
    }, 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the bench server exited before listening (code ${code}, signal ${signal})`));
    });
    child.on('message', (message) => {
      if (message?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`the bench server failed: ${message.message}`));
      }
      if (message?.type !== 'listening') return;
      clearTimeout(timer);
      const listeningAt = performance.now();
      resolve({
        port: message.port,
        child,
        listeningAt,
        /** SIGKILL (sockets are cut, clients see 1006); resolves with the time of the kill. */
        kill: async () => {
          const at = performance.now();
          child.kill('SIGKILL');
          await exited;
          return at;
        },
        /** A polite stop. */
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
