// Client of the CPMS JSON API on the same origin. It keeps the CSRF token
// from the last /api/login or /api/me answer and sends it on every unsafe
// request; errors come back as ApiError built from problem JSON.

const SAFE_METHODS = new Set(['GET', 'HEAD']);

let csrfToken = '';
let onUnauthorized = null;

/** An error answer of the API, carrying the problem's title, detail and code. */
export class ApiError extends Error {
  constructor(status, problem) {
    const title = typeof problem.title === 'string' && problem.title !== ''
      ? problem.title
      : defaultTitle(status);
    const detail = typeof problem.detail === 'string' ? problem.detail : '';
    super(detail !== '' && detail !== title ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.code = typeof problem.code === 'string' ? problem.code : '';
    // The fields a validation problem names: [{field, message}].
    this.errors = Array.isArray(problem.errors)
      ? problem.errors.filter((e) => e && typeof e.field === 'string' && typeof e.message === 'string')
      : [];
  }
}

function defaultTitle(status) {
  switch (status) {
    case 0: return 'The server could not be reached';
    case 401: return 'You are not signed in';
    case 403: return 'You are not allowed to do this';
    case 404: return 'Not found';
    case 409: return 'This conflicts with the current state';
    case 429: return 'Too many attempts; wait a moment and try again';
    default: return status >= 500 ? 'The server could not complete the request' : `Request failed (${status})`;
  }
}

/**
 * Sets what happens when the API answers 401 to anything but a sign-in:
 * signed-in pages send the browser to the sign-in page.
 */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** Sends one request; resolves to the decoded JSON body, or null for an empty answer. */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!SAFE_METHODS.has(method) && csrfToken !== '') {
    headers['X-CSRF-Token'] = csrfToken;
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, { detail: 'Check your network connection and try again.' });
  }
  let data = null;
  if (res.status !== 204 && (res.headers.get('Content-Type') || '').includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data !== null && typeof data === 'object' ? data : {});
    if (res.status === 401 && path !== '/api/login' && onUnauthorized !== null) {
      onUnauthorized(err);
    }
    throw err;
  }
  return data;
}

function remember(answer) {
  if (answer !== null && typeof answer.csrfToken === 'string') {
    csrfToken = answer.csrfToken;
  }
  return answer;
}

/** The signed-in user (Me), refreshing the CSRF token. */
export async function getMe() {
  return remember(await request('GET', '/api/me'));
}

/** Signs in; resolves to {user, csrfToken}. */
export async function login(username, password, totp) {
  const body = { username, password };
  if (totp) body.totp = totp;
  return remember(await request('POST', '/api/login', body));
}

/** Ends this session, or every session of the user when everywhere is true. */
export async function logout(everywhere) {
  await request('POST', everywhere ? '/api/logout/all' : '/api/logout');
  csrfToken = '';
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body === undefined ? {} : body);
export const put = (path, body) => request('PUT', path, body === undefined ? {} : body);
export const del = (path) => request('DELETE', path);
