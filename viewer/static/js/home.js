// The home dashboard: upcoming meetings, meeting invites, panel activity
// and panel invites of the signed-in user.

import { get } from './api.js';
import { fill, h, timeElement } from './dom.js';
import { safeNext } from './nav.js';
import { startShell, pageError } from './shell.js';

await startShell();

const cards = [...document.querySelectorAll('[data-card]')];
try {
  const dashboard = await get('/api/dashboard');
  for (const card of cards) {
    const items = dashboard?.[card.dataset.card];
    showItems(card, Array.isArray(items) ? items : []);
  }
} catch (err) {
  if (err.status !== 401) {
    pageError(err);
    for (const card of cards) {
      fill(card.querySelector('[data-card-body]'), h('p', { class: 'muted', text: 'Not available right now.' }));
    }
  }
}

function showItems(card, items) {
  const body = card.querySelector('[data-card-body]');
  if (items.length === 0) {
    fill(body, h('p', { class: 'empty', text: card.dataset.empty }));
  } else {
    fill(body, h('ul', {}, items.map(item)));
  }
  card.dataset.loaded = 'true';
}

// Dashboard entries name what they are about and when; a link is followed
// only when it stays on this site.
function item(entry) {
  const text = entry.title || entry.name || entry.summary || 'Untitled';
  const when = entry.startsAt || entry.at || entry.createdAt || entry.updatedAt;
  const href = typeof entry.href === 'string' && entry.href.startsWith('/') ? safeNext(entry.href) : '';
  return h('li', {},
    href !== '' && href !== '/' ? h('a', { href, text }) : h('span', { text }),
    when ? [' · ', timeElement(when, true)] : null);
}
