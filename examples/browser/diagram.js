/**
 * Draws an XState v5 machine as nested boxes, one per state node, read from the machine itself
 * (`client.actor.logic`): compound states contain their children, and each box lists what it
 * invokes and the transitions leaving it. `highlight(snapshot.value)` marks the active states.
 *
 * Every box is `<section class="state" data-state="KEY" data-id="ID">`; active ones get `active`.
 */

/** A readable name for a transition's event. */
function eventLabel(eventType) {
  if (eventType === '') return 'always';
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done) return `${done[1]} done`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (error) return `${error[1]} error`;
  return eventType;
}

function guardLabel(guard) {
  if (!guard) return '';
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && typeof guard.type === 'string') return guard.type;
  return 'guard';
}

/** The transitions leaving `node`, as `{ event, guard, target }` rows. */
function transitionsOf(node) {
  const rows = [];
  for (const [eventType, definitions] of node.transitions) {
    for (const definition of definitions) {
      rows.push({
        event: eventLabel(eventType),
        guard: guardLabel(definition.guard),
        target: definition.target?.map((target) => target.key).join(', ') ?? '',
      });
    }
  }
  for (const definition of node.always ?? []) {
    rows.push({ event: 'always', guard: guardLabel(definition.guard), target: definition.target?.map((t) => t.key).join(', ') ?? '' });
  }
  return rows;
}

function element(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  for (const child of children) el.append(child);
  return el;
}

function renderNode(node, isRoot) {
  const box = element('section', { class: `state ${node.type}${isRoot ? ' root' : ''}`, 'data-state': node.key, 'data-id': node.id });
  const title = element('header', {}, element('span', { class: 'name' }, node.key));
  for (const tag of node.tags ?? []) title.append(element('span', { class: 'tag' }, tag));
  if (node.parent && node.parent.initial?.target?.[0] === node) box.classList.add('initial');
  box.append(title);

  const details = element('ul', { class: 'details' });
  for (const invoke of node.invoke ?? []) {
    details.append(element('li', { class: 'invoke' }, `invoke ${typeof invoke.src === 'string' ? invoke.src : invoke.id}`));
  }
  for (const row of transitionsOf(node)) {
    const li = element('li', { class: 'transition' }, element('span', { class: 'event' }, row.event));
    if (row.guard) li.append(element('span', { class: 'guard' }, `[${row.guard}]`));
    li.append(` → ${row.target || '(stays)'}`);
    details.append(li);
  }
  if (details.childElementCount > 0) box.append(details);

  const children = Object.values(node.states ?? {});
  if (children.length > 0) {
    const inner = element('div', { class: 'children' });
    for (const child of children) inner.append(renderNode(child, false));
    box.append(inner);
  }
  return box;
}

/** The ids of the active state nodes of a snapshot value (`'circleWs'`, `'circleWs.session'`, …). */
export function activeIds(value, prefix) {
  const ids = [prefix];
  if (typeof value === 'string') ids.push(`${prefix}.${value}`);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) ids.push(...activeIds(child, `${prefix}.${key}`));
  }
  return ids;
}

/**
 * Draws `machine` into `container`.
 * @returns {{ highlight(value: unknown): void }}
 */
export function renderStatechart(machine, container) {
  container.replaceChildren(renderNode(machine.root, true));
  const boxes = [...container.querySelectorAll('[data-id]')];
  return {
    highlight(value) {
      const active = new Set(activeIds(value, machine.root.id));
      for (const box of boxes) box.classList.toggle('active', active.has(box.dataset.id));
    },
  };
}
