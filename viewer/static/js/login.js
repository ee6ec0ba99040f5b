// The sign-in page: username and password, then a verification code (or a
// recovery code) when the account has two-step verification.

import { get, getMe, login } from './api.js';
import { busy, byId, say } from './dom.js';
import { afterSignIn, safeNext } from './nav.js';

const next = safeNext(new URLSearchParams(window.location.search).get('next'));
const form = byId('login-form');
const username = byId('username');
const password = byId('password');
const totpField = byId('totp-field');
const totp = byId('totp');
const submit = byId('login-submit');
const error = byId('login-error');
const info = byId('login-info');

// Someone already signed in has nothing to do here.
try {
  const me = await getMe();
  window.location.replace(afterSignIn(me, next));
} catch {
  // Not signed in (or the API is unreachable): show the form.
}

// Offer the identity provider's sign-in when the server has one.
get('/api/auth/methods').then((m) => {
  if (m && m.oidc && m.oidc.url && m.oidc.url.startsWith('/api/')) {
    const link = byId('sso-link');
    link.href = m.oidc.url;
    link.textContent = 'Sign in with ' + m.oidc.label;
    byId('sso').hidden = false;
  }
}).catch(() => {});

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  say(error, '');
  const code = totpField.hidden ? '' : totp.value.replace(/\s+/g, '');
  await busy(submit, async () => {
    try {
      const answer = await login(username.value.trim(), password.value, code);
      window.location.assign(afterSignIn(answer?.user, next));
    } catch (err) {
      failed(err);
    }
  });
});

function failed(err) {
  if (err.code === 'totp_required' && totpField.hidden) {
    totpField.hidden = false;
    totp.required = true;
    say(info, 'Your account uses two-step verification. Enter a code to finish signing in.');
    totp.focus();
    return;
  }
  say(error, err.message);
  // After a refused code the code is the likelier mistake; before, the password.
  const field = totpField.hidden ? password : totp;
  if (err.code === 'totp_required' || err.code === 'invalid_credentials') {
    field.select();
    field.focus();
  }
}
