// A hostile client in a child process of its own (so its work does not slow the measuring
// client): `node hostile-attacker.mjs ATTACK CIRCLE_URL [JSON params]`. It prints `ready` once
// the attack runs, and on a `stop` line on stdin prints one `report {json}` line and exits.
// Attacks: never-read, garbage, near-limit, nonce-flood, idle-flood, fragments.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { generateKeypair, signNonce } from '../../dist/src/auth/crypto.js';

const [attack, url, rawParams] = process.argv.slice(2);
const params = JSON.parse(rawParams ?? '{}');
const report = { attack, connections: 0, frames: 0, closes: {}, refusals: {}, errors: 0 };
let stopping = false;
const sockets = new Set();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Opens one connection; resolves with it, or null when the upgrade is refused or fails. */
function open() {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('error', () => {
      report.errors++;
      resolve(null);
    });
    ws.on('unexpected-response', (_req, res) => {
      report.refusals[res.statusCode] = (report.refusals[res.statusCode] ?? 0) + 1;
      if (res.statusCode === 503) report.retryAfter = res.headers['retry-after'];
      res.resume();
      ws.terminate();
      resolve(null);
    });
    ws.on('open', () => {
      report.connections++;
      sockets.add(ws);
      resolve(ws);
    });
    ws.on('close', (code) => {
      sockets.delete(ws);
      report.closes[code] = (report.closes[code] ?? 0) + 1;
    });
  });
}

/** The handshake, by hand: resolves once the connection is authenticated. */
async function authenticate(ws) {
  const keys = generateKeypair();
  const ask = (id, method, p) =>
    new Promise((resolve) => {
      const onMessage = (data) => {
        const reply = JSON.parse(String(data));
        if (reply.id !== id) return;
        ws.off('message', onMessage);
        resolve(reply.result);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params: p }));
    });
  const nonce = await ask('n', 'fetch_nonce', { pubkey: keys.publicKey });
  return ask('a', 'authenticate', { pubkey: keys.publicKey, signature: signNonce(keys.privateKey, nonce) });
}

/** Sends frames from `next()` as fast as the socket takes them (1 MiB of client-side buffer at most), until it closes. */
async function flood(ws, next) {
  while (!stopping && ws.readyState === WebSocket.OPEN) {
    for (let i = 0; i < 64 && ws.bufferedAmount < 1024 * 1024; i++) {
      ws.send(next());
      report.frames++;
    }
    await (ws.bufferedAmount >= 1024 * 1024 ? sleep(5) : new Promise((r) => setImmediate(r)));
  }
}

/** Runs `body` on `count` connections, opening a new one whenever one is closed or refused. */
async function keepAttacking(count, body, retryMs = 20) {
  const worker = async () => {
    while (!stopping) {
      const ws = await open();
      if (ws === null) {
        await sleep(retryMs);
        continue;
      }
      await body(ws);
      if (ws.readyState === WebSocket.OPEN) await new Promise((r) => ws.once('close', r));
    }
  };
  for (let i = 0; i < count; i++) void worker();
}

const GARBAGE = ['{nope', '[]', '42', '"x"', '{"jsonrpc":"1.0"}', '{"jsonrpc":"2.0","id":{},"method":"x","params":{}}', '\u0000\u0001', 'null'];
const whoami = JSON.stringify({ jsonrpc: '2.0', id: 'w', method: 'whoami', params: {} });
const nested = (bytes) => '['.repeat(bytes / 2) + ']'.repeat(bytes / 2);

switch (attack) {
  case 'never-read':
    // Authenticated connections that ask and never read the replies.
    await keepAttacking(params.connections ?? 4, async (ws) => {
      if ((await authenticate(ws)) !== true) return;
      ws._socket.pause();
      await flood(ws, () => whoami);
    });
    break;
  case 'garbage':
    await keepAttacking(params.connections ?? 200, async (ws) => {
      let i = 0;
      await flood(ws, () => GARBAGE[i++ % GARBAGE.length]);
    });
    break;
  case 'near-limit': {
    // Before authentication: nested JSON just under the 4 KiB limit; after: just under 1 MiB.
    const small = nested(4000);
    const large = nested(1024 * 1024 - 16);
    await keepAttacking(params.connections ?? 20, async (ws) => flood(ws, () => small));
    await keepAttacking(params.authenticated ?? 4, async (ws) => {
      if ((await authenticate(ws)) !== true) return;
      await flood(ws, () => large);
    });
    break;
  }
  case 'nonce-flood':
    await keepAttacking(params.connections ?? 10, async (ws) => {
      const { publicKey } = generateKeypair();
      const frame = JSON.stringify({ jsonrpc: '2.0', id: 'n', method: 'fetch_nonce', params: { pubkey: publicKey } });
      await flood(ws, () => frame);
    });
    break;
  case 'idle-flood':
    // Connections that do nothing (ws answers the server's pings), as many as the server lets in.
    await keepAttacking(params.connections ?? 1200, async () => {}, 100);
    break;
  case 'fragments':
    // An unfinished fragmented message, just under the limit before authentication, held open.
    await keepAttacking(params.connections ?? 200, async (ws) => {
      ws.send('x'.repeat(params.bytes ?? 4000), { fin: false });
      report.frames++;
    });
    break;
  default:
    console.error(`unknown attack ${attack}`);
    process.exit(2);
}

// Let the first wave connect before saying the attack runs.
await sleep(params.rampMs ?? 300);
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stop') return;
  stopping = true;
  report.open = sockets.size;
  process.stdout.write(`report ${JSON.stringify(report)}\n`);
  for (const ws of sockets) ws.terminate();
  setTimeout(() => process.exit(0), 50);
});
