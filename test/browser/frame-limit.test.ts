/**
 * The inbound frame limit in a real browser (Debian's Chromium, headless), where the socket cannot
 * refuse a frame: the package's browser bundle, a server on 127.0.0.1 that sends a 3 MiB frame and
 * then a small one, and a client limited to 1 MiB. The big frame is dropped before parsing and
 * logged; the connection stays up and the small frame is delivered.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { bundle, ensureDist } from '../../examples/browser/build.mjs';
import { type Browser, html, javascript, launchChromium, recordConsole, serveStatic, type StaticServer } from './helpers.js';

const MiB = 1024 * 1024;
let browser: Browser | undefined;
let site: StaticServer | undefined;
let wss: WebSocketServer | undefined;

const page = `<!doctype html>
<meta charset="utf-8">
<title>circle-ws-client frame limit</title>
<script type="module">
  import * as api from '/circle-ws-client.js';
  window.api = api;
</script>`;

beforeAll(async () => {
  ensureDist();
  const pkg = await bundle();
  site = await serveStatic({ '/': html(page), '/circle-ws-client.js': javascript(pkg.code) });
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (socket) => {
    socket.on('error', () => {});
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'huge', params: 'h'.repeat(3 * MiB) }));
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'after', params: 1 }));
  });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  for (const client of wss?.clients ?? []) client.terminate();
  await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
}, 30_000);

it('in Chromium, a frame over withMaxInboundFrameBytes is dropped before parsing and logged; the link stays up', { timeout: 60_000 }, async () => {
  const tab = await browser!.context.newPage();
  const log = recordConsole(tab);
  await tab.goto(`${site!.url}/`);
  await tab.waitForFunction(() => (window as unknown as { api?: unknown }).api !== undefined, undefined, { timeout: 30_000 });
  const url = `ws://127.0.0.1:${(wss!.address() as AddressInfo).port}/02aa`;
  const seen = await tab.evaluate(async (target) => {
    type Api = typeof import('../../src/index.js');
    const api = (window as unknown as { api: Api }).api;
    const warnings: Array<{ message: string; fields: Record<string, unknown> | undefined }> = [];
    const notifications: string[] = [];
    const client = api.CircleWsClient.builder(target)
      .withMaxInboundFrameBytes(1024 * 1024)
      .withKeepAlive(false)
      .withLogger({ debug() {}, info() {}, error() {}, warn: (message, fields) => warnings.push({ message, fields }) })
      .build();
    const delivered = new Promise<void>((resolve) => {
      client.on('notification', ({ method }) => {
        notifications.push(method);
        if (method === 'after') resolve();
      });
    });
    await client.connect({ timeoutMs: 20_000 });
    await delivered;
    const status = client.status;
    await client.disconnect();
    return { warnings, notifications, status };
  }, url);
  expect(seen.notifications, log.join('\n')).toEqual(['after']);
  expect(seen.status).toBe('connected');
  expect(seen.warnings).toHaveLength(1);
  expect(seen.warnings[0]?.message).toBe('dropped an inbound frame over the limit, unread (withMaxInboundFrameBytes)');
  expect(seen.warnings[0]?.fields).toMatchObject({ limit: MiB });
  expect(Number(seen.warnings[0]?.fields?.bytes)).toBeGreaterThan(3 * MiB);
  await tab.close();
});
