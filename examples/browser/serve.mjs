#!/usr/bin/env node
/**
 * The browser demo: a page that runs circle-ws-client against a local reference server and shows
 * its statechart live.
 *
 *   npm run demo:browser
 *   node examples/browser/serve.mjs [--port 5180] [--ws-port 0] [--host 127.0.0.1]
 *
 * Builds dist/ and the browser bundle when they are missing or stale, starts the reference
 * server (one circle, authentication on) and a static server for the page, and prints the URL.
 * `POST /api/restart-server[?downMs=N]` closes the reference server and starts it again on the
 * same port after N ms (default 0), so the page can show the client backing off and coming back.
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE, ensureBrowserBundle } from './build.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '5180' },
    'ws-port': { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log('usage: node examples/browser/serve.mjs [--port 5180] [--ws-port 0] [--host 127.0.0.1]');
  process.exit(0);
}
const port = portArg('--port', args.port);
const host = args.host;

function portArg(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number from 0 to 65535, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return value;
}

await ensureBrowserBundle();
// Imported after the build: the package imports itself by name, as an application would.
const { createCircleServer } = await import('circle-ws-client/server');
const { generateKeypair } = await import('circle-ws-client');

const circle = generateKeypair();
const circleOptions = { host, circles: [circle.publicKeyCompressed] };
let circleServer = await createCircleServer({ ...circleOptions, port: portArg('--ws-port', args['ws-port']) });
const wsPort = circleServer.port; // fixed from now on: a restart comes back on the same port
let restarts = 0;
let restarting = Promise.resolve();

/** Closes the reference server, waits `downMs`, and starts it again on the same port. */
function restartCircleServer(downMs) {
  const run = restarting.then(async () => {
    await circleServer.close();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    for (let attempt = 0; ; attempt += 1) {
      try {
        circleServer = await createCircleServer({ ...circleOptions, port: wsPort });
        break;
      } catch (error) {
        if (error?.code !== 'EADDRINUSE' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    restarts += 1;
  });
  restarting = run.catch(() => {});
  return run;
}

const files = {
  '/': { path: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { path: join(HERE, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/diagram.js': { path: join(HERE, 'diagram.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { path: join(HERE, 'style.css'), type: 'text/css; charset=utf-8' },
  '/circle-ws-client.js': { path: BUNDLE, type: 'text/javascript; charset=utf-8' },
};

function sendJson(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

const http = createServer(async (request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  try {
    if (url.pathname === '/api/config' && request.method === 'GET') {
      sendJson(response, 200, { url: circleServer.urlFor(circle.publicKeyCompressed), circle: circle.publicKeyCompressed, restarts });
      return;
    }
    if (url.pathname === '/api/restart-server' && request.method === 'POST') {
      const downMs = Math.min(10_000, Math.max(0, Number(url.searchParams.get('downMs') ?? 0) || 0));
      await restartCircleServer(downMs);
      sendJson(response, 200, { ok: true, restarts, port: wsPort, downMs });
      return;
    }
    const file = files[url.pathname];
    if (file === undefined || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = await readFile(file.path);
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(body);
  } catch (error) {
    sendJson(response, 500, { ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});

await new Promise((resolve, reject) => {
  http.once('error', reject);
  http.listen(port, host, resolve);
}).catch((error) => {
  console.error(`cannot listen on ${host}:${port}: ${error.message}${error.code === 'EADDRINUSE' ? ' (try --port 0)' : ''}`);
  void circleServer.close().finally(() => process.exit(1));
  return new Promise(() => {});
});

const pageUrl = `http://${host.includes(':') ? `[${host}]` : host}:${http.address().port}/`;
console.log('circle-ws-client browser demo');
console.log(`page:             ${pageUrl}`);
console.log(`reference server: ${circleServer.urlFor(circle.publicKeyCompressed)}`);
console.log('Ctrl-C to stop.');

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  http.closeAllConnections();
  await Promise.allSettled([new Promise((resolve) => http.close(resolve)), restarting.then(() => circleServer.close())]);
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
