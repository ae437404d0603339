#!/usr/bin/env node
/**
 * Where the bytes of a browser bundle of circle-ws-client come from, module by module.
 *
 *   node scripts/bundle-report.mjs              the typical app (examples/browser/build.mjs APP_ENTRY)
 *   node scripts/bundle-report.mjs --full       the whole root API
 *   node scripts/bundle-report.mjs --entry "import … from 'circle-ws-client'; export …"
 *   node scripts/bundle-report.mjs --json       the same figures as JSON
 *   node scripts/bundle-report.mjs --vite       also the totals of a Vite production build of the entry
 *   node scripts/bundle-report.mjs --detail src/client/client.ts
 *                                               also that module's bytes by declaration (top-level
 *                                               statements, class members, large object properties)
 *
 * The bundle is built exactly as examples/browser/build.mjs builds it (the options Vite and webpack
 * use for a browser: `browser` and `module` conditions, minified), gzipped at level 9.
 *
 * Minified bytes per module are esbuild's own count (metafile `bytesInOutput`). Gzip is not
 * additive, so gzipped bytes per module are attributed by position: the bundle's source map says
 * which module each stretch of output came from, and a stretch costs what it adds to the gzipped
 * size of everything before it. The shares add up to the whole; a module that repeats text seen
 * earlier in the bundle looks cheaper than it would alone.
 *
 * "The package's own code, gzipped" is defined without attribution: gz(bundle) minus gz(a bundle
 * of the dependency imports alone), where the dependency imports are the named imports of
 * xstate and noble that the bundled package modules make and that reach the output (an import
 * whose code was tree-shaken away in the full bundle is not counted as a dependency either).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';
import { APP_ENTRY, FULL_ENTRY, ROOT, browserOptions, ensureDist } from '../examples/browser/build.mjs';

const gz = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;

/** The package's own modules (its built output), as esbuild names inputs. */
export const isOwn = (path) => path.startsWith('dist/');

/** `node_modules/@noble/hashes/sha3.js` → `@noble/hashes`; own modules → `circle-ws-client`. */
export function packageOf(path) {
  if (isOwn(path)) return 'circle-ws-client';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return match ? match[1] : '(other)';
}

async function build(entry, sourcemap, minify = true) {
  const result = await esbuild.build({
    ...browserOptions,
    stdin: { contents: entry, resolveDir: ROOT, loader: 'js', sourcefile: 'entry.js' },
    minify,
    metafile: true,
    write: false,
    outdir: join(ROOT, 'dist/browser'),
    ...(sourcemap ? { sourcemap: 'external' } : {}),
  });
  const js = result.outputFiles.find((file) => file.path.endsWith('.js'));
  const map = result.outputFiles.find((file) => file.path.endsWith('.js.map'));
  if (!js) throw new Error('esbuild produced no JavaScript output');
  return { text: js.text, map: map ? JSON.parse(map.text) : null, metafile: result.metafile };
}

/** The JavaScript output of a one-entry build (not its source map). */
const outputOf = (metafile) => Object.entries(metafile.outputs).find(([path]) => path.endsWith('.js'))[1];

/**
 * The metafile input a source-map source stands for. The package's built files carry tsc's source
 * maps, which esbuild follows back to `src/*.ts`; those are named by their built file again.
 */
function inputName(source) {
  const path = relative(ROOT, resolve(ROOT, 'dist/browser', source)).replaceAll('\\', '/');
  return /^(src|machines)\//.test(path) ? `dist/${path.replace(/\.tsx?$/, '.js')}` : path;
}

const B64 = new Map([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].map((c, i) => [c, i]));

/** Source-map v3 `mappings`, decoded to [line, column, sourceIndex, originalLine, originalColumn] for segments that name a source. */
function decodeMappings(mappings) {
  const out = [];
  let source = 0;
  let originalLine = 0;
  let originalColumn = 0;
  mappings.split(';').forEach((line, lineIndex) => {
    let column = 0;
    for (const segment of line.split(',')) {
      if (segment === '') continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = B64.get(char);
        if (digit === undefined) throw new Error(`bad source-map character ${char}`);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length >= 4) {
        source += fields[1];
        originalLine += fields[2];
        originalColumn += fields[3];
        out.push([lineIndex, column, source, originalLine, originalColumn]);
      }
    }
  });
  return out;
}

/**
 * Minified and gzipped bytes per input, gzip attributed by position (see the header). Keys are
 * metafile input paths, or what `keyOf(input, originalLine, originalColumn)` makes of them (a
 * declaration of one module); output outside every module (esbuild's own glue) is `(glue)`.
 */
function attribute(text, map, keyOf = (name) => name) {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const names = map.sources.map(inputName);
  // Runs of output with one key, in output order.
  const runs = [];
  for (const [line, column, source, originalLine, originalColumn] of decodeMappings(map.mappings)) {
    const at = lineStarts[line] + column;
    const key = keyOf(names[source], originalLine, originalColumn);
    const last = runs.at(-1);
    if (last && last.key === key) continue;
    runs.push({ key, start: at });
  }
  if (runs.length === 0 || runs[0].start > 0) runs.unshift({ key: '(glue)', start: 0 });
  const shares = new Map();
  let before = 0;
  runs.forEach((run, i) => {
    const end = i + 1 < runs.length ? runs[i + 1].start : text.length;
    const upTo = gz(text.slice(0, end));
    const share = shares.get(run.key) ?? shares.set(run.key, { minified: 0, gzipped: 0 }).get(run.key);
    share.minified += Buffer.byteLength(text.slice(run.start, end));
    share.gzipped += upTo - before;
    before = upTo;
  });
  return shares;
}

/**
 * The declarations of a TypeScript source, for `--detail`: top-level statements, class members,
 * and the larger properties of object literals (a machine's implementations), each with its span
 * in lines. A position belongs to the innermost declaration around it.
 */
async function declarationsOf(tsPath) {
  const ts = (await import('typescript')).default;
  const text = readFileSync(tsPath, 'utf8');
  const file = ts.createSourceFile(tsPath, text, ts.ScriptTarget.ES2022, true);
  const found = [];
  const nameOf = (node) => {
    if (node.name && ts.isIdentifier(node.name)) return node.name.text;
    if (node.name) return node.name.getText(file);
    if (ts.isVariableStatement(node)) return node.declarationList.declarations.map((d) => d.name.getText(file)).join(', ');
    if (ts.isConstructorDeclaration(node)) return 'constructor';
    return ts.SyntaxKind[node.kind];
  };
  const add = (node, prefix) => {
    const start = file.getLineAndCharacterOfPosition(node.getStart(file));
    const end = file.getLineAndCharacterOfPosition(node.getEnd());
    const name = `${prefix}${nameOf(node)}`;
    found.push({ name, start, end, depth: prefix.split('.').length });
    return name;
  };
  const visitInner = (node, prefix) => {
    ts.forEachChild(node, (child) => {
      if (ts.isPropertyAssignment(child) || ts.isMethodDeclaration(child)) {
        if (child.getEnd() - child.getStart(file) >= 300) visitInner(child, `${add(child, prefix)}.`);
        return;
      }
      visitInner(child, prefix);
    });
  };
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) continue;
    const name = add(statement, '');
    if (ts.isClassDeclaration(statement)) {
      for (const member of statement.members) visitInner(member, `${add(member, `${name}.`)}.`);
    } else visitInner(statement, `${name}.`);
  }
  return (line, column) => {
    let best;
    for (const d of found) {
      const after = line > d.start.line || (line === d.start.line && column >= d.start.character);
      const before = line < d.end.line || (line === d.end.line && column <= d.end.character);
      if (after && before && (!best || d.depth > best.depth)) best = d;
    }
    return best?.name ?? '(between declarations)';
  };
}

/**
 * The dependency imports the bundled package modules make, as an entry that re-exports them:
 * `export { a, b } from 'xstate'`, and for a namespace import the members the module reads
 * (`secp.sign` → `ns0.sign`). Imports of modules that left no code in the output are left out.
 */
function dependencyImports(metafile) {
  const reached = new Set(Object.entries(outputOf(metafile).inputs).filter(([, v]) => v.bytesInOutput > 0).map(([k]) => k));
  const imports = new Map(); // specifier → { named: Set, members: Set }
  const entryOf = (spec) => imports.get(spec) ?? imports.set(spec, { named: new Set(), members: new Set() }).get(spec);
  for (const [path, input] of Object.entries(metafile.inputs)) {
    if (!isOwn(path)) continue;
    const code = readFileSync(join(ROOT, path), 'utf8');
    for (const record of input.imports) {
      if (record.external || isOwn(record.path) || !reached.has(record.path)) continue;
      const spec = record.original;
      const quoted = spec.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      for (const match of code.matchAll(new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*['"]${quoted}['"]`, 'g'))) {
        for (const part of match[1].split(',').map((p) => p.trim())) {
          if (part && !part.startsWith('type ')) entryOf(spec).named.add(part.split(/\s+as\s+/)[0]);
        }
      }
      for (const match of code.matchAll(new RegExp(`import\\s*\\*\\s*as\\s+(\\w+)\\s+from\\s*['"]${quoted}['"]`, 'g'))) {
        for (const use of code.matchAll(new RegExp(`\\b${match[1]}\\.(\\w+)`, 'g'))) entryOf(spec).members.add(use[1]);
      }
    }
  }
  return imports;
}

function renderDependencyEntry(imports, keep = () => true) {
  const lines = [];
  let i = 0;
  for (const [spec, { named, members }] of imports) {
    const names = [...named].filter(keep).sort();
    if (names.length > 0) lines.push(`export { ${names.join(', ')} } from '${spec}';`);
    const used = [...members].filter(keep).sort();
    if (used.length > 0) {
      lines.push(`import * as ns${i} from '${spec}';`);
      lines.push(`export const ns${i}_members = [${used.map((n) => `ns${i}.${n}`).join(', ')}];`);
      i += 1;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Whether an unminified bundle declares a top-level `name` (esbuild may add a number to it). */
const declares = (text, name) => new RegExp(`(?:function\\*?|const|let|var|class)\\s+${name}\\d*\\b`).test(text);

/**
 * The entry of the dependency imports that the bundle of `entry` really uses. An imported member
 * whose code the full bundle tree-shook away (noble's `recoverPublicKey` when nothing verifies)
 * is dropped: it is declared in an unminified bundle of the dependencies alone but not in the
 * unminified full bundle.
 */
export async function dependencyEntry(entry, metafile) {
  const imports = dependencyImports(metafile);
  const everything = renderDependencyEntry(imports);
  const [full, deps] = await Promise.all([build(entry, false, false), build(everything, false, false)]);
  return renderDependencyEntry(imports, (name) => !declares(deps.text, name) || declares(full.text, name));
}

/**
 * Builds `entry` for the browser and reports its size, per module and per package, and the
 * package's own share. Resolves with
 * `{ minified, gzipped, dependencies: { entry, minified, gzipped }, own: { minified, gzipped }, modules, packages }`.
 */
export async function bundleReport(entry = APP_ENTRY, { detail } = {}) {
  ensureDist();
  const full = await build(entry, true);
  const output = outputOf(full.metafile);
  const shares = attribute(full.text, full.map);
  const modules = Object.entries(output.inputs)
    .filter(([path, v]) => v.bytesInOutput > 0 || shares.has(path))
    .map(([path, v]) => ({ path, minified: v.bytesInOutput, gzipped: shares.get(path)?.gzipped ?? 0 }));
  if (shares.has('(glue)')) modules.push({ path: '(glue)', minified: 0, gzipped: shares.get('(glue)').gzipped });
  modules.sort((a, b) => b.gzipped - a.gzipped);
  const packages = new Map();
  for (const m of modules) {
    const name = m.path === '(glue)' ? '(glue)' : packageOf(m.path);
    const p = packages.get(name) ?? packages.set(name, { name, minified: 0, gzipped: 0 }).get(name);
    p.minified += m.minified;
    p.gzipped += m.gzipped;
  }
  const depsEntry = await dependencyEntry(entry, full.metafile);
  const deps = await build(depsEntry, false);
  const minified = Buffer.byteLength(full.text);
  const gzipped = gz(full.text);
  const depsMinified = Buffer.byteLength(deps.text);
  const depsGzipped = gz(deps.text);
  let declarations;
  if (detail) {
    // `dist/src/client/client.js` or `src/client/client.ts`: the module's source, by declaration.
    const input = detail.startsWith('dist/') ? detail : `dist/${detail.replace(/\.tsx?$/, '.js')}`;
    const locate = await declarationsOf(join(ROOT, input.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
    const byDeclaration = attribute(full.text, full.map, (name, line, column) => (name === input ? `${input}#${locate(line, column)}` : name));
    declarations = [...byDeclaration]
      .filter(([key]) => key.startsWith(`${input}#`))
      .map(([key, share]) => ({ name: key.slice(input.length + 1), ...share }))
      .sort((a, b) => b.gzipped - a.gzipped);
  }
  return {
    minified,
    gzipped,
    ...(declarations ? { declarations } : {}),
    dependencies: { entry: depsEntry, minified: depsMinified, gzipped: depsGzipped },
    own: { minified: minified - depsMinified, gzipped: gzipped - depsGzipped },
    modules,
    packages: [...packages.values()].sort((a, b) => b.gzipped - a.gzipped),
  };
}

const kib = (n) => `${n.toLocaleString('en-US').padStart(7)} B ${`(${(n / 1024).toFixed(1)} KiB)`.padStart(11)}`;

/** The report as text. */
export function renderReport(report) {
  const rows = (items, label) => items.map((m) => `  ${String(m.minified).padStart(6)}  ${String(m.gzipped).padStart(6)}  ${m[label]}`);
  return [
    `bundle:             ${kib(report.minified)} minified, ${kib(report.gzipped)} gzipped (level 9)`,
    `dependencies alone: ${kib(report.dependencies.minified)} minified, ${kib(report.dependencies.gzipped)} gzipped`,
    `the package's own:  ${kib(report.own.minified)} minified, ${kib(report.own.gzipped)} gzipped (bundle − dependencies alone)`,
    '',
    'per package (gzipped attributed by position; they add up to the bundle):',
    '     min      gz  package',
    ...rows(report.packages, 'name'),
    '',
    'per module:',
    '     min      gz  module',
    ...rows(report.modules, 'path'),
    '',
    ...(report.declarations
      ? ['declarations of the module asked for (minified and gzipped by position):', '     min      gz  declaration', ...rows(report.declarations, 'name'), '']
      : []),
    'dependencies-alone entry:',
    ...report.dependencies.entry.trimEnd().split('\n').map((line) => `  ${line}`),
    '',
  ].join('\n');
}

/**
 * The same entry built by Vite (a production build with its defaults: `browser` and `module`
 * conditions, its own minifier), as a cross-check of the esbuild figures. Vite comes with vitest;
 * it is not a dependency of its own. Resolves with `{ minified, gzipped, modules }` over every chunk.
 */
export async function viteReport(entry = APP_ENTRY) {
  ensureDist();
  const { build: viteBuild } = await import('vite');
  const dir = join(ROOT, 'node_modules/.cache/bundle-report');
  mkdirSync(dir, { recursive: true });
  const input = join(dir, 'entry.js');
  writeFileSync(input, entry);
  const result = await viteBuild({
    root: ROOT,
    configFile: false,
    logLevel: 'silent',
    build: { write: false, minify: true, modulePreload: false, rollupOptions: { input, preserveEntrySignatures: 'strict' } },
  });
  const chunks = (Array.isArray(result) ? result : [result]).flatMap((r) => r.output).filter((o) => o.type === 'chunk');
  return {
    minified: chunks.reduce((sum, c) => sum + Buffer.byteLength(c.code), 0),
    gzipped: chunks.reduce((sum, c) => sum + gz(c.code), 0),
    modules: chunks.flatMap((c) => Object.keys(c.modules)).map((path) => relative(ROOT, path).replaceAll('\\', '/')),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--entry');
  const entry = at >= 0 && argv[at + 1] ? argv[at + 1] : argv.includes('--full') ? FULL_ENTRY : APP_ENTRY;
  const d = argv.indexOf('--detail');
  const report = await bundleReport(entry, { detail: d >= 0 ? argv[d + 1] : undefined });
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  if (argv.includes('--vite')) {
    const vite = await viteReport(entry);
    const hashes = vite.modules.filter((path) => path.includes('@noble/hashes/')).map((path) => path.replace(/.*\/@noble\/hashes\//, ''));
    console.log(`Vite build of the same entry: ${kib(vite.minified)} minified, ${kib(vite.gzipped)} gzipped; @noble/hashes modules: ${hashes.join(', ')}`);
  }
}
