#!/usr/bin/env node
/**
 * Draws the statecharts as Mermaid `stateDiagram-v2`s, generated from the built machines (made by
 * `npm run build`), and writes each into docs/architecture.md between its markers: the connection
 * chart (`dist/machines/connection.js`) between `<!-- statechart:begin -->` and
 * `<!-- statechart:end -->`, the manager's (`dist/machines/manager.js`) between
 * `<!-- manager-statechart:begin -->` and `<!-- manager-statechart:end -->`.
 *
 *   node scripts/statechart.mjs           rewrite the diagram in docs/architecture.md
 *   node scripts/statechart.mjs --check   exit 1 when docs/architecture.md differs from what would be written
 *   node scripts/statechart.mjs --print   print the diagrams (no fences) and write nothing
 *   --doc PATH                            use another Markdown file instead of docs/architecture.md
 *
 * The output depends only on the machine's definition, walked in document order, so it is
 * byte-for-byte stable. Mermaid ids cannot contain dots: a state's id is its path joined with `_`
 * (`session_authenticated_idle`) and its key is the visible label.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const defaultDocPath = fileURLToPath(new URL('../docs/architecture.md', import.meta.url));
/** Each chart: its markers, and where its built machine is. */
const charts = [
  { marker: 'statechart', file: '../dist/machines/connection.js', name: 'circleWsMachine' },
  { marker: 'manager-statechart', file: '../dist/machines/manager.js', name: 'circleWsManagerMachine' },
].map((chart) => ({ ...chart, path: fileURLToPath(new URL(chart.file, import.meta.url)) }));

/** Built-in actions xstate adds by itself: the timers behind `after` (drawn as edges instead). */
const timerActions = new Set(['xstate.raise', 'xstate.cancel']);

/** Mermaid treats `#` and `;` specially and `"` ends a state label: write them as entity codes. */
function escape(text) {
  return text.replaceAll('#', '#35;').replaceAll(';', '#59;').replaceAll('"', '#quot;');
}

/** The name of an action, named or built-in (`assign`, `raise`…). */
function actionName(action) {
  if (typeof action === 'string') return action;
  const type = typeof action?.type === 'string' ? action.type : action?.name || 'anonymous';
  return type.startsWith('xstate.') ? type.slice('xstate.'.length) : type;
}

/** The name of a guard: named, inline, or a combination (`not(x)`, `and(a, b)`). */
function guardName(guard) {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function' && Array.isArray(guard.guards)) {
    return `${guard.name}(${guard.guards.map(guardName).join(', ')})`;
  }
  if (typeof guard?.type === 'string') return guard.type;
  return guard?.name || 'inline';
}

function delayName(delay) {
  if (typeof delay === 'number') return `${delay}ms`;
  if (typeof delay === 'string') return delay;
  return delay?.name || 'inline';
}

/**
 * One transition's label, UML style: `event [guard] / action, action`, with `(reenter)` when the
 * transition exits and re-enters its source on purpose.
 */
function label(event, transition) {
  let text = event;
  if (transition.guard !== undefined) text += ` [${guardName(transition.guard)}]`;
  const actions = transition.actions.map(actionName);
  if (actions.length > 0) text += ` / ${actions.join(', ')}`;
  if (transition.reenter) text += ' (reenter)';
  return escape(text);
}

/** Ids unique across nesting: the path from the root, joined with `_`. */
function makeIds(root) {
  const ids = new Map();
  const owners = new Map();
  const visit = (node) => {
    if (node !== root) {
      const id = node.path.map((key) => key.replace(/[^A-Za-z0-9_]/g, '_')).join('_');
      if (owners.has(id)) throw new Error(`two states map to the Mermaid id ${id}: ${owners.get(id)} and ${node.id}`);
      owners.set(id, node.id);
      ids.set(node, id);
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(root);
  return ids;
}

/** Every transition leaving `node`, in document order: events, then `after`, then `always`. */
function transitionsOf(node) {
  const out = [];
  const delayed = new Map(node.after.map((t) => [t.eventType, t.delay]));
  for (const [eventType, list] of node.transitions) {
    const event = delayed.has(eventType) ? `after ${delayName(delayed.get(eventType))}` : eventType;
    for (const transition of list) out.push({ event, transition });
  }
  for (const transition of node.always ?? []) out.push({ event: 'always', transition });
  return out;
}

/** The deepest state whose block should hold an edge: a strict ancestor of both ends. */
function containerOf(source, target) {
  let depth = 0;
  while (depth < source.path.length && depth < target.path.length && source.path[depth] === target.path[depth]) depth++;
  depth = Math.min(depth, source.path.length - 1, target.path.length - 1);
  let node = source;
  while (node.path.length > depth) node = node.parent;
  return node;
}

/** Builds the diagram text (without the ``` fences). */
function renderStatechart(machine) {
  const root = machine.root;
  const ids = makeIds(root);

  // Edges grouped by the block that declares them; targetless transitions become internal lines.
  const edges = new Map();
  const internal = new Map();
  const visit = (node) => {
    for (const { event, transition } of transitionsOf(node)) {
      const targets = transition.target ?? [];
      if (targets.length === 0) {
        if (!internal.has(node)) internal.set(node, []);
        internal.get(node).push(label(event, transition));
        continue;
      }
      for (const target of targets) {
        const container = containerOf(node, target);
        if (!edges.has(container)) edges.set(container, []);
        edges.get(container).push(`${ids.get(node)} --> ${ids.get(target)} : ${label(event, transition)}`);
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(root);

  /** What a state does besides its transitions: invoked actors, entry/exit actions, tags, internal transitions. */
  const notesOf = (node) => {
    const notes = [];
    for (const invoke of node.invoke) {
      const src = typeof invoke.src === 'string' ? invoke.src : invoke.id;
      notes.push(invoke.id === src ? `invoke ${src}` : `invoke ${src} as ${invoke.id}`);
    }
    const entry = node.entry.map(actionName).filter((name) => !timerActions.has(`xstate.${name}`));
    if (entry.length > 0) notes.push(`entry / ${entry.join(', ')}`);
    const exit = node.exit.map(actionName).filter((name) => !timerActions.has(`xstate.${name}`));
    if (exit.length > 0) notes.push(`exit / ${exit.join(', ')}`);
    if (node.tags.length > 0) notes.push(`tags ${[...node.tags].join(', ')}`);
    for (const line of internal.get(node) ?? []) notes.push(line);
    return notes.map(escape);
  };

  const lines = ['stateDiagram-v2'];
  const block = (node, indent) => {
    const pad = '  '.repeat(indent);
    const children = Object.values(node.states);
    if (node.type === 'compound' && node.initial?.target?.length) {
      for (const target of node.initial.target) lines.push(`${pad}[*] --> ${ids.get(target)}`);
    }
    children.forEach((child, index) => {
      if (node.type === 'parallel' && index > 0) lines.push(`${pad}--`);
      const id = ids.get(child);
      const name = escape(child.key);
      const notes = notesOf(child);
      if (Object.keys(child.states).length > 0) {
        lines.push(`${pad}state "${name}" as ${id} {`);
        block(child, indent + 1);
        lines.push(`${pad}}`);
        // Mermaid gives a composite state only a label: what it does goes in a note beside it.
        if (notes.length > 0) {
          lines.push(`${pad}note right of ${id}`);
          for (const note of notes) lines.push(`${pad}  ${note}`);
          lines.push(`${pad}end note`);
        }
      } else {
        lines.push(`${pad}state "${name}" as ${id}`);
        for (const note of notes) lines.push(`${pad}${id} : ${note}`);
        if (child.type === 'final') lines.push(`${pad}${id} --> [*]`);
      }
    });
    for (const edge of edges.get(node) ?? []) lines.push(`${pad}${edge}`);
  };
  block(root, 1);
  return `${lines.join('\n')}\n`;
}

/** docs/architecture.md with the diagram between the chart's markers. */
function withDiagram(doc, diagram, marker, docPath) {
  const BEGIN = `<!-- ${marker}:begin -->`;
  const END = `<!-- ${marker}:end -->`;
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(`${docPath} must contain ${BEGIN} followed by ${END}`);
  }
  const fenced = `\n\`\`\`mermaid\n${diagram}\`\`\`\n`;
  return doc.slice(0, begin + BEGIN.length) + fenced + doc.slice(end);
}

async function main(argv) {
  const args = [];
  let docPath = defaultDocPath;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--doc' && i + 1 < argv.length) docPath = argv[++i];
    else args.push(argv[i]);
  }
  const unknown = args.filter((arg) => arg !== '--check' && arg !== '--print');
  if (unknown.length > 0) {
    console.error(`usage: node scripts/statechart.mjs [--check | --print] [--doc PATH] (unknown: ${unknown.join(' ')})`);
    return 2;
  }
  const diagrams = [];
  for (const chart of charts) {
    let machine;
    try {
      machine = (await import(pathToFileURL(chart.path).href))[chart.name];
    } catch (error) {
      console.error(`cannot load ${chart.path}: run \`npm run build\` first (${error instanceof Error ? error.message : error})`);
      return 2;
    }
    diagrams.push({ marker: chart.marker, diagram: renderStatechart(machine) });
  }
  if (args.includes('--print')) {
    process.stdout.write(diagrams.map((d) => d.diagram).join('\n'));
    return 0;
  }
  const doc = readFileSync(docPath, 'utf8');
  const name = path.relative(process.cwd(), docPath) || docPath;
  let next = doc;
  try {
    for (const { marker, diagram } of diagrams) next = withDiagram(next, diagram, marker, name);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  if (args.includes('--check')) {
    if (next !== doc) {
      console.error(`${name}: the statechart diagram is out of date; run \`npm run docs:statechart\` (after \`npm run build\`) and commit the result`);
      return 1;
    }
    console.log(`${name}: the statechart diagram is up to date`);
    return 0;
  }
  if (next !== doc) writeFileSync(docPath, next);
  console.log(next === doc ? `${name}: already up to date` : `${name}: statechart diagram written`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
