// The administration page for ERN admins, coordinators and helpdesk:
// decide pending access requests, add users, manage their roles, disable
// them, and reset their password or two-step verification. The helpdesk of
// the whole deployment also reads the audit trail here.

import { del, get, post } from './api.js';
import { busy, byId, copyText, fill, h, say, timeElement } from './dom.js';
import { centreName, linkErnCentre, loadErns } from './ern.js';
import {
  canDecideAccess, canManageUsers, canReadAudit, canResetCredentials, isAdmin, roleLabel, ROLES, sortedRoles,
} from './roles.js';
import { pageError, startShell } from './shell.js';

const AUDIT_LIMIT = 200;
const AUDIT_COLUMNS = ['Time', 'Actor', 'On behalf of', 'Action', 'Object', 'Outcome'];

const auditTimeFormat = new Intl.DateTimeFormat('en-GB', {
  day: '2-digit', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

const me = await startShell();

if (!isAdmin(me)) {
  say(byId('admin-forbidden'), 'This page is for ERN admins, coordinators and helpdesk. You can ask for such a role under Access.');
} else {
  byId('admin-sections').hidden = false;
  await start();
}

async function start() {
  // Each section is shown to those whose roles allow what it does; the API
  // checks every request again.
  const decides = canDecideAccess(me);
  const manages = canManageUsers(me);
  const resets = canResetCredentials(me);
  const audits = canReadAudit(me);
  byId('pending-section').hidden = !decides;
  byId('users-section').hidden = !resets;
  byId('audit-section').hidden = !audits;
  byId('add-user').hidden = !manages;
  const announce = byId('admin-announce');
  let erns = [];
  let users = [];
  let uid = 0;
  const nextId = (prefix) => `${prefix}-${++uid}`;

  // Pending access requests

  const pending = byId('pending-requests');
  const pendingError = byId('pending-error');

  async function showPending() {
    say(pendingError, '');
    let requests;
    try {
      requests = await get('/api/access-requests?status=pending');
    } catch (err) {
      say(pendingError, err.message);
      fill(pending);
      return;
    }
    requests = (Array.isArray(requests) ? requests : [])
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    if (requests.length === 0) {
      fill(pending, h('p', { class: 'empty', text: 'No access requests are waiting.' }));
      return;
    }
    fill(pending, h('ul', { class: 'items' }, requests.map(requestItem)));
  }

  function requestItem(r) {
    const who = r.user ? `${r.user.displayName || r.user.username} (${r.user.username})` : 'Unknown user';
    const centre = centreName(erns, r.ern, r.centre);
    const commentId = nextId('decision');
    const error = h('div', { class: 'alert alert-error', role: 'alert' });
    const comment = h('textarea', { id: commentId, rows: 2, maxlength: 2000 });
    const li = h('li', { class: 'item' },
      h('p', { class: 'item-title', text: `${who} asks for ${roleLabel(r)}` }),
      h('p', { class: 'item-meta' }, centre ? `${centre} · ` : '', 'requested ', timeElement(r.createdAt, true)),
      r.comment ? h('p', { class: 'item-quote', text: r.comment }) : null,
      error,
      h('div', { class: 'field' }, h('label', { for: commentId, text: 'Comment on the decision' }), comment));
    const decide = (verb, done) => async (ev) => {
      say(error, '');
      await busy(ev.currentTarget, async () => {
        try {
          await post(`/api/access-requests/${encodeURIComponent(r.id)}/${verb}`, { comment: comment.value.trim() });
          say(announce, `${done} the request of ${who}.`);
          li.remove();
          if (pending.querySelector('.item') === null) await showPending();
          if (resets) await showUsers();
        } catch (err) {
          say(error, err.message);
        }
      });
    };
    li.append(h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button-primary', text: 'Approve', on: { click: decide('approve', 'Approved') } }),
      h('button', { type: 'button', class: 'button-danger', text: 'Refuse', on: { click: decide('refuse', 'Refused') } })));
    return li;
  }

  // Users

  const list = byId('users');
  const usersError = byId('users-error');
  const filter = byId('user-filter');
  const open = new Set();

  async function showUsers() {
    say(usersError, '');
    try {
      const answer = await get('/api/admin/users');
      users = (Array.isArray(answer) ? answer : [])
        .sort((a, b) => String(a.username).localeCompare(String(b.username)));
    } catch (err) {
      say(usersError, err.message);
      fill(list);
      return;
    }
    renderUsers();
  }

  function renderUsers() {
    const q = filter.value.trim().toLowerCase();
    const shown = q === '' ? users : users.filter((u) => [u.username, u.displayName, u.email]
      .concat((u.roles || []).map(roleLabel))
      .some((s) => typeof s === 'string' && s.toLowerCase().includes(q)));
    if (shown.length === 0) {
      fill(list, h('p', { class: 'empty', text: users.length === 0 ? 'No users yet.' : 'No user matches the filter.' }));
      return;
    }
    fill(list, h('p', { class: 'muted', text: `${shown.length} of ${users.length} users` }), shown.map(userEntry));
  }
  filter.addEventListener('input', renderUsers);

  function userEntry(u) {
    const name = u.displayName || u.username;
    const feedback = h('div', { class: 'alert alert-error', role: 'alert' });
    const result = h('div', { role: 'status' });
    const entry = h('details', { class: 'user-entry', open: open.has(u.id) },
      h('summary', {},
        h('span', { class: 'item-title', text: name }),
        u.displayName && u.displayName !== u.username ? h('span', { class: 'muted', text: u.username }) : null,
        u.disabled ? h('span', { class: 'badge badge-disabled', text: 'disabled' }) : null,
        u.totpEnabled ? h('span', { class: 'badge badge-on', text: 'two-step on' }) : null),
      h('div', { class: 'user-entry-body' },
        h('p', { class: 'item-meta', text: u.email || '' }),
        feedback,
        result,
        h('h3', { text: 'Roles' }),
        roleList(u, name, feedback),
        manages ? addRoleForm(u, name, feedback) : null,
        h('h3', { text: 'Account' }),
        h('div', { class: 'actions' },
          action('Reset password', `Give ${name} a new temporary password? Their current password stops working.`, async () => {
            const answer = await post(`/api/admin/users/${encodeURIComponent(u.id)}/reset-password`);
            showOnce(result, `Temporary password for ${name}`, answer?.temporaryPassword || '');
          }, feedback),
          u.totpEnabled ? action('Reset two-step verification', `Turn off two-step verification for ${name}? They can set it up again after signing in.`, async () => {
            await post(`/api/admin/users/${encodeURIComponent(u.id)}/reset-totp`);
            say(announce, `Two-step verification of ${name} was reset.`);
            await showUsers();
          }, feedback) : null,
          !manages ? null : u.disabled ? action('Enable account', `Enable the account of ${name} again? They can sign in with their password.`, async () => {
            await post(`/api/admin/users/${encodeURIComponent(u.id)}/enable`);
            say(announce, `The account of ${name} was enabled.`);
            await showUsers();
          }, feedback) : action('Disable account', `Disable the account of ${name}? They can no longer sign in.`, async () => {
            await post(`/api/admin/users/${encodeURIComponent(u.id)}/disable`);
            say(announce, `The account of ${name} was disabled.`);
            await showUsers();
          }, feedback, 'button-danger'))));
    entry.addEventListener('toggle', () => {
      if (entry.open) open.add(u.id);
      else open.delete(u.id);
    });
    return entry;
  }

  function action(label, question, fn, feedback, cls) {
    return h('button', {
      type: 'button',
      class: cls || null,
      text: label,
      on: {
        click: async (ev) => {
          say(feedback, '');
          if (!window.confirm(question)) return;
          await busy(ev.currentTarget, async () => {
            try {
              await fn();
            } catch (err) {
              say(feedback, err.message);
            }
          });
        },
      },
    });
  }

  function roleList(u, name, feedback) {
    const roles = sortedRoles(u.roles);
    if (roles.length === 0) return h('p', { class: 'muted', text: 'No roles.' });
    return h('ul', { class: 'role-list' }, roles.map((r) => h('li', {},
      h('span', {}, roleLabel(r), r.expiresAt ? h('span', { class: 'muted' }, ' (until ', timeElement(r.expiresAt), ')') : null),
      manages && h('button', {
        type: 'button',
        class: 'button-small button-danger',
        text: 'Remove',
        'aria-label': `Remove role ${roleLabel(r)} from ${name}`,
        on: {
          click: async (ev) => {
            say(feedback, '');
            if (!window.confirm(`Remove the role ${roleLabel(r)} from ${name}?`)) return;
            await busy(ev.currentTarget, async () => {
              try {
                await del(`/api/admin/users/${encodeURIComponent(u.id)}/roles/${encodeURIComponent(r.id)}`);
                say(announce, `Removed ${roleLabel(r)} from ${name}.`);
                await showUsers();
              } catch (err) {
                say(feedback, err.message);
              }
            });
          },
        },
      }))));
  }

  function addRoleForm(u, name, feedback) {
    const ids = { role: nextId('role'), ern: nextId('ern'), centre: nextId('centre'), expires: nextId('expires') };
    const role = h('select', { id: ids.role, required: true },
      h('option', { value: '', text: 'Choose a role' }),
      ROLES.map((r) => h('option', { value: r.name, text: r.name })));
    const ern = h('select', { id: ids.ern });
    const centre = h('select', { id: ids.centre });
    const expires = h('input', { id: ids.expires, type: 'date' });
    linkErnCentre(ern, centre, erns, { ernPlaceholder: 'None', centrePlaceholder: 'None (whole ERN)' });
    const field = (id, label, input) => h('div', { class: 'field' }, h('label', { for: id, text: label }), input);
    const form = h('form', { class: 'grid-form', method: 'post', action: '/admin', 'aria-label': `Add a role to ${name}` },
      field(ids.role, 'Role', role),
      field(ids.ern, 'ERN', ern),
      field(ids.centre, 'Centre', centre),
      field(ids.expires, 'Expires (optional)', expires),
      h('div', { class: 'field' }, h('button', { type: 'submit', text: 'Add role' })));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      say(feedback, '');
      const body = {
        role: role.value,
        ern: ern.value,
        centre: centre.value,
        // The role lasts to the end of the chosen day.
        expiresAt: expires.value ? `${expires.value}T23:59:59Z` : null,
      };
      await busy(form.querySelector('button[type="submit"]'), async () => {
        try {
          await post(`/api/admin/users/${encodeURIComponent(u.id)}/roles`, body);
          say(announce, `Added ${roleLabel(body)} to ${name}.`);
          await showUsers();
        } catch (err) {
          say(feedback, err.message);
        }
      });
    });
    return form;
  }

  // A secret shown once, with a way to copy it.
  function showOnce(region, heading, secret) {
    const status = h('span', { role: 'status' });
    fill(region, h('div', { class: 'once' },
      h('p', { text: `${heading}:` }),
      h('p', {}, h('code', { text: secret })),
      h('p', { class: 'hint', text: 'Shown only this once. Hand it to the user over a secure channel.' }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button-small', text: 'Copy', on: { click: () => copyText(secret, status) } }),
        status)));
  }

  // Adding a user

  const addForm = byId('add-user-form');
  const addError = byId('add-user-error');
  const addResult = byId('add-user-result');
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(addError, '');
    const body = {
      username: byId('new-username').value.trim(),
      displayName: byId('new-display-name').value.trim(),
      email: byId('new-email').value.trim(),
    };
    await busy(addForm.querySelector('button[type="submit"]'), async () => {
      try {
        const answer = await post('/api/admin/users', body);
        addForm.reset();
        byId('add-user').open = false;
        showOnce(addResult, `User ${body.username} added. Temporary password`, answer?.temporaryPassword || '');
        await showUsers();
      } catch (err) {
        say(addError, err.message);
      }
    });
  });

  // Audit trail

  const auditForm = byId('audit-filter');
  const auditActor = byId('audit-actor');
  const auditAction = byId('audit-action');
  const auditRecords = byId('audit-records');
  const auditError = byId('audit-error');
  const auditCount = byId('audit-count');
  const auditActions = byId('audit-actions');
  const knownActions = new Set();

  async function showAudit() {
    say(auditError, '');
    const actor = auditActor.value.trim();
    const act = auditAction.value.trim();
    const query = new URLSearchParams({ limit: String(AUDIT_LIMIT) });
    if (actor !== '') query.set('actor', actor);
    if (act !== '') query.set('action', act);
    auditRecords.setAttribute('aria-busy', 'true');
    let records;
    try {
      const answer = await get(`/api/audit?${query}`);
      records = Array.isArray(answer) ? answer : [];
    } catch (err) {
      say(auditCount, '');
      fill(auditRecords);
      if (err.status !== 401) say(auditError, `The audit trail could not be loaded: ${err.message}`);
      return;
    }
    for (const r of records) if (typeof r.action === 'string' && r.action !== '') knownActions.add(r.action);
    fill(auditActions, [...knownActions].sort().map((a) => h('option', { value: a })));
    const filtered = actor !== '' || act !== '';
    if (records.length === 0) {
      say(auditCount, '');
      fill(auditRecords, h('p', { class: 'empty', text: filtered ? 'No record matches the filters.' : 'The audit trail is empty.' }));
      return;
    }
    const shown = records.length >= AUDIT_LIMIT ? `The newest ${records.length} records` : `${records.length} ${records.length === 1 ? 'record' : 'records'}`;
    say(auditCount, filtered ? `${shown} matching the filters.` : `${shown}.`);
    fill(auditRecords, auditTable(records));
  }

  function auditTable(records) {
    // One child, so that the stacked layout on small screens keeps it beside its label.
    const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
    const none = () => h('span', { class: 'muted', text: '—' });
    return h('table', { class: 'stack audit' },
      h('caption', { class: 'visually-hidden', text: 'Audit records, newest first' }),
      h('thead', {}, h('tr', {}, AUDIT_COLUMNS.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, records.map((r) => {
        const ok = r.outcome === 0;
        return h('tr', { dataset: { action: r.action || '', outcome: String(r.outcome) } },
          cell('Time', r.at ? h('time', { datetime: r.at, text: formatAuditTime(r.at) }) : none()),
          cell('Actor', r.actor || none()),
          cell('On behalf of', r.onBehalfOf || none()),
          cell('Action', h('span', { class: 'audit-action', text: r.action || '' }),
            r.detail ? h('span', { class: 'audit-detail', text: r.detail }) : null),
          cell('Object', auditObject(r) || none()),
          cell('Outcome', h('span', {
            class: `badge ${ok ? 'badge-success' : 'badge-failure'}`,
            title: ok ? null : `outcome ${r.outcome}`,
            text: ok ? 'success' : 'refused or failed',
          })));
      })));
  }

  function auditObject(r) {
    const parts = [];
    if (r.objectType || r.objectId) {
      parts.push(h('span', {}, r.objectType || 'object', r.objectId ? [' ', h('code', { class: 'wrap', text: r.objectId })] : null));
    }
    if (r.patientId) parts.push(h('span', { class: 'audit-detail' }, 'patient ', h('code', { class: 'wrap', text: r.patientId })));
    return parts.length === 0 ? null : parts;
  }

  auditForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    await busy(auditForm.querySelector('button[type="submit"]'), showAudit);
  });
  byId('audit-clear').addEventListener('click', async (ev) => {
    auditForm.reset();
    await busy(ev.currentTarget, showAudit);
    auditActor.focus();
  });

  try {
    erns = await loadErns();
  } catch (err) {
    if (err.status !== 401) pageError(err);
  }
  await Promise.all([decides ? showPending() : null, resets ? showUsers() : null, audits ? showAudit() : null]);
}

/** "05 Feb 2026, 14:30:07": the seconds tell close records apart. */
function formatAuditTime(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : auditTimeFormat.format(d);
}
