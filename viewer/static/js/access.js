// The access request page: ask for a role at a centre of an ERN, and follow
// your own requests.

import { get, post } from './api.js';
import { busy, byId, fill, h, say, timeElement } from './dom.js';
import { centreName, linkErnCentre, loadErns } from './ern.js';
import { needsCentre, REQUESTABLE_ROLES, roleLabel } from './roles.js';
import { pageError, startShell } from './shell.js';

const me = await startShell();

const form = byId('request-form');
const ernSelect = byId('request-ern');
const centreSelect = byId('request-centre');
const roleSelect = byId('request-role');
const roleHint = byId('request-role-hint');
const requestError = byId('request-error');
const requestDone = byId('request-done');
const mine = byId('my-requests');
const mineError = byId('mine-error');

roleSelect.replaceChildren(
  h('option', { value: '', text: 'Choose a profile' }),
  ...REQUESTABLE_ROLES.map((r) => h('option', { value: r.name, text: r.name })));

// A centre is asked for only when the chosen profile is held at one.
const centreNeeded = () => roleSelect.value === '' || needsCentre(roleSelect.value);
let listCentres = () => {};
function profileChanged() {
  roleHint.textContent = REQUESTABLE_ROLES.find((r) => r.name === roleSelect.value)?.about || '';
  centreSelect.required = centreNeeded();
  listCentres();
}
roleSelect.addEventListener('change', profileChanged);
profileChanged();

let erns = [];
try {
  erns = await loadErns();
  listCentres = linkErnCentre(ernSelect, centreSelect, erns, {
    centrePlaceholder: () => (centreNeeded() ? 'Choose a centre' : 'None (the whole ERN)'),
  });
} catch (err) {
  if (err.status !== 401) pageError(err);
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say(requestError, '');
  say(requestDone, '');
  const body = {
    ern: ernSelect.value,
    centre: centreSelect.value,
    role: roleSelect.value,
    comment: byId('request-comment').value.trim(),
  };
  await busy(form.querySelector('button[type="submit"]'), async () => {
    try {
      await post('/api/access-requests', body);
      form.reset();
      profileChanged();
      say(requestDone, `Your request for ${roleLabel(body)} has been sent.`);
      await showMine();
    } catch (err) {
      say(requestError, err.message);
    }
  });
});

await showMine();

async function showMine() {
  say(mineError, '');
  let requests;
  try {
    requests = await get('/api/access-requests?status=all');
  } catch (err) {
    say(mineError, err.message);
    fill(mine);
    return;
  }
  // Administrators get their ERN's requests here too; this list is yours.
  const own = (Array.isArray(requests) ? requests : [])
    .filter((r) => !r.user || r.user.id === me.id)
    .sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
  if (own.length === 0) {
    fill(mine, h('p', { class: 'empty', text: 'You have not requested access yet.' }));
    return;
  }
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  fill(mine, h('table', { class: 'stack' },
    h('caption', { class: 'visually-hidden', text: 'Your access requests, newest first' }),
    h('thead', {}, h('tr', {}, ['Requested', 'ERN', 'Centre', 'Profile', 'Status', 'Decision'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, own.map((r) => h('tr', {},
      cell('Requested', timeElement(r.createdAt)),
      cell('ERN', r.ern),
      cell('Centre', r.centre, centreName(erns, r.ern, r.centre) ? h('span', { class: 'muted', text: ` ${centreName(erns, r.ern, r.centre)}` }) : null),
      cell('Profile', r.role),
      cell('Status', h('span', { class: `badge badge-${statusClass(r.status)}`, text: r.status })),
      cell('Decision', decision(r)))))));
}

function decision(r) {
  if (r.status === 'pending') return h('span', { class: 'muted', text: 'Awaiting a decision' });
  return h('span', {},
    r.decidedBy ? `by ${typeof r.decidedBy === 'object' ? r.decidedBy.displayName || r.decidedBy.username : r.decidedBy}` : '',
    r.decidedAt ? [' on ', timeElement(r.decidedAt)] : null,
    r.decisionComment ? h('span', { class: 'item-quote', text: r.decisionComment }) : null);
}

function statusClass(status) {
  return ['pending', 'approved', 'refused'].includes(status) ? status : 'pending';
}
