// Browser check of the patient pages against a fresh demo server. Everything
// goes through the pages, as people use them:
//
//   1. bloodnethpuser1 opens the enrol form, downloads the model consent
//      form (a PDF), fills in a synthetic patient, answers "no" to the
//      consent for care and is refused with the reason next to it (nothing
//      is sent); answers "yes" and is shown the patient with its CPMS ID
//      ERN-BE10-EuroBloodNet-NNN;
//   2. finds the patient in the list by search, sorts the list by last name
//      (descending, then ascending), and opens the patient from the list;
//   3. withdraws the consent for care, confirming the dialog that says it
//      freezes the patient: the details say "Frozen: consent for care
//      withdrawn on …", the history shows the answer changed, and the list
//      marks the patient frozen; asks for a
//      transfer of the patient to BG07;
//   4. bloodnetdpo, data-protection officer at BE10, opens the patient's
//      access records by CPMS ID and reads who accessed the patient: the
//      CPMS ID without the name, and the enrolment by
//      bloodnethpuser1;
//   5. bloodnethpuser2 (BG07) opens the patient's address and gets the
//      not-found state, does not find the patient by search, accepts the
//      transfer on the patients page and then sees the patient at BG07;
//   6. bloodnethpuser1 no longer sees the patient.
//
//   BASE_URL=http://127.0.0.1:8080 node viewer/e2e/patients.mjs
//
// Environment: BASE_URL (required), CPMS_E2E_PASSWORD (password of the demo
// users, default cpms-demo), CHROMIUM (default /usr/bin/chromium). Any page
// error, Content-Security-Policy violation, failed static file, server
// error, or API answer with another status than the page's action should
// get fails the run. Exit status 0 with one summary line on success; 1 with
// the stage, the step and the reason on failure.

import {
  baseURL, check, expectAPI, expectNoErrorShown, openBrowserFor, pathOf, run, runChecks, signInAt,
} from './lib.mjs';

const HP1 = 'bloodnethpuser1';
const HP2 = 'bloodnethpuser2';
const DPO = 'bloodnetdpo';
const CPMS_ID = /^ERN-BE10-EuroBloodNet-\d{3,}$/;

// A synthetic patient nobody else has: the name carries the run's stamp.
const stamp = Date.now().toString(36).replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)]);
const PATIENT = {
  first: 'Erika',
  last: `Testerova${stamp[0].toUpperCase()}${stamp.slice(1)}`,
  birth: '1976-02-05',
  mrn: `E2E-${stamp}`,
  oid: '1.3.6.1.4.1.21367.2017.2.5.83',
};
const LABEL = `${PATIENT.last}, ${PATIENT.first} DOB: 05/02/1976 (F)`;
const PATIENTS_API = /^\/api\/patients$/;

const found = { id: '', cpmsId: '' };

// The patient list, once it has loaded.
async function listRows(page) {
  await page.locator('#patient-list[aria-busy]').waitFor({ state: 'detached' });
  return page.locator('#patient-list tbody tr');
}

async function lastNames(page) {
  const rows = await listRows(page);
  return rows.evaluateAll((trs) => trs.map((tr) => (tr.querySelector('td[data-label="Last name"]')?.innerText || '').trim()));
}

// Searches the list and resolves to the rows.
async function search(page, text) {
  run.step = `searching the list for ${JSON.stringify(text)}`;
  await listRows(page); // the list the page loads first must not be taken for the search's answer
  await page.getByRole('searchbox', { name: 'Search' }).fill(text);
  const res = await expectAPI(page, 'GET', PATIENTS_API, 200,
    () => page.locator('#search-form').getByRole('button', { name: 'Search', exact: true }).click());
  check(new URL(res.url()).searchParams.get('q') === text, `the search asked for ${res.url()}`);
  return listRows(page);
}

function consentGroup(page, name) {
  return page.getByRole('group', { name });
}

// 1. Enrolment: refused without the consent for care, then done with it.
async function enrol(page) {
  run.stage = `step 1 (${HP1} enrols a patient)`;
  await signInAt(page, '/patients/enrol', HP1);
  run.step = 'waiting for the enrol form';
  const form = page.locator('#enrol-form');
  await form.waitFor({ state: 'visible' });
  check((await page.locator('#target-fixed').innerText()).includes('BE10'), 'the form does not say it enrols at BE10');

  run.step = 'downloading the model consent form';
  const link = page.getByRole('link', { name: 'Download the model consent form (PDF)' });
  const href = await link.getAttribute('href');
  check(href !== null && href.startsWith('/api/consent-form?'), `the consent form link is ${href}`);
  const pdf = await page.request.get(`${baseURL}${href}`);
  check(pdf.status() === 200, `GET ${href} answered ${pdf.status()}`);
  check((pdf.headers()['content-type'] || '').startsWith('application/pdf'), `GET ${href} answered ${pdf.headers()['content-type']}`);
  check((pdf.headers()['content-disposition'] || '').startsWith('attachment'), `the consent form is not an attachment: ${pdf.headers()['content-disposition']}`);
  check((await pdf.body()).subarray(0, 5).toString() === '%PDF-', 'the consent form is not a PDF file');

  run.step = 'filling in the identifying data';
  await page.getByLabel('First name').fill(PATIENT.first);
  await page.getByLabel('Last name').fill(PATIENT.last);
  await page.getByLabel('Gender').selectOption('female');
  await page.getByLabel('Date of birth').fill(PATIENT.birth);
  const label = await page.getByLabel('Record label').inputValue();
  check(label === LABEL, `the record label reads ${JSON.stringify(label)}, expected ${JSON.stringify(LABEL)}`);
  const enrolled = await page.getByLabel('Date enrolled').inputValue();
  check(enrolled === new Date().toISOString().slice(0, 10), `the enrolment date defaults to ${enrolled}`);
  await page.getByLabel('Medical record number (MRN)').fill(PATIENT.mrn);
  await page.getByLabel('Assigning authority (OID)').fill(PATIENT.oid);

  run.step = 'answering "no" to the consent for care';
  await consentGroup(page, /^Consent for care/).getByLabel('No', { exact: true }).check();
  await consentGroup(page, /^Consent for ERN databases/).getByLabel('No', { exact: true }).check();
  await consentGroup(page, /^Consent to be contacted/).getByLabel('No', { exact: true }).check();
  let posted = 0;
  const count = (req) => { if (req.method() === 'POST' && PATIENTS_API.test(new URL(req.url()).pathname)) posted++; };
  page.on('request', count);
  await page.getByRole('button', { name: 'Enrol patient' }).click();
  const refusal = page.locator('[data-error-for="consents.care"]');
  await refusal.waitFor({ state: 'visible' });
  const why = await refusal.innerText();
  check(/consent for care is required/i.test(why), `the refusal reads ${JSON.stringify(why)}`);
  check((await page.locator('#enrol-error').innerText()).includes('not enrolled'), 'the form does not say the patient was not enrolled');
  check(posted === 0, 'the form sent the enrolment without the consent for care');
  page.off('request', count);

  run.step = 'answering "yes" to the consent for care and enrolling';
  await consentGroup(page, /^Consent for care/).getByLabel('Yes', { exact: true }).check();
  const res = await expectAPI(page, 'POST', PATIENTS_API, 201, () => page.getByRole('button', { name: 'Enrol patient' }).click());
  const sent = JSON.parse(res.request().postData() || '{}');
  check(sent.consents?.length === 3 && sent.consents[0].kind === 'care' && sent.consents[0].given === true, `sent consents ${JSON.stringify(sent.consents)}`);
  await page.waitForURL((url) => /^\/patients\/[^/]+$/.test(url.pathname) && url.pathname !== '/patients/enrol');
  found.id = decodeURIComponent(pathOf(page).split('/')[2]);
  run.step = 'reading the CPMS ID of the new patient';
  await page.locator('#patient-view').waitFor({ state: 'visible' });
  const cpmsId = (await page.locator('#patient-cpms-id').innerText()).trim();
  check(CPMS_ID.test(cpmsId), `the CPMS ID reads ${JSON.stringify(cpmsId)}`);
  await page.locator('#patient-done').filter({ hasText: cpmsId }).waitFor();
  check((await page.locator('#patient-heading').innerText()).includes(PATIENT.last), 'the details do not name the patient');
  found.cpmsId = cpmsId;
  await expectNoErrorShown(page);
}

// 2. Search, sort, open.
async function findInList(page) {
  run.stage = `step 2 (${HP1} finds the patient in the list)`;
  run.step = 'opening the patient list';
  await page.getByRole('link', { name: 'Patients', exact: true }).first().click();
  await page.waitForURL((url) => url.pathname === '/patients');
  let rows = await search(page, PATIENT.last.slice(0, 12));
  check(await rows.count() === 1, `the search shows ${await rows.count()} rows`);
  check((await rows.first().innerText()).includes(found.cpmsId), 'the row does not show the CPMS ID');

  run.step = 'sorting by last name';
  await expectAPI(page, 'GET', PATIENTS_API, 200, () => page.getByRole('button', { name: 'Clear' }).click());
  const header = page.locator('#patient-list thead').getByRole('button', { name: 'Last name' });
  let res = await expectAPI(page, 'GET', PATIENTS_API, 200, () => header.click());
  let q = new URL(res.url()).searchParams;
  check(q.get('sort') === 'lastName' && q.get('desc') === 'true', `sorting asked for ${res.url()}`);
  let names = await lastNames(page);
  check(names.length >= 2, `the list shows ${names.length} patients: too few to tell the order`);
  const sorted = [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  check(JSON.stringify(names) === JSON.stringify([...sorted].reverse()), `descending by last name: ${JSON.stringify(names)}`);
  check(await page.locator('#patient-list th[aria-sort="descending"]').innerText().then((t) => t.includes('Last name')), 'the header does not show the order');
  res = await expectAPI(page, 'GET', PATIENTS_API, 200, () => page.locator('#patient-list thead').getByRole('button', { name: 'Last name' }).click());
  q = new URL(res.url()).searchParams;
  names = await lastNames(page);
  check(q.get('desc') === 'false' && JSON.stringify(names) === JSON.stringify(sorted), `ascending by last name: ${JSON.stringify(names)}`);
  const range = await page.locator('#list-count').innerText();
  check(/1–\d+ of \d+/.test(range), `the list does not say which patients it shows: ${JSON.stringify(range)}`);

  run.step = 'opening the patient from the list';
  rows = await search(page, PATIENT.last);
  await rows.first().getByRole('link', { name: PATIENT.last }).click();
  await page.waitForURL((url) => url.pathname === `/patients/${found.id}`);
  await page.locator('#patient-view').waitFor({ state: 'visible' });
}

// 3. Withdrawal of the consent for care freezes; transfer request.
async function withdrawAndTransfer(page) {
  run.stage = `step 3 (${HP1} withdraws the consent for care)`;
  run.step = 'withdrawing the consent for care';
  check(!(await page.locator('#frozen-banner').isVisible()), 'the patient shows as frozen before the withdrawal');
  await page.getByRole('button', { name: 'Withdraw the consent for care' }).click();
  const dialog = page.locator('#withdraw-dialog');
  await dialog.waitFor({ state: 'visible' });
  check(/freezes the patient/.test(await dialog.innerText()), `the dialog does not say the withdrawal freezes the patient: ${JSON.stringify(await dialog.innerText())}`);
  const res = await expectAPI(page, 'POST', /^\/api\/patients\/[^/]+\/consents\/care\/withdraw$/, 200,
    () => dialog.getByRole('button', { name: 'Withdraw and freeze the patient' }).click());
  check((await res.json()).frozen === true, 'the answer does not show the patient frozen');
  const banner = page.locator('#frozen-banner');
  await banner.waitFor({ state: 'visible' });
  const text = await banner.innerText();
  check(/^Frozen: consent for care withdrawn on \d{2}\/[A-Z][a-z]{2}\/\d{4}/.test(text), `the banner reads ${JSON.stringify(text)}`);
  check(await page.locator('#consents tr[data-kind="care"][data-status="withdrawn"]').count() === 1, 'the consent for care is not shown withdrawn');
  run.step = 'reading the withdrawal in the history';
  const change = page.locator('#history li', { hasText: /^Consent for care: yes .*→ withdrawn on / });
  await change.first().waitFor({ state: 'visible' });

  run.step = 'checking the list marks the patient frozen';
  await page.goto(`${baseURL}/patients?q=${encodeURIComponent(PATIENT.last)}`);
  const rows = await listRows(page);
  check(await rows.count() === 1, `the list shows ${await rows.count()} rows for the patient`);
  check(await rows.first().evaluate((tr) => tr.classList.contains('is-frozen')), 'the row is not marked frozen');
  check((await rows.first().locator('td[data-label="Frozen"]').innerText()).trim() === 'Frozen', 'the Frozen column does not say Frozen');
  check((await rows.first().locator('td[data-label="Consent"]').innerText()).trim() === 'Withdrawn', 'the Consent column does not say Withdrawn');

  run.stage = `step 3 (${HP1} asks for a transfer to BG07)`;
  run.step = 'asking for the transfer';
  await rows.first().getByRole('link', { name: PATIENT.last }).click();
  await page.locator('#transfer-form').waitFor({ state: 'visible' });
  await page.getByLabel('Centre', { exact: true }).selectOption('BG07');
  await page.getByLabel('Comment', { exact: true }).fill('Closer to the patient\'s new home.');
  await expectAPI(page, 'POST', /^\/api\/patients\/[^/]+\/transfers$/, 201,
    () => page.getByRole('button', { name: 'Request the transfer' }).click());
  await page.locator('#transfers [data-status="pending"]').waitFor();
  check(!(await page.locator('#transfer-form').isVisible()), 'the transfer form is still offered while a transfer waits');
  await expectNoErrorShown(page);
}

// 4. The data-protection officer reads who accessed the patient.
async function dataProtection() {
  run.stage = `step 4 (${DPO} reads who accessed the patient)`;
  const s = await openBrowserFor(DPO);
  const { page } = s;
  await signInAt(page, '/patients', DPO);
  run.step = 'opening the access records by CPMS ID';
  await page.locator('#access-lookup-section').waitFor({ state: 'visible' });
  await page.fill('#access-cpms-id', found.cpmsId);
  await page.click('#access-lookup button[type=submit]');
  await page.waitForURL((u) => u.pathname === `/patients/${found.cpmsId}/access`);
  run.step = 'reading the access records';
  await page.locator('#access-view').waitFor({ state: 'visible' });
  check((await page.locator('#access-patient').innerText()).includes(found.cpmsId), 'the header does not show the CPMS ID');
  const enrolment = page.locator('#access-events tr[data-action="patient.enrol"]');
  check(await enrolment.count() === 1, 'the enrolment is not among the access records');
  check((await enrolment.locator('td[data-label="User"]').innerText()).trim() === HP1, 'the enrolment is not shown as done by the clinician');
  check(await page.locator('#access-events tr[data-action="patient.freeze"]').count() === 1, 'the freezing is not among the access records');
  const body = await page.locator('main').innerText();
  check(!body.includes(PATIENT.last) && !body.includes('05/02/1976'), 'the access page shows the identity of the patient');
  await s.close();
}

// 5. Another centre: not found, not listed; accepts the transfer, then sees the patient.
async function otherCentre() {
  run.stage = `step 5 (${HP2} at BG07)`;
  const s = await openBrowserFor(HP2);
  const { page } = s;
  await signInAt(page, `/patients/${found.id}`, HP2);
  run.step = 'checking the patient is not found';
  await page.locator('#patient-notfound').waitFor({ state: 'visible' });
  check(!(await page.locator('#patient-view').isVisible()), 'the details show next to the not-found state');
  check(!(await page.locator('main').innerText()).includes(PATIENT.last), 'the not-found page names the patient');

  run.step = 'searching for the patient';
  await page.goto(`${baseURL}/patients`);
  const rows = await search(page, PATIENT.last);
  check(await rows.count() === 0, `the search shows ${await rows.count()} rows at BG07`);
  check((await page.locator('#list-count').innerText()).includes('No patient matches'), 'the list does not say nothing matches');

  run.step = 'accepting the transfer';
  const item = page.locator(`#transfers li[data-cpms-id="${found.cpmsId}"]`);
  await item.waitFor({ state: 'visible' });
  check(!(await item.innerText()).includes(PATIENT.last), 'the transfer request names the patient');
  await expectAPI(page, 'POST', /^\/api\/transfers\/[^/]+\/accept$/, 200,
    () => item.getByRole('button', { name: `Accept the transfer of ${found.cpmsId}` }).click());
  const done = page.locator('#patients-done');
  await done.filter({ hasText: 'Accepted' }).waitFor();
  await done.getByRole('link', { name: found.cpmsId }).click();
  await page.waitForURL((url) => url.pathname === `/patients/${found.id}`);
  await page.locator('#patient-view').waitFor({ state: 'visible' });
  const identity = await page.locator('#identity').innerText();
  check(identity.includes('BG07'), `the patient is not shown at BG07: ${JSON.stringify(identity)}`);
  await expectNoErrorShown(page);
  await s.close();
}

// 6. The first centre no longer sees the patient.
async function firstCentreAfter(page) {
  run.stage = `step 6 (${HP1} after the transfer)`;
  run.step = 'opening the patient again';
  await page.goto(`${baseURL}/patients/${found.id}`);
  await page.locator('#patient-notfound').waitFor({ state: 'visible' });
  check(pathOf(page) === `/patients/${found.id}`, `ended at ${pathOf(page)}`);
}

async function steps() {
  const s = await openBrowserFor(HP1);
  await enrol(s.page);
  await findInList(s.page);
  await withdrawAndTransfer(s.page);
  await dataProtection();
  await otherCentre();
  await firstCentreAfter(s.page);
  await s.close();
}

runChecks({
  name: 'patients',
  timeoutMs: 90_000,
  staged: true,
  steps,
  summary: `${baseURL}: enrolment refused without the consent for care, then done (CPMS ID shown); search, sort, details; withdrawal freezes; access records for the data-protection officer; another centre gets not-found, then takes the patient over by transfer`,
});
