// What the browser checks in this folder share: one headless Chromium
// against BASE_URL, the watch for page errors, CSP violations, failed
// static files and server errors, sign-in through the page (waiting out the
// server's sign-in throttle once), waiting for API answers, and the one
// line each run ends with: "<name> e2e: ok: …" with exit status 0, or
// "<name> e2e: FAIL [in <stage>] while <step>: <reason>" with exit status 1.
//
// Environment: BASE_URL (required), CPMS_E2E_PASSWORD (password of the demo
// users, default cpms-demo), CHROMIUM (default /usr/bin/chromium).

import { chromium } from 'playwright-core';

export const STEP_TIMEOUT_MS = 15_000;

export const baseURL = (process.env.BASE_URL || '').replace(/\/+$/, '');
export const demoPassword = process.env.CPMS_E2E_PASSWORD || 'cpms-demo';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

// Where the run is, for the failure message: stage (the numbered part of a
// longer check, or null) and step (what it is doing). throttledMs is the
// time spent waiting out the sign-in throttle.
export const run = { name: 'e2e', stage: null, step: 'starting', browser: null, throttledMs: 0 };

export function fail(message) {
  const where = run.stage === null ? '' : ` in ${run.stage}`;
  console.error(`${run.name} e2e: FAIL${where} while ${run.step}: ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

export function pathOf(page) {
  return new URL(page.url()).pathname;
}

// Runs the check: name starts the result line, staged ones name their
// stage on failure, before runs ahead of the browser, steps drive it and
// summary says what passed.
export function runChecks({ name, timeoutMs, staged = false, before = () => {}, steps, summary }) {
  run.name = name;
  if (staged) run.stage = 'before the first step';
  const deadline = setTimeout(() => {
    fail(`no result within ${timeoutMs / 1000} s`);
  }, timeoutMs);

  async function main() {
    if (baseURL === '') fail('BASE_URL is not set (e.g. http://127.0.0.1:8080)');
    before();
    const started = Date.now();
    run.step = `launching ${executablePath}`;
    run.browser = await chromium.launch({ executablePath, headless: true, timeout: STEP_TIMEOUT_MS, args: LAUNCH_ARGS });
    await steps();
    await run.browser.close();
    clearTimeout(deadline);
    const throttle = run.throttledMs > 0 ? ` (${Math.round(run.throttledMs / 1000)} s of it waiting out the sign-in throttle)` : '';
    console.log(`${name} e2e: ok: ${summary} in ${Date.now() - started} ms${throttle}`);
  }

  main().catch(async (err) => {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    if (run.browser !== null) await run.browser.close().catch(() => {});
    fail(message);
  });
}

const CSP_MESSAGE = /Content[- ]Security[- ]Policy|Trusted ?(Type|HTML|Script)|Refused to (load|apply|execute|connect|frame)/i;

// Records what must never happen on a page: uncaught errors, CSP
// violations, static files that do not load and server errors (named
// with their method unless showMethod is false).
export function watch(page, problems, { showMethod = true } = {}) {
  page.on('pageerror', (err) => problems.push(`uncaught error in page: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (CSP_MESSAGE.test(text)) problems.push(`CSP violation: ${text}`);
  });
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith('/static/') && res.status() >= 400) {
      problems.push(`static file ${url.pathname} answered ${res.status()}`);
    }
    const what = showMethod ? `${res.request().method()} ${url.pathname}` : url.pathname;
    if (res.status() >= 500) problems.push(`${what} answered ${res.status()}`);
  });
  page.on('requestfailed', (req) => {
    const url = new URL(req.url());
    // A navigation cancels the loads of the page it leaves: not a failure.
    if (req.failure()?.errorText === 'net::ERR_ABORTED') return;
    if (url.origin === new URL(baseURL).origin && url.pathname.startsWith('/static/')) {
      problems.push(`static file ${url.pathname} failed: ${req.failure()?.errorText}`);
    }
  });
}

// A fresh browser context (no cookie shared with another) with one
// watched page.
export async function openPage(contextOptions, watchOptions) {
  const problems = [];
  const context = await run.browser.newContext(contextOptions);
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watch(page, problems, watchOptions);
  return { context, page, problems };
}

// One person at one browser. Confirmations ("Disable the account of …?")
// are answered yes, as the person would; the questions are kept for the
// checks. close fails on anything the watch recorded.
export async function openBrowserFor(who) {
  const { context, page, problems } = await openPage({ viewport: { width: 1280, height: 900 } });
  const dialogs = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    dialog.accept().catch(() => {});
  });
  return {
    who,
    page,
    dialogs,
    async close() {
      check(problems.length === 0, `on the pages of ${who}: ${problems.join('; ')}`);
      await context.close();
    },
  };
}

export async function bodyOf(res) {
  try {
    return JSON.stringify(await res.json());
  } catch {
    return '(no JSON body)';
  }
}

// Runs action and resolves to the API answer it causes.
export async function answerTo(page, method, pathPattern, action) {
  const answer = page.waitForResponse((res) => res.request().method() === method
    && pathPattern.test(new URL(res.url()).pathname));
  answer.catch(() => {});
  await action();
  return answer;
}

// An answer with another status than expected is reported with the
// request (unless it holds a secret) and the body of the answer.
export async function expectStatus(res, status) {
  const method = res.request().method();
  const path = new URL(res.url()).pathname;
  if (res.status() !== status) {
    let sent = '';
    try {
      sent = res.request().postData() || '';
    } catch {
      sent = '';
    }
    const shown = /password|totp|code/.test(sent) ? '(body with a secret not shown)' : sent;
    throw new Error(`${method} ${path} ${shown} answered ${res.status()} ${await bodyOf(res)}; expected ${status}`);
  }
  return res;
}

// Runs action and waits for the API answer it causes, with the status given.
export async function expectAPI(page, method, pathPattern, status, action) {
  return expectStatus(await answerTo(page, method, pathPattern, action), status);
}

// Error regions are empty (and take no room) unless something went wrong.
export async function expectNoErrorShown(page) {
  const shown = page.locator('.alert-error:not(:empty)');
  const n = await shown.count();
  const texts = [];
  for (let i = 0; i < n; i++) {
    if (await shown.nth(i).isVisible()) texts.push(await shown.nth(i).innerText());
  }
  check(texts.length === 0, `the page ${pathOf(page)} shows an error: ${texts.join(' | ')}`);
}

export async function fillSignIn(page, username, password) {
  run.step = `filling in the sign-in form as ${username}`;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
}

const LOGIN = /^\/api\/login$/;

// Presses Sign in and expects the answer status. The server throttles
// sign-in attempts per address (10 a minute by default). The first refused
// attempt is dealt with as a person would: read the message, wait as long
// as the answer says (at most 60 s), then press Sign in again (refill
// re-enters what may have gone stale meanwhile, such as a TOTP code).
export async function pressSignIn(page, status, refill = async () => {}) {
  const button = page.getByRole('button', { name: 'Sign in' });
  let res = await answerTo(page, 'POST', LOGIN, () => button.click());
  if (res.status() === 429 && run.throttledMs === 0) {
    const wait = Math.min(Math.max(Number(res.headers()['retry-after']) || 60, 1), 60) * 1000 + 500;
    const message = page.locator('#login-error').filter({ hasText: /\S/ });
    await message.waitFor();
    check(/wait|too many/i.test(await message.innerText()), `the sign-in page does not explain the throttle: ${JSON.stringify(await message.innerText())}`);
    const was = run.step;
    run.step = `${was} (throttled: waiting ${Math.round(wait / 1000)} s as the answer asks)`;
    const started = Date.now();
    await sleep(wait);
    run.throttledMs = Date.now() - started;
    await refill();
    run.step = was;
    res = await answerTo(page, 'POST', LOGIN, () => button.click());
  }
  return expectStatus(res, status);
}

// Opens path signed out, is sent to the sign-in page, signs in and comes
// back to path.
export async function signInAt(page, path, username, password = demoPassword) {
  run.step = `opening ${path} signed out`;
  await page.goto(`${baseURL}${path}`);
  await page.waitForURL((url) => url.pathname === '/login');
  const next = new URL(page.url()).searchParams.get('next');
  check(next === path, `expected /login?next=${path}, got ${page.url()}`);
  await fillSignIn(page, username, password);
  run.step = `signing in as ${username}`;
  await pressSignIn(page, 200);
  await page.waitForURL((url) => url.pathname === path);
}

// Logs out through the user menu, opening it unless it is open.
export async function logOut(page) {
  run.step = 'logging out';
  const panel = page.locator('#user-menu-panel');
  if (!(await panel.isVisible())) await page.locator('#user-menu-button').click();
  await expectAPI(page, 'POST', /^\/api\/logout$/, 204,
    () => panel.getByRole('button', { name: 'Log out', exact: true }).click());
  await page.waitForURL((url) => url.pathname === '/login');
}
