// Small DOM helpers. Every text reaches the page through text nodes, never
// through HTML parsing, so data from the API cannot become markup.

/**
 * Builds an element. props: class, text, hidden, dataset ({k: v}), on
 * ({event: fn}); any other key is set as an attribute (false/null skip it).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = String(value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of node. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  node.removeAttribute('aria-busy');
}

/** Returns the element with the given id, or throws: a missing element is a bug. */
export function byId(id) {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`missing element #${id}`);
  return node;
}

/** Shows a message in an alert or status region; an empty text clears it. */
export function say(region, text) {
  region.textContent = text || '';
}

/**
 * Runs fn while button is disabled and busy, so that a double click sends
 * one request.
 */
export async function busy(button, fn) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: 'short', year: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
});

function toDate(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "05 Feb 2026", or '' for no date. */
export function formatDate(value) {
  const d = toDate(value);
  return d === null ? '' : dateFormat.format(d);
}

/** "05 Feb 2026, 14:30", or '' for no date. */
export function formatDateTime(value) {
  const d = toDate(value);
  return d === null ? '' : dateTimeFormat.format(d);
}

/** A <time> element for an ISO date, or null. */
export function timeElement(value, withTime) {
  const text = withTime ? formatDateTime(value) : formatDate(value);
  return text === '' ? null : h('time', { datetime: value, text });
}

/** Copies text to the clipboard and reports the outcome in a status region. */
export async function copyText(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    say(status, 'Copied.');
  } catch {
    say(status, 'Copying is not available here; select the text and copy it.');
  }
}
