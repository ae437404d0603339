/**
 * The browser demo (`npm run demo:browser`) as a person uses it: started as a child process, its
 * page opened in Chromium, the buttons clicked. The statechart highlights `authenticated` once
 * connected; a screenshot is taken then (into a temporary directory, or CIRCLE_WS_SCREENSHOT_DIR).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDist, ROOT } from '../../examples/browser/build.mjs';
import { type Browser, launchChromium, recordConsole } from './helpers.js';

let demo: ChildProcess | undefined;
let output = '';
let pageUrl = '';
let browser: Browser | undefined;
let page: Page;
let log: string[] = [];
const shotDir = process.env.CIRCLE_WS_SCREENSHOT_DIR ?? mkdtempSync(join(tmpdir(), 'circle-ws-demo-'));

beforeAll(async () => {
  ensureDist();
  demo = spawn(process.execPath, ['examples/browser/serve.mjs', '--port', '0', '--ws-port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const printed = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo printed no page URL within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /^page:\s+(http:\/\/\S+)$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    demo!.stdout!.on('data', onData);
    demo!.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo!.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output}`));
    });
  });
  [pageUrl, browser] = await Promise.all([printed, launchChromium()]);
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  log = recordConsole(page);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo!.once('exit', resolve));
    demo.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
  if (process.env.CIRCLE_WS_SCREENSHOT_DIR === undefined) rmSync(shotDir, { recursive: true, force: true });
}, 30_000);

const active = (state: string): Promise<boolean> =>
  page.$eval(`.state[data-state="${state}"]`, (el) => el.classList.contains('active'));

type DemoWindow = { demo: { changes: Array<{ status: string; at: number }> } };

describe('the browser demo', { timeout: 60_000 }, () => {
  it('prints its URL and serves a page that draws the statechart from the machine', async () => {
    expect(output).toMatch(/^reference server: ws:\/\/127\.0\.0\.1:\d+\/0[23][0-9a-f]{64}$/m);
    await page.goto(pageUrl);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const states = await page.$$eval('.state[data-state]', (els) => els.map((el) => el.getAttribute('data-id')));
    expect(states).toEqual(
      expect.arrayContaining([
        'circleWs',
        'circleWs.disconnected',
        'circleWs.session',
        'circleWs.session.connecting',
        'circleWs.session.fetchingNonce',
        'circleWs.session.signing',
        'circleWs.session.authenticating',
        'circleWs.session.authenticated',
        'circleWs.session.authenticated.probing',
        'circleWs.session.connected',
        'circleWs.backoff',
        'circleWs.failed',
      ]),
    );
    expect(await active('disconnected')).toBe(true);
    expect(await page.textContent('#status')).toBe('disconnected');
  });

  it('connect: the authenticated state is highlighted', async () => {
    await page.click('#connect');
    await page.waitForSelector('.state[data-state="authenticated"].active', { timeout: 30_000 });
    const highlighted = await page.$$eval('.state.active', (els) => els.map((el) => el.getAttribute('data-id')));
    expect(highlighted).toEqual(['circleWs', 'circleWs.session', 'circleWs.session.authenticated', 'circleWs.session.authenticated.idle']);
    expect(await active('disconnected')).toBe(false);
    expect(await page.textContent('#status')).toBe('authenticated');
    expect(await page.textContent('#log')).toContain('authenticating → authenticated');

    const shot = join(shotDir, 'demo-authenticated.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });

  it('play runs a script on the circle', async () => {
    await page.fill('#script', 'let x = 10; x * 2');
    await page.click('#play');
    await expect.poll(() => page.textContent('#play-output'), { timeout: 15_000 }).toBe('20');
    expect(await page.textContent('#log')).toContain('→ "20"');
  });

  it('restart server: the client backs off and comes back to authenticated', async () => {
    const before = await page.evaluate(() => performance.now());
    await page.click('#restart');
    await page.waitForFunction(
      (t) => {
        const changes = (window as unknown as DemoWindow).demo.changes.filter((c) => c.at > t).map((c) => c.status);
        return changes.includes('backoff') && changes.at(-1) === 'authenticated';
      },
      before,
      { timeout: 30_000, polling: 100 },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\npage log:\n${log.join('\n')}\ndemo output:\n${output}`);
    });
    await page.waitForSelector('.state[data-state="authenticated"].active', { timeout: 5_000 });
    expect(await page.textContent('#log')).toMatch(/reference server back on port \d+ \(restart #1\)/);
  });

  it('disconnect: back to disconnected, with nothing logged as an error by the page', async () => {
    await page.click('#disconnect');
    await page.waitForSelector('.state[data-state="disconnected"].active', { timeout: 15_000 });
    expect(await active('session')).toBe(false);
    // Chromium itself reports each refused WebSocket while the server was down; nothing else may show.
    const errors = log.filter((line) => line.startsWith('[error]') || line.startsWith('[pageerror]'));
    expect(errors.filter((line) => !/^\[error\] WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/\w+' failed/.test(line))).toEqual([]);
  });
});

type CirclesWindow = { demo: { changes: Array<{ circle: number; status: string; at: number }> } };

describe('the many-circles page', { timeout: 60_000 }, () => {
  let circles: Page;
  let circlesLog: string[] = [];

  it('shows three circles side by side; connect all brings every one to authenticated', async () => {
    expect(output).toMatch(/^many circles:\s+http:\/\/\S+circles\.html \(3 servers\)$/m);
    circles = await browser!.context.newPage();
    circlesLog = recordConsole(circles);
    await circles.goto(`${pageUrl}circles.html`);
    await circles.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(await circles.$$eval('.circle', (els) => els.length)).toBe(3);
    expect(await circles.textContent('#manager-state')).toBe('idle');
    await circles.click('#connect-all');
    await circles.waitForSelector('#manager-state[data-status="ready"]', { timeout: 30_000 });
    expect(await circles.$$eval('.circle-status', (els) => els.map((el) => el.textContent))).toEqual(['authenticated', 'authenticated', 'authenticated']);
    expect(await circles.textContent('#counts')).toBe('3 authenticated');
  });

  it("restarting one circle's server backs that circle off and back; the others never change", async () => {
    const before = await circles.evaluate(() => performance.now());
    await circles.click('.circle[data-index="1"] .restart');
    await circles
      .waitForFunction(
        (t) => {
          const mine = (window as unknown as CirclesWindow).demo.changes.filter((c) => c.at > t && c.circle === 1).map((c) => c.status);
          return mine.includes('backoff') && mine.at(-1) === 'authenticated';
        },
        before,
        { timeout: 30_000, polling: 100 },
      )
      .catch((error: Error) => {
        throw new Error(`${error.message}\npage log:\n${circlesLog.join('\n')}\ndemo output:\n${output}`);
      });
    const others = await circles.evaluate(
      (t) => (window as unknown as CirclesWindow).demo.changes.filter((c) => c.at > t && c.circle !== 1),
      before,
    );
    expect(others).toEqual([]);
    await circles.waitForSelector('#manager-state[data-status="ready"]', { timeout: 10_000 });
    expect(await circles.textContent('#log')).toMatch(/server 2 back on port \d+ \(restart #1\)/);
    const shot = join(shotDir, 'demo-circles.png');
    await circles.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  });

  it('plays a script on every circle, then disconnects them all', async () => {
    await circles.fill('#script', 'let x = 10; x * 2');
    await circles.click('#play-all');
    await expect.poll(() => circles.$$eval('.circle .output', (els) => els.map((el) => el.textContent)), { timeout: 15_000 }).toEqual(['20', '20', '20']);
    await circles.click('#disconnect-all');
    await circles.waitForSelector('#manager-state[data-status="idle"]', { timeout: 15_000 });
    expect(await circles.textContent('#counts')).toBe('3 disconnected');
  });
});
