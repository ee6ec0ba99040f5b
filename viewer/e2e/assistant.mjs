// Browser check of assistants against a fresh demo server. Everything goes
// through the pages, as people use them:
//
//   1. bloodnethpuser1 opens Account, sees bloodnetassistant listed as
//      assistant, tries to appoint bloodnethpuser2 (a health professional
//      at another centre, not an assistant) and sees the refusal the API
//      gives; signs out;
//   2. bloodnetassistant signs in, chooses in the user menu to act on
//      behalf of Demo Clinician One; the header says so (also at 375 px)
//      and /api/me reports onBehalfOf bloodnethpuser1; switches back to
//      acting as self and the indication is gone; signs out;
//   3. bloodnethpuser1 dismisses the assistant;
//   4. bloodnetassistant signs in again and is no longer offered to act on
//      behalf of anyone.
//
//   BASE_URL=http://127.0.0.1:8080 node viewer/e2e/assistant.mjs
//
// Environment: BASE_URL (required), CPMS_E2E_PASSWORD (password of the demo
// users, default cpms-demo), CHROMIUM (default /usr/bin/chromium). The demo
// data must be fresh: the run dismisses the demo assistant. Any page
// error, Content-Security-Policy violation, failed static file, server
// error, or API answer with another status than the page's action should
// get fails the run. The run signs in 4 times; should the server's sign-in
// throttle refuse one, the run waits once as long as the answer asks (at
// most 60 s) and goes on. Exit status 0 with one summary line on success;
// 1 with the step and the reason on failure.

import { chromium } from 'playwright-core';

const OVERALL_TIMEOUT_MS = 90_000;
const STEP_TIMEOUT_MS = 15_000;

const baseURL = (process.env.BASE_URL || '').replace(/\/+$/, '');
const demoPassword = process.env.CPMS_E2E_PASSWORD || 'cpms-demo';
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const HP1 = { username: 'bloodnethpuser1', displayName: 'Demo Clinician One' };
const HP2 = 'bloodnethpuser2';
const ASSISTANT = { username: 'bloodnetassistant', displayName: 'Demo Assistant' };
const ACT_FOR_HP1 = `Act on behalf of ${HP1.displayName}`;
const BEHALF_TEXT = `on behalf of ${HP1.displayName}`;

let stage = 'before the first step';
let step = 'starting';
let browser = null;

function fail(message) {
  console.error(`assistant e2e: FAIL in ${stage} while ${step}: ${message}`);
  process.exit(1);
}

const deadline = setTimeout(() => {
  fail(`no result within ${OVERALL_TIMEOUT_MS / 1000} s`);
}, OVERALL_TIMEOUT_MS);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// Records what must never happen on a page: uncaught errors, CSP
// violations, static files that do not load and server errors.
function watch(page, problems) {
  page.on('pageerror', (err) => problems.push(`uncaught error in page: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content[- ]Security[- ]Policy|Trusted ?(Type|HTML|Script)|Refused to (load|apply|execute|connect|frame)/i.test(text)) problems.push(`CSP violation: ${text}`);
  });
  page.on('response', (res) => {
    const url = new URL(res.url());
    if (url.pathname.startsWith('/static/') && res.status() >= 400) {
      problems.push(`static file ${url.pathname} answered ${res.status()}`);
    }
    if (res.status() >= 500) problems.push(`${res.request().method()} ${url.pathname} answered ${res.status()}`);
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

// One person at one browser: a fresh context, so no cookie is shared.
async function openBrowserFor(who) {
  const problems = [];
  const dialogs = [];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  watch(page, problems);
  // Confirmations ("Dismiss … as your assistant?") are answered yes, as
  // the clinician would; the question is kept for the checks.
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

async function bodyOf(res) {
  try {
    return JSON.stringify(await res.json());
  } catch {
    return '(no JSON body)';
  }
}

// Runs action and resolves to the API answer it causes.
async function answerTo(page, method, pathPattern, action) {
  const answer = page.waitForResponse((res) => res.request().method() === method
    && pathPattern.test(new URL(res.url()).pathname));
  answer.catch(() => {});
  await action();
  return answer;
}

// Runs action and waits for the API answer it causes; an answer with
// another status than expected is reported with the request and its body.
async function expectAPI(page, method, pathPattern, status, action) {
  return expectStatus(await answerTo(page, method, pathPattern, action), status);
}

async function expectStatus(res, status) {
  const method = res.request().method();
  const path = new URL(res.url()).pathname;
  if (res.status() !== status) {
    let sent = '';
    try {
      sent = res.request().postData() || '';
    } catch {
      sent = '';
    }
    const shown = /password/.test(sent) ? '(body with a secret not shown)' : sent;
    throw new Error(`${method} ${path} ${shown} answered ${res.status()} ${await bodyOf(res)}; expected ${status}`);
  }
  return res;
}

// Error regions are empty (and take no room) unless something went wrong.
async function expectNoErrorShown(page) {
  const shown = page.locator('.alert-error:not(:empty)');
  const n = await shown.count();
  const texts = [];
  for (let i = 0; i < n; i++) {
    if (await shown.nth(i).isVisible()) texts.push(await shown.nth(i).innerText());
  }
  check(texts.length === 0, `the page ${new URL(page.url()).pathname} shows an error: ${texts.join(' | ')}`);
}

const LOGIN = /^\/api\/login$/;

// The server throttles sign-in attempts per address (10 a minute by
// default). A refused attempt is dealt with as a person would: wait as
// long as the answer says, then press Sign in again.
let throttledMs = 0;
async function pressSignIn(page, status) {
  const button = page.getByRole('button', { name: 'Sign in' });
  let res = await answerTo(page, 'POST', LOGIN, () => button.click());
  if (res.status() === 429 && throttledMs === 0) {
    const wait = Math.min(Math.max(Number(res.headers()['retry-after']) || 60, 1), 60) * 1000 + 500;
    const was = step;
    step = `${was} (throttled: waiting ${Math.round(wait / 1000)} s as the answer asks)`;
    const started = Date.now();
    await sleep(wait);
    throttledMs = Date.now() - started;
    step = was;
    res = await answerTo(page, 'POST', LOGIN, () => button.click());
  }
  return expectStatus(res, status);
}

// Opens path signed out, is sent to the sign-in page, signs in and comes
// back to path.
async function signInAt(page, path, username) {
  step = `opening ${path} signed out`;
  await page.goto(`${baseURL}${path}`);
  await page.waitForURL((url) => url.pathname === '/login');
  step = `signing in as ${username}`;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(demoPassword);
  await pressSignIn(page, 200);
  await page.waitForURL((url) => url.pathname === path);
  await page.locator('#user-menu-button').waitFor({ state: 'visible' });
}

async function logOut(page) {
  step = 'logging out';
  await page.keyboard.press('Escape');
  const panel = page.locator('#user-menu-panel');
  if (!(await panel.isVisible())) await page.locator('#user-menu-button').click();
  await expectAPI(page, 'POST', /^\/api\/logout$/, 204,
    () => panel.getByRole('button', { name: 'Log out', exact: true }).click());
  await page.waitForURL((url) => url.pathname === '/login');
}

// The user menu, opened once the shell knows whom the user may act for.
async function openUserMenu(page) {
  step = 'opening the user menu';
  await page.locator('#user-menu[data-assist="ready"]').waitFor({ state: 'attached' });
  const panel = page.locator('#user-menu-panel');
  if (!(await panel.isVisible())) await page.locator('#user-menu-button').click();
  await panel.waitFor({ state: 'visible' });
  return panel;
}

// The list of assistants on the account page, once loaded.
async function assistantsList(page) {
  step = 'waiting for the list of assistants';
  const section = page.locator('#assistants-section');
  await section.waitFor({ state: 'visible' });
  check(await page.getByRole('heading', { level: 2, name: 'Assistants', exact: true }).isVisible(), 'the Assistants heading is not shown');
  await page.locator('#assistants[aria-busy]').waitFor({ state: 'detached' });
  return page.locator('#assistants');
}

function assistantEntry(list) {
  return list.locator('li').filter({ hasText: ASSISTANT.username });
}

// What the page itself learns from the API about the session.
async function meFromPage(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store' });
    return { status: res.status, body: await res.json() };
  });
}

// The strip under the header that says on whose behalf the user acts.
async function expectBehalfShown(page, width) {
  step = `checking the header says "${BEHALF_TEXT}" at ${width} px`;
  const bar = page.locator('#behalf-bar');
  await bar.waitFor({ state: 'visible' });
  const text = await bar.innerText();
  check(text.includes(BEHALF_TEXT), `the strip under the header reads ${JSON.stringify(text)}`);
  check(await page.locator('header.site-header #behalf-bar').count() === 1, 'the on-behalf strip is not part of the header');
  const box = await bar.locator('[data-user-behalf-banner]').boundingBox();
  check(box !== null && box.x >= 0 && box.x + box.width <= width && box.y < 200,
    `the on-behalf text does not fit the top of a ${width}-px screen: ${JSON.stringify(box)}`);
  const clipped = await bar.locator('[data-user-behalf-banner]').evaluate((node) => node.scrollWidth > node.clientWidth);
  check(!clipped, `the on-behalf text is cut off at ${width} px`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `the page scrolls sideways by ${overflow} px at ${width} px`);
}

// 1. The clinician sees the assistant, and appointing a non-assistant is refused.
async function clinicianSeesAssistant() {
  stage = `step 1 (${HP1.username} sees the assistant and is refused ${HP2})`;
  const s = await openBrowserFor(HP1.username);
  const { page } = s;
  await signInAt(page, '/account', HP1.username);

  const list = await assistantsList(page);
  step = `looking for ${ASSISTANT.username} among the assistants`;
  const entry = assistantEntry(list);
  check(await entry.count() === 1, `${ASSISTANT.username} is not listed once among the assistants: ${JSON.stringify(await list.innerText())}`);
  check((await entry.innerText()).includes(ASSISTANT.displayName), `the entry does not name ${ASSISTANT.displayName}: ${JSON.stringify(await entry.innerText())}`);
  check(await entry.getByRole('button', { name: `Dismiss ${ASSISTANT.displayName}` }).isVisible(), 'the entry has no Dismiss button');

  step = `appointing ${HP2}`;
  await page.getByLabel('Username of the assistant').fill(HP2);
  const refused = await expectAPI(page, 'POST', /^\/api\/account\/assistants$/, 400,
    () => page.locator('#assistant-form').getByRole('button', { name: 'Appoint', exact: true }).click());
  const problem = await refused.json();
  check(typeof problem.detail === 'string' && problem.detail !== '', `the refusal has no detail: ${JSON.stringify(problem)}`);
  step = 'reading the refusal';
  const error = page.locator('#assistants-error').filter({ hasText: /\S/ });
  await error.waitFor({ state: 'visible' });
  const shown = await error.innerText();
  check(shown.includes(HP2) && shown.includes(problem.detail), `the page does not show the refusal ${JSON.stringify(problem.detail)} for ${HP2}: ${JSON.stringify(shown)}`);
  check(await list.locator('li').filter({ hasText: HP2 }).count() === 0, `${HP2} is listed as assistant after the refusal`);
  check(await assistantEntry(list).count() === 1, `${ASSISTANT.username} left the list after the refusal`);

  await logOut(page);
  await s.close();
}

// 2. The assistant acts for the clinician, then as themself again.
async function assistantActsFor() {
  stage = `step 2 (${ASSISTANT.username} acts on behalf of ${HP1.username})`;
  const s = await openBrowserFor(ASSISTANT.username);
  const { page } = s;
  await signInAt(page, '/', ASSISTANT.username);
  step = 'checking nobody is acted for yet';
  check(!(await page.locator('#behalf-bar').isVisible()), 'the on-behalf strip shows before choosing anyone');

  let panel = await openUserMenu(page);
  step = `choosing "${ACT_FOR_HP1}"`;
  const choice = panel.getByRole('button', { name: ACT_FOR_HP1, exact: true });
  check(await choice.isVisible(), `the user menu does not offer "${ACT_FOR_HP1}": ${JSON.stringify(await panel.innerText())}`);
  let reloaded = page.waitForEvent('load');
  const sent = await expectAPI(page, 'POST', /^\/api\/account\/act-for$/, 204, () => choice.click());
  const clinicianId = JSON.parse(sent.request().postData() || '{}').clinicianId;
  check(typeof clinicianId === 'string' && clinicianId !== '', `act-for was sent without a clinician: ${sent.request().postData()}`);
  await reloaded;
  await page.locator('#user-menu').waitFor({ state: 'visible' });

  await expectBehalfShown(page, 1280);
  step = 'checking the user menu button';
  check((await page.locator('#user-menu-button').innerText()).includes(BEHALF_TEXT), 'the user menu button does not say on whose behalf on a wide screen');

  step = 'asking /api/me on whose behalf the session acts';
  let me = await meFromPage(page);
  check(me.status === 200, `GET /api/me answered ${me.status} ${JSON.stringify(me.body)}`);
  check(me.body.username === ASSISTANT.username, `GET /api/me names ${me.body.username}, not ${ASSISTANT.username}`);
  check(me.body.onBehalfOf?.username === HP1.username && me.body.onBehalfOf?.id === clinicianId,
    `GET /api/me reports onBehalfOf ${JSON.stringify(me.body.onBehalfOf)}, expected ${HP1.username} (${clinicianId})`);

  step = 'checking the header on a 375-px screen';
  await page.setViewportSize({ width: 375, height: 812 });
  await expectBehalfShown(page, 375);
  await page.setViewportSize({ width: 1280, height: 900 });

  panel = await openUserMenu(page);
  step = 'choosing "Act as myself"';
  check((await panel.innerText()).includes(`Acting ${BEHALF_TEXT}`), 'the user menu does not say on whose behalf');
  const self = panel.getByRole('button', { name: 'Act as myself', exact: true });
  reloaded = page.waitForEvent('load');
  const back = await expectAPI(page, 'POST', /^\/api\/account\/act-for$/, 204, () => self.click());
  check(JSON.parse(back.request().postData() || '{}').clinicianId === '', `"Act as myself" sent ${back.request().postData()}`);
  await reloaded;
  await page.locator('#user-menu').waitFor({ state: 'visible' });

  step = 'checking the indication is gone';
  check(!(await page.locator('#behalf-bar').isVisible()), 'the on-behalf strip still shows after acting as self');
  const header = await page.locator('header.site-header').innerText();
  check(!header.toLowerCase().includes('on behalf of'), `the header still says on behalf: ${JSON.stringify(header)}`);
  me = await meFromPage(page);
  check(me.status === 200 && me.body.onBehalfOf === null, `GET /api/me reports onBehalfOf ${JSON.stringify(me.body.onBehalfOf)} after acting as self`);
  panel = await openUserMenu(page);
  check(await panel.getByRole('button', { name: ACT_FOR_HP1, exact: true }).isVisible(), `"${ACT_FOR_HP1}" is no longer offered after acting as self`);
  check(await panel.getByRole('button', { name: 'Act as myself' }).count() === 0, '"Act as myself" is still offered');
  await expectNoErrorShown(page);

  await logOut(page);
  await s.close();
}

// 3. The clinician dismisses the assistant.
async function clinicianDismisses() {
  stage = `step 3 (${HP1.username} dismisses ${ASSISTANT.username})`;
  const s = await openBrowserFor(HP1.username);
  const { page } = s;
  await signInAt(page, '/account', HP1.username);
  const list = await assistantsList(page);
  step = `dismissing ${ASSISTANT.username}`;
  const entry = assistantEntry(list);
  check(await entry.count() === 1, `${ASSISTANT.username} is not listed: ${JSON.stringify(await list.innerText())}`);
  const relisted = page.waitForResponse((res) => res.request().method() === 'GET'
    && new URL(res.url()).pathname === '/api/account/assistants');
  await expectAPI(page, 'DELETE', /^\/api\/account\/assistants\/[^/]+$/, 204,
    () => entry.getByRole('button', { name: `Dismiss ${ASSISTANT.displayName}` }).click());
  check(s.dialogs.some((m) => m.includes(ASSISTANT.displayName)), `no confirmation named ${ASSISTANT.displayName}: ${JSON.stringify(s.dialogs)}`);
  await expectStatus(await relisted, 200);
  await page.locator('#assistants[aria-busy]').waitFor({ state: 'detached' });
  step = 'checking the list after the dismissal';
  await page.locator('#assistants-done').filter({ hasText: /no longer your assistant/ }).waitFor({ state: 'visible' });
  check(await assistantEntry(list).count() === 0, `${ASSISTANT.username} is still listed after the dismissal`);
  await expectNoErrorShown(page);
  await logOut(page);
  await s.close();
}

// 4. The assistant may no longer act for the clinician.
async function assistantLosesChoice() {
  stage = `step 4 (${ASSISTANT.username} after the dismissal)`;
  const s = await openBrowserFor(ASSISTANT.username);
  const { page } = s;
  const principals = page.waitForResponse((res) => res.request().method() === 'GET'
    && new URL(res.url()).pathname === '/api/account/principals');
  principals.catch(() => {});
  await signInAt(page, '/', ASSISTANT.username);
  step = 'reading whom the assistant may act for';
  const res = await expectStatus(await principals, 200);
  const clinicians = await res.json();
  check(Array.isArray(clinicians) && clinicians.length === 0, `GET /api/account/principals still answers ${JSON.stringify(clinicians)}`);
  const panel = await openUserMenu(page);
  step = 'looking for the "Act on behalf of" choice';
  check(await panel.getByRole('button', { name: /Act on behalf of/ }).count() === 0, `the user menu still offers to act on behalf: ${JSON.stringify(await panel.innerText())}`);
  check(!(await panel.innerText()).includes('Act on behalf of'), 'the user menu still mentions acting on behalf');
  check(!(await page.locator('#behalf-bar').isVisible()), 'the on-behalf strip shows');
  await expectNoErrorShown(page);
  await logOut(page);
  await s.close();
}

async function main() {
  if (baseURL === '') fail('BASE_URL is not set (e.g. http://127.0.0.1:8080)');
  const started = Date.now();
  step = `launching ${executablePath}`;
  browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: STEP_TIMEOUT_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  await clinicianSeesAssistant();
  await assistantActsFor();
  await clinicianDismisses();
  await assistantLosesChoice();
  await browser.close();
  clearTimeout(deadline);
  const throttle = throttledMs > 0 ? ` (${Math.round(throttledMs / 1000)} s of it waiting out the sign-in throttle)` : '';
  console.log(`assistant e2e: ok: ${baseURL}: assistant listed, non-assistant refused, acting on behalf shown in the header (1280 and 375 px) and in /api/me, acting as self again, assistant dismissed and no longer offered in ${Date.now() - started} ms${throttle}`);
}

main().catch(async (err) => {
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  if (browser !== null) await browser.close().catch(() => {});
  fail(message);
});
