// Browser check of the web shell against a running CPMS server.
//
//   BASE_URL=http://127.0.0.1:8080 node viewer/e2e/shell.mjs
//
// Environment: BASE_URL (required), CPMS_E2E_USER (default bloodnethpuser1),
// CPMS_E2E_PASSWORD (default cpms-demo), CHROMIUM (default /usr/bin/chromium).
// It signs in, waits for the dashboard, sees this session listed on the
// account page, opens the user menu, logs out, then signs in again on a
// 375-px-wide phone viewport and checks the folded navigation. Any page error, Content-Security-Policy violation or failed
// static file fails the run. Exit status 0 with one summary line on
// success; 1 with the reason on failure.

import {
  answerTo, baseURL, bodyOf, check, demoPassword as password, openPage, run, runChecks,
} from './lib.mjs';

const user = process.env.CPMS_E2E_USER || 'bloodnethpuser1';

const CARD_TITLES = [
  'Upcoming meetings (next 14 days)',
  'Meeting invites',
  'Panel activity (last 14 days)',
  'Panel invites',
];

async function signIn(page) {
  run.step = 'filling in the sign-in form';
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password', { exact: true }).fill(password);
  run.step = 'signing in';
  const res = await answerTo(page, 'POST', /^\/api\/login$/, () => page.getByRole('button', { name: 'Sign in' }).click());
  if (res.status() !== 200) {
    throw new Error(`POST /api/login answered ${res.status()} ${await bodyOf(res)} for user ${user}`);
  }
  await page.waitForURL((url) => url.pathname === '/');
}

async function expectDashboard(page) {
  run.step = 'waiting for the dashboard cards';
  await page.locator('[data-card][data-loaded]').nth(3).waitFor({ state: 'attached' });
  for (const title of CARD_TITLES) {
    const heading = page.getByRole('heading', { level: 2, name: title, exact: true });
    check(await heading.count() === 1, `dashboard card "${title}" is missing`);
    check(await heading.isVisible(), `dashboard card "${title}" is not visible`);
  }
  check(await page.locator('[data-card]').count() === 4, 'the dashboard does not have exactly four cards');
}

async function expectSessions(page) {
  run.step = 'opening the account page';
  await page.goto(`${baseURL}/account`);
  run.step = 'waiting for the list of sessions';
  const list = page.locator('#sessions');
  await list.locator('tbody tr').first().waitFor();
  const rows = await list.locator('tbody tr').count();
  const current = list.locator('tbody tr').filter({ hasText: 'this session' });
  check(await current.count() === 1, `the account page lists ${rows} sessions, ${await current.count()} of them marked "this session", expected 1: ${JSON.stringify(await list.innerText())}`);
  const error = (await page.locator('#sessions-error').innerText()).trim();
  check(error === '', `the account page shows an error about sessions: ${JSON.stringify(error)}`);
  check(await page.locator('#sessions-heading ~ .actions').getByRole('button', { name: 'Log out everywhere' }).isVisible(),
    'the Sessions section does not offer "Log out everywhere"');
}

async function openUserMenu(page) {
  run.step = 'opening the user menu';
  const button = page.locator('#user-menu-button');
  await button.waitFor({ state: 'visible' });
  check(/\S/.test(await button.innerText()), 'the user menu button names nobody');
  await button.click();
  const panel = page.locator('#user-menu-panel');
  await panel.waitFor({ state: 'visible' });
  check(await button.getAttribute('aria-expanded') === 'true', 'the user menu button does not say it is expanded');
  const text = await page.locator('#user-menu').innerText();
  check(text.includes(user), `the user menu does not name ${user}: ${JSON.stringify(text)}`);
  check(text.includes('BE10'), `the user menu does not list a role at BE10: ${JSON.stringify(text)}`);
}

async function logOut(page) {
  run.step = 'logging out';
  await page.locator('#user-menu-panel').getByRole('button', { name: 'Log out', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/login');
}

async function desktop() {
  const { context, page, problems } = await openPage({ viewport: { width: 1280, height: 800 } }, { showMethod: false });

  run.step = 'opening the home page signed out';
  await page.goto(`${baseURL}/`);
  await page.waitForURL((url) => url.pathname === '/login');
  const next = new URL(page.url()).searchParams.get('next');
  check(next === '/', `expected /login?next=/ after the redirect, got ${page.url()}`);

  await signIn(page);
  await expectDashboard(page);

  run.step = 'checking the desktop navigation';
  check(!(await page.locator('#nav-toggle').isVisible()), 'the Menu button shows on a wide screen');
  check(await page.locator('#nav-links').getByRole('link', { name: 'Home' }).isVisible(), 'the Home link is hidden on a wide screen');

  await expectSessions(page);
  await openUserMenu(page);
  await logOut(page);

  run.step = 'checking the session is gone';
  await page.goto(`${baseURL}/`);
  await page.waitForURL((url) => url.pathname === '/login');

  check(problems.length === 0, problems.join('; '));
  await context.close();
}

async function phone() {
  const { context, page, problems } = await openPage({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  }, { showMethod: false });

  // A next parameter that leads off the site must be ignored.
  run.step = 'opening the sign-in page on a phone';
  await page.goto(`${baseURL}/login?next=${encodeURIComponent('//example.invalid/')}`);
  await signIn(page);
  check(new URL(page.url()).origin === new URL(baseURL).origin, `sign-in followed an off-site next to ${page.url()}`);
  await expectDashboard(page);

  run.step = 'checking the folded navigation';
  const toggle = page.locator('#nav-toggle');
  const home = page.locator('#nav-links').getByRole('link', { name: 'Home' });
  check(await toggle.isVisible(), 'the Menu button is not shown at 375 px');
  check(!(await home.isVisible()), 'the navigation links are not folded at 375 px');
  check(await toggle.getAttribute('aria-expanded') === 'false', 'the folded Menu button does not say it is collapsed');
  await toggle.click();
  await home.waitFor({ state: 'visible' });
  check(await toggle.getAttribute('aria-expanded') === 'true', 'the open Menu button does not say it is expanded');
  await page.keyboard.press('Escape');
  await home.waitFor({ state: 'hidden' });

  run.step = 'checking the phone layout';
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  check(overflow <= 0, `the page scrolls sideways by ${overflow} px at 375 px`);
  const firstCard = await page.locator('[data-card]').first().boundingBox();
  check(firstCard !== null && firstCard.x >= 0 && firstCard.x + firstCard.width <= 375, 'the first dashboard card does not fit the screen');

  await openUserMenu(page);
  await logOut(page);

  check(problems.length === 0, problems.join('; '));
  await context.close();
}

runChecks({
  name: 'shell',
  timeoutMs: 60_000,
  steps: async () => {
    await desktop();
    await phone();
  },
  summary: `${baseURL} as ${user}: sign-in redirect, dashboard, this session listed, user menu, logout, 375-px layout`,
});
