// The centre dashboard: for each centre and ERN where the user works with
// patients, the patient count and a way to enrol; the transfer requests
// waiting for a decision; and, for the centre chosen, the patient list
// (the columns of the CPMS list, sortable, searchable, 20 a page) and the
// patients updated last. The page's address keeps the centre, search,
// order and page, so that coming back shows the same list.

import { get, post } from './api.js';
import { busy, byId, fill, h, say, timeElement } from './dom.js';
import { loadErns } from './ern.js';
import {
  consentBadge, dayElement, frozenMark, genderLabel, patientPath,
} from './records.js';
import { sortedRoles } from './roles.js';
import { pageError, startShell } from './shell.js';

const PAGE_SIZE = 20;

// The columns of the CPMS patient list, with the field each one sorts by.
const COLUMNS = [
  { title: 'Last name', sort: 'lastName', cell: (p) => h('a', { href: patientPath(p.id), text: p.lastName }) },
  { title: 'First name', sort: 'firstName', cell: (p) => p.firstName },
  { title: 'Record label', sort: 'recordLabel', cell: (p) => p.recordLabel },
  { title: 'CPMS ID', sort: 'cpmsId', cell: (p) => h('code', { text: p.cpmsId }) },
  { title: 'Enrolled', sort: 'enrolledOn', cell: (p) => dayElement(p.enrolledOn) },
  { title: 'Gender', sort: 'gender', cell: (p) => genderLabel(p.gender) },
  { title: 'Frozen', sort: 'frozen', cell: (p) => frozenMark(p.frozen) },
  { title: 'Date of birth', sort: 'birthDate', cell: (p) => dayElement(p.birthDate) },
  { title: 'Consent', sort: 'consent', cell: (p) => consentBadge(p.consent) },
  { title: 'Consent research', sort: 'consentResearch', cell: (p) => consentBadge(p.consentResearch) },
];
const SORTS = new Set(COLUMNS.map((c) => c.sort));

const me = await startShell();

const centresBox = byId('centres');
const listSection = byId('list-section');
const list = byId('patient-list');
const listError = byId('list-error');
const listCount = byId('list-count');
const pager = byId('pager');
const searchInput = byId('patient-search');
const recentSection = byId('recent-section');
const recent = byId('recent');
const announce = byId('patients-announce');
const done = byId('patients-done');

let targets = [];
try {
  const answer = await get('/api/enrol-targets');
  targets = (Array.isArray(answer) ? answer : [])
    .sort((a, b) => `${a.centre} ${a.ern}`.localeCompare(`${b.centre} ${b.ern}`));
} catch (err) {
  if (err.status !== 401) pageError(err);
}

const params = new URLSearchParams(window.location.search);
const state = {
  target: Math.max(0, targets.findIndex((t) => t.centre === params.get('centre') && t.ern === params.get('ern'))),
  q: params.get('q') || '',
  sort: SORTS.has(params.get('sort')) ? params.get('sort') : 'lastName',
  desc: params.get('desc') === 'true',
  offset: Math.max(0, (Number.parseInt(params.get('page') || '1', 10) - 1) * PAGE_SIZE) || 0,
};
let erns = [];
let uid = 0; // numbers the ids of the fields made here
// The names of the other centres, for transfer requests.
const ernsLoaded = loadErns().then((e) => { erns = e; }).catch(() => {});

function current() {
  return targets[state.target];
}

function centreText(t) {
  return t.centreName ? `${t.centre} – ${t.centreName}` : t.centre;
}

// One card per centre and ERN: the count, enrol, and the choice of list.
function showCards() {
  fill(centresBox, targets.map((t, i) => {
    const count = h('p', { class: 'centre-count', text: 'Counting patients…' });
    const selected = i === state.target;
    const card = h('section', { class: `card centre-card${selected ? ' is-selected' : ''}`, 'aria-label': `${centreText(t)}, ${t.ern}`, dataset: { centre: t.centre, ern: t.ern } },
      h('h2', {}, centreText(t), h('span', { class: 'card-sub', text: t.ern })),
      h('div', { class: 'card-body' },
        count,
        h('div', { class: 'actions' },
          h('a', { class: 'button-link button-primary', href: `/patients/enrol?${new URLSearchParams({ ern: t.ern, centre: t.centre })}`, text: 'Enrol a patient' }),
          targets.length > 1 ? h('button', {
            type: 'button',
            'aria-pressed': String(selected),
            text: selected ? 'List shown below' : 'Show the list',
            on: { click: () => choose(i) },
          }) : null)));
    countPatients(t, count, selected);
    return card;
  }));
}

// The centre's dashboard: the count, and the recently updated patients
// only for the centre whose list is shown (asking for rows that are not
// shown would record them as seen).
let recentOfShown = Promise.resolve(null);

async function countPatients(t, node, withRecent) {
  const answer = get(`/api/centres/${encodeURIComponent(t.centre)}/dashboard?${new URLSearchParams({ ern: t.ern, recent: withRecent ? '10' : '0' })}`);
  if (withRecent) recentOfShown = answer;
  try {
    const d = await answer;
    const n = Number(d?.patientCount) || 0;
    node.replaceChildren(h('strong', { class: 'centre-count-number', text: String(n) }), ` ${n === 1 ? 'patient' : 'patients'}`);
  } catch (err) {
    node.textContent = err.status === 401 ? '' : 'The count is not available right now.';
  }
}

async function choose(i) {
  state.target = i;
  state.offset = 0;
  showCards();
  await Promise.all([showList(), showRecent()]);
}

function remember() {
  const t = current();
  const q = new URLSearchParams({ centre: t.centre, ern: t.ern });
  if (state.q !== '') q.set('q', state.q);
  if (state.sort !== 'lastName') q.set('sort', state.sort);
  if (state.desc) q.set('desc', 'true');
  if (state.offset > 0) q.set('page', String(state.offset / PAGE_SIZE + 1));
  window.history.replaceState(null, '', `/patients?${q}`);
}

function wireList() {
  byId('search-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    state.q = searchInput.value.trim();
    state.offset = 0;
    await busy(ev.submitter || byId('search-form').querySelector('button[type="submit"]'), showList);
  });
  byId('search-clear').addEventListener('click', async (ev) => {
    searchInput.value = '';
    state.q = '';
    state.offset = 0;
    await busy(ev.currentTarget, showList);
    searchInput.focus();
  });
  byId('page-prev').addEventListener('click', async (ev) => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    await busy(ev.currentTarget, showList);
  });
  byId('page-next').addEventListener('click', async (ev) => {
    state.offset += PAGE_SIZE;
    await busy(ev.currentTarget, showList);
  });
}

async function showList() {
  const t = current();
  remember();
  say(listError, '');
  byId('list-heading').textContent = `Patient list · ${t.centre} · ${t.ern}`;
  const q = new URLSearchParams({
    centre: t.centre, ern: t.ern, sort: state.sort, desc: String(state.desc), limit: String(PAGE_SIZE), offset: String(state.offset),
  });
  if (state.q !== '') q.set('q', state.q);
  list.setAttribute('aria-busy', 'true');
  let page;
  try {
    page = await get(`/api/patients?${q}`);
  } catch (err) {
    fill(list);
    pager.hidden = true;
    say(listCount, '');
    if (err.status !== 401) say(listError, `The patient list could not be loaded: ${err.message}`);
    return;
  }
  const items = Array.isArray(page?.items) ? page.items : [];
  const total = Number(page?.total) || 0;
  if (items.length === 0 && total > 0 && state.offset > 0) {
    // The page asked for is past the end (the list shrank): show the last one.
    state.offset = Math.floor((total - 1) / PAGE_SIZE) * PAGE_SIZE;
    await showList();
    return;
  }
  const range = items.length === 0 ? '' : `${state.offset + 1}–${state.offset + items.length} of ${total}`;
  say(listCount, total === 0
    ? (state.q === '' ? 'No patient is enrolled here yet.' : `No patient matches “${state.q}”.`)
    : `${state.q === '' ? 'Patients' : `Patients matching “${state.q}”`}: ${range}`);
  list.dataset.total = String(total);
  if (items.length === 0) {
    fill(list, h('p', { class: 'empty', text: state.q === '' ? 'No patients yet: enrol the first one.' : 'No patient matches the search.' }));
  } else {
    fill(list, table(items));
  }
  pager.hidden = total <= PAGE_SIZE && state.offset === 0;
  byId('page-range').textContent = range;
  byId('page-prev').disabled = state.offset === 0;
  byId('page-next').disabled = state.offset + items.length >= total;
}

function table(items) {
  const cell = (label, content) => h('td', { 'data-label': label }, h('div', {}, content));
  return h('table', { class: 'stack patients' },
    h('caption', { class: 'visually-hidden', text: `Patients, sorted by ${COLUMNS.find((c) => c.sort === state.sort).title.toLowerCase()}${state.desc ? ', descending' : ''}` }),
    h('thead', {}, h('tr', {}, COLUMNS.map(header))),
    h('tbody', {}, items.map((p) => h('tr', { class: p.frozen ? 'is-frozen' : null, dataset: { patientId: p.id, cpmsId: p.cpmsId } },
      COLUMNS.map((c) => cell(c.title, c.cell(p)))))));
}

function header(column) {
  const active = state.sort === column.sort;
  const order = active ? (state.desc ? 'descending' : 'ascending') : 'none';
  return h('th', { scope: 'col', 'aria-sort': order },
    h('button', {
      type: 'button',
      class: 'sort-button',
      dataset: { sort: column.sort },
      title: `Sort by ${column.title.toLowerCase()}`,
      on: {
        click: async () => {
          state.desc = active ? !state.desc : false;
          state.sort = column.sort;
          state.offset = 0;
          await showList();
          say(announce, `Sorted by ${column.title.toLowerCase()}, ${state.desc ? 'descending' : 'ascending'}.`);
          list.querySelector(`button[data-sort="${column.sort}"]`)?.focus();
        },
      },
    }, column.title, h('span', { class: 'sort-mark', 'aria-hidden': 'true', text: active ? (state.desc ? ' ▼' : ' ▲') : ' ▾' })));
}

async function showRecent() {
  recent.setAttribute('aria-busy', 'true');
  let d;
  try {
    d = await recentOfShown;
  } catch (err) {
    fill(recent, h('p', { class: 'muted', text: err.status === 401 ? '' : 'Not available right now.' }));
    return;
  }
  const rows = Array.isArray(d?.recent) ? d.recent : [];
  if (rows.length === 0) {
    fill(recent, h('p', { class: 'empty', text: 'Nothing yet.' }));
    return;
  }
  fill(recent, h('ul', { class: 'items' }, rows.map((p) => h('li', { class: 'item' },
    h('p', { class: 'item-title' },
      h('a', { href: patientPath(p.id), text: `${p.lastName}, ${p.firstName}` }),
      ' ', h('code', { text: p.cpmsId }),
      p.frozen ? [' ', frozenMark(true)] : null),
    h('p', { class: 'item-meta' }, 'updated ', timeElement(p.updatedAt, true))))));
}

// Transfer requests waiting for a decision: those to one's centres can be
// accepted or refused here; those from them are shown as waiting.
async function showTransfers() {
  const section = byId('transfers-section');
  const box = byId('transfers');
  const error = byId('transfers-error');
  say(error, '');
  let pending;
  try {
    const answer = await get('/api/transfers?status=pending');
    pending = Array.isArray(answer) ? answer : [];
  } catch (err) {
    if (err.status !== 401) {
      section.hidden = false;
      fill(box);
      say(error, `The transfer requests could not be loaded: ${err.message}`);
    }
    return;
  }
  await ernsLoaded;
  const mine = new Set(targets.map((t) => `${t.ern}/${t.centre}`));
  const incoming = pending.filter((t) => mine.has(`${t.ern}/${t.toCentre}`));
  const outgoing = pending.filter((t) => !mine.has(`${t.ern}/${t.toCentre}`));
  section.hidden = pending.length === 0;
  if (pending.length === 0) {
    fill(box);
    return;
  }
  fill(box,
    incoming.length > 0 ? [h('h3', { text: 'To your centre' }), h('ul', { class: 'items' }, incoming.map((t) => incomingItem(t, box)))] : null,
    outgoing.length > 0 ? [h('h3', { text: 'From your centre' }), h('ul', { class: 'items' }, outgoing.map(outgoingItem))] : null);
}

function incomingItem(t, box) {
  const id = `transfer-comment-${++uid}`;
  const comment = h('textarea', { id, rows: 2, maxlength: 2000 });
  const error = h('div', { class: 'alert alert-error', role: 'alert' });
  const li = h('li', { class: 'item', dataset: { transferId: t.id, cpmsId: t.cpmsId } },
    h('p', { class: 'item-title' }, 'Patient ', h('code', { text: t.cpmsId }), ` from ${centreLabel(t.ern, t.fromCentre)} to ${centreLabel(t.ern, t.toCentre)}`),
    h('p', { class: 'item-meta' }, `${t.ern} · asked by ${nameOf(t.requestedBy)} on `, timeElement(t.createdAt, true)),
    t.comment ? h('p', { class: 'item-quote', text: t.comment }) : null,
    error,
    h('div', { class: 'field' }, h('label', { for: id, text: 'Comment on the decision' }), comment));
  const decide = (verb) => async (ev) => {
    say(error, '');
    say(done, '');
    await busy(ev.currentTarget, async () => {
      try {
        const decided = await post(`/api/transfers/${encodeURIComponent(t.id)}/${verb}`, { comment: comment.value.trim() });
        li.remove();
        if (verb === 'accept') {
          fill(done, h('span', {}, 'Accepted: the patient ', h('a', { href: patientPath(decided.patientId), text: decided.cpmsId }), ` is now at ${decided.toCentre}, in your care.`));
        } else {
          say(done, `Refused: the patient ${decided.cpmsId} stays at ${decided.fromCentre}.`);
        }
        if (box.querySelector('.item') === null) await showTransfers();
        showCards();
        await Promise.all([showList(), showRecent()]);
      } catch (err) {
        if (err.status !== 401) say(error, err.message);
      }
    });
  };
  li.append(h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'button-primary', text: 'Accept', 'aria-label': `Accept the transfer of ${t.cpmsId}`, on: { click: decide('accept') } }),
    h('button', { type: 'button', class: 'button-danger', text: 'Refuse', 'aria-label': `Refuse the transfer of ${t.cpmsId}`, on: { click: decide('refuse') } })));
  return li;
}

function outgoingItem(t) {
  return h('li', { class: 'item', dataset: { transferId: t.id, cpmsId: t.cpmsId } },
    h('p', { class: 'item-title' }, h('a', { href: patientPath(t.patientId) }, h('code', { text: t.cpmsId })), ` to ${centreLabel(t.ern, t.toCentre)}`),
    h('p', { class: 'item-meta' }, `${t.ern} · asked by ${nameOf(t.requestedBy)} on `, timeElement(t.createdAt, true), ' · ',
      h('span', { class: 'badge badge-pending', text: 'waiting for a decision' })));
}

function centreLabel(ern, code) {
  const t = targets.find((x) => x.centre === code);
  if (t?.centreName) return `${code} – ${t.centreName}`;
  const name = erns.find((e) => e.code === ern)?.centres?.find((c) => c.code === code)?.name;
  return name ? `${code} – ${name}` : code;
}

function nameOf(user) {
  return user ? user.displayName || user.username : 'someone';
}

// The data-protection officers and ERN administrators open a patient's
// access records by CPMS ID: they do not see the list.
function wireAccessLookup() {
  const auditor = sortedRoles(me.roles).some((r) => r.active !== false && (r.role === 'Data protection' || r.role === 'ERN admin'));
  if (!auditor) return;
  byId('access-lookup-section').hidden = false;
  byId('access-lookup').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = byId('access-cpms-id').value.trim();
    if (id !== '') window.location.assign(`/patients/${encodeURIComponent(id)}/access`);
  });
}

// Start: everything above is declared by now.

wireAccessLookup();

if (targets.length === 0) {
  fill(centresBox);
  const dpo = sortedRoles(me.roles).filter((r) => r.role === 'Data protection' && r.active !== false).map((r) => r.centre);
  say(byId('patients-none'), dpo.length > 0
    ? `As data-protection officer of ${dpo.join(', ')}, you read who accessed a patient of your centre, not the patients themselves: open a patient's access records by CPMS ID below.`
    : 'You do not work with patients at any centre. Health professionals, enrolling guests, and assistants acting for a clinician see their centre\'s patients here; you can ask for a role under Access.');
} else {
  searchInput.value = state.q;
  wireList();
  showCards();
  listSection.hidden = false;
  recentSection.hidden = false;
  await Promise.all([showList(), showRecent(), showTransfers()]);
}
