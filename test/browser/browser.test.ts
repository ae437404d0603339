/**
 * The client in a real browser (Debian's Chromium, headless, driven by playwright-core): the
 * package's browser bundle, built from the package by name, served on loopback next to a
 * reference server. Each scenario is asserted from the page.
 */
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeypair } from '../../src/auth/crypto.js';
import { type CircleServer, createCircleServer } from '../../src/server/index.js';
import { FaultProxy } from '../../src/testing/proxy.js';
import { bundle, ensureDist } from '../../examples/browser/build.mjs';
import type { Harness, StartOptions } from './harness.js';
import { type Browser, html, javascript, launchChromium, recordConsole, serveStatic, type StaticServer } from './helpers.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const circle = generateKeypair();
/** A second circle of the same server, for the manager's React test. */
const otherCircle = generateKeypair();

let browser: Browser | undefined;
let site: StaticServer | undefined;
let server: CircleServer | undefined;
let proxy: FaultProxy | undefined;
const pages = new Set<Page>();

async function startServer(port = 0): Promise<CircleServer> {
  // The port was just released by close(); retry briefly in case the kernel is slow to agree.
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await createCircleServer({ host: '127.0.0.1', port, circles: [circle.publicKeyCompressed, otherCircle.publicKeyCompressed] });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const harnessPage = `<!doctype html>
<meta charset="utf-8">
<title>circle-ws-client browser test</title>
<script type="module">
  import * as api from '/circle-ws-client.js';
  import { install } from '/harness.js';
  install(api);
</script>`;

const reactPage = `<!doctype html>
<meta charset="utf-8">
<title>circle-ws-client React test</title>
<div id="root"></div>
<script type="module">
  import { mount, mountManager } from '/react-app.js';
  window.mountReact = mount;
  window.mountManager = mountManager;
</script>`;

beforeAll(async () => {
  ensureDist();
  const [pkg, harness, reactApp] = await Promise.all([
    bundle(),
    transform(await import('node:fs/promises').then((fs) => fs.readFile(`${HERE}harness.ts`, 'utf8')), {
      loader: 'ts',
      format: 'esm',
      target: 'es2022',
    }),
    bundle({
      entry: "export { mount, mountManager } from './react-app.jsx';\n",
      resolveDir: HERE,
      jsx: 'automatic',
      minify: false,
      // React's development build: it warns about an uncached getSnapshot, which the test checks for.
      define: { 'process.env.NODE_ENV': '"development"' },
    }),
  ]);
  site = await serveStatic({
    '/': html(harnessPage),
    '/circle-ws-client.js': javascript(pkg.code),
    '/harness.js': javascript(harness.code),
    '/react.html': html(reactPage),
    '/react-app.js': javascript(reactApp.code),
  });
  server = await startServer();
  browser = await launchChromium();
}, 120_000);

afterEach(async () => {
  for (const page of pages) {
    await page
      .evaluate(() => window.harness?.disconnect().catch(() => 'ok'))
      .catch(() => {});
    await page.close().catch(() => {});
  }
  pages.clear();
  await proxy?.close();
  proxy = undefined;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await site?.close();
}, 30_000);

/** A fresh page with the harness loaded; what it logs is kept for failure messages. */
async function openHarness(): Promise<{ page: Page; log: string[] }> {
  const page = await browser!.context.newPage();
  pages.add(page);
  const log = recordConsole(page);
  await page.goto(`${site!.url}/`);
  await page.waitForFunction(() => window.harness !== undefined, undefined, { timeout: 30_000 });
  return { page, log };
}

function start(page: Page, options: StartOptions): Promise<{ publicKey: string }> {
  return page.evaluate((opts) => window.harness!.start(opts), options);
}

const pageNow = (page: Page): Promise<number> => page.evaluate(() => performance.now());

/** Waits, in the page, until the client is authenticated again after `since` (page time). */
function authenticatedAfter(page: Page, since: number, timeout: number): Promise<unknown> {
  return page.waitForFunction(
    (t) => window.harness!.status() === 'authenticated' && window.harness!.changes().some((c) => c.at > t && c.status === 'authenticated'),
    since,
    { timeout, polling: 50 },
  );
}

type Change = ReturnType<Harness['changes']>[number];
const statusesOf = (changes: Change[]): string[] => changes.map((c) => c.status);

describe('in Chromium', { timeout: 60_000 }, () => {
  it('connects with a key pair, authenticates, plays and asks whoami', async () => {
    const { page, log } = await openHarness();
    const { publicKey } = await start(page, { url: server!.urlFor(circle.publicKeyCompressed) });
    expect(await page.evaluate(() => window.harness!.connect(30_000)), log.join('\n')).toBe('authenticated');
    expect(await page.evaluate(() => window.harness!.play('let x = 10; x * 2'))).toBe('20');
    expect(await page.evaluate(() => window.harness!.whoami())).toEqual({ authenticated: true, pubkey: publicKey });
    expect(statusesOf(await page.evaluate(() => window.harness!.changes()))).toEqual([
      'connecting',
      'fetchingNonce',
      'signing',
      'authenticating',
      'authenticated',
    ]);
    expect(await page.evaluate(() => window.harness!.disconnect())).toBe('disconnected');
  });

  it('gets back to authenticated, with a fresh nonce, after the server restarts on the same port', async () => {
    const { page, log } = await openHarness();
    await start(page, {
      url: server!.urlFor(circle.publicKeyCompressed),
      recordFrames: true,
      keepAlive: false,
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
    });
    expect(await page.evaluate(() => window.harness!.connect(30_000))).toBe('authenticated');

    const port = server!.port;
    const before = await pageNow(page);
    await server!.close();
    await page.waitForFunction(
      (t) => window.harness!.changes().some((c) => c.at > t && c.previous === 'authenticated'),
      before,
      { timeout: 15_000, polling: 50 },
    );
    server = await startServer(port);
    await authenticatedAfter(page, before, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}\npage log:\n${log.join('\n')}`);
    });

    const changes = await page.evaluate(() => window.harness!.changes());
    const nonces = await page.evaluate(() => window.harness!.nonces());
    expect(statusesOf(changes).filter((s) => s === 'fetchingNonce').length).toBeGreaterThanOrEqual(2);
    expect(statusesOf(changes)).toContain('backoff');
    expect(nonces.length).toBeGreaterThanOrEqual(2);
    expect(nonces.every((n) => typeof n === 'string' && n.length > 0)).toBe(true);
    expect(new Set(nonces).size).toBe(nonces.length); // every handshake got its own nonce
    expect(await page.evaluate(() => window.harness!.play('let x = 10; x * 2'))).toBe('20');
    expect((await page.evaluate(() => window.harness!.whoami())).authenticated).toBe(true);
  });

  it('detects a half-open link with the JSON-RPC probe and comes back once it heals', async () => {
    proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: server!.port } });
    const { page, log } = await openHarness();
    await start(page, {
      url: proxy.url('ws', `/${circle.publicKeyCompressed}`),
      keepAlive: { intervalMs: 500, timeoutMs: 500 },
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      timeouts: { connectMs: 3_000, authMs: 3_000 },
    });
    expect(await page.evaluate(() => window.harness!.connect(30_000))).toBe('authenticated');
    // Keep-alive probes are answered: the link stays authenticated over several intervals.
    const settled = await pageNow(page);
    await page.waitForFunction((t) => performance.now() > t + 1_500, settled, { timeout: 10_000, polling: 100 });
    expect(await page.evaluate(() => window.harness!.status())).toBe('authenticated');
    expect((await page.evaluate(() => window.harness!.changes())).filter((c) => c.at > settled)).toEqual([]);

    const silenced = await pageNow(page);
    proxy.blackhole(); // nothing forwarded either way, nothing closed: no close event reaches the page
    await page
      .waitForFunction(
        (t) => window.harness!.changes().some((c) => c.at > t && c.previous === 'authenticated'),
        silenced,
        { timeout: 20_000, polling: 50 },
      )
      .catch((error: Error) => {
        throw new Error(`${error.message}\npage log:\n${log.join('\n')}`);
      });
    const left = (await page.evaluate(() => window.harness!.changes())).find((c) => c.at > silenced && c.previous === 'authenticated')!;
    expect(left).toMatchObject({ status: 'backoff', failure: 'LINK_DEAD' }); // the probe went unanswered
    console.log(`half-open link detected ${Math.round(left.at - silenced)} ms after the black-hole (keep-alive 500 + 500 ms)`);
    expect(left.at - silenced).toBeGreaterThanOrEqual(400); // not a close: a probe's deadline

    const healed = await pageNow(page);
    proxy.blackhole(false);
    await authenticatedAfter(page, healed, 30_000);
    expect(await page.evaluate(() => window.harness!.play('let x = 10; x * 2'))).toBe('20');
  });

  it('an upgrade refused with HTTP 404 (unknown circle) looks like any failed upgrade: retried with backoff until attempts run out', async () => {
    const { page } = await openHarness();
    const stranger = generateKeypair().publicKeyCompressed; // a circle the server does not serve
    await start(page, { url: server!.urlFor(stranger), reconnect: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 3 } });
    const error = await page.evaluate(() => window.harness!.connectError(30_000));
    // (Not error.name: the client sets it from the class name, which a minifier renames.)
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED', connectionFailed: true, status: null });
    expect(error?.message).toMatch(/gave up after 3 reconnection attempts/);
    expect(await page.evaluate(() => window.harness!.status())).toBe('failed');
    expect((await page.evaluate(() => window.harness!.failure()))?.code).toBe('RECONNECT_EXHAUSTED');
    const statuses = statusesOf(await page.evaluate(() => window.harness!.changes()));
    // Node sees the 404 and fails at once; the browser only sees a 1006 close, so it tried 1 + 3 times.
    expect(statuses.filter((s) => s === 'connecting')).toHaveLength(4);
    expect(statuses.filter((s) => s === 'backoff').length).toBeGreaterThanOrEqual(3);
  });

  it('useCircleWsStatus renders the status of a client up to authenticated', async () => {
    const page = await browser!.context.newPage();
    pages.add(page);
    const log = recordConsole(page);
    await page.goto(`${site!.url}/react.html`);
    await page.waitForFunction(() => 'mountReact' in window, undefined, { timeout: 30_000 });
    await page.evaluate((url) => (window as unknown as { mountReact(url: string): void }).mountReact(url), server!.urlFor(circle.publicKeyCompressed));
    await expect.poll(() => page.textContent('#status')).toBe('disconnected');
    expect(await page.getAttribute('#status', 'data-connected')).toBe('false');

    type ReactTest = { connect(): Promise<string>; disconnect(): Promise<string>; renders(): number; unmount(): void };
    expect(await page.evaluate(() => (window as unknown as { reactTest: ReactTest }).reactTest.connect())).toBe('authenticated');
    await page.waitForSelector('#status[data-status="authenticated"]', { timeout: 15_000 });
    expect(await page.textContent('#status')).toBe('authenticated');
    expect(await page.getAttribute('#status', 'data-connected')).toBe('true');
    expect(await page.textContent('#no-client')).toBe('disconnected');

    expect(await page.evaluate(() => (window as unknown as { reactTest: ReactTest }).reactTest.disconnect())).toBe('disconnected');
    await page.waitForSelector('#status[data-status="disconnected"]', { timeout: 15_000 });
    // One render per status (twice in StrictMode), not a loop.
    const renders = await page.evaluate(() => (window as unknown as { reactTest: ReactTest }).reactTest.renders());
    expect(renders).toBeLessThan(40);
    await page.evaluate(() => (window as unknown as { reactTest: ReactTest }).reactTest.unmount());
    expect(log.filter((line) => line.startsWith('[error]') || line.startsWith('[warning]') || line.startsWith('[pageerror]'))).toEqual([]);
  });

  it('useCircleWsManager renders two circles up to authenticated, the counts, then one circle removed', async () => {
    const page = await browser!.context.newPage();
    pages.add(page);
    const log = recordConsole(page);
    await page.goto(`${site!.url}/react.html`);
    await page.waitForFunction(() => 'mountManager' in window, undefined, { timeout: 30_000 });
    const [urlA, urlB] = [server!.urlFor(circle.publicKeyCompressed), server!.urlFor(otherCircle.publicKeyCompressed)];
    await page.evaluate((urls) => (window as unknown as { mountManager(urls: string[]): void }).mountManager(urls), [urlA, urlB]);
    const circleOf = (url: string) => `#manager li[data-url="${url}"]`;
    await page.waitForSelector('#manager[data-state="idle"]', { timeout: 15_000 });
    expect(await page.getAttribute(circleOf(urlA), 'data-status')).toBe('disconnected');
    expect(await page.getAttribute(circleOf(urlB), 'data-status')).toBe('disconnected');
    expect(await page.getAttribute('#manager .counts', 'data-disconnected')).toBe('2');
    expect(await page.getAttribute('#manager .counts', 'data-authenticated')).toBe('0');

    type ManagerTest = { connectAll(): Promise<string[]>; remove(url: string): Promise<void>; disconnectAll(): Promise<void>; renders(): number; unmount(): void };
    expect(await page.evaluate(() => (window as unknown as { managerTest: ManagerTest }).managerTest.connectAll())).toEqual(['ok', 'ok']);
    await page.waitForSelector('#manager[data-state="ready"]', { timeout: 15_000 });
    expect(await page.getAttribute(circleOf(urlA), 'data-status')).toBe('authenticated');
    expect(await page.getAttribute(circleOf(urlB), 'data-status')).toBe('authenticated');
    expect(await page.getAttribute('#manager .counts', 'data-authenticated')).toBe('2');
    expect(await page.getAttribute('#manager .counts', 'data-disconnected')).toBe('0');

    // A removal: no client reports it (the manager stops listening to that client first).
    await page.evaluate((url) => (window as unknown as { managerTest: ManagerTest }).managerTest.remove(url), urlB);
    await page.waitForSelector('#manager .counts[data-circles="1"]', { timeout: 15_000 });
    expect(await page.locator(circleOf(urlB)).count()).toBe(0);
    expect(await page.getAttribute(circleOf(urlA), 'data-status')).toBe('authenticated');
    expect(await page.getAttribute('#manager .counts', 'data-authenticated')).toBe('1');
    expect(await page.getAttribute('#manager', 'data-state')).toBe('ready');

    // The manager is idle again only after its last client's socket is gone: no client reports that either.
    await page.evaluate(() => (window as unknown as { managerTest: ManagerTest }).managerTest.disconnectAll());
    await page.waitForSelector('#manager[data-state="idle"]', { timeout: 15_000 });
    expect(await page.getAttribute(circleOf(urlA), 'data-status')).toBe('disconnected');
    // Without a manager: idle, no circle.
    expect(await page.getAttribute('#no-manager', 'data-state')).toBe('idle');
    expect(await page.getAttribute('#no-manager .counts', 'data-circles')).toBe('0');
    // A render per change (twice in StrictMode), not a loop.
    expect(await page.evaluate(() => (window as unknown as { managerTest: ManagerTest }).managerTest.renders())).toBeLessThan(80);
    await page.evaluate(() => (window as unknown as { managerTest: ManagerTest }).managerTest.unmount());
    expect(log.filter((line) => line.startsWith('[error]') || line.startsWith('[warning]') || line.startsWith('[pageerror]'))).toEqual([]);
  });
});
