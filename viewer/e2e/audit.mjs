// Browser check of the audit trail under Admin against a running server
// with a helpdesk user of the whole deployment (a Helpdesk role without an
// ERN), which the demo network does not have. Create one first:
//
//   echo 'a password of 12 or more' | cpms user add --data DIR --username helpdesk1 \
//     --display-name "Deployment Helpdesk" --role Helpdesk --password-stdin
//   BASE_URL=http://127.0.0.1:8080 CPMS_E2E_HELPDESK_USER=helpdesk1 \
//     CPMS_E2E_HELPDESK_PASSWORD='a password of 12 or more' node viewer/e2e/audit.mjs
//
// The helpdesk user signs in at /admin, finds Admin in the navigation,
// sees the audit trail with its own sign-in among the newest records,
// filters by the action "login" and sees login records only; then logs out.
//
// Environment: BASE_URL, CPMS_E2E_HELPDESK_USER and
// CPMS_E2E_HELPDESK_PASSWORD (required), CHROMIUM (default
// /usr/bin/chromium). Any page error, Content-Security-Policy violation,
// failed static file, server error, or API answer with another status than
// expected fails the run. Exit status 0 with one summary line on success;
// 1 with the step and the reason on failure.

import {
  baseURL, check, expectAPI, expectNoErrorShown, fail, logOut, openBrowserFor, run, runChecks, signInAt,
} from './lib.mjs';

const user = process.env.CPMS_E2E_HELPDESK_USER || '';
const password = process.env.CPMS_E2E_HELPDESK_PASSWORD || '';

const COLUMNS = ['Time', 'Actor', 'On behalf of', 'Action', 'Object', 'Outcome'];

// The records the table shows, once it is no longer loading.
async function shownRecords(page) {
  await page.locator('#audit-records[aria-busy]').waitFor({ state: 'detached' });
  const rows = page.locator('#audit-records tbody tr');
  return rows.evaluateAll((trs) => trs.map((tr) => {
    const text = (label) => (tr.querySelector(`td[data-label="${label}"]`)?.innerText || '').trim();
    return {
      action: (tr.querySelector('.audit-action')?.textContent || '').trim(),
      actor: text('Actor'),
      outcome: text('Outcome'),
    };
  }));
}

async function auditTrail() {
  const s = await openBrowserFor(user);
  const { page } = s;
  await signInAt(page, '/admin', user, password);

  run.step = 'looking for Admin in the navigation';
  const adminLink = page.locator('#nav-links').getByRole('link', { name: 'Admin', exact: true });
  await adminLink.waitFor({ state: 'visible' });

  run.step = 'waiting for the audit trail';
  await page.locator('#audit-section').waitFor({ state: 'visible' });
  await page.locator('#audit-records[aria-busy]').waitFor({ state: 'detached' });
  const headers = (await page.locator('#audit-records thead th').allInnerTexts()).map((t) => t.trim());
  check(JSON.stringify(headers) === JSON.stringify(COLUMNS), `the audit table has the columns ${JSON.stringify(headers)}, expected ${JSON.stringify(COLUMNS)}`);
  const all = await shownRecords(page);
  check(all.length > 0, 'the audit table shows no records');
  const own = all.find((r) => r.action === 'login' && r.actor === user);
  check(own !== undefined, `the audit table does not show the sign-in of ${user} among ${all.length} records`);
  check(own.outcome === 'success', `the sign-in of ${user} shows the outcome ${JSON.stringify(own.outcome)}, expected "success"`);
  check(all.some((r) => r.action !== 'login'), `the unfiltered audit table shows only login records (${all.length}): the filter below would prove nothing`);
  check(all.every((r) => ['success', 'refused or failed'].includes(r.outcome)),
    `the audit table shows outcomes ${JSON.stringify([...new Set(all.map((r) => r.outcome))])}, expected "success" or "refused or failed"`);
  await expectNoErrorShown(page);

  run.step = 'filtering by the action "login"';
  await page.getByLabel('Action', { exact: true }).fill('login');
  const res = await expectAPI(page, 'GET', /^\/api\/audit$/, 200,
    () => page.getByRole('button', { name: 'Show records' }).click());
  const asked = new URL(res.url()).searchParams.get('action');
  check(asked === 'login', `the filter asked GET /api/audit for the action ${JSON.stringify(asked)}, expected "login"`);
  await page.locator('#audit-count').filter({ hasText: 'matching the filters' }).waitFor();
  const logins = await shownRecords(page);
  check(logins.length > 0, 'the audit table shows no records for the action "login"');
  const others = logins.filter((r) => r.action !== 'login');
  check(others.length === 0, `filtered by "login", the audit table still shows the actions ${JSON.stringify([...new Set(others.map((r) => r.action))])}`);
  check(logins.some((r) => r.actor === user), `filtered by "login", the audit table does not show the sign-in of ${user}`);
  await expectNoErrorShown(page);

  await logOut(page);
  await s.close();
}

runChecks({
  name: 'audit',
  timeoutMs: 60_000,
  before: () => {
    run.step = 'reading the helpdesk user from the environment';
    if (user === '' || password === '') {
      fail('CPMS_E2E_HELPDESK_USER and CPMS_E2E_HELPDESK_PASSWORD must name a helpdesk user of the whole deployment (cpms user add --role Helpdesk --password-stdin)');
    }
  },
  steps: auditTrail,
  summary: `${baseURL} as ${user}: Admin offered, audit trail with its own sign-in, filtered by the action "login"`,
});
