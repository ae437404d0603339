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

const REFERENCE_SERVER = fileURLToPath(new URL('../reference-server.mjs', import.meta.url));

/**
 * Forks the package's reference server (bench/reference-server.mjs) serving `circles` (compressed
 * public keys) and resolves once it listens.
 * @param {{ circles: string[], maxConnections: number }} options
 * @returns {Promise<{ port: number, connections: () => Promise<number>, drained: (timeoutMs?: number) => Promise<void>, stop: () => Promise<void> }>}
 */
export function startReferenceServer({ circles, maxConnections }) {
  const child = fork(REFERENCE_SERVER, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const connections = () =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message?.type !== 'connections') return;
        child.off('message', onMessage);
        resolve(message.count);
      };
      child.on('message', onMessage);
      child.send({ type: 'connections' }, (error) => error && reject(error));
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the reference server did not start within 20 s'));
    }, 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the reference server exited before listening (code ${code}, signal ${signal})`));
    });
    child.on('message', (message) => {
      if (message?.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`the reference server failed: ${message.message}`));
      }
      if (message?.type !== 'listening') return;
      clearTimeout(timer);
      resolve({
        port: message.port,
        connections,
        /** Resolves once the server holds no connection (the previous round's sockets are gone). */
        drained: async (timeoutMs = 30_000) => {
          const deadline = performance.now() + timeoutMs;
          while ((await connections()) > 0) {
            if (performance.now() > deadline) throw new Error(`the reference server still held connections after ${timeoutMs} ms`);
            await new Promise((done) => setTimeout(done, 20));
          }
        },
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.send({ type: 'start', circles, maxConnections });
  });
}
