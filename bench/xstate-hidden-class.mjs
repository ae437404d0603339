/**
 * A minimal reproduction for an upstream (statelyai/xstate) issue: does the `Actor` constructor's
 * `const resolvedOptions = { ...defaultOptions, ...options }` give objects their own V8 hidden
 * class (map), where `Object.assign({}, defaultOptions, options)` would share one?
 *
 *   node bench/xstate-hidden-class.mjs            # re-runs itself with --allow-natives-syntax --expose-gc
 *   node bench/xstate-hidden-class.mjs --count 5000
 *
 * Part 1 needs nothing but Node: the same `defaultOptions` literal as xstate 5.33.3
 * (node_modules/xstate/dist/raise-*.esm.js, `const defaultOptions`, merged in `class Actor`'s
 * constructor), merged with per-actor options of one shape by spread and by `Object.assign`.
 * Part 2 uses real xstate actors (`createActor(machine, { input, clock }).start()`), and compares
 * the maps of `actor.options` and of the actors themselves.
 * For each: how many distinct maps N objects end up with (`%HaveSameMap`), whether the first
 * object's map is deprecated-and-replaced along the way (`%HaveSameMap` against a fresh object of the
 * same recipe made last), and the heap per object ((after − before) / N of heapUsed, after GC).
 * xstate is not patched: part 2 only shows what the spread does in situ.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const FLAGS = ['--allow-natives-syntax', '--expose-gc'];
if (!FLAGS.every((flag) => process.execArgv.includes(flag))) {
  const run = spawnSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

const { values } = parseArgs({ options: { count: { type: 'string', default: '2000' }, json: { type: 'boolean', default: false } } });
const N = Number(values.count);

// Natives syntax is only parsed with --allow-natives-syntax, hence Function rather than a literal call.
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);');
const gc = globalThis.gc;

/** Distinct maps among objects (pairwise %HaveSameMap against one representative per group). */
function distinctMaps(objects) {
  const representatives = [];
  for (const object of objects) if (!representatives.some((r) => haveSameMap(r, object))) representatives.push(object);
  return representatives.length;
}

/** Heap per retained object made by `make`, (after − before) / n after GC. */
function heapPer(make, n) {
  for (let i = 0; i < 50; i++) make(i); // warm-up, dropped
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = new Array(n);
  for (let i = 0; i < n; i++) kept[i] = make(i);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  return { perObject: (after - before) / n, kept };
}

/**
 * Indicative CPU: merge, then destructure the merged object as the constructor does (a read site
 * that sees every map). A timing on whatever machine runs it: compare the two recipes, not machines.
 */
function nsPerMerge(make) {
  const rounds = 200_000;
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const { clock, logger, devTools } = make(i);
    if (clock && logger && devTools === false) sink++;
  }
  const ns = Number(process.hrtime.bigint() - start) / rounds;
  if (sink !== rounds) throw new Error('unreachable');
  return Math.round(ns);
}

// Part 1: the merge alone, xstate's defaultOptions reproduced (same keys, same kinds of values).
const defaultOptions = {
  clock: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id) },
  logger: console.log.bind(console),
  devTools: false,
};
// Per-actor options of one shape, as a client passes them: its input, its clock.
const clock = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id) };
const optionsFor = (i) => ({ input: { instance: i, url: 'ws://127.0.0.1:1/x' }, clock });
const recipes = {
  'spread { ...defaultOptions, ...options }': (i) => ({ ...defaultOptions, ...optionsFor(i) }),
  // What triggers it: a property added to an object-spread clone (a literal key does it too) ...
  '{ ...defaultOptions, input }': (i) => ({ ...defaultOptions, input: optionsFor(i).input }),
  // ... while the clone alone keeps one map, and so does a spread that starts from an empty literal.
  '{ ...defaultOptions }': () => ({ ...defaultOptions }),
  '{ ...{}, ...defaultOptions, ...options }': (i) => ({ ...{}, ...defaultOptions, ...optionsFor(i) }),
  'Object.assign({}, defaultOptions, options)': (i) => Object.assign({}, defaultOptions, optionsFor(i)),
};
const results = { node: process.version, v8: process.versions.v8, count: N, merge: {}, xstate: {} };
for (const [name, make] of Object.entries(recipes)) {
  const { perObject, kept } = heapPer(make, N);
  const late = make(N);
  results.merge[name] = { distinctMaps: distinctMaps(kept), firstSharesMapWithLast: haveSameMap(kept[0], late), heapPerObject: Math.round(perObject), nsPerMerge: nsPerMerge(make) };
}

// Part 2: real xstate actors.
const { createActor, createMachine } = await import('xstate');
const xstateVersion = (await import('xstate/package.json', { with: { type: 'json' } }).catch(() => ({ default: { version: 'unknown' } }))).default.version;
results.xstateVersion = xstateVersion;
const machine = createMachine({ id: 'm', initial: 'idle', context: ({ input }) => ({ instance: input.instance }), states: { idle: { on: { go: 'busy' } }, busy: {} } });
const actorRecipes = {
  'createActor(machine, { input, clock })': (i) => createActor(machine, optionsFor(i)).start(),
  'createActor(machine, { input })': (i) => createActor(machine, { input: { instance: i, url: 'ws://127.0.0.1:1/x' } }).start(),
};
for (const [name, make] of Object.entries(actorRecipes)) {
  const { perObject, kept } = heapPer(make, N);
  const late = make(N);
  results.xstate[name] = {
    optionsDistinctMaps: distinctMaps(kept.map((actor) => actor.options)),
    optionsFirstSharesMapWithLast: haveSameMap(kept[0].options, late.options),
    actorDistinctMaps: distinctMaps(kept),
    snapshotDistinctMaps: distinctMaps(kept.map((actor) => actor.getSnapshot())),
    heapPerActor: Math.round(perObject),
  };
}

if (values.json) console.log(JSON.stringify(results, null, 2));
else {
  console.log(`Node ${results.node} (V8 ${results.v8}), xstate ${results.xstateVersion}, ${N} objects each\n`);
  console.log('1. merging options (no xstate):');
  for (const [name, r] of Object.entries(results.merge)) {
    console.log(`   ${name.padEnd(44)} distinct maps ${String(r.distinctMaps).padStart(5)}, first shares its map with one made last: ${r.firstSharesMapWithLast}, heap ${r.heapPerObject} B/object, ${r.nsPerMerge} ns per merge + destructure`);
  }
  console.log('2. real xstate actors (started):');
  for (const [name, r] of Object.entries(results.xstate)) {
    console.log(
      `   ${name.padEnd(44)} actor.options: distinct maps ${String(r.optionsDistinctMaps).padStart(5)} (first vs last same: ${r.optionsFirstSharesMapWithLast}); ` +
        `actors: ${r.actorDistinctMaps}; snapshots: ${r.snapshotDistinctMaps}; heap ${r.heapPerActor} B/actor`,
    );
  }
}
