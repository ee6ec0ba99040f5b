// Patient records as the pages show and check them: genders, the three
// consents, dates, the record label, and the checks of the enrolment form
// (the same as the server's, so that most mistakes are named before
// sending). Nothing here keeps or sends patient data.

import { h } from './dom.js';

export const GENDERS = [
  { value: 'male', label: 'Male', letter: 'M' },
  { value: 'female', label: 'Female', letter: 'F' },
  { value: 'other', label: 'Other', letter: 'O' },
  { value: 'unknown', label: 'Unknown', letter: 'U' },
];

/** "Female", or the value itself when unknown. */
export function genderLabel(value) {
  return GENDERS.find((g) => g.value === value)?.label || String(value || '');
}

function genderLetter(value) {
  return GENDERS.find((g) => g.value === value)?.letter || 'U';
}

/** The consents in the order forms ask them; the first one is mandatory. */
export const CONSENTS = [
  {
    kind: 'care',
    label: 'Consent for care',
    mandatory: true,
    about: 'Mandatory: the case may be discussed in the ERN. No enrolment without it.',
  },
  {
    kind: 'registry',
    label: 'Consent for ERN databases/registries',
    mandatory: false,
    about: 'Optional: after the panel is closed, pseudonymised data may go to ERN registries and, anonymised, to research. For "yes", give the register\'s name or "OK".',
  },
  {
    kind: 'research-contact',
    label: 'Consent to be contacted for research',
    mandatory: false,
    about: 'Optional: the patient may be contacted by research projects outside the ERN (e.g. clinical trials). For "yes", write "OK".',
  },
];

/** "Consent for care" for "care". */
export function consentLabel(kind) {
  return CONSENTS.find((c) => c.kind === kind)?.label || String(kind);
}

/** The consents asked with a variant of the form: Ukrainian patients give the consent for care only. */
export function consentsOf(variant) {
  return variant === 'ukraine' ? CONSENTS.slice(0, 1) : CONSENTS;
}

export const VARIANTS = [
  { value: 'standard', label: 'Standard (EU patient): three consents' },
  { value: 'ukraine', label: 'Ukrainian patient: consent for care only' },
];

/** The state of a consent as lists show it: yes, no or withdrawn. */
export function consentStatus(consent) {
  if (!consent) return '';
  if (consent.withdrawn) return 'withdrawn';
  return consent.given ? 'yes' : 'no';
}

const STATUS_TEXT = { yes: 'Yes', no: 'No', withdrawn: 'Withdrawn', '': 'Not asked' };

/** A badge for a consent state ("yes", "no", "withdrawn", or "" for not asked). */
export function consentBadge(status) {
  const s = Object.hasOwn(STATUS_TEXT, status) ? status : '';
  return h('span', { class: `badge badge-consent-${s || 'none'}`, text: STATUS_TEXT[s] });
}

/** The badge of a frozen patient, or a plain "No". */
export function frozenMark(frozen) {
  return frozen
    ? h('span', { class: 'badge badge-frozen', text: 'Frozen' })
    : h('span', { class: 'muted', text: 'No' });
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Whether s is a real calendar date YYYY-MM-DD. */
export function validDate(s) {
  const m = DATE_RE.exec(String(s || ''));
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Today in UTC as YYYY-MM-DD: the day the server counts "not in the future" from. */
export function today() {
  return new Date().toISOString().slice(0, 10);
}

/** "05/Feb/1976" for "1976-02-05", as the CPMS lists write dates; '' for no date. */
export function formatDay(s) {
  const m = DATE_RE.exec(String(s || ''));
  return m === null ? '' : `${m[3]}/${MONTHS[Number(m[2]) - 1]}/${m[1]}`;
}

/** A <time> element for a calendar date, or a dash. */
export function dayElement(s) {
  const text = formatDay(s);
  return text === '' ? h('span', { class: 'muted', text: '—' }) : h('time', { datetime: s, text });
}

/** "05/02/1976" for "1976-02-05". */
function european(s) {
  const m = DATE_RE.exec(String(s || ''));
  return m === null ? '' : `${m[3]}/${m[2]}/${m[1]}`;
}

/** The default record label: "Addel, Roger DOB: 05/02/1976 (M)". */
export function recordLabel(last, first, birth, gender) {
  return `${last.trim()}, ${first.trim()} DOB: ${european(birth)} (${genderLetter(gender)})`;
}

/** The page of a patient. */
export function patientPath(id) {
  return `/patients/${encodeURIComponent(id)}`;
}

// What the server accepts (cpms.validName, NormalizeIdentifierSystem).
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const SYSTEM_RE = /^(urn:oid:[0-2](\.(0|[1-9][0-9]*))+|urn:uuid:[0-9a-f-]{36}|https?:\/\/\S+|[0-2](\.(0|[1-9][0-9]*))+)$/;

function validName(s, max) {
  return s !== '' && [...s].length <= max && !CONTROL_RE.test(s);
}

/** The assigning authority as the server stores it: a bare OID gets urn:oid:. */
export function identifierSystem(s) {
  const t = s.trim();
  return /^[0-2]\./.test(t) ? `urn:oid:${t}` : t;
}

/**
 * Checks identifying fields; returns [{field, message}] with the field
 * names the server uses.
 */
export function checkDemographics(d) {
  const errors = [];
  const add = (field, message) => errors.push({ field, message });
  if (!validName(d.firstName, 100)) add('firstName', 'Enter the first name (at most 100 characters).');
  if (!validName(d.lastName, 100)) add('lastName', 'Enter the last name (at most 100 characters).');
  if (!GENDERS.some((g) => g.value === d.gender)) add('gender', 'Choose the gender.');
  if (!validDate(d.birthDate) || d.birthDate > today() || d.birthDate < '1880-01-01') {
    add('birthDate', 'Enter the date of birth: a date since 1880, not in the future.');
  }
  if (d.recordLabel !== '' && !validName(d.recordLabel, 200)) add('recordLabel', 'At most 200 characters.');
  if (d.identifiers.length > 10) add('identifiers', 'At most 10 identifiers.');
  const seen = new Set();
  d.identifiers.forEach((id, i) => {
    if (!SYSTEM_RE.test(id.system.trim()) || id.system.trim().length > 200) {
      add(`identifiers.${i}.system`, 'Give the assigning authority as an OID (e.g. 1.2.3.4) or a URI.');
    }
    if (!validName(id.value.trim(), 64)) add(`identifiers.${i}.value`, 'Enter the identifier (1 to 64 characters).');
    const key = `${identifierSystem(id.system)}\u0000${id.value.trim()}`;
    if (seen.has(key)) add(`identifiers.${i}.value`, 'The same identifier is given twice.');
    seen.add(key);
  });
  return errors;
}

/**
 * Checks one consent answer {given (true, false or null), date, note};
 * field is the server's name, e.g. "consents.care".
 */
export function checkConsent(kind, answer, field) {
  const errors = [];
  if (answer.given === null) errors.push({ field, message: 'Answer yes or no.' });
  if (!validDate(answer.date) || answer.date > today()) {
    errors.push({ field: `${field}.date`, message: 'Enter the date of the answer, not in the future.' });
  }
  if (answer.given === true && kind !== 'care' && answer.note.trim() === '') {
    errors.push({ field: `${field}.note`, message: 'For "yes", give the register\'s name or "OK".' });
  }
  if ([...answer.note].length > 500) errors.push({ field: `${field}.note`, message: 'At most 500 characters.' });
  if (kind === 'care' && answer.given === false) {
    errors.push({ field, message: 'The consent for care is required: a patient is enrolled only with it.' });
  }
  return errors;
}

/**
 * Shows field errors next to their fields: every element of root with
 * data-error-for names the field whose messages it shows; a field the
 * page has no place for is shown at its nearest named parent
 * ("identifiers.system" at "identifiers"), else returned. The inputs
 * (data-field) of the field in error, or else of the place its message
 * went to, are marked invalid. Returns the messages that found no place.
 */
export function showFieldErrors(root, errors) {
  clearFieldErrors(root);
  const unplaced = [];
  for (const e of errors) {
    let field = e.field;
    let slot = null;
    while (field !== '') {
      slot = root.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
      if (slot !== null) break;
      field = field.includes('.') ? field.slice(0, field.lastIndexOf('.')) : '';
    }
    if (slot === null) {
      unplaced.push(e.message);
      continue;
    }
    slot.append(h('span', { text: e.message }));
    slot.hidden = false;
    let inputs = root.querySelectorAll(`[data-field="${CSS.escape(e.field)}"]`);
    if (inputs.length === 0) inputs = root.querySelectorAll(`[data-field="${CSS.escape(field)}"]`);
    for (const input of inputs) input.setAttribute('aria-invalid', 'true');
  }
  return unplaced;
}

/** Removes the messages of showFieldErrors. */
export function clearFieldErrors(root) {
  for (const slot of root.querySelectorAll('[data-error-for]')) {
    slot.replaceChildren();
    slot.hidden = true;
  }
  for (const input of root.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/** The first input of root marked invalid, to move the focus to. */
export function firstInvalid(root) {
  return root.querySelector('[aria-invalid="true"]');
}
