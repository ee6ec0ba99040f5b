// Where the browser goes next: the sign-in page, and back from it.

/**
 * The path to return to after signing in. Only a path on this site is
 * accepted; anything else (another origin, a scheme, "//host", a
 * backslash trick) falls back to the dashboard.
 */
export function safeNext(raw) {
  const fallback = '/';
  if (typeof raw !== 'string' || raw === '' || raw.length > 2000) return fallback;
  if (!raw.startsWith('/') || raw.startsWith('//')) return fallback;
  // Backslashes and control characters are normalised away by URL
  // parsers in ways that can turn a path into a host.
  if (/[\\\u0000-\u001f\u007f]/.test(raw)) return fallback;
  let url;
  try {
    url = new URL(raw, window.location.origin);
  } catch {
    return fallback;
  }
  if (url.origin !== window.location.origin || url.pathname === '/login') return fallback;
  return url.pathname + url.search + url.hash;
}

/** The sign-in address that returns to the current page. */
export function loginURL() {
  const here = window.location.pathname + window.location.search + window.location.hash;
  return `/login?next=${encodeURIComponent(here)}`;
}

/** Sends the browser to the sign-in page, replacing the current history entry. */
export function goToLogin() {
  window.location.replace(loginURL());
}

/** Whether the account page has to be dealt with before any other page. */
export function accountNeedsAttention(me) {
  return Boolean(me && (me.mustChangePassword || me.mustEnrolTotp));
}

/**
 * Where a freshly signed-in user goes: the account page first when the
 * account must get a new password or a second factor, then next.
 */
export function afterSignIn(me, next) {
  return accountNeedsAttention(me) ? `/account?next=${encodeURIComponent(next)}` : next;
}
