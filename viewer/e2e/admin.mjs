// Browser check of account administration against a fresh demo server,
// run after shell.mjs. Everything goes through the pages, as people use them:
//
//   1. bloodnethpuser1 asks for the Researcher profile in EuroBloodNet
//      under Access and sees the request pending;
//   2. bloodnetcoord approves it under Admin with a comment;
//   3. bloodnethpuser1 signs in again and has the role; Access shows the
//      request approved with the decision comment;
//   4. bloodnetadmin adds the user e2e-clinician (temporary password shown
//      once) and gives it HP in EuroBloodNet at CZ08; e2e-clinician signs
//      in with the temporary password, is made to change it, and does;
//   5. bloodnethpuser3 sets up two-step verification (codes computed here
//      with RFC 6238 from the setup key the page shows), keeps a recovery
//      code, then signs in with a fresh code and once with the recovery
//      code;
//   6. bloodnetadmin resets the second factor of bloodnethpuser3 and
//      disables e2e-clinician, who can then no longer sign in.
//
//   BASE_URL=http://127.0.0.1:8080 node viewer/e2e/admin.mjs
//
// Environment: BASE_URL (required), CPMS_E2E_PASSWORD (password of the demo
// users, default cpms-demo), CHROMIUM (default /usr/bin/chromium). The demo
// data must be fresh: the run creates the user e2e-clinician and changes
// bloodnethpuser1 and bloodnethpuser3. Any page error, Content-Security-
// Policy violation, failed static file, server error, or API answer with
// another status than the page's action should get fails the run. The run
// signs in 12 times; should the server's sign-in throttle refuse one, the
// run waits once as long as the answer asks (at most 60 s) and goes on.
// Exit status 0 with one summary line on success; 1 with the step and the
// reason on failure.

import { createHmac } from 'node:crypto';
import {
  baseURL, check, demoPassword, expectAPI, expectNoErrorShown, fail, fillSignIn, logOut,
  openBrowserFor, pathOf, pressSignIn, run, runChecks, signInAt, sleep,
} from './lib.mjs';

const TOTP_PERIOD_S = 30;

const HP1 = 'bloodnethpuser1';
const HP3 = 'bloodnethpuser3';
const COORD = 'bloodnetcoord';
const ADMIN = 'bloodnetadmin';
const NEW_USER = {
  username: 'e2e-clinician',
  displayName: 'E2E Clinician',
  email: 'e2e-clinician@demo.invalid',
};
const NEW_PASSWORD = 'brno marrow ledger 7 violet';
const REQUEST_COMMENT = 'Haematology registry work at Leuven: I need the anonymised EuroBloodNet reports.';
const DECISION_COMMENT = 'Approved for the registry study; please cite the network.';

// RFC 4648 base32, as authenticator apps read setup keys.
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  check(clean !== '', 'the setup key is empty');
  const out = [];
  let value = 0;
  let bits = 0;
  for (const ch of clean) {
    const digit = alphabet.indexOf(ch);
    check(digit >= 0, `the setup key ${JSON.stringify(text)} is not base32 (character ${JSON.stringify(ch)})`);
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

// RFC 6238 with the usual parameters: HMAC-SHA-1, 30-s steps, 6 digits.
function totp(key, timeStep) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(timeStep));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(binary % 1_000_000).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / TOTP_PERIOD_S);

async function expectDashboard(page) {
  run.step = 'waiting for the dashboard';
  await page.waitForURL((url) => url.pathname === '/');
  await page.locator('[data-card][data-loaded]').nth(3).waitFor({ state: 'attached' });
}

async function userMenuRoles(page) {
  run.step = 'reading the roles in the user menu';
  const button = page.locator('#user-menu-button');
  await button.waitFor({ state: 'visible' });
  await button.click();
  const panel = page.locator('#user-menu-panel');
  await panel.waitFor({ state: 'visible' });
  const roles = (await panel.locator('[data-user-roles] li').allInnerTexts()).map((t) => t.trim());
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  return roles;
}

// The entry of a user in the administration list, found with the filter
// and opened.
async function openUserEntry(page, username) {
  run.step = `finding ${username} in the users list`;
  await page.locator('#users[aria-busy]').waitFor({ state: 'detached' });
  await page.getByLabel('Filter users').fill(username);
  const entry = page.locator('details.user-entry').filter({
    has: page.locator('summary', { hasText: username }),
  });
  await entry.first().waitFor({ state: 'visible' });
  check(await entry.count() === 1, `the filter for ${username} shows ${await entry.count()} entries`);
  if (!(await entry.evaluate((node) => node.open))) await entry.locator('summary').click();
  await entry.locator('.user-entry-body').waitFor({ state: 'visible' });
  return entry;
}

// 1. A health professional asks for the Researcher profile.
async function requestAccess() {
  run.stage = `step 1 (${HP1} requests Researcher in EuroBloodNet)`;
  const s = await openBrowserFor(HP1);
  const { page } = s;
  await signInAt(page, '/access', HP1);

  run.step = 'filling in the access request';
  await page.locator('#request-ern option[value="EuroBloodNet"]').waitFor({ state: 'attached' });
  await page.getByLabel('Profile').selectOption('Researcher');
  await page.getByLabel('ERN', { exact: true }).selectOption('EuroBloodNet');
  const centre = page.getByLabel('Centre');
  check(await centre.isEnabled(), 'the centre list stays disabled once an ERN is chosen');
  check(!(await centre.evaluate((node) => node.required)), 'the page insists on a centre for the Researcher profile, which covers the whole ERN');
  await page.getByLabel('Comment').fill(REQUEST_COMMENT);

  run.step = 'submitting the access request';
  await expectAPI(page, 'POST', /^\/api\/access-requests$/, 201,
    () => page.getByRole('button', { name: 'Submit request' }).click());
  const done = page.locator('#request-done');
  await done.filter({ hasText: 'Researcher · EuroBloodNet' }).waitFor();

  run.step = 'looking for the request under "Your requests"';
  const row = page.locator('#my-requests tbody tr').filter({ hasText: 'Researcher' });
  await row.first().waitFor();
  check(await row.count() === 1, `"Your requests" lists ${await row.count()} Researcher requests, expected 1`);
  const status = (await row.locator('td[data-label="Status"]').innerText()).trim();
  check(status === 'pending', `the new request shows the status ${JSON.stringify(status)}, expected "pending"`);
  check((await row.locator('td[data-label="ERN"]').innerText()).trim() === 'EuroBloodNet', 'the new request does not name EuroBloodNet');
  await expectNoErrorShown(page);

  await logOut(page);
  await s.close();
}

// 2. The coordinator of the ERN approves it.
async function approveRequest() {
  run.stage = `step 2 (${COORD} approves the request)`;
  const s = await openBrowserFor(COORD);
  const { page } = s;
  await signInAt(page, '/admin', COORD);

  run.step = 'finding the pending request';
  const section = page.locator('#pending-section');
  await section.waitFor({ state: 'visible' });
  await page.locator('#pending-requests[aria-busy]').waitFor({ state: 'detached' });
  const item = page.locator('#pending-requests .item').filter({ hasText: REQUEST_COMMENT });
  check(await item.count() === 1, `the pending requests show ${await item.count()} items with the comment of ${HP1}, expected 1: ${JSON.stringify(await page.locator('#pending-requests').innerText())}`);
  const title = (await item.locator('.item-title').innerText()).trim();
  check(title.includes(`(${HP1})`), `the pending request does not name the requester ${HP1}: ${JSON.stringify(title)}`);
  check(title.includes('Researcher · EuroBloodNet'), `the pending request does not name Researcher · EuroBloodNet: ${JSON.stringify(title)}`);

  run.step = 'approving the request with a comment';
  await item.getByLabel('Comment on the decision').fill(DECISION_COMMENT);
  const res = await expectAPI(page, 'POST', /^\/api\/access-requests\/[^/]+\/approve$/, 200,
    () => item.getByRole('button', { name: 'Approve' }).click());
  const decided = await res.json().catch(() => ({}));
  check(decided.status === 'approved', `POST ${new URL(res.url()).pathname} answered status ${JSON.stringify(decided.status)}, expected "approved"`);
  check(decided.decisionComment === DECISION_COMMENT, `POST ${new URL(res.url()).pathname} answered decisionComment ${JSON.stringify(decided.decisionComment)}, expected the comment sent`);

  run.step = 'waiting for the list to update';
  await item.waitFor({ state: 'detached' });
  await page.locator('#admin-announce').filter({ hasText: `Approved the request of` }).waitFor({ state: 'attached' });
  await page.locator('#pending-requests[aria-busy]').waitFor({ state: 'detached' });
  check(await page.locator('#pending-requests .item').filter({ hasText: HP1 }).count() === 0, `a request of ${HP1} is still pending`);
  await expectNoErrorShown(page);

  await logOut(page);
  await s.close();
}

// 3. The requester has the role.
async function seeApproval() {
  run.stage = `step 3 (${HP1} has the Researcher role)`;
  const s = await openBrowserFor(HP1);
  const { page } = s;
  await signInAt(page, '/', HP1);
  await expectDashboard(page);
  const roles = await userMenuRoles(page);
  check(roles.includes('Researcher · EuroBloodNet'), `the user menu lists ${JSON.stringify(roles)}, without Researcher · EuroBloodNet`);

  run.step = 'opening Access from the navigation';
  await page.locator('#nav-links').getByRole('link', { name: 'Access' }).click();
  await page.waitForURL((url) => url.pathname === '/access');
  const row = page.locator('#my-requests tbody tr').filter({ hasText: 'Researcher' });
  await row.first().waitFor();
  const status = (await row.locator('td[data-label="Status"]').innerText()).trim();
  check(status === 'approved', `the request shows the status ${JSON.stringify(status)}, expected "approved"`);
  const decision = await row.locator('td[data-label="Decision"]').innerText();
  check(decision.includes(DECISION_COMMENT), `the request does not show the decision comment: ${JSON.stringify(decision)}`);
  check(decision.includes(COORD), `the request does not say who decided: ${JSON.stringify(decision)}`);
  await expectNoErrorShown(page);

  await logOut(page);
  await s.close();
}

// 4. The ERN admin adds a user; the user replaces the temporary password.
async function addUser() {
  run.stage = `step 4 (${ADMIN} adds ${NEW_USER.username})`;
  const s = await openBrowserFor(ADMIN);
  const { page } = s;
  await signInAt(page, '/admin', ADMIN);

  run.step = 'adding the user';
  await page.locator('#users-section').waitFor({ state: 'visible' });
  check(!(await page.locator('#audit-section').isVisible()), `the audit trail of the deployment is offered to ${ADMIN}, an admin of one ERN`);
  await page.locator('#add-user > summary').click();
  await page.getByLabel('Username').fill(NEW_USER.username);
  await page.getByLabel('Full name').fill(NEW_USER.displayName);
  await page.getByLabel('E-mail').fill(NEW_USER.email);
  const res = await expectAPI(page, 'POST', /^\/api\/admin\/users$/, 201,
    () => page.getByRole('button', { name: 'Add user', exact: true }).click());
  const created = await res.json().catch(() => ({}));
  check(typeof created.temporaryPassword === 'string' && created.temporaryPassword !== '',
    `POST /api/admin/users answered without a temporaryPassword: keys ${JSON.stringify(Object.keys(created))}`);

  run.step = 'reading the temporary password';
  const once = page.locator('#add-user-result .once');
  await once.waitFor({ state: 'visible' });
  check((await once.innerText()).includes(`User ${NEW_USER.username} added`), `the result does not name ${NEW_USER.username}: ${JSON.stringify(await once.innerText())}`);
  const temporary = (await once.locator('code').innerText()).trim();
  check(temporary === created.temporaryPassword, 'the page shows another temporary password than the API gave');

  run.step = `giving ${NEW_USER.username} the role HP at CZ08`;
  let entry = await openUserEntry(page, NEW_USER.username);
  await entry.getByLabel('Role', { exact: true }).selectOption('HP');
  await entry.getByLabel('ERN', { exact: true }).selectOption('EuroBloodNet');
  await entry.getByLabel('Centre', { exact: true }).selectOption('CZ08');
  await expectAPI(page, 'POST', /^\/api\/admin\/users\/[^/]+\/roles$/, 201,
    () => entry.getByRole('button', { name: 'Add role' }).click());
  await page.locator('#admin-announce').filter({ hasText: 'Added HP · EuroBloodNet · CZ08' }).waitFor({ state: 'attached' });
  entry = await openUserEntry(page, NEW_USER.username);
  const roles = (await entry.locator('.role-list li > span').allInnerTexts()).map((t) => t.trim());
  check(roles.includes('HP · EuroBloodNet · CZ08'), `the users list shows the roles ${JSON.stringify(roles)} for ${NEW_USER.username}`);
  await expectNoErrorShown(page);

  run.step = 'reloading the page: the temporary password is shown only once';
  await page.reload();
  entry = await openUserEntry(page, NEW_USER.username);
  check(!(await page.locator('main').innerText()).includes(temporary), 'the temporary password is still on the page after a reload');
  check((await entry.locator('.role-list').innerText()).includes('HP · EuroBloodNet · CZ08'), 'the role is gone after a reload');

  await logOut(page);
  await s.close();

  run.stage = `step 4 (${NEW_USER.username} replaces the temporary password)`;
  const n = await openBrowserFor(NEW_USER.username);
  const np = n.page;
  run.step = 'opening the sign-in page';
  await np.goto(`${baseURL}/login`);
  await fillSignIn(np, NEW_USER.username, temporary);
  run.step = 'signing in with the temporary password';
  const login = await pressSignIn(np, 200);
  // The page leaves at once, which may discard the answer's body: read it
  // while it can be read, to explain a wrong turn below.
  const said = login.json().then((b) => JSON.stringify(b?.user?.mustChangePassword), () => 'unreadable');
  run.step = 'waiting to be asked for a new password';
  await np.waitForURL((url) => url.pathname !== '/login');
  if (pathOf(np) !== '/account') {
    throw new Error(`after signing in with the temporary password the page went to ${np.url()}, not to /account to change it (POST /api/login answered user.mustChangePassword ${await said}, expected true)`);
  }
  const asked = np.locator('#password-required');
  await asked.filter({ hasText: 'temporary password' }).waitFor();

  run.step = 'changing the password';
  await np.getByLabel('Current password').fill(temporary);
  await np.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await np.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
  await expectAPI(np, 'POST', /^\/api\/account\/password$/, 204,
    () => np.getByRole('button', { name: 'Change password' }).click());
  await expectDashboard(np);
  const newRoles = await userMenuRoles(np);
  check(newRoles.includes('HP · EuroBloodNet · CZ08'), `the user menu of ${NEW_USER.username} lists ${JSON.stringify(newRoles)}`);

  run.step = 'checking the account page no longer insists';
  await np.goto(`${baseURL}/account`);
  await np.locator('#profile:not([aria-busy])').waitFor();
  check(await np.locator('#password-required').innerText() === '', 'the account page still asks for a new password');
  await expectNoErrorShown(np);

  await logOut(np);
  await n.close();
  return temporary;
}

// 5. A second factor: set up, then used at sign-in with a code and with a
// recovery code.
async function secondFactor() {
  run.stage = `step 5 (${HP3} sets up two-step verification)`;
  const s = await openBrowserFor(HP3);
  const { page } = s;
  await signInAt(page, '/account', HP3);

  run.step = 'starting the set-up';
  const start = page.getByRole('button', { name: 'Set up an authenticator app' });
  await start.waitFor({ state: 'visible' });
  await expectAPI(page, 'POST', /^\/api\/account\/totp\/setup$/, 200, () => start.click());
  const secretNode = page.locator('#totp-secret');
  await secretNode.waitFor({ state: 'visible' });
  const secret = (await secretNode.innerText()).trim();
  const uri = (await page.locator('#totp-uri').innerText()).trim();
  check(uri.startsWith('otpauth://totp/'), `the set-up address is not an otpauth://totp/ URI: ${JSON.stringify(uri)}`);
  const key = base32Decode(secret);
  check(key.length >= 10, `the setup key holds only ${key.length} bytes`);
  const uriSecret = new URL(uri).searchParams.get('secret') || '';
  check(uriSecret.replace(/=+$/, '').toUpperCase() === secret.replace(/\s+/g, '').toUpperCase(), 'the setup key and the secret of the address differ');

  run.step = 'confirming with a code from the setup key';
  const confirmedStep = currentStep();
  await page.getByLabel('Code from the app').fill(totp(key, confirmedStep));
  await expectAPI(page, 'POST', /^\/api\/account\/totp\/confirm$/, 200,
    () => page.getByRole('button', { name: 'Confirm' }).click());

  run.step = 'reading the recovery codes';
  await page.locator('#totp-recovery').waitFor({ state: 'visible' });
  const codes = (await page.locator('#recovery-codes li').allInnerTexts()).map((t) => t.trim()).filter((t) => t !== '');
  check(codes.length >= 5, `the page shows ${codes.length} recovery codes`);
  check(new Set(codes).size === codes.length, 'the recovery codes repeat');
  check((await page.locator('#totp-status').innerText()).includes('is on'), 'the status does not say two-step verification is on');
  await expectNoErrorShown(page);

  run.step = 'reloading the page: the recovery codes are shown only once';
  await page.reload();
  await page.locator('#totp-status').filter({ hasText: 'is on' }).waitFor();
  check(!(await page.locator('#totp-recovery').isVisible()), 'the recovery codes are shown again after a reload');
  check(!(await page.locator('main').innerText()).includes(codes[0]), 'a recovery code is on the page after a reload');
  check(!(await page.getByRole('button', { name: 'Set up an authenticator app' }).isVisible()), 'the page offers a new set-up while one is on');

  await logOut(page);

  run.stage = `step 5 (${HP3} signs in with a code)`;
  run.step = 'signing in with the password only';
  await fillSignIn(page, HP3, demoPassword);
  const first = await pressSignIn(page, 401);
  const problem = await first.json().catch(() => ({}));
  check(problem.code === 'totp_required', `POST /api/login without a code answered code ${JSON.stringify(problem.code)}, expected "totp_required"`);
  run.step = 'waiting to be asked for the code';
  const codeField = page.getByLabel('Verification code');
  await codeField.waitFor({ state: 'visible' });
  check(pathOf(page) === '/login', `the page left the sign-in form: ${page.url()}`);

  // The code used at confirmation must not be replayed: wait for the next step.
  run.step = 'waiting for the next 30-s step';
  while (currentStep() <= confirmedStep) {
    await sleep(((confirmedStep + 1) * TOTP_PERIOD_S * 1000) - Date.now() + 250);
  }
  run.step = 'entering a fresh code';
  await codeField.fill(totp(key, currentStep()));
  await pressSignIn(page, 200, () => codeField.fill(totp(key, currentStep())));
  await expectDashboard(page);
  await logOut(page);

  run.stage = `step 5 (${HP3} signs in with a recovery code)`;
  await fillSignIn(page, HP3, demoPassword);
  run.step = 'signing in with the password only';
  await pressSignIn(page, 401);
  await codeField.waitFor({ state: 'visible' });
  run.step = 'entering a recovery code';
  await codeField.fill(codes[0]);
  await pressSignIn(page, 200);
  await expectDashboard(page);
  await logOut(page);
  await s.close();
}

// 6. The ERN admin resets the second factor and disables the new user.
async function resetAndDisable() {
  run.stage = `step 6 (${ADMIN} resets ${HP3}'s second factor and disables ${NEW_USER.username})`;
  const s = await openBrowserFor(ADMIN);
  const { page } = s;
  await signInAt(page, '/admin', ADMIN);

  let entry = await openUserEntry(page, HP3);
  run.step = `resetting the second factor of ${HP3}`;
  check(await entry.locator('summary .badge', { hasText: 'two-step on' }).count() === 1, `the users list does not show two-step verification on for ${HP3}`);
  await expectAPI(page, 'POST', /^\/api\/admin\/users\/[^/]+\/reset-totp$/, 204,
    () => entry.getByRole('button', { name: 'Reset two-step verification' }).click());
  check(s.dialogs.some((q) => q.includes('Turn off two-step verification')), 'the reset was not confirmed with a question');
  await page.locator('#admin-announce').filter({ hasText: 'Two-step verification of' }).waitFor({ state: 'attached' });
  entry = await openUserEntry(page, HP3);
  check(await entry.locator('summary .badge', { hasText: 'two-step on' }).count() === 0, `the users list still shows two-step verification on for ${HP3}`);

  run.step = `disabling ${NEW_USER.username}`;
  entry = await openUserEntry(page, NEW_USER.username);
  await expectAPI(page, 'POST', /^\/api\/admin\/users\/[^/]+\/disable$/, 204,
    () => entry.getByRole('button', { name: 'Disable account' }).click());
  check(s.dialogs.some((q) => q.startsWith('Disable the account')), 'disabling was not confirmed with a question');
  await page.locator('#admin-announce').filter({ hasText: 'was disabled' }).waitFor({ state: 'attached' });
  entry = await openUserEntry(page, NEW_USER.username);
  check(await entry.locator('summary .badge', { hasText: 'disabled' }).count() === 1, `the users list does not mark ${NEW_USER.username} disabled`);
  await expectNoErrorShown(page);

  await logOut(page);
  await s.close();

  run.stage = `step 6 (${NEW_USER.username} can no longer sign in)`;
  const n = await openBrowserFor(NEW_USER.username);
  const np = n.page;
  run.step = 'opening the sign-in page';
  await np.goto(`${baseURL}/login`);
  await fillSignIn(np, NEW_USER.username, NEW_PASSWORD);
  run.step = 'signing in to the disabled account';
  await pressSignIn(np, 401);
  const error = np.locator('#login-error');
  await error.filter({ hasText: /\S/ }).waitFor();
  check(await error.isVisible(), 'the sign-in page does not show the refusal');
  await sleep(300);
  check(pathOf(np) === '/login', `the disabled user left the sign-in page for ${np.url()}`);
  await n.close();
}

runChecks({
  name: 'admin',
  timeoutMs: 120_000,
  staged: true,
  before: () => {
    run.step = 'checking the TOTP code generator';
    // RFC 6238 appendix B, SHA-1, T = 59 s, last 6 of 8 digits.
    if (totp(Buffer.from('12345678901234567890'), 1) !== '287082') fail('the RFC 6238 test vector does not match');
  },
  steps: async () => {
    await requestAccess();
    await approveRequest();
    await seeApproval();
    await addUser();
    await secondFactor();
    await resetAndDisable();
  },
  summary: `${baseURL}: access request and approval, user added with a temporary password changed at first sign-in, role granted, TOTP set-up and sign-in with a code and a recovery code, second-factor reset, account disabled`,
});
