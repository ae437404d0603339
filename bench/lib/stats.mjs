/**
 * Small statistics for the bench: nearest-rank percentiles, medians, paired ratios.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Nearest-rank percentile (p in 0..100) of unsorted numbers. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  return percentile(values, 50);
}

/** Median of the per-round ratios a[i] / b[i] (rounds measured side by side). */
export function pairedRatio(a, b) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push(a[i] / b[i]);
  return median(ratios);
}

/** The per-round ratios a[i] / b[i] themselves (their min–max is the within-run spread). */
export function pairedRatios(a, b) {
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) ratios.push(a[i] / b[i]);
  return ratios;
}

/** Rounds a number for the report (3 significant digits, at least). */
export function round(value, digits = 3) {
  if (!Number.isFinite(value)) return value;
  const magnitude = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(value) || 1)));
  const factor = 10 ** Math.min(6, magnitude);
  return Math.round(value * factor) / factor;
}

/** A garbage collection, if the runtime lets us ask for one (it does once `exposeGc()` ran). */
let gcFunction = globalThis.gc ?? null;
export function exposeGc() {
  if (gcFunction) return;
  try {
    setFlagsFromString('--expose-gc');
    gcFunction = runInNewContext('gc');
  } catch {
    gcFunction = null;
  }
}

export function collectGarbage() {
  if (!gcFunction) return;
  gcFunction();
  gcFunction();
}
