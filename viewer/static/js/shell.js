// The frame of every signed-in page: loads the user, fills the user menu,
// shows the Admin entry to those who may use it, folds the navigation on
// small screens, and logs out.

import { getMe, logout, setUnauthorizedHandler } from './api.js';
import { byId, h, say, formatDate } from './dom.js';
import { accountNeedsAttention, afterSignIn, goToLogin } from './nav.js';
import { isAdmin, roleLabel, sortedRoles } from './roles.js';

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
