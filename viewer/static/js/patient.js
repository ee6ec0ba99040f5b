// The details of one patient, for whoever sees them in the centre tier:
// identity and local identifiers (editable), the consents with their
// answers (an answer can be changed, a "yes" withdrawn: withdrawing the
// consent for care freezes the patient), the transfer to another centre
// of the ERN, and the versions of the record. Anyone else gets the
// not-found state, as the API answers them.

import { get, post, put } from './api.js';
import { busy, byId, fill, formatDateTime, h, say, timeElement } from './dom.js';
import { loadErns } from './ern.js';
import {
  checkConsent, checkDemographics, clearFieldErrors, consentBadge, consentLabel, consentsOf, consentStatus,
  dayElement, firstInvalid, formatDay, GENDERS, genderLabel, identifierSystem, patientPath, showFieldErrors, today,
} from './records.js';
import { canReadPatientAccess } from './roles.js';
import { pageError, startShell } from './shell.js';

const me = await startShell();
const patientId = decodeURIComponent(window.location.pathname.split('/')[2] || '');
const base = `/api/patients/${encodeURIComponent(patientId)}`;

const view = byId('patient-view');
const done = byId('patient-done');
const pageErr = byId('patient-error');
let patient = null;
let erns = [];
let pending = null; // the transfer waiting for a decision, if any

function nameOf(user) {
  return user && (user.displayName || user.username) ? user.displayName || user.username : '—';
}

function centreText(ern, code) {
  const name = erns.find((e) => e.code === ern)?.centres?.find((c) => c.code === code)?.name
    || (code === patient.centre ? patient.centreName : '');
  return name ? `${code} – ${name}` : code;
}

function render() {
  const p = patient;
  document.title = `Patient ${p.cpmsId} · ${document.title.split(' · ').pop()}`;
  byId('patient-heading').textContent = `${p.lastName}, ${p.firstName}`;
  byId('patient-cpms-id').textContent = p.cpmsId;
  showFrozen();

  const fact = (term, ...value) => [h('dt', { text: term }), h('dd', {}, ...value)];
  fill(byId('identity'),
    fact('First name', p.firstName),
    fact('Last name', p.lastName),
    fact('Gender', genderLabel(p.gender)),
    fact('Date of birth', dayElement(p.birthDate)),
    fact('Record label', p.recordLabel),
    fact('CPMS ID', h('code', { text: p.cpmsId })),
    fact('Date enrolled', dayElement(p.enrolledOn)),
    fact('Centre', centreText(p.ern, p.centre)),
    fact('ERN', p.ern),
    fact('Responsible clinician', nameOf(p.clinician)),
    fact('Enrolled by', nameOf(p.enrolledBy)),
    fact('Frozen', p.frozen ? h('span', { class: 'badge badge-frozen', text: 'Frozen' }) : 'No'),
    fact('Version', String(p.version), ' · updated ', timeElement(p.updatedAt, true)));

  const ids = Array.isArray(p.identifiers) ? p.identifiers : [];
  fill(byId('identifiers'), ids.length === 0
    ? h('p', { class: 'empty', text: 'None recorded.' })
    : h('table', { class: 'stack' },
      h('thead', {}, h('tr', {}, ['Identifier', 'Assigning authority', 'Type'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, ids.map((i) => h('tr', {},
        h('td', { 'data-label': 'Identifier' }, h('div', {}, h('code', { text: i.value }))),
        h('td', { 'data-label': 'Assigning authority' }, h('div', {}, h('code', { class: 'wrap', text: i.system }))),
        h('td', { 'data-label': 'Type' }, h('div', {}, i.type || 'MR')))))));

  byId('consent-variant').textContent = p.consentVariant === 'ukraine'
    ? 'Consent form for Ukrainian patients: the consent for care only.'
    : 'Standard consent form: three consents.';
  showConsents();
  byId('access-link').href = `${patientPath(p.id)}/access`;
  byId('access-link-box').hidden = !canReadPatientAccess(me, p.ern, p.centre);
}

function consentOf(kind) {
  return (patient.consents || []).find((c) => c.kind === kind) || null;
}

function showFrozen() {
  const banner = byId('frozen-banner');
  if (!patient.frozen) {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  const care = consentOf('care');
  let why;
  if (care?.withdrawn) why = `Frozen: consent for care withdrawn on ${formatDay(care.withdrawnOn)}`;
  else if (care && !care.given) why = `Frozen: consent for care refused on ${formatDay(care.date)}`;
  else why = `Frozen since ${formatDateTime(patient.frozenAt)}`;
  banner.replaceChildren(
    h('strong', { text: why }),
    h('span', { text: 'No new panels and no new sharing for this patient. Recording a "yes" to the consent for care again unfreezes them.' }));
  banner.hidden = false;
}

// Consents

let editing = null; // the kind whose answer is being changed

function showConsents() {
  const box = byId('consents');
  const kinds = consentsOf(patient.consentVariant);
  const rows = kinds.map((k) => {
    const c = consentOf(k.kind);
    const status = consentStatus(c);
    const actions = h('div', { class: 'actions actions-tight' },
      h('button', {
        type: 'button',
        class: 'button-small',
        text: c ? 'Change answer' : 'Record answer',
        'aria-label': `${c ? 'Change the answer to' : 'Record the answer to'} the ${k.label.toLowerCase()}`,
        'aria-expanded': String(editing === k.kind),
        on: { click: () => { editing = editing === k.kind ? null : k.kind; showConsents(); } },
      }),
      c && c.given && !c.withdrawn ? h('button', {
        type: 'button',
        class: 'button-small button-danger',
        text: 'Withdraw',
        'aria-label': `Withdraw the ${k.label.toLowerCase()}`,
        on: { click: () => openWithdraw(k) },
      }) : null);
    const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
    return [
      h('tr', { dataset: { kind: k.kind, status: status || 'none' } },
        h('th', { scope: 'row', 'data-label': 'Consent' }, k.label, k.mandatory ? h('span', { class: 'muted', text: ' (mandatory)' }) : null),
        cell('Answer', c ? consentBadge(status) : h('span', { class: 'muted', text: 'Not recorded' })),
        cell('Date', c ? dayElement(c.date) : ''),
        cell('Note', c?.note || ''),
        cell('Withdrawn on', c?.withdrawn ? dayElement(c.withdrawnOn) : ''),
        cell('Actions', actions)),
      editing === k.kind ? h('tr', { class: 'consent-edit-row' }, h('td', { colspan: 6 }, consentForm(k, c))) : null,
    ];
  });
  fill(box, h('table', { class: 'stack consents' },
    h('caption', { class: 'visually-hidden', text: 'The patient\'s consents' }),
    h('thead', {}, h('tr', {}, ['Consent', 'Answer', 'Date', 'Note', 'Withdrawn on', ''].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows)));
}

let formId = 0;

function consentForm(k, c) {
  const n = ++formId;
  const field = `consents.${k.kind}`;
  const yes = h('input', { type: 'radio', id: `answer-yes-${n}`, name: `answer-${n}`, value: 'yes', 'data-field': field, checked: c ? c.given : false });
  const no = h('input', { type: 'radio', id: `answer-no-${n}`, name: `answer-${n}`, value: 'no', 'data-field': field, checked: c ? !c.given : false });
  const date = h('input', { type: 'date', id: `answer-date-${n}`, max: today(), value: today(), 'data-field': `${field}.date` });
  const note = h('input', { type: 'text', id: `answer-note-${n}`, maxlength: 500, value: c?.note || '', 'data-field': `${field}.note` });
  const noteField = h('div', { class: 'field' },
    h('label', { for: note.id, text: k.kind === 'registry' ? 'Register (its name, or "OK")' : 'Note ("OK", or a note)' }), note,
    h('p', { class: 'field-error', 'data-error-for': `${field}.note`, hidden: true }));
  const error = h('div', { class: 'alert alert-error', role: 'alert' });
  const showNote = () => { noteField.hidden = k.kind === 'care' || !yes.checked; };
  yes.addEventListener('change', showNote);
  no.addEventListener('change', showNote);
  showNote();
  const form = h('form', { class: 'consent-edit', method: 'post', action: patientPath(patient.id), 'aria-label': `New answer to the ${k.label.toLowerCase()}` },
    h('fieldset', { class: 'fieldset-inner' },
      h('legend', { text: `New answer to the ${k.label.toLowerCase()}` }),
      k.kind === 'care' ? h('p', { class: 'hint', text: 'A "no" to the consent for care freezes the patient; a "yes" unfreezes them.' }) : null,
      h('div', { class: 'choices' },
        h('label', { class: 'choice', for: yes.id }, yes, ' Yes'),
        h('label', { class: 'choice', for: no.id }, no, ' No')),
      h('p', { class: 'field-error', 'data-error-for': field, hidden: true })),
    h('div', { class: 'grid-2' },
      h('div', { class: 'field' }, h('label', { for: date.id, text: 'Date of the answer' }), date,
        h('p', { class: 'field-error', 'data-error-for': `${field}.date`, hidden: true })),
      noteField),
    error,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'button-primary', text: 'Save the answer' }),
      h('button', { type: 'button', text: 'Cancel', on: { click: () => { editing = null; showConsents(); } } })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(error, '');
    const answer = { given: yes.checked ? true : (no.checked ? false : null), date: date.value, note: yes.checked ? note.value.trim() : '' };
    // A "no" to the consent for care is allowed here: it freezes the patient.
    const errors = checkConsent(k.kind, answer, field).filter((e) => !(k.kind === 'care' && e.field === field && answer.given === false));
    if (errors.length > 0) {
      showFieldErrors(form, errors);
      firstInvalid(form)?.focus();
      return;
    }
    clearFieldErrors(form);
    const body = { given: answer.given, date: answer.date, note: answer.note };
    if (c) body.version = c.version;
    await busy(form.querySelector('button[type="submit"]'), async () => {
      try {
        const was = patient.frozen;
        patient = await put(`${base}/consents/${encodeURIComponent(k.kind)}`, body);
        editing = null;
        render();
        say(done, `${k.label}: the answer is recorded${freezeNews(was)}.`);
        await showHistory();
      } catch (err) {
        if (err.status === 401) return;
        const unplaced = showFieldErrors(form, err.errors);
        say(error, stale(err) || [err.errors.length > 0 ? 'The answer was not recorded.' : err.message, ...unplaced].join(' '));
      }
    });
  });
  return form;
}

function freezeNews(was) {
  if (!was && patient.frozen) return '; the patient is now frozen';
  if (was && !patient.frozen) return '; the patient is no longer frozen';
  return '';
}

function stale(err) {
  return err.code === 'version_mismatch'
    ? 'Someone changed this patient meanwhile: reload the page to see the changes, then make yours again.'
    : '';
}

// Withdrawal, confirmed in a dialog that says what it does.

let withdrawing = null;

function openWithdraw(k) {
  withdrawing = k;
  const dialog = byId('withdraw-dialog');
  byId('withdraw-title').textContent = `Withdraw the ${k.label.toLowerCase()}?`;
  byId('withdraw-text').textContent = k.kind === 'care'
    ? 'Withdrawing the consent for care freezes the patient: no new panels can be opened for them and nothing new is shared with the ERN. What was shared before stays as your centre\'s policy says. Recording a new "yes" later unfreezes the patient.'
    : k.kind === 'registry'
      ? 'After the withdrawal, no data of this patient goes to ERN databases, registries or the research tier any more. The patient\'s case can still be discussed.'
      : 'After the withdrawal, the patient is no longer contacted for research. The patient\'s case can still be discussed.';
  byId('withdraw-confirm').textContent = k.kind === 'care' ? 'Withdraw and freeze the patient' : 'Withdraw';
  const date = byId('withdraw-date');
  date.max = today();
  date.min = consentOf(k.kind)?.date || '';
  date.value = today();
  say(byId('withdraw-error'), '');
  dialog.showModal();
}

function wireWithdrawDialog() {
  const dialog = byId('withdraw-dialog');
  const form = byId('withdraw-form');
  const error = byId('withdraw-error');
  byId('withdraw-cancel').addEventListener('click', () => dialog.close());
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const k = withdrawing;
    const date = byId('withdraw-date').value;
    const since = consentOf(k.kind)?.date || '';
    if (date === '' || date > today() || date < since) {
      say(error, `Enter the date of the withdrawal: between ${formatDay(since)} and today.`);
      return;
    }
    await busy(byId('withdraw-confirm'), async () => {
      try {
        const was = patient.frozen;
        patient = await post(`${base}/consents/${encodeURIComponent(k.kind)}/withdraw`, { date });
        dialog.close();
        editing = null;
        render();
        say(done, `${k.label}: withdrawn${freezeNews(was)}.`);
        await showHistory();
      } catch (err) {
        if (err.status !== 401) say(error, [err.message, ...err.errors.map((e) => e.message)].join(' '));
      }
    });
  });
}

// Identity

function wireIdentityForm() {
  const details = byId('edit-identity');
  const form = byId('identity-form');
  const error = byId('identity-error');
  const rows = byId('edit-identifier-rows');
  const gender = byId('edit-gender');
  gender.replaceChildren(...GENDERS.map((g) => h('option', { value: g.value, text: g.label })));
  byId('edit-birth-date').max = today();
  let n = 0;
  const addRow = (value = '', system = '', type = '') => {
    const i = ++n;
    const v = h('input', { id: `edit-identifier-value-${i}`, type: 'text', autocomplete: 'off', maxlength: 64, value });
    const s = h('input', { id: `edit-identifier-system-${i}`, type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 200, value: system });
    const row = h('li', { class: 'identifier-row', dataset: { type } },
      h('div', { class: 'field' }, h('label', { for: v.id, text: 'Medical record number (MRN)' }), v),
      h('div', { class: 'field' }, h('label', { for: s.id, text: 'Assigning authority (OID)' }), s),
      h('div', { class: 'field identifier-remove' }, h('button', {
        type: 'button', class: 'button-small', text: 'Remove', 'aria-label': `Remove identifier ${i}`, on: { click: () => { row.remove(); renumber(); } },
      })),
      h('p', { class: 'field-error identifier-error', hidden: true }));
    rows.append(row);
    renumber();
    return v;
  };
  const renumber = () => {
    [...rows.children].forEach((row, i) => {
      const [v, s] = row.querySelectorAll('input');
      v.dataset.field = `identifiers.${i}.value`;
      s.dataset.field = `identifiers.${i}.system`;
      row.querySelector('.identifier-error').dataset.errorFor = `identifiers.${i}`;
    });
    byId('edit-add-identifier').disabled = rows.children.length >= 10;
  };
  const reset = () => {
    byId('edit-first-name').value = patient.firstName;
    byId('edit-last-name').value = patient.lastName;
    gender.value = patient.gender;
    byId('edit-birth-date').value = patient.birthDate;
    byId('edit-record-label').value = patient.recordLabel;
    rows.replaceChildren();
    for (const i of patient.identifiers || []) addRow(i.value, i.system.replace(/^urn:oid:/, ''), i.type || '');
    if (rows.children.length === 0) addRow();
    clearFieldErrors(form);
    say(error, '');
  };
  details.addEventListener('toggle', () => { if (details.open) reset(); });
  byId('edit-add-identifier').addEventListener('click', () => addRow().focus());
  byId('identity-cancel').addEventListener('click', () => { details.open = false; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(error, '');
    const all = [...rows.children].map((row, i) => {
      const [v, s] = row.querySelectorAll('input');
      return { value: v.value.trim(), system: s.value.trim(), type: row.dataset.type || '', i };
    });
    const filled = all.filter((x) => x.value !== '' || x.system !== '');
    const d = {
      firstName: byId('edit-first-name').value.trim(),
      lastName: byId('edit-last-name').value.trim(),
      gender: gender.value,
      birthDate: byId('edit-birth-date').value,
      recordLabel: byId('edit-record-label').value.trim(),
      identifiers: filled,
    };
    const errors = checkDemographics(d).map((e) => {
      const m = /^identifiers\.(\d+)\.(.*)$/.exec(e.field);
      return m === null ? e : { field: `identifiers.${filled[Number(m[1])].i}.${m[2]}`, message: e.message };
    });
    if (errors.length > 0) {
      showFieldErrors(form, errors);
      say(error, 'The identity was not saved: correct the fields marked below.');
      firstInvalid(form)?.focus();
      return;
    }
    clearFieldErrors(form);
    const body = {
      ...d,
      identifiers: filled.map((x) => ({ value: x.value, system: identifierSystem(x.system), ...(x.type ? { type: x.type } : {}) })),
      version: patient.version,
    };
    await busy(form.querySelector('button[type="submit"]'), async () => {
      try {
        patient = await put(base, body);
        details.open = false;
        render();
        say(done, 'The identity is saved.');
        await showHistory();
      } catch (err) {
        if (err.status === 401) return;
        const fields = err.errors.map((e) => ({
          field: filled.length === 1 ? e.field.replace(/^identifiers\.(value|system|type)$/, 'identifiers.0.$1') : e.field,
          message: e.message,
        }));
        const unplaced = showFieldErrors(form, fields);
        say(error, stale(err) || [fields.length > 0 ? 'The identity was not saved: correct the fields marked below.' : err.message, ...unplaced].join(' '));
        error.focus();
      }
    });
  });
}

// Transfers

function wireTransferForm() {
  const form = byId('transfer-form');
  const select = byId('transfer-centre');
  const error = byId('transfer-error');
  const ern = erns.find((e) => e.code === patient.ern);
  const others = (ern?.centres || []).filter((c) => c.code !== patient.centre).sort((a, b) => a.code.localeCompare(b.code));
  select.replaceChildren(h('option', { value: '', text: 'Choose a centre' }),
    ...others.map((c) => h('option', { value: c.code, text: c.name ? `${c.code} – ${c.name}` : c.code })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(error, '');
    clearFieldErrors(form);
    if (select.value === '') {
      showFieldErrors(form, [{ field: 'toCentre', message: 'Choose the centre that should take the patient over.' }]);
      select.focus();
      return;
    }
    await busy(form.querySelector('button[type="submit"]'), async () => {
      try {
        const t = await post(`${base}/transfers`, { toCentre: select.value, comment: byId('transfer-comment').value.trim() });
        form.reset();
        say(done, `Transfer to ${centreText(t.ern, t.toCentre)} requested: a clinician there accepts or refuses it.`);
        await Promise.all([showTransfers(), showImages(), showHistory()]);
      } catch (err) {
        if (err.status === 401) return;
        const unplaced = showFieldErrors(form, err.errors);
        say(error, [err.errors.length > 0 ? 'The transfer was not requested.' : err.message, ...unplaced].join(' '));
      }
    });
  });
}

async function showTransfers() {
  const box = byId('transfers');
  const form = byId('transfer-form');
  let ts;
  try {
    const answer = await get(`/api/transfers?patient=${encodeURIComponent(patient.id)}`);
    ts = Array.isArray(answer) ? answer : [];
  } catch (err) {
    if (err.status !== 401) say(byId('transfer-error'), `The transfers could not be loaded: ${err.message}`);
    return;
  }
  pending = ts.find((t) => t.status === 'pending') || null;
  form.hidden = pending !== null || byId('transfer-centre').options.length <= 1;
  if (ts.length === 0) {
    fill(box, byId('transfer-centre').options.length <= 1
      ? h('p', { class: 'empty', text: 'The ERN has no other centre.' })
      : null);
    return;
  }
  fill(box, h('ul', { class: 'items transfers' }, ts.map((t) => h('li', { class: 'item', dataset: { status: t.status, transferId: t.id } },
    h('p', { class: 'item-title' }, `To ${centreText(t.ern, t.toCentre)} `,
      h('span', { class: `badge badge-${t.status === 'accepted' ? 'approved' : t.status}`, text: t.status === 'pending' ? 'waiting for a decision' : t.status })),
    h('p', { class: 'item-meta' }, `from ${t.fromCentre}, asked by ${nameOf(t.requestedBy)} on `, timeElement(t.createdAt, true)),
    t.comment ? h('p', { class: 'item-quote', text: t.comment }) : null,
    t.decidedAt ? h('p', { class: 'item-meta' }, `${t.status} by ${nameOf(t.decidedBy)} on `, timeElement(t.decidedAt, true)) : null,
    t.decisionComment ? h('p', { class: 'item-quote', text: t.decisionComment }) : null))));
}

// Images: the studies of the image store linked to the patient (by the local identifier and
// its issuer when the centre's PACS stored them, or by hand).

// dicomDate shows a DICOM date (YYYYMMDD) as the other dates of the page.
function dicomDate(s) {
  return /^\d{8}$/.test(s || '') ? formatDay(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`) : '—';
}

async function showImages() {
  const box = byId('images');
  say(byId('images-error'), '');
  let studies;
  try {
    studies = (await get(`${base}/studies`)).studies || [];
  } catch (err) {
    fill(box);
    box.removeAttribute('aria-busy');
    if (err.status !== 401) say(byId('images-error'), `The images could not be loaded: ${err.message}`);
    return;
  }
  box.removeAttribute('aria-busy');
  if (studies.length === 0) {
    fill(box, h('p', { class: 'muted', text: 'No study is linked to this patient. Studies the centre\u2019s PACS stores '
      + 'are linked when their patient ID and its issuer match one of the patient\u2019s local identifiers.' }));
    return;
  }
  const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
  fill(box, h('table', { class: 'stack images' },
    h('caption', { class: 'visually-hidden', text: 'Image studies of the patient, newest first' }),
    h('thead', {}, h('tr', {}, ['Study date', 'Description', 'Modalities', 'Series', 'Images', 'Received']
      .map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, studies.map((st) => h('tr', { 'data-study': st.studyUid },
      cell('Study date', dicomDate(st.date)),
      cell('Description', st.description || '—'),
      cell('Modalities', (st.modalities || []).join(', ') || '—'),
      cell('Series', String(st.series)),
      cell('Images', String(st.instances)),
      cell('Received', timeElement(st.lastStoredAt, true)))))));
}

// History: what changed from one version to the next.

const HISTORY_FIELDS = [
  { key: 'firstName', label: 'First name' },
  { key: 'lastName', label: 'Last name' },
  { key: 'gender', label: 'Gender', show: genderLabel },
  { key: 'birthDate', label: 'Date of birth', show: formatDay },
  { key: 'recordLabel', label: 'Record label' },
  { key: 'identifiers', label: 'Local identifiers', show: (ids) => (ids || []).map((i) => i.value).join(', ') || 'none' },
  { key: 'centre', label: 'Centre' },
  { key: 'clinician', label: 'Responsible clinician', show: nameOf, same: (a, b) => a?.id === b?.id },
  { key: 'frozen', label: 'Frozen', show: (b) => (b ? 'yes' : 'no') },
];

async function showHistory() {
  const box = byId('history');
  say(byId('history-error'), '');
  let versions;
  let consents;
  try {
    const [v, c] = await Promise.all([get(`${base}/history`), get(`${base}/consent-history`)]);
    versions = Array.isArray(v) ? v : [];
    consents = Array.isArray(c) ? c : [];
  } catch (err) {
    fill(box);
    if (err.status !== 401) say(byId('history-error'), `The history could not be loaded: ${err.message}`);
    return;
  }
  // One timeline, newest first: the record's versions and every answer to a consent.
  const rows = versions.map((v, i) => ({
    at: v.updatedAt, by: v.updatedBy, version: String(v.version),
    what: i === 0 ? 'Enrolled' : changes(versions[i - 1], v),
  }));
  const previous = new Map();
  for (const c of consents) {
    rows.push({
      at: c.updatedAt, by: c.updatedBy, version: `${consentLabel(c.kind)} v${c.version}`,
      what: [consentChange(previous.get(c.id), c)],
    });
    previous.set(c.id, c);
  }
  rows.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
  fill(box, h('table', { class: 'stack history' },
    h('caption', { class: 'visually-hidden', text: 'Versions of the record and answers to the consents, newest first' }),
    h('thead', {}, h('tr', {}, ['Version', 'When', 'By', 'What changed'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map((r) => h('tr', {},
      cell('Version', r.version),
      cell('When', timeElement(r.at, true)),
      cell('By', r.by || '—'),
      cell('What changed', typeof r.what === 'string'
        ? r.what
        : r.what.length === 0
          ? h('span', { class: 'muted', text: 'Frozen state' })
          : h('ul', { class: 'plain' }, r.what.map((line) => h('li', { text: line })))))))));
}

// consentChange says what one answer to a consent changed from the one before it.
function consentChange(before, c) {
  const answer = (x) => {
    const s = consentStatus(x);
    const on = s === 'withdrawn' ? ` on ${formatDay(x.withdrawnOn)}` : ` (answered ${formatDay(x.date)})`;
    return `${s}${on}${x.note ? `, “${x.note}”` : ''}`;
  };
  return before ? `${consentLabel(c.kind)}: ${answer(before)} → ${answer(c)}` : `${consentLabel(c.kind)}: ${answer(c)}`;
}

function changes(a, b) {
  const out = [];
  for (const f of HISTORY_FIELDS) {
    const same = f.same ? f.same(a[f.key], b[f.key]) : JSON.stringify(a[f.key]) === JSON.stringify(b[f.key]);
    if (same) continue;
    const show = f.show || ((x) => (x === undefined || x === null || x === '' ? '—' : String(x)));
    out.push(`${f.label}: ${show(a[f.key])} → ${show(b[f.key])}`);
  }
  return out;
}

// Start: everything above is declared by now.

const params = new URLSearchParams(window.location.search);
const justEnrolled = params.get('enrolled') === '1';
if (justEnrolled) window.history.replaceState(null, '', patientPath(patientId));

try {
  [patient, erns] = await Promise.all([get(base), loadErns().catch(() => [])]);
} catch (err) {
  byId('patient-loading').hidden = true;
  if (err.status === 404) {
    byId('patient-notfound').hidden = false;
  } else if (err.status !== 401) {
    pageError(err);
  }
}
if (patient !== null) {
  byId('patient-loading').hidden = true;
  view.hidden = false;
  render();
  if (justEnrolled) say(done, `Patient enrolled with the CPMS ID ${patient.cpmsId}.`);
  wireIdentityForm();
  wireWithdrawDialog();
  wireTransferForm();
  await Promise.all([showTransfers(), showImages(), showHistory()]);
}
