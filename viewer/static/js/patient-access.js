// Who accessed one patient: the audit records about them, for the
// data-protection officer of the patient's centre and the administrators
// of its ERN. The page shows the patient as the ERN tier does (CPMS ID,
// sex, age) and never asks for their identity; anyone else gets the
// not-found state.

import { get } from './api.js';
import { byId, fill, h } from './dom.js';
import { frozenMark, genderLabel } from './records.js';
import { pageError, startShell } from './shell.js';

const COLUMNS = ['Time', 'User', 'On behalf of', 'Action', 'Source'];

// What each audited action means, in words.
const ACTIONS = {
  'patient.enrol': 'Enrolled the patient',
  'patient.read': 'Opened the record',
  'patient.search': 'Saw the patient in a list or search',
  'patient.update': 'Changed the identity',
  'patient.history': 'Read the versions of the record',
  'patient.freeze': 'The patient was frozen',
  'patient.unfreeze': 'The patient was unfrozen',
  'patient.read-pseudonymised': 'Read the pseudonymised record',
  'patient.audit-read': 'Read these access records',
  'patient.transfer.request': 'Asked for a transfer',
  'patient.transfer.accepted': 'Accepted a transfer',
  'patient.transfer.refused': 'Refused a transfer',
  'consent.update': 'Recorded a consent',
  'consent.read': 'Read a consent',
  'consent.search': 'Saw a consent in a search',
};

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

await startShell();

const patientId = decodeURIComponent(window.location.pathname.split('/')[2] || '');
let log = null;
try {
  log = await get(`/api/patients/${encodeURIComponent(patientId)}/access-log`);
} catch (err) {
  byId('access-loading').hidden = true;
  if (err.status === 404) byId('access-notfound').hidden = false;
  else if (err.status !== 401) pageError(err);
}
if (log !== null) {
  byId('access-loading').hidden = true;
  byId('access-view').hidden = false;
  show(log.patient || {}, Array.isArray(log.events) ? log.events : []);
}

function show(p, events) {
  document.title = `Access to ${p.cpmsId} · ${document.title.split(' · ').pop()}`;
  const fact = (term, ...value) => [h('dt', { text: term }), h('dd', {}, ...value)];
  fill(byId('access-patient'),
    fact('CPMS ID', h('code', { text: p.cpmsId || '' })),
    fact('Sex', genderLabel(p.gender)),
    fact('Age', `${Number(p.ageYears) || 0} years`),
    fact('ERN', p.ern || ''),
    fact('Centre', p.centre || ''),
    fact('Frozen', frozenMark(Boolean(p.frozen))));
  byId('access-count').textContent = events.length === 1 ? '1 record.' : `${events.length} records.`;
  if (events.length === 0) {
    fill(byId('access-events'), h('p', { class: 'empty', text: 'No access recorded.' }));
    return;
  }
  const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
  const none = () => h('span', { class: 'muted', text: '—' });
  fill(byId('access-events'), h('table', { class: 'stack audit' },
    h('caption', { class: 'visually-hidden', text: 'Access records, newest first' }),
    h('thead', {}, h('tr', {}, COLUMNS.map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, events.map((e) => h('tr', { dataset: { action: e.action || '', outcome: String(e.outcome) } },
      cell('Time', e.at ? h('time', { datetime: e.at, text: formatTime(e.at) }) : none()),
      cell('User', e.actor || none()),
      cell('On behalf of', e.onBehalfOf || none()),
      cell('Action', ACTIONS[e.action] || e.action || '',
        h('span', { class: 'audit-detail' }, h('code', { text: e.action || '' }), e.detail ? ` · ${e.detail}` : '', e.outcome ? ' · refused or failed' : '')),
      cell('Source', e.source || none()))))));
}

function formatTime(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : timeFormat.format(d);
}
