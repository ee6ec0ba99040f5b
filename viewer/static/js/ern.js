// ERN and centre pickers shared by the access request and administration
// pages.

import { get } from './api.js';
import { h } from './dom.js';

/** Loads the ERNs with their centres, sorted by code. */
export async function loadErns() {
  const erns = await get('/api/erns');
  return Array.isArray(erns) ? [...erns].sort((a, b) => a.code.localeCompare(b.code)) : [];
}

/**
 * Fills an ERN <select> and keeps a centre <select> in step with it.
 * The placeholders are the texts of the empty first options;
 * centrePlaceholder may be a function, asked each time the centres are
 * listed (whether an empty centre means "choose one" or "the whole ERN"
 * can depend on another field). Returns a function that lists the centres
 * again.
 */
export function linkErnCentre(ernSelect, centreSelect, erns, { ernPlaceholder = 'Choose an ERN', centrePlaceholder = 'Choose a centre' } = {}) {
  ernSelect.replaceChildren(
    h('option', { value: '', text: ernPlaceholder }),
    ...erns.map((e) => h('option', { value: e.code, text: e.name && e.name !== e.code ? `${e.code} – ${e.name}` : e.code })));
  const placeholder = typeof centrePlaceholder === 'function' ? centrePlaceholder : () => centrePlaceholder;
  const update = () => {
    const chosen = centreSelect.value;
    const ern = erns.find((e) => e.code === ernSelect.value);
    const centres = ern && Array.isArray(ern.centres) ? [...ern.centres].sort((a, b) => a.code.localeCompare(b.code)) : [];
    centreSelect.replaceChildren(
      h('option', { value: '', text: ern ? placeholder() : 'Choose an ERN first' }),
      ...centres.map((c) => h('option', { value: c.code, text: c.name ? `${c.code} – ${c.name}` : c.code })));
    centreSelect.disabled = !ern;
    if (centres.some((c) => c.code === chosen)) centreSelect.value = chosen;
  };
  ernSelect.addEventListener('change', update);
  update();
  return update;
}

/** The name of a centre, for showing next to its code. */
export function centreName(erns, ernCode, centreCode) {
  const ern = erns.find((e) => e.code === ernCode);
  const centre = ern?.centres?.find((c) => c.code === centreCode);
  return centre?.name || '';
}
