// The order in which the browser tests find a Chromium, as the README states it.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findChromium, MISSING } from '../../scripts/find-chromium.mjs';

const dir = mkdtempSync(join(tmpdir(), 'find-chromium-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function executable(name: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '#!/bin/sh\n');
  chmodSync(path, 0o755);
  return path;
}

describe('findChromium', () => {
  const system = executable('usr/bin/chromium');
  const onPath = executable('bin/google-chrome');
  const chosen = executable('opt/my-chrome');

  it('takes CIRCLE_WS_CHROMIUM first, even when a system browser exists', () => {
    expect(findChromium({ install: false, env: { CIRCLE_WS_CHROMIUM: chosen }, systemPaths: [system] })).toEqual({ path: chosen, reason: null });
  });

  it('refuses a CIRCLE_WS_CHROMIUM that is not executable instead of looking elsewhere', () => {
    const plain = join(dir, 'not-executable');
    writeFileSync(plain, '');
    const found = findChromium({ install: false, env: { CIRCLE_WS_CHROMIUM: plain }, systemPaths: [system] });
    expect(found.path).toBeNull();
    expect(found.reason).toBe(`CIRCLE_WS_CHROMIUM is ${plain}, which is not an executable file: point it at a Chromium or Chrome binary, or unset it.`);
  });

  it('then the system paths, then PATH', () => {
    expect(findChromium({ install: false, env: { PATH: join(dir, 'bin') }, systemPaths: [system] }).path).toBe(system);
    expect(findChromium({ install: false, env: { PATH: join(dir, 'bin') }, systemPaths: [join(dir, 'nowhere')] }).path).toBe(onPath);
  });

  it('with nothing found and no install allowed, one line saying what to install', () => {
    const found = findChromium({ install: false, env: { PATH: join(dir, 'empty') }, systemPaths: [] });
    expect(found).toEqual({ path: null, reason: MISSING });
    expect(MISSING).not.toContain('\n');
    expect(MISSING).toContain('apt-get install -y chromium');
  });

  it('CIRCLE_WS_NO_INSTALL stops the install even as root', () => {
    let logged = '';
    const found = findChromium({ env: { PATH: '', CIRCLE_WS_NO_INSTALL: '1' }, systemPaths: [], log: (line) => (logged += line) });
    expect(found.reason).toBe(MISSING);
    expect(logged).toBe('');
  });
});
