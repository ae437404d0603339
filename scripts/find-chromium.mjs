/**
 * Finds a Chromium for the browser tests, in this order:
 *   1. CIRCLE_WS_CHROMIUM, when set (it must name an executable file; nothing else is tried);
 *   2. the system's Chromium or Chrome at the usual Debian/Ubuntu paths, or on PATH;
 *   3. as root on a machine with apt-get: Debian's `chromium` package, installed once
 *      (CIRCLE_WS_NO_INSTALL=1 turns this off).
 * With none of these it returns one line saying what to install; the browser tests then fail
 * with that line (they never skip).
 *
 *   node scripts/find-chromium.mjs     # prints the path, or the line and exit 1
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SYSTEM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium'];
const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export const MISSING =
  'No Chromium for the browser tests: install one (as root: apt-get install -y chromium) or set CIRCLE_WS_CHROMIUM to a Chromium or Chrome binary.';

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function systemChromium(systemPaths = SYSTEM_PATHS, env = process.env) {
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => PATH_NAMES.map((name) => join(dir, name)));
  return [...systemPaths, ...onPath].find(isExecutable) ?? null;
}

function canInstall(env) {
  return process.platform === 'linux' && process.getuid?.() === 0 && !env.CIRCLE_WS_NO_INSTALL && isExecutable('/usr/bin/apt-get');
}

function installDebianChromium(log) {
  log("browser tests: installing Debian's chromium (once; CIRCLE_WS_CHROMIUM picks another browser, CIRCLE_WS_NO_INSTALL=1 stops this)");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { env, encoding: 'utf8', timeout: 600_000 });
  const update = apt(['update', '-qq']);
  const install = update.status === 0 ? apt(['install', '-y', '-qq', '--no-install-recommends', 'chromium']) : update;
  if (install.status !== 0) {
    const reason = (install.stderr || install.stdout || String(install.error ?? install.signal)).trim().split('\n').pop();
    return { path: null, reason: `${MISSING} (apt-get failed: ${reason})` };
  }
  const path = systemChromium();
  return path ? { path, reason: null } : { path: null, reason: `${MISSING} (apt-get installed chromium, but no binary was found)` };
}

/**
 * @returns {{ path: string | null, reason: string | null }} the browser, or why there is none.
 * @example const { path, reason } = findChromium(); if (!path) throw new Error(reason);
 */
export function findChromium({ install = true, log = console.warn, env = process.env, systemPaths = SYSTEM_PATHS } = {}) {
  const chosen = env.CIRCLE_WS_CHROMIUM;
  if (chosen) {
    return isExecutable(chosen)
      ? { path: chosen, reason: null }
      : { path: null, reason: `CIRCLE_WS_CHROMIUM is ${chosen}, which is not an executable file: point it at a Chromium or Chrome binary, or unset it.` };
  }
  const found = systemChromium(systemPaths, env);
  if (found) return { path: found, reason: null };
  if (install && canInstall(env)) return installDebianChromium(log);
  return { path: null, reason: MISSING };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { path, reason } = findChromium();
  if (path) console.log(path);
  else {
    console.error(reason);
    process.exit(1);
  }
}
