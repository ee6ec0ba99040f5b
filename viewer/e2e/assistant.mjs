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

import {
  baseURL, check, expectAPI, expectNoErrorShown, expectStatus, logOut, openBrowserFor, run, runChecks, signInAt,
} from './lib.mjs';

const HP1 = { username: 'bloodnethpuser1', displayName: 'Demo Clinician One' };
const HP2 = 'bloodnethpuser2';
const ASSISTANT = { username: 'bloodnetassistant', displayName: 'Demo Assistant' };
const ACT_FOR_HP1 = `Act on behalf of ${HP1.displayName}`;
const BEHALF_TEXT = `on behalf of ${HP1.displayName}`;

// Opens path signed out, signs in there and waits for the user menu.
async function signIn(page, path, username) {
  await signInAt(page, path, username);
  await page.locator('#user-menu-button').waitFor({ state: 'visible' });
}

// The user menu, opened once the shell knows whom the user may act for.
async function openUserMenu(page) {
  run.step = 'opening the user menu';
  await page.locator('#user-menu[data-assist="ready"]').waitFor({ state: 'attached' });
  const panel = page.locator('#user-menu-panel');
  if (!(await panel.isVisible())) await page.locator('#user-menu-button').click();
  await panel.waitFor({ state: 'visible' });
  return panel;
}

// The list of assistants on the account page, once loaded.
async function assistantsList(page) {
  run.step = 'waiting for the list of assistants';
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
  run.step = `checking the header says "${BEHALF_TEXT}" at ${width} px`;
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
  run.stage = `step 1 (${HP1.username} sees the assistant and is refused ${HP2})`;
  const s = await openBrowserFor(HP1.username);
  const { page } = s;
  await signIn(page, '/account', HP1.username);

  const list = await assistantsList(page);
  run.step = `looking for ${ASSISTANT.username} among the assistants`;
  const entry = assistantEntry(list);
  check(await entry.count() === 1, `${ASSISTANT.username} is not listed once among the assistants: ${JSON.stringify(await list.innerText())}`);
  check((await entry.innerText()).includes(ASSISTANT.displayName), `the entry does not name ${ASSISTANT.displayName}: ${JSON.stringify(await entry.innerText())}`);
  check(await entry.getByRole('button', { name: `Dismiss ${ASSISTANT.displayName}` }).isVisible(), 'the entry has no Dismiss button');

  run.step = `appointing ${HP2}`;
  await page.getByLabel('Username of the assistant').fill(HP2);
  const refused = await expectAPI(page, 'POST', /^\/api\/account\/assistants$/, 400,
    () => page.locator('#assistant-form').getByRole('button', { name: 'Appoint', exact: true }).click());
  const problem = await refused.json();
  check(typeof problem.detail === 'string' && problem.detail !== '', `the refusal has no detail: ${JSON.stringify(problem)}`);
  run.step = 'reading the refusal';
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
  run.stage = `step 2 (${ASSISTANT.username} acts on behalf of ${HP1.username})`;
  const s = await openBrowserFor(ASSISTANT.username);
  const { page } = s;
  await signIn(page, '/', ASSISTANT.username);
  run.step = 'checking nobody is acted for yet';
  check(!(await page.locator('#behalf-bar').isVisible()), 'the on-behalf strip shows before choosing anyone');

  let panel = await openUserMenu(page);
  run.step = `choosing "${ACT_FOR_HP1}"`;
  const choice = panel.getByRole('button', { name: ACT_FOR_HP1, exact: true });
  check(await choice.isVisible(), `the user menu does not offer "${ACT_FOR_HP1}": ${JSON.stringify(await panel.innerText())}`);
  let reloaded = page.waitForEvent('load');
  const sent = await expectAPI(page, 'POST', /^\/api\/account\/act-for$/, 204, () => choice.click());
  const clinicianId = JSON.parse(sent.request().postData() || '{}').clinicianId;
  check(typeof clinicianId === 'string' && clinicianId !== '', `act-for was sent without a clinician: ${sent.request().postData()}`);
  await reloaded;
  await page.locator('#user-menu').waitFor({ state: 'visible' });

  await expectBehalfShown(page, 1280);
  run.step = 'checking the user menu button';
  check((await page.locator('#user-menu-button').innerText()).includes(BEHALF_TEXT), 'the user menu button does not say on whose behalf on a wide screen');

  run.step = 'asking /api/me on whose behalf the session acts';
  let me = await meFromPage(page);
  check(me.status === 200, `GET /api/me answered ${me.status} ${JSON.stringify(me.body)}`);
  check(me.body.username === ASSISTANT.username, `GET /api/me names ${me.body.username}, not ${ASSISTANT.username}`);
  check(me.body.onBehalfOf?.username === HP1.username && me.body.onBehalfOf?.id === clinicianId,
    `GET /api/me reports onBehalfOf ${JSON.stringify(me.body.onBehalfOf)}, expected ${HP1.username} (${clinicianId})`);

  run.step = 'checking the header on a 375-px screen';
  await page.setViewportSize({ width: 375, height: 812 });
  await expectBehalfShown(page, 375);
  await page.setViewportSize({ width: 1280, height: 900 });

  panel = await openUserMenu(page);
  run.step = 'choosing "Act as myself"';
  check((await panel.innerText()).includes(`Acting ${BEHALF_TEXT}`), 'the user menu does not say on whose behalf');
  const self = panel.getByRole('button', { name: 'Act as myself', exact: true });
  reloaded = page.waitForEvent('load');
  const back = await expectAPI(page, 'POST', /^\/api\/account\/act-for$/, 204, () => self.click());
  check(JSON.parse(back.request().postData() || '{}').clinicianId === '', `"Act as myself" sent ${back.request().postData()}`);
  await reloaded;
  await page.locator('#user-menu').waitFor({ state: 'visible' });

  run.step = 'checking the indication is gone';
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
  run.stage = `step 3 (${HP1.username} dismisses ${ASSISTANT.username})`;
  const s = await openBrowserFor(HP1.username);
  const { page } = s;
  await signIn(page, '/account', HP1.username);
  const list = await assistantsList(page);
  run.step = `dismissing ${ASSISTANT.username}`;
  const entry = assistantEntry(list);
  check(await entry.count() === 1, `${ASSISTANT.username} is not listed: ${JSON.stringify(await list.innerText())}`);
  const relisted = page.waitForResponse((res) => res.request().method() === 'GET'
    && new URL(res.url()).pathname === '/api/account/assistants');
  await expectAPI(page, 'DELETE', /^\/api\/account\/assistants\/[^/]+$/, 204,
    () => entry.getByRole('button', { name: `Dismiss ${ASSISTANT.displayName}` }).click());
  check(s.dialogs.some((m) => m.includes(ASSISTANT.displayName)), `no confirmation named ${ASSISTANT.displayName}: ${JSON.stringify(s.dialogs)}`);
  await expectStatus(await relisted, 200);
  await page.locator('#assistants[aria-busy]').waitFor({ state: 'detached' });
  run.step = 'checking the list after the dismissal';
  await page.locator('#assistants-done').filter({ hasText: /no longer your assistant/ }).waitFor({ state: 'visible' });
  check(await assistantEntry(list).count() === 0, `${ASSISTANT.username} is still listed after the dismissal`);
  await expectNoErrorShown(page);
  await logOut(page);
  await s.close();
}

// 4. The assistant may no longer act for the clinician.
async function assistantLosesChoice() {
  run.stage = `step 4 (${ASSISTANT.username} after the dismissal)`;
  const s = await openBrowserFor(ASSISTANT.username);
  const { page } = s;
  const principals = page.waitForResponse((res) => res.request().method() === 'GET'
    && new URL(res.url()).pathname === '/api/account/principals');
  principals.catch(() => {});
  await signIn(page, '/', ASSISTANT.username);
  run.step = 'reading whom the assistant may act for';
  const res = await expectStatus(await principals, 200);
  const clinicians = await res.json();
  check(Array.isArray(clinicians) && clinicians.length === 0, `GET /api/account/principals still answers ${JSON.stringify(clinicians)}`);
  const panel = await openUserMenu(page);
  run.step = 'looking for the "Act on behalf of" choice';
  check(await panel.getByRole('button', { name: /Act on behalf of/ }).count() === 0, `the user menu still offers to act on behalf: ${JSON.stringify(await panel.innerText())}`);
  check(!(await panel.innerText()).includes('Act on behalf of'), 'the user menu still mentions acting on behalf');
  check(!(await page.locator('#behalf-bar').isVisible()), 'the on-behalf strip shows');
  await expectNoErrorShown(page);
  await logOut(page);
  await s.close();
}

runChecks({
  name: 'assistant',
  timeoutMs: 90_000,
  staged: true,
  steps: async () => {
    await clinicianSeesAssistant();
    await assistantActsFor();
    await clinicianDismisses();
    await assistantLosesChoice();
  },
  summary: `${baseURL}: assistant listed, non-assistant refused, acting on behalf shown in the header (1280 and 375 px) and in /api/me, acting as self again, assistant dismissed and no longer offered`,
});
