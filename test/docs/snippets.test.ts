/**
 * Every code block of the docs, checked as a user would meet it.
 *
 * What is checked: every ```ts, ```tsx and ```js block (also spelled typescript, javascript, jsx,
 * mjs) in README.md and docs/*.md. The line right above the opening fence decides what happens:
 *
 *   (no marker)                 type-checked: the block must be a complete module, imports included.
 *   <!-- snippet: run -->       type-checked, then run with Node 20 against a live reference server.
 *   <!-- snippet: excerpt -->   a fragment: skipped, and counted as skipped.
 *
 * Type-checking: each block becomes one module file (`.ts`, `.tsx`, or `.mjs` with checkJs) in a
 * temporary consumer project whose `node_modules/circle-ws-client` links to this repository, so
 * `circle-ws-client`, `/server`, `/testing`, `/react` and `/machine` resolve through
 * package.json's `exports` to the BUILT `dist/` (vitest's global setup builds it), under
 * `moduleResolution: nodenext`, `strict`, with the DOM and Node types both present. The other
 * packages a block may import (react, @xstate/react, @statelyai/inspect, xstate) come from this
 * repository's node_modules. All blocks are checked in one TypeScript program. The blocks of
 * docs/frontend.md (the browser page) that import no `node:` module are checked a second time, in
 * a second program, as a browser app's code: `moduleResolution: bundler` with the `browser`
 * condition, and no Node types.
 *
 * Running: a runnable block is compiled by TypeScript to ES2022 JavaScript, as `tsc` would for
 * Node 20 (types dropped, `await using` lowered to try/finally), and run as `node snippet.mjs` in
 * a fresh directory of the consumer project, with a 30 s limit. It passes when it exits with 0 by
 * itself (so it must disconnect and close what it opens). Before
 * the run, the test starts a reference server (`createCircleServer`, 127.0.0.1, port 0, auth on)
 * for a new circle and gives the block two things:
 *   - the URL: every quoted URL whose path starts with the elided circle key `02ab…`
 *     (e.g. 'ws://127.0.0.1:8080/02ab…circle-public-key') is replaced by the live server's URL
 *     for its circle; a block that has such a URL must then have opened a connection to it;
 *   - the key: `circle.key` in the working directory holds a fresh private key (64 hex, mode 0600).
 * A block that needs neither (its own server, or the fake transport) runs as written.
 *
 * The summary line printed at the end gives the counts. docs/testing.md describes the convention
 * for doc writers.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, ensureDist } from '../../scripts/ensure-dist.mjs';
import { generateKeypair } from '../../src/index.js';
import { createCircleServer, type CircleServer } from '../../src/server/index.js';

type SnippetMode = 'check' | 'run' | 'excerpt';

interface Snippet {
  /** The Markdown file, relative to the repository root. */
  readonly doc: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  readonly mode: SnippetMode;
}

const LANGS: Record<string, '.ts' | '.tsx' | '.mjs'> = {
  ts: '.ts',
  typescript: '.ts',
  tsx: '.tsx',
  js: '.mjs',
  javascript: '.mjs',
  mjs: '.mjs',
  jsx: '.tsx',
};
const MARKER = /^<!--\s*snippet:\s*(\S+)\s*-->$/;
const FENCE = /^(`{3,}|~{3,})\s*([\w-]*)/;

/**
 * The checked code blocks of one Markdown text, with their marker. Throws on a marker that is
 * unknown or not directly above a checked block, so a misplaced marker cannot silently turn
 * a check off.
 */
function extractSnippets(doc: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? '';
    const marker = MARKER.exec(text.trim());
    if (marker) {
      const kind = marker[1];
      if (kind !== 'run' && kind !== 'excerpt') throw new Error(`${doc}:${i + 1}: unknown snippet marker "${kind}" (use run or excerpt)`);
      const next = FENCE.exec(lines[i + 1] ?? '');
      if (!next || !((next[2] ?? '').toLowerCase() in LANGS)) {
        throw new Error(`${doc}:${i + 1}: <!-- snippet: ${kind} --> must be the line right above a ts/tsx/js code fence`);
      }
      continue;
    }
    const fence = FENCE.exec(text);
    if (!fence) continue;
    const [, ticks = '```', info = ''] = fence;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] ?? '').startsWith(ticks); i++) body.push(lines[i] ?? '');
    if (i >= lines.length) throw new Error(`${doc}:${start + 1}: code fence never closed`);
    const lang = info.toLowerCase();
    if (!(lang in LANGS)) continue;
    const above = MARKER.exec((lines[start - 1] ?? '').trim())?.[1];
    snippets.push({ doc, line: start + 1, lang, code: body.join('\n'), mode: above === 'run' || above === 'excerpt' ? above : 'check' });
  }
  return snippets;
}

/** README.md and every docs/*.md, in a stable order. */
function docFiles(root: string): string[] {
  const docs = readdirSync(path.join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** Quoted URLs whose path starts with the elided circle key: the placeholder runnable blocks use. */
const PLACEHOLDER_URL = /(['"`])wss?:\/\/[^'"`\s]*\/02ab…[^'"`\s]*\1/g;

/** What the test substitutes in a runnable block before running it. */
function substituteUrl(code: string, url: string): { code: string; count: number } {
  let count = 0;
  const replaced = code.replace(PLACEHOLDER_URL, () => {
    count++;
    return JSON.stringify(url);
  });
  return { code: replaced, count };
}

/**
 * A consumer project in a temporary directory: `node_modules/circle-ws-client` links to the
 * repository (so `exports` and `dist/` are used as published), every other package links to
 * the repository's copy.
 */
function makeConsumer(root: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'circle-ws-snippets-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'docs-snippets', private: true, type: 'module' }));
  const modules = path.join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(path.join(root, 'node_modules'))) {
    if (name.startsWith('.') || name === 'circle-ws-client') continue;
    symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name), 'dir');
  }
  symlinkSync(root, path.join(modules, 'circle-ws-client'), 'dir');
  return dir;
}

const compilerOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  strict: true,
  noEmit: true,
  jsx: ts.JsxEmit.ReactJSX,
  allowJs: true,
  checkJs: true,
  esModuleInterop: true,
  skipLibCheck: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
};

/**
 * Browser code as a Vite or webpack app type-checks it: bundler resolution with the `browser`
 * condition (the root then resolves to the browser entry's types), and no Node types at all.
 */
const browserCompilerOptions: ts.CompilerOptions = {
  ...compilerOptions,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  customConditions: ['browser'],
  types: [],
};

const parsed = new Map<string, ts.SourceFile>();

/** Writes each block as a module and type-checks them all in one program; messages per block. */
function typeCheck(dir: string, snippets: readonly Snippet[], options: ts.CompilerOptions): { perSnippet: Map<Snippet, string[]>; global: string[] } {
  const files = new Map<string, Snippet>();
  mkdirSync(dir, { recursive: true });
  for (const snippet of snippets) {
    const name = `${snippet.doc.replace(/[^\w]+/g, '-')}-L${snippet.line}${LANGS[snippet.lang]}`;
    const file = path.join(dir, name);
    // `export {}` makes a block without imports a module too, so blocks never share a scope.
    writeFileSync(file, `${snippet.code}\nexport {};\n`);
    files.set(path.resolve(file), snippet);
  }
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  // The two programs share their parsed files (the DOM and ES libraries are most of the time).
  host.getSourceFile = (fileName, language, ...rest) => {
    const key = `${fileName}\0${typeof language === 'object' ? `${language.languageVersion}:${language.impliedNodeFormat}` : language}`;
    let file = parsed.get(key);
    if (!file) {
      file = read(fileName, language, ...rest);
      if (file && fileName.endsWith('.d.ts')) parsed.set(key, file);
    }
    return file;
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const perSnippet = new Map<Snippet, string[]>(snippets.map((snippet) => [snippet, []]));
  const global: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const snippet = diagnostic.file ? files.get(path.resolve(diagnostic.file.fileName)) : undefined;
    if (snippet && diagnostic.file && diagnostic.start !== undefined) {
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      // Line 1 of the block is the line after its fence.
      perSnippet.get(snippet)?.push(`${snippet.doc}:${snippet.line + 1 + line}:${character + 1} TS${diagnostic.code}: ${message}`);
    } else {
      global.push(`${diagnostic.file?.fileName ?? '(program)'} TS${diagnostic.code}: ${message}`);
    }
  }
  return { perSnippet, global };
}

/** Runs `node file` in `cwd`; resolves with how it ended (never rejects). */
function runNode(file: string, cwd: string, timeoutMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Asynchronous on purpose: the reference server lives in this process and must keep answering.
    const child = spawn(process.execPath, [file], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const snippets = docFiles(ROOT).flatMap((doc) => extractSnippets(doc, readFileSync(path.join(ROOT, doc), 'utf8')));
const checked = snippets.filter((snippet) => snippet.mode !== 'excerpt');
const runnable = snippets.filter((snippet) => snippet.mode === 'run');
const excerpts = snippets.filter((snippet) => snippet.mode === 'excerpt');
const label = (snippet: Snippet) => `${snippet.doc}:${snippet.line} (${snippet.lang})`;

/**
 * A block that must fail, checked in the same program: if the package's types stopped resolving
 * (everything `any`) or diagnostics were lost, the docs' blocks would pass for nothing.
 */
const canary: Snippet = {
  doc: '(canary)',
  line: 1,
  lang: 'ts',
  code: "import { CircleWsClient } from 'circle-ws-client';\nCircleWsClient.builder('ws://x/02ab').withKeypair(42);",
  mode: 'check',
};

let consumer = '';
/**
 * docs/frontend.md is the browser page: its blocks that import no `node:` module are checked a
 * second time, as browser code.
 */
const browserBlocks = checked.filter((snippet) => snippet.doc === 'docs/frontend.md' && !/from ['"]node:/.test(snippet.code));

let result: ReturnType<typeof typeCheck> | undefined;
let browserResult: ReturnType<typeof typeCheck> | undefined;

beforeAll(() => {
  ensureDist();
  consumer = makeConsumer(ROOT);
  const started = performance.now();
  result = typeCheck(path.join(consumer, 'snippets'), [...checked, canary], compilerOptions);
  browserResult = typeCheck(path.join(consumer, 'browser-snippets'), browserBlocks, browserCompilerOptions);
  console.log(`docs snippets: ${checked.length} blocks type-checked in one program (and ${browserBlocks.length} as browser code in a second) in ${Math.round(performance.now() - started)} ms`);
}, 120_000);

afterAll(() => {
  console.log(`docs snippets: ${snippets.length} blocks: ${checked.length} type-checked, ${runnable.length} of them run, ${excerpts.length} excerpts skipped`);
  if (consumer) rmSync(consumer, { recursive: true, force: true });
});

describe('docs code blocks', () => {
  it('finds the blocks and every one is classified', () => {
    expect(checked.length).toBeGreaterThan(5);
    expect(runnable.length).toBeGreaterThan(0);
    expect(checked.length + excerpts.length).toBe(snippets.length);
    // The consumer resolves the package to this repository's build, not to a copy.
    expect(ts.resolveModuleName('circle-ws-client/server', path.join(consumer, 'snippets', 'x.ts'), compilerOptions, ts.sys).resolvedModule?.resolvedFileName).toBe(
      path.join(ROOT, 'dist/src/server/index.d.ts'),
    );
    // …and browser code gets the browser entry's types.
    expect(ts.resolveModuleName('circle-ws-client', path.join(consumer, 'browser-snippets', 'x.ts'), browserCompilerOptions, ts.sys).resolvedModule?.resolvedFileName).toBe(
      path.join(ROOT, 'dist/src/index.d.ts'),
    );
  });

  it('the same program catches a wrong call into the package (the canary block)', () => {
    expect(result?.perSnippet.get(canary)?.join('\n')).toMatch(/TS2345: Argument of type 'number' is not assignable to parameter of type 'string'/);
  });

  it('the program has no error outside the blocks', () => {
    expect(result?.global).toEqual([]);
    expect(browserResult?.global).toEqual([]);
  });

  it.each(checked.map((snippet) => [label(snippet), snippet] as const))('%s type-checks against the built package', (_, snippet) => {
    expect(result?.perSnippet.get(snippet)).toEqual([]);
  });

  it.each(browserBlocks.map((snippet) => [label(snippet), snippet] as const))('%s type-checks as browser code (bundler, browser condition, no Node types)', (_, snippet) => {
    expect(browserResult?.perSnippet.get(snippet)).toEqual([]);
  });

  describe.runIf(runnable.length > 0)('runnable blocks', () => {
    let server: CircleServer;
    const circle = generateKeypair().publicKeyCompressed;
    let opened = 0;

    beforeAll(async () => {
      const count = (message: string) => {
        if (message === 'connection opened') opened++;
      };
      server = await createCircleServer({ port: 0, circles: [circle], logger: { debug() {}, info: count, warn() {}, error() {} } });
    });
    afterAll(async () => {
      await server?.close();
    });

    it.each(runnable.map((snippet, index) => [label(snippet), snippet, index] as const))(
      '%s runs against the reference server',
      async (_, snippet, index) => {
        const cwd = path.join(consumer, `run-${index}`);
        mkdirSync(cwd);
        writeFileSync(path.join(cwd, 'circle.key'), `${generateKeypair().privateKey}\n`, { mode: 0o600 });
        const { code, count } = substituteUrl(snippet.code, server.urlFor(circle));
        const js = ts.transpileModule(code, {
          compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, jsx: ts.JsxEmit.ReactJSX, verbatimModuleSyntax: false },
          fileName: `snippet${LANGS[snippet.lang]}`,
        }).outputText;
        const file = path.join(cwd, 'snippet.mjs');
        writeFileSync(file, js);
        const before = opened;
        const run = await runNode(file, cwd, 30_000);
        const how = run.signal ? `was killed after 30 s (${run.signal}): it left a socket or timer open; disconnect and close what it opens` : `exited ${run.code}`;
        const context = `${label(snippet)} ${how}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
        expect(run.signal, context).toBeNull();
        expect(run.code, context).toBe(0);
        if (count > 0) expect(opened - before, `${label(snippet)} never reached ${server.urlFor(circle)}`).toBeGreaterThan(0);
      },
      45_000,
    );
  });
});

describe('extractSnippets', () => {
  const doc = (lines: string[]) => lines.join('\n');

  it('reads each marker from the line right above the fence; other languages are not blocks', () => {
    const found = extractSnippets(
      'x.md',
      doc(['```ts', 'a', '```', '<!-- snippet: run -->', '```js', 'b', '```', '<!-- snippet: excerpt -->', '```tsx', 'c', '```', '```sh', 'd', '```', '```json', '{}', '```']),
    );
    expect(found.map(({ line, lang, code, mode }) => ({ line, lang, code, mode }))).toEqual([
      { line: 1, lang: 'ts', code: 'a', mode: 'check' },
      { line: 5, lang: 'js', code: 'b', mode: 'run' },
      { line: 9, lang: 'tsx', code: 'c', mode: 'excerpt' },
    ]);
  });

  it('refuses a marker that is not right above a checked fence, or unknown', () => {
    expect(() => extractSnippets('x.md', doc(['<!-- snippet: run -->', '', '```ts', 'a', '```']))).toThrow(/x\.md:1: .* must be the line right above/);
    expect(() => extractSnippets('x.md', doc(['<!-- snippet: run -->', '```sh', 'a', '```']))).toThrow(/must be the line right above/);
    expect(() => extractSnippets('x.md', doc(['<!-- snippet: skip -->', '```ts', 'a', '```']))).toThrow(/unknown snippet marker "skip"/);
    expect(() => extractSnippets('x.md', doc(['```ts', 'a']))).toThrow(/never closed/);
  });

  it('replaces each placeholder URL (path starting 02ab…) and leaves other URLs alone', () => {
    const { code, count } = substituteUrl("a('ws://127.0.0.1:8080/02ab…circle-public-key'); b(\"wss://circle.example.org/02ab…\"); c('ws://test/02ab');", 'ws://127.0.0.1:1/03cd');
    expect(count).toBe(2);
    expect(code).toBe('a("ws://127.0.0.1:1/03cd"); b("ws://127.0.0.1:1/03cd"); c(\'ws://test/02ab\');');
  });
});
