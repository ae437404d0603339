// Before the browser test files (and only when some run): find or install Chromium once, so no
// two test files race to install it. The files read the answer with inject('chromium').
import type { TestProject } from 'vitest/node';
import { findChromium } from '../../scripts/find-chromium.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    chromium: { path: string | null; reason: string | null };
  }
}

export default function setup(project: TestProject): void {
  project.provide('chromium', findChromium());
}
