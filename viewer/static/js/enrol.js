// The enrolment form: where (ERN and centre, fixed when the user enrols at
// one place only), who (name, gender, date of birth, the record label
// filled in from them, local identifiers), when, and the consents with
// their answers and dates. The form checks what the server checks and
// shows either's messages next to their fields; without the consent for
// care there is no enrolment. A model consent form can be downloaded in
// the languages it exists in.

import { get, post } from './api.js';
import { busy, byId, fill, h, say } from './dom.js';
import {
  checkConsent, checkDemographics, clearFieldErrors, CONSENTS, consentsOf, firstInvalid, GENDERS, patientPath,
  recordLabel, showFieldErrors, today,
} from './records.js';
import { pageError, startShell } from './shell.js';

await startShell();

const form = byId('enrol-form');
const formError = byId('enrol-error');
const loading = byId('enrol-loading');
const ernSelect = byId('enrol-ern');
const centreSelect = byId('enrol-centre');
const firstName = byId('enrol-first-name');
const lastName = byId('enrol-last-name');
const gender = byId('enrol-gender');
const birthDate = byId('enrol-birth-date');
const label = byId('enrol-record-label');
const enrolledOn = byId('enrol-enrolled-on');
const identifierRows = byId('identifier-rows');
const langSelect = byId('consent-form-lang');
const formLink = byId('consent-form-link');

let targets = [];
try {
  const answer = await get('/api/enrol-targets');
  targets = Array.isArray(answer) ? answer : [];
} catch (err) {
  if (err.status !== 401) pageError(err);
}
fill(loading);
loading.hidden = true;
if (targets.length === 0) {
  say(byId('enrol-unavailable'), 'You do not enrol patients at any centre. Health professionals and enrolling guests of a centre do; you can ask for such a role under Access.');
} else {
  form.hidden = false;
  setUp();
}

function setUp() {
  const params = new URLSearchParams(window.location.search);
  const centreText = (t) => (t.centreName ? `${t.centre} – ${t.centreName}` : t.centre);

  // Where: fixed for one target, else two selects kept in step.
  if (targets.length === 1) {
    const t = targets[0];
    const fixed = byId('target-fixed');
    fixed.textContent = `${centreText(t)}, for ${t.ern}${t.ernName ? ` (${t.ernName})` : ''}`;
    fixed.hidden = false;
    ernSelect.replaceChildren(h('option', { value: t.ern, text: t.ern }));
    centreSelect.replaceChildren(h('option', { value: t.centre, text: centreText(t) }));
  } else {
    byId('target-choice').hidden = false;
    const erns = [...new Set(targets.map((t) => t.ern))].sort();
    ernSelect.replaceChildren(
      h('option', { value: '', text: 'Choose an ERN' }),
      ...erns.map((code) => {
        const name = targets.find((t) => t.ern === code)?.ernName;
        return h('option', { value: code, text: name ? `${code} – ${name}` : code });
      }));
    const listCentres = () => {
      const chosen = centreSelect.value;
      const centres = targets.filter((t) => t.ern === ernSelect.value).sort((a, b) => a.centre.localeCompare(b.centre));
      centreSelect.replaceChildren(
        h('option', { value: '', text: ernSelect.value === '' ? 'Choose an ERN first' : 'Choose a centre' }),
        ...centres.map((t) => h('option', { value: t.centre, text: centreText(t) })));
      centreSelect.disabled = ernSelect.value === '';
      if (centres.some((t) => t.centre === chosen)) centreSelect.value = chosen;
      else if (centres.length === 1) centreSelect.value = centres[0].centre;
    };
    ernSelect.addEventListener('change', () => {
      listCentres();
      updateFormLink();
    });
    centreSelect.addEventListener('change', updateFormLink);
    if (erns.includes(params.get('ern'))) ernSelect.value = params.get('ern');
    else if (erns.length === 1) ernSelect.value = erns[0];
    listCentres();
    if ([...centreSelect.options].some((o) => o.value !== '' && o.value === params.get('centre'))) centreSelect.value = params.get('centre');
  }

  // Who: the record label follows the fields until it is edited by hand
  // (emptying it hands it back).
  gender.replaceChildren(h('option', { value: '', text: 'Choose' }), ...GENDERS.map((g) => h('option', { value: g.value, text: g.label })));
  let labelByHand = false;
  const fillLabel = () => {
    if (labelByHand) return;
    const ready = firstName.value.trim() !== '' && lastName.value.trim() !== '' && birthDate.value !== '' && gender.value !== '';
    label.value = ready ? recordLabel(lastName.value, firstName.value, birthDate.value, gender.value) : '';
  };
  for (const input of [firstName, lastName, birthDate, gender]) {
    input.addEventListener('input', fillLabel);
    input.addEventListener('change', fillLabel);
  }
  label.addEventListener('input', () => {
    labelByHand = label.value.trim() !== '';
    if (!labelByHand) fillLabel();
  });
  const now = today();
  birthDate.max = now;
  enrolledOn.max = now;
  enrolledOn.value = now;

  // Local identifiers: rows of MRN and assigning authority.
  let rowId = 0;
  const addRow = (value = '', system = '') => {
    const n = ++rowId;
    const valueInput = h('input', { id: `identifier-value-${n}`, type: 'text', autocomplete: 'off', maxlength: 64, value });
    const systemInput = h('input', { id: `identifier-system-${n}`, type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 200, value: system });
    const row = h('li', { class: 'identifier-row' },
      h('div', { class: 'field' }, h('label', { for: valueInput.id, text: 'Medical record number (MRN)' }), valueInput),
      h('div', { class: 'field' },
        h('label', { for: systemInput.id, text: 'Assigning authority (OID)' }), systemInput),
      h('div', { class: 'field identifier-remove' }, h('button', {
        type: 'button',
        class: 'button-small',
        text: 'Remove',
        'aria-label': `Remove identifier ${n}`,
        on: {
          click: () => {
            row.remove();
            renumber();
          },
        },
      })),
      h('p', { class: 'field-error identifier-error', hidden: true }));
    identifierRows.append(row);
    renumber();
    return valueInput;
  };
  // Server and client name row fields by position: identifiers.0.value …
  const renumber = () => {
    [...identifierRows.children].forEach((row, i) => {
      const [value, system] = row.querySelectorAll('input');
      value.dataset.field = `identifiers.${i}.value`;
      system.dataset.field = `identifiers.${i}.system`;
      const error = row.querySelector('.identifier-error');
      error.dataset.errorFor = `identifiers.${i}`;
    });
    byId('add-identifier').disabled = identifierRows.children.length >= 10;
  };
  addRow();
  byId('add-identifier').addEventListener('click', () => addRow().focus());

  // Consents: the variant decides which are asked; a note is asked for a
  // "yes" to the optional ones.
  const variantOf = () => form.querySelector('input[name="consentVariant"]:checked')?.value || 'standard';
  const showConsents = () => {
    const asked = consentsOf(variantOf()).map((c) => c.kind);
    for (const set of form.querySelectorAll('fieldset.consent')) {
      set.hidden = !asked.includes(set.dataset.kind);
      const yes = set.querySelector('input[value="yes"]').checked;
      const note = set.querySelector('[data-note]');
      if (note !== null) note.hidden = !yes;
    }
    updateFormLink();
  };
  for (const input of form.querySelectorAll('input[name="consentVariant"], fieldset.consent input[type="radio"]')) {
    input.addEventListener('change', showConsents);
  }
  for (const c of CONSENTS) {
    const date = byId(`consent-${c.kind}-date`);
    date.max = now;
    date.value = now;
  }
  showConsents();
  loadLanguages();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(formError, '');
    const body = collect(variantOf());
    const errors = checkForm(body);
    if (errors.length > 0) {
      showErrors(errors, 'The patient was not enrolled.');
      return;
    }
    clearFieldErrors(form);
    await busy(form.querySelector('button[type="submit"]'), async () => {
      try {
        const patient = await post('/api/patients', body);
        window.location.assign(`${patientPath(patient.id)}?enrolled=1`);
      } catch (err) {
        if (err.status === 401) return;
        const fields = err.errors.map((e) => ({ field: serverField(e.field, body), message: e.message }));
        showErrors(fields, err.status === 409 ? err.detail || err.message : 'The server did not enrol the patient.', err);
      }
    });
  });
}

// The request body from the form.
function collect(variant) {
  const identifiers = [...identifierRows.children].map((row) => {
    const [value, system] = row.querySelectorAll('input');
    return { value: value.value.trim(), system: system.value.trim() };
  });
  const consents = consentsOf(variant).map((c) => {
    const checked = form.querySelector(`input[name="consent-${c.kind}"]:checked`);
    const note = form.querySelector(`#consent-${c.kind}-note`);
    const given = checked === null ? null : checked.value === 'yes';
    return {
      kind: c.kind,
      given,
      date: byId(`consent-${c.kind}-date`).value,
      note: given === true && note !== null ? note.value.trim() : '',
    };
  });
  return {
    ern: ernSelect.value,
    centre: centreSelect.value,
    firstName: firstName.value.trim(),
    lastName: lastName.value.trim(),
    gender: gender.value,
    birthDate: birthDate.value,
    recordLabel: label.value.trim(),
    enrolledOn: enrolledOn.value,
    identifiers,
    consentVariant: variant,
    consents,
  };
}

// The checks of the server, before sending. Empty identifier rows are left out.
function checkForm(body) {
  const errors = [];
  if (body.ern === '') errors.push({ field: 'ern', message: 'Choose the ERN.' });
  if (body.centre === '') errors.push({ field: 'centre', message: 'Choose the centre.' });
  const rows = body.identifiers;
  const filled = rows.map((id, i) => ({ ...id, i })).filter((id) => id.value !== '' || id.system !== '');
  const demo = checkDemographics({ ...body, identifiers: filled });
  for (const e of demo) {
    // checkDemographics numbers the filled rows; name the row on the page.
    const m = /^identifiers\.(\d+)\.(.*)$/.exec(e.field);
    errors.push(m === null ? e : { field: `identifiers.${filled[Number(m[1])].i}.${m[2]}`, message: e.message });
  }
  if (body.recordLabel === '') errors.push({ field: 'recordLabel', message: 'Enter the record label.' });
  if (body.enrolledOn === '' || body.enrolledOn > today()) errors.push({ field: 'enrolledOn', message: 'Enter the date of enrolment, not in the future.' });
  for (const c of body.consents) errors.push(...checkConsent(c.kind, c, `consents.${c.kind}`));
  body.identifiers = filled.map(({ value, system }) => ({ value, system }));
  return errors;
}

// The server names identifier problems without the row ("identifiers.value"):
// with one identifier, that row is meant.
function serverField(field, body) {
  if (body.identifiers.length === 1 && /^identifiers\.(value|system|type)$/.test(field)) {
    return field.replace('identifiers.', 'identifiers.0.');
  }
  return field;
}

function showErrors(errors, heading, err) {
  const unplaced = showFieldErrors(form, errors);
  const count = errors.length - unplaced.length;
  const lines = [];
  if (count > 0) lines.push(`${heading} Correct the ${count === 1 ? 'field' : `${count} fields`} marked below.`);
  else lines.push(heading);
  lines.push(...unplaced);
  if (err && errors.length === 0 && err.detail && !lines.includes(err.detail)) lines.push(err.detail);
  fill(formError, lines.map((line, i) => (i === 0 ? h('strong', { text: line }) : h('span', { class: 'alert-line', text: line }))));
  const target = firstInvalid(form);
  if (target !== null) target.focus();
  else formError.focus();
}

// The model consent form, in the languages it exists in, for the variant
// and the place chosen.
async function loadLanguages() {
  let languages = [];
  try {
    const answer = await get('/api/consent-form/languages');
    languages = Array.isArray(answer) ? answer : [];
  } catch (err) {
    if (err.status === 401) return;
  }
  if (languages.length === 0) {
    byId('consent-form-lang-field').hidden = true;
  } else {
    langSelect.replaceChildren(...languages.map((l) => h('option', {
      value: l.code,
      disabled: !l.available,
      text: `${l.name || l.code} (${String(l.code).toUpperCase()})${l.available ? '' : ' – not available'}`,
    })));
    const preferred = languages.find((l) => l.available && l.code === 'en') || languages.find((l) => l.available);
    if (preferred) langSelect.value = preferred.code;
    langSelect.addEventListener('change', updateFormLink);
  }
  updateFormLink();
}

function updateFormLink() {
  const variant = form.querySelector('input[name="consentVariant"]:checked')?.value || 'standard';
  const q = new URLSearchParams({ lang: langSelect.value || 'en', variant });
  if (ernSelect.value) q.set('ern', ernSelect.value);
  if (centreSelect.value) q.set('centre', centreSelect.value);
  formLink.href = `/api/consent-form?${q}`;
}
