#!/usr/bin/env node
/**
 * The browser demo: a page that runs circle-ws-client against a local reference server and shows
 * its statechart live.
 *
 *   npm run demo:browser
 *   node examples/browser/serve.mjs [--port 5180] [--ws-port 0] [--host 127.0.0.1]
 *
 * Builds dist/ and the browser bundle when they are missing or stale, starts three reference
 * servers (one circle each, authentication on) and a static server for the pages, and prints the
 * URL. The first page (`/`) runs one client against the first server; `/circles.html` runs a
 * `CircleWsManager` over all three, side by side.
 * `POST /api/restart-server[?downMs=N][&server=I]` closes reference server I (default 0) and starts
 * it again on the same port after N ms (default 0), so a page can show a client backing off and
 * coming back while the others carry on.
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

/** One reference server per circle, so that one of them can restart while the others keep serving. */
const servers = [];
for (let index = 0; index < 3; index += 1) {
  const circle = generateKeypair();
  const options = { host, circles: [circle.publicKeyCompressed] };
  const port = index === 0 ? portArg('--ws-port', args['ws-port']) : 0;
  const server = await createCircleServer({ ...options, port });
  // The port is fixed from now on: a restart comes back on the same one.
  servers.push({ circle, options, server, port: server.port, restarts: 0, restarting: Promise.resolve() });
}
const urlOf = (entry) => entry.server.urlFor(entry.circle.publicKeyCompressed);

/** Closes reference server `index`, waits `downMs`, and starts it again on the same port. */
function restartCircleServer(index, downMs) {
  const entry = servers[index];
  const run = entry.restarting.then(async () => {
    await entry.server.close();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    for (let attempt = 0; ; attempt += 1) {
      try {
        entry.server = await createCircleServer({ ...entry.options, port: entry.port });
        break;
      } catch (error) {
        if (error?.code !== 'EADDRINUSE' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    entry.restarts += 1;
  });
  entry.restarting = run.catch(() => {});
  return run;
}

const files = {
  '/': { path: join(HERE, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { path: join(HERE, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/circles.html': { path: join(HERE, 'circles.html'), type: 'text/html; charset=utf-8' },
  '/circles.js': { path: join(HERE, 'circles.js'), type: 'text/javascript; charset=utf-8' },
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
      const [first] = servers;
      sendJson(response, 200, {
        url: urlOf(first),
        circle: first.circle.publicKeyCompressed,
        restarts: first.restarts,
        circles: servers.map((entry) => urlOf(entry)),
      });
      return;
    }
    if (url.pathname === '/api/restart-server' && request.method === 'POST') {
      const downMs = Math.min(10_000, Math.max(0, Number(url.searchParams.get('downMs') ?? 0) || 0));
      const index = Number(url.searchParams.get('server') ?? 0);
      if (!Number.isInteger(index) || index < 0 || index >= servers.length) {
        sendJson(response, 400, { ok: false, error: `server must be 0 to ${servers.length - 1}` });
        return;
      }
      await restartCircleServer(index, downMs);
      const entry = servers[index];
      sendJson(response, 200, { ok: true, server: index, restarts: entry.restarts, port: entry.port, downMs });
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
  void Promise.allSettled(servers.map((entry) => entry.server.close())).finally(() => process.exit(1));
  return new Promise(() => {});
});

const pageUrl = `http://${host.includes(':') ? `[${host}]` : host}:${http.address().port}/`;
console.log('circle-ws-client browser demo');
console.log(`page:             ${pageUrl}`);
console.log(`reference server: ${urlOf(servers[0])}`);
console.log(`many circles:     ${pageUrl}circles.html (${servers.length} servers)`);
console.log('Ctrl-C to stop.');

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  http.closeAllConnections();
  await Promise.allSettled([
    new Promise((resolve) => http.close(resolve)),
    ...servers.map((entry) => entry.restarting.then(() => entry.server.close())),
  ]);
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
