// The account page: profile, the assistants of a health professional,
// password change, two-step verification set-up with recovery codes shown
// once, and the open sessions with a way to end them all. Users
// who signed in with a temporary password, or whose roles need a second
// factor they do not have yet, are sent here first and move on to the page
// they asked for (?next=) once that is done.

import { del, get, post } from './api.js';
import { busy, byId, copyText, fill, h, say, timeElement } from './dom.js';
import { accountNeedsAttention, safeNext } from './nav.js';
import { isClinician, sortedRoles } from './roles.js';
import { roleItem, startShell } from './shell.js';

const me = await startShell();
const next = safeNext(new URLSearchParams(window.location.search).get('next'));

// Profile
const profile = byId('profile');
for (const key of ['username', 'displayName', 'email']) {
  profile.querySelector(`[data-field="${key}"]`).textContent = me[key] || '—';
}
const roles = sortedRoles(me.roles);
profile.querySelector('[data-field="roles"]').replaceChildren(...(roles.length === 0
  ? [h('li', { class: 'muted', text: 'None yet.' })]
  : roles.map(roleItem)));
profile.removeAttribute('aria-busy');

// Assistants: a health professional appoints users with the Assistant role
// at one of their centres, who may then act on their behalf. Only the
// clinician themself changes the list, not someone acting for them.
if (isClinician(me)) showAssistants();

function showAssistants() {
  const section = byId('assistants-section');
  const list = byId('assistants');
  const form = byId('assistant-form');
  const input = byId('assistant-username');
  const error = byId('assistants-error');
  const done = byId('assistants-done');
  const acting = me.onBehalfOf;
  let assistants = [];
  section.hidden = false;
  if (acting) {
    say(byId('assistants-note'), `You are acting on behalf of ${acting.displayName || acting.username}. Act as yourself to appoint or dismiss your own assistants.`);
    form.hidden = true;
  }

  const nameOf = (a) => a.displayName || a.username;

  function item(a) {
    const name = nameOf(a);
    return h('li', { class: 'item person' },
      h('div', {},
        h('p', { class: 'item-title', text: name }),
        a.displayName && a.displayName !== a.username ? h('p', { class: 'item-meta', text: a.username }) : null),
      acting ? null : h('button', {
        type: 'button',
        class: 'button-small button-danger',
        'aria-label': `Dismiss ${name}`,
        text: 'Dismiss',
        on: { click: (ev) => dismiss(ev.currentTarget, a) },
      }));
  }

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const answer = await get('/api/account/assistants');
      assistants = Array.isArray(answer) ? answer : [];
      fill(list, assistants.length === 0
        ? h('li', { class: 'item empty', text: 'You have not appointed an assistant.' })
        : assistants.map(item));
    } catch (err) {
      fill(list);
      if (err.status !== 401) say(error, `Your assistants could not be loaded: ${err.message}`);
    }
  }

  async function dismiss(button, a) {
    const name = nameOf(a);
    if (!window.confirm(`Dismiss ${name} as your assistant? They will no longer be able to act on your behalf.`)) return;
    say(error, '');
    say(done, '');
    await busy(button, async () => {
      try {
        await del(`/api/account/assistants/${encodeURIComponent(a.id)}`);
        say(done, `${name} is no longer your assistant.`);
      } catch (err) {
        say(error, `${name} could not be dismissed: ${sentence(err.detail || err.message)}`);
      }
    });
    await load();
    input.focus();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say(error, '');
    say(done, '');
    const username = input.value.trim();
    if (username === '') {
      input.focus();
      return;
    }
    const known = assistants.find((a) => a.username.toLowerCase() === username.toLowerCase());
    if (known) {
      say(done, `${nameOf(known)} is already your assistant.`);
      return;
    }
    await busy(form.querySelector('button[type="submit"]'), async () => {
      try {
        await post('/api/account/assistants', { username });
      } catch (err) {
        // The API says why (not an assistant at your centres, no such user).
        say(error, `${username} could not be appointed: ${sentence(err.detail || err.message)}`);
        input.focus();
        return;
      }
      form.reset();
      await load();
      const added = assistants.find((a) => a.username.toLowerCase() === username.toLowerCase());
      say(done, `${added ? nameOf(added) : username} is now your assistant and can act on your behalf.`);
    });
  });

  load();
}

// Sessions: where the account is signed in. The list is asked for once the
// account needs nothing first (the API refuses it before).
const sessionsList = byId('sessions');
const sessionsError = byId('sessions-error');
let sessionsShown = false;

async function showSessions() {
  if (accountNeedsAttention(me)) {
    fill(sessionsList, h('p', { class: 'muted', text: 'Your sessions are listed here once your account is set up.' }));
    return;
  }
  sessionsShown = true;
  say(sessionsError, '');
  sessionsList.setAttribute('aria-busy', 'true');
  let sessions;
  try {
    const answer = await get('/api/account/sessions');
    sessions = Array.isArray(answer) ? answer : [];
  } catch (err) {
    fill(sessionsList);
    if (err.status !== 401) say(sessionsError, `Your sessions could not be loaded: ${err.message}`);
    return;
  }
  if (sessions.length === 0) {
    fill(sessionsList, h('p', { class: 'empty', text: 'No session is open.' }));
    return;
  }
  // This session first, then the most recently used.
  sessions.sort((a, b) => Number(Boolean(b.current)) - Number(Boolean(a.current))
    || String(b.lastSeenAt).localeCompare(String(a.lastSeenAt)));
  // One child, so that the stacked layout on small screens keeps it beside its label.
  const cell = (label, ...content) => h('td', { 'data-label': label }, h('div', {}, ...content));
  fill(sessionsList, h('table', { class: 'stack sessions' },
    h('caption', { class: 'visually-hidden', text: 'Your sessions, this one first' }),
    h('thead', {}, h('tr', {}, ['Signed in with', 'Started', 'Last active', 'Address', 'Browser'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, sessions.map((s) => h('tr', { dataset: s.current ? { current: '' } : {} },
      cell('Signed in with', signInMethod(s.method),
        s.current ? h('span', { class: 'badge badge-current', text: 'this session' }) : null),
      cell('Started', timeElement(s.createdAt, true)),
      cell('Last active', timeElement(s.lastSeenAt, true)),
      cell('Address', s.source || h('span', { class: 'muted', text: 'unknown' })),
      cell('Browser', h('span', { title: s.userAgent || null, text: shortAgent(s.userAgent) })))))));
}

/** How a session was signed in, in words. */
function signInMethod(method) {
  switch (method) {
    case 'password': return 'Password';
    case 'password+totp': return 'Password and authenticator code';
    case 'oidc': return 'Identity provider';
    default: return method || 'Unknown';
  }
}

const BROWSERS = [
  [/\bEdg(?:e|A|iOS)?\/(\d+)/, 'Edge'],
  [/\bOPR\/(\d+)/, 'Opera'],
  [/\bSamsungBrowser\/(\d+)/, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\/(\d+)/, 'Firefox'],
  [/\bHeadlessChrome\/(\d+)/, 'Headless Chrome'],
  [/\b(?:Chrome|CriOS)\/(\d+)/, 'Chrome'],
  [/\bVersion\/(\d+).*\bSafari\//, 'Safari'],
];
const SYSTEMS = [
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\b(?:Macintosh|Mac OS X)\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

/** "Firefox 128 on Windows" from a user agent string; its first word for other programs. */
function shortAgent(ua) {
  if (typeof ua !== 'string' || ua.trim() === '') return 'Unknown';
  const system = SYSTEMS.find(([re]) => re.test(ua));
  for (const [re, name] of BROWSERS) {
    const m = re.exec(ua);
    if (m) return system ? `${name} ${m[1]} on ${system[1]}` : `${name} ${m[1]}`;
  }
  const first = ua.trim().split(/\s+/)[0];
  const program = first.length > 40 ? `${first.slice(0, 39)}…` : first;
  return system ? `${program} on ${system[1]}` : program;
}

showSessions();

/** Ends a message from the API with a full stop. */
function sentence(text) {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

// Password (the hidden username lets password managers file the new one)
byId('password-username').value = me.username;
const passwordForm = byId('password-form');
const passwordError = byId('password-error');
const passwordDone = byId('password-done');
const passwordRequired = byId('password-required');
passwordForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say(passwordError, '');
  say(passwordDone, '');
  const current = byId('current-password');
  const fresh = byId('new-password');
  const confirm = byId('confirm-password');
  if (fresh.value !== confirm.value) {
    say(passwordError, 'The new password and its repetition differ.');
    confirm.focus();
    return;
  }
  await busy(passwordForm.querySelector('button[type="submit"]'), async () => {
    try {
      await post('/api/account/password', { current: current.value, new: fresh.value });
      passwordForm.reset();
      const forced = me.mustChangePassword;
      me.mustChangePassword = false;
      say(passwordRequired, '');
      if (forced && !me.mustEnrolTotp) {
        say(passwordDone, 'Your password has been changed. Taking you on…');
        window.location.assign(next);
        return;
      }
      say(passwordDone, me.mustEnrolTotp
        ? 'Your password has been changed. Now set up two-step verification below.'
        : 'Your password has been changed.');
      if (!sessionsShown) showSessions();
      if (me.mustEnrolTotp) totpStart.focus();
    } catch (err) {
      say(passwordError, err.message);
    }
  });
});

// Two-step verification
const totpStatus = byId('totp-status');
const totpError = byId('totp-error');
const totpStart = byId('totp-start');
const totpSetup = byId('totp-setup');
const totpRecovery = byId('totp-recovery');
const totpRequired = byId('totp-required');
const confirmForm = byId('totp-confirm-form');

// An app is set up once; moving to a new one goes through a reset by the
// helpdesk or an ERN admin.
function showTotpState(enabled) {
  totpStatus.textContent = enabled
    ? 'Two-step verification is on: signing in asks for a code from your authenticator app. To move to a new app or phone, ask the helpdesk or an administrator of your ERN to reset it.'
    : 'Two-step verification is off. Turn it on to protect your account with a code from an authenticator app.';
  totpStart.hidden = enabled;
}
showTotpState(Boolean(me.totpEnabled));

// What has to be done before anything else.
if (me.mustChangePassword) {
  say(passwordRequired, 'You signed in with a temporary password. Choose your own password to continue.');
  byId('current-password').focus();
} else if (me.mustEnrolTotp) {
  totpStart.focus();
}
if (me.mustEnrolTotp) {
  say(totpRequired, 'Your roles give access to patient data: set up two-step verification to continue.');
}

totpStart.addEventListener('click', () => busy(totpStart, async () => {
  say(totpError, '');
  try {
    const setup = await post('/api/account/totp/setup');
    byId('totp-secret').textContent = groupSecret(setup.secret || '');
    byId('totp-uri').textContent = setup.uri || '';
    totpSetup.hidden = false;
    totpRecovery.hidden = true;
    totpStart.hidden = true;
    byId('totp-code').focus();
  } catch (err) {
    say(totpError, err.message);
  }
}));

byId('totp-cancel').addEventListener('click', () => {
  totpSetup.hidden = true;
  confirmForm.reset();
  byId('totp-secret').textContent = '';
  byId('totp-uri').textContent = '';
  showTotpState(Boolean(me.totpEnabled));
  totpStart.focus();
});

confirmForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say(totpError, '');
  const code = byId('totp-code').value.replace(/\s+/g, '');
  await busy(confirmForm.querySelector('button[type="submit"]'), async () => {
    try {
      const answer = await post('/api/account/totp/confirm', { code });
      confirmForm.reset();
      totpSetup.hidden = true;
      byId('totp-secret').textContent = '';
      byId('totp-uri').textContent = '';
      me.totpEnabled = true;
      const forced = me.mustEnrolTotp;
      me.mustEnrolTotp = false;
      say(totpRequired, '');
      showTotpState(true);
      if (!sessionsShown) showSessions();
      showRecoveryCodes(Array.isArray(answer?.recoveryCodes) ? answer.recoveryCodes : [], forced && !me.mustChangePassword);
    } catch (err) {
      say(totpError, err.message);
    }
  });
});

// The codes are shown once; someone sent here first moves on only after
// choosing to, so the codes are not lost to a redirect.
function showRecoveryCodes(codes, moveOn) {
  byId('recovery-codes').replaceChildren(...codes.map((c) => h('li', {}, h('code', { text: c }))));
  const copy = byId('recovery-copy');
  const copied = byId('recovery-copied');
  say(copied, '');
  copy.onclick = () => copyText(codes.join('\n'), copied);
  byId('totp-continue-link').setAttribute('href', next);
  byId('totp-continue').hidden = !moveOn;
  totpRecovery.hidden = false;
  totpRecovery.focus();
}

// A base32 secret is easier to type in groups of four.
function groupSecret(secret) {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}
