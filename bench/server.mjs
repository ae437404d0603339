/**
 * The bench server: a minimal, fast `ws` JSON-RPC server run in a child process of the bench
 * (so its CPU is not counted as client CPU). It answers `fetch_nonce`, `authenticate`, `whoami`
 * and `echo`, and accepts both request shapes it will see:
 *   - Circle clients: JSON-RPC 2.0, string ids, named params (an object);
 *   - rpc-websockets: JSON-RPC 2.0, numeric ids, params an object, an array or absent.
 * The id is echoed back exactly as it came (string or number).
 *
 * Authentication: by default a signature is accepted when it is 130 hex characters and comes
 * with the public key that fetched the nonce on this connection (no ECDSA recovery), so the
 * connect figure measures the client, not 3–4 ms of server-side verification. With `--verify`
 * the server checks it with the package's `verifySignature` (from dist/).
 *
 * Usage (normally started by bench/lib/server-process.mjs with an IPC channel):
 *   node bench/server.mjs [--port N] [--verify]
 * It reports `{ type: 'listening', port }` over IPC (or prints `listening PORT` without IPC).
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    verify: { type: 'boolean', default: false },
  },
});

const verifySignature = values.verify ? (await import('circle-ws-client')).verifySignature : null;
const HEX130 = /^(0x)?[0-9a-fA-F]{130}$/;

const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: Number(values.port),
  // No compression for anyone: every contender exchanges the same plain text frames.
  perMessageDeflate: false,
  clientTracking: false,
  backlog: 4096,
});

function reply(socket, id, result) {
  socket.send(JSON.stringify({ jsonrpc: '2.0', id, result }));
}

function fail(socket, id, code, message) {
  socket.send(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
}

/** Named or positional: `{ pubkey }` or `[pubkey, …]`. */
function param(params, name, index) {
  if (Array.isArray(params)) return params[index];
  if (params !== null && typeof params === 'object') return params[name];
  return undefined;
}

wss.on('connection', (socket) => {
  const session = { nonce: null, noncePubkey: null, pubkey: null };
  socket.on('error', () => {});
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    let request;
    try {
      request = JSON.parse(data.toString());
    } catch {
      fail(socket, null, -32700, 'Parse error');
      return;
    }
    const id = request?.id ?? null;
    const params = request?.params;
    switch (request?.method) {
      case 'echo':
        reply(socket, id, params === undefined ? null : params);
        return;
      case 'whoami':
        reply(socket, id, { authenticated: session.pubkey !== null, pubkey: session.pubkey, circle: 'bench' });
        return;
      case 'fetch_nonce': {
        const pubkey = param(params, 'pubkey', 0);
        if (typeof pubkey !== 'string' || pubkey.length === 0) {
          fail(socket, id, -32602, 'Invalid params: pubkey');
          return;
        }
        session.nonce = `nonce_${Date.now()}_${randomBytes(12).toString('hex')}`;
        session.noncePubkey = pubkey;
        reply(socket, id, session.nonce);
        return;
      }
      case 'authenticate': {
        const pubkey = param(params, 'pubkey', 0);
        const signature = param(params, 'signature', 1);
        const nonce = session.nonce;
        session.nonce = null; // single use, as the protocol says
        let ok = nonce !== null && pubkey === session.noncePubkey && typeof signature === 'string' && HEX130.test(signature);
        if (ok && verifySignature) {
          try {
            ok = verifySignature(nonce, signature, pubkey);
          } catch {
            ok = false;
          }
        }
        if (ok) session.pubkey = pubkey;
        reply(socket, id, ok);
        return;
      }
      default:
        fail(socket, id, -32601, 'Method not found');
    }
  });
});

wss.on('listening', () => {
  const { port } = wss.address();
  if (process.send) process.send({ type: 'listening', port });
  else console.log(`listening ${port}`);
});

wss.on('error', (error) => {
  if (process.send) process.send({ type: 'error', message: error.message });
  else console.error(error);
  process.exit(1);
});

// The bench ends this process; it must not outlive its parent either.
process.on('disconnect', () => process.exit(0));
