/**
 * Helpers for the real-browser tests: a system Chromium driven by playwright-core (never a
 * downloaded browser), a static HTTP server on loopback, and a log of what the page printed.
 * Which Chromium is decided once, by test/browser/global-setup.ts (scripts/find-chromium.mjs);
 * with none, the tests fail with the one line saying what to install; nothing is skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Headless, and nothing that reaches for the network: this machine has none, and refusals slow Chromium down. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

export interface Browser {
  context: BrowserContext;
  /** Closes the browser and removes its profile directory. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh profile in a temporary directory.
 * @example const browser = await launchChromium(); const page = await browser.context.newPage();
 */
export async function launchChromium(): Promise<Browser> {
  const { path, reason } = inject('chromium');
  if (path === null) throw new Error(reason ?? 'No Chromium for the browser tests.');
  const userDataDir = mkdtempSync(join(tmpdir(), 'circle-ws-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: path,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    context,
    close: () =>
      (closing ??= (async () => {
        await context.close().catch(() => {});
        rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      })()),
  };
}

/** One file a static server serves. */
export interface StaticFile {
  type: string;
  body: string | Uint8Array;
}

export interface StaticServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  close(): Promise<void>;
}

/** Serves exactly `files` (path → file) on 127.0.0.1 and a free port; anything else is a 404. */
export async function serveStatic(files: Record<string, StaticFile>): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const file = files[path];
    if (request.method !== 'GET' || file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What a page printed and threw, for the failure message of a test. */
export function recordConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (message) => lines.push(`[${message.type()}] ${message.text()}`));
  page.on('pageerror', (error) => lines.push(`[pageerror] ${error.message}`));
  return lines;
}

export const html = (body: string): StaticFile => ({ type: 'text/html; charset=utf-8', body });
export const javascript = (body: string | Uint8Array): StaticFile => ({ type: 'text/javascript; charset=utf-8', body });
