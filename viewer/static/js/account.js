// The account page: profile, password change, two-step verification set-up
// with recovery codes shown once, and logging out of every session.

import { post } from './api.js';
import { busy, byId, copyText, h, say } from './dom.js';
import { sortedRoles } from './roles.js';
import { roleItem, startShell } from './shell.js';

const me = await startShell();

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

// Password (the hidden username lets password managers file the new one)
byId('password-username').value = me.username;
const passwordForm = byId('password-form');
const passwordError = byId('password-error');
const passwordDone = byId('password-done');
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
      say(passwordDone, 'Your password has been changed.');
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
const confirmForm = byId('totp-confirm-form');

function showTotpState(enabled) {
  totpStatus.textContent = enabled
    ? 'Two-step verification is on: signing in asks for a code from your authenticator app.'
    : 'Two-step verification is off. Turn it on to protect your account with a code from an authenticator app.';
  totpStart.textContent = enabled ? 'Move to a new authenticator app' : 'Set up an authenticator app';
  totpStart.hidden = false;
}
showTotpState(Boolean(me.totpEnabled));

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
      showTotpState(true);
      showRecoveryCodes(Array.isArray(answer?.recoveryCodes) ? answer.recoveryCodes : []);
    } catch (err) {
      say(totpError, err.message);
    }
  });
});

function showRecoveryCodes(codes) {
  byId('recovery-codes').replaceChildren(...codes.map((c) => h('li', {}, h('code', { text: c }))));
  const copy = byId('recovery-copy');
  const copied = byId('recovery-copied');
  say(copied, '');
  copy.onclick = () => copyText(codes.join('\n'), copied);
  totpRecovery.hidden = false;
  totpRecovery.focus();
}

// A base32 secret is easier to type in groups of four.
function groupSecret(secret) {
  return secret.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
}
