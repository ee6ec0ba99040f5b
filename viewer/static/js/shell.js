// The frame of every signed-in page: loads the user, fills the user menu,
// shows the Admin entry to those who may use it, folds the navigation on
// small screens, lets assistants act on behalf of their clinicians (and
// says so in the header while they do), and logs out.

import { get, getMe, logout, post, setUnauthorizedHandler } from './api.js';
import { byId, h, say, formatDate } from './dom.js';
import { accountNeedsAttention, afterSignIn, goToLogin } from './nav.js';
import { isAdmin, isAssistant, roleLabel, sortedRoles } from './roles.js';

/** Shows an error that concerns the whole page. */
export function pageError(err) {
  const region = byId('page-error');
  say(region, err instanceof Error ? err.message : String(err));
}

/**
 * Starts a signed-in page and resolves to the user (Me). When nobody is
 * signed in the browser goes to the sign-in page and the promise never
 * resolves, so the page does nothing further.
 */
export async function startShell() {
  let leaving = false;
  setUnauthorizedHandler(() => {
    if (!leaving) {
      leaving = true;
      goToLogin();
    }
  });
  wireNavigation();
  wireUserMenu();
  wireLogout();
  wireActAsSelf();
  let me;
  try {
    me = await getMe();
  } catch (err) {
    if (err.status === 401) return new Promise(() => {});
    pageError(err);
    throw err;
  }
  // A temporary password or a missing second factor comes first.
  if (accountNeedsAttention(me) && window.location.pathname !== '/account') {
    window.location.replace(afterSignIn(me, window.location.pathname + window.location.search + window.location.hash));
    return new Promise(() => {});
  }
  showUser(me);
  showAssisting(me);
  return me;
}

function showUser(me) {
  const name = me.displayName || me.username;
  for (const node of document.querySelectorAll('[data-user-name]')) node.textContent = name;
  for (const node of document.querySelectorAll('[data-user-display]')) node.textContent = name;
  for (const node of document.querySelectorAll('[data-user-username]')) {
    node.textContent = me.displayName && me.displayName !== me.username ? `(${me.username})` : '';
  }
  const behalf = me.onBehalfOf;
  const behalfName = behalf ? behalf.displayName || behalf.username : '';
  for (const node of document.querySelectorAll('[data-user-behalf-short]')) {
    node.textContent = behalf ? `on behalf of ${behalfName}` : '';
    node.hidden = !behalf;
  }
  for (const node of document.querySelectorAll('[data-user-behalf]')) {
    node.textContent = behalf ? `Acting on behalf of ${behalfName}` : '';
    node.hidden = !behalf;
  }
  for (const node of document.querySelectorAll('[data-user-behalf-banner]')) {
    node.textContent = behalf ? `Acting on behalf of ${behalfName}` : '';
  }
  const bar = document.getElementById('behalf-bar');
  if (bar !== null) bar.hidden = !behalf;
  const roles = sortedRoles(me.roles);
  for (const list of document.querySelectorAll('[data-user-roles]')) {
    list.replaceChildren(...(roles.length === 0
      ? [h('li', { class: 'muted', text: 'No roles yet: request access.' })]
      : roles.map((r) => roleItem(r))));
  }
  for (const node of document.querySelectorAll('[data-admin-only]')) node.hidden = !isAdmin(me);
  byId('user-menu').hidden = false;
}

/** One role as a list item: "HP · EuroBloodNet · BE10", with its centre name and expiry. */
export function roleItem(role) {
  const until = formatDate(role.expiresAt);
  return h('li', { title: role.centreName || null },
    roleLabel(role),
    until !== '' ? h('span', { class: 'muted', text: ` (until ${until})` }) : null);
}

function wireNavigation() {
  const toggle = document.getElementById('nav-toggle');
  const nav = document.getElementById('site-nav');
  if (toggle === null || nav === null) return;
  const set = (open) => {
    nav.classList.toggle('is-open', open);
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => set(toggle.getAttribute('aria-expanded') !== 'true'));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && nav.classList.contains('is-open')) {
      set(false);
      toggle.focus();
    }
  });
  document.addEventListener('click', (ev) => {
    if (!nav.contains(ev.target) && !toggle.contains(ev.target)) set(false);
  });
}

function wireUserMenu() {
  const menu = document.getElementById('user-menu');
  const button = document.getElementById('user-menu-button');
  const panel = document.getElementById('user-menu-panel');
  if (menu === null || button === null || panel === null) return;
  const set = (open) => {
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
  };
  button.addEventListener('click', () => {
    const open = panel.hidden;
    set(open);
    if (open) panel.querySelector('a, button')?.focus();
  });
  menu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !panel.hidden) {
      set(false);
      button.focus();
    }
  });
  menu.addEventListener('focusout', (ev) => {
    if (ev.relatedTarget instanceof Node && !menu.contains(ev.relatedTarget)) set(false);
  });
  document.addEventListener('click', (ev) => {
    if (!menu.contains(ev.target)) set(false);
  });
}

/** The name a person is shown by. */
function nameOf(user) {
  return user.displayName || user.username;
}

// An assistant acts on behalf of one of the clinicians who appointed them,
// or as themselves. The user menu offers each clinician (from
// /api/account/principals) and, while acting for one, the way back. Users
// without the Assistant role cannot act for anyone, so nothing is asked for
// them. #user-menu gets data-assist="ready" once the choices are known.
async function showAssisting(me) {
  const menu = byId('user-menu');
  const group = byId('assist');
  const current = me.onBehalfOf ? me.onBehalfOf.id : '';
  let clinicians = [];
  if (isAssistant(me) || current !== '') {
    try {
      const answer = await get('/api/account/principals');
      clinicians = Array.isArray(answer) ? answer : [];
    } catch (err) {
      if (err.status === 401) return;
      say(byId('assist-error'), `The clinicians you assist could not be loaded: ${err.message}`);
      group.hidden = false;
    }
  }
  const choices = clinicians
    .filter((c) => c.id !== current)
    .map((c) => actButton(`Act on behalf of ${nameOf(c)}`, c.id, c.username));
  if (current !== '') choices.push(actButton('Act as myself', '', null));
  byId('assist-choices').replaceChildren(...choices.map((button) => h('li', {}, button)));
  if (choices.length > 0) group.hidden = false;
  menu.dataset.assist = 'ready';
}

function actButton(label, clinicianId, title) {
  return h('button', {
    type: 'button',
    title,
    text: label,
    on: { click: () => actFor(clinicianId, byId('assist-error')) },
  });
}

let switching = false;

/**
 * Switches the session to act on behalf of a clinician ('' for oneself)
 * and reloads the page, whose content depends on whose permissions are in
 * use. A refusal is shown in region.
 */
async function actFor(clinicianId, region) {
  if (switching) return;
  switching = true;
  const buttons = document.querySelectorAll('#assist-choices button, [data-act-as-self]');
  for (const b of buttons) b.disabled = true;
  say(region, '');
  try {
    await post('/api/account/act-for', { clinicianId });
    window.location.reload();
  } catch (err) {
    switching = false;
    for (const b of buttons) b.disabled = false;
    if (err.status !== 401) say(region, `Could not switch: ${err.message}`);
  }
}

function wireActAsSelf() {
  for (const button of document.querySelectorAll('[data-act-as-self]')) {
    button.addEventListener('click', () => actFor('', byId('page-error')));
  }
}

function wireLogout() {
  for (const button of document.querySelectorAll('[data-logout], [data-logout-all]')) {
    button.addEventListener('click', async () => {
      const everywhere = button.hasAttribute('data-logout-all');
      if (everywhere && !window.confirm('Log out of every session of your account, on every device?')) return;
      button.disabled = true;
      try {
        await logout(everywhere);
        window.location.assign('/login');
      } catch (err) {
        button.disabled = false;
        if (err.status === 401) {
          window.location.assign('/login');
          return;
        }
        pageError(err);
      }
    });
  }
}
