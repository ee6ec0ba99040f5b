// Browser check of a patient's images against a running demo server whose PACS has stored a
// study of the demo patient Roger Addel (BE10): one whose PatientID and IssuerOfPatientID are
// his local identifier, DEMO-BE10-0001 issued by 2.999.1.1. The Go test TestBrowser stores it
// with the centre's PACS token before running this script.
//
// bloodnethpuser1 (BE10) opens Roger Addel from the patient list and finds the study in the
// Images section of his page, beside the demo network's own study of him: its date,
// description, modality and counts as stored.
// bloodnethpuser2 (BG07) gets the not-found state for the same page.
//
//   BASE_URL=http://127.0.0.1:8080 CPMS_E2E_STUDY_DESCRIPTION='Synthetic CT' node viewer/e2e/images.mjs
//
// Environment: BASE_URL (required), CPMS_E2E_STUDY_DESCRIPTION (the stored study's description,
// required), CPMS_E2E_PASSWORD, CHROMIUM. Any page error, Content-Security-Policy violation,
// failed static file, server error, or API answer with another status than expected fails the
// run. Exit status 0 with one summary line on success; 1 with the step and the reason on failure.

import {
  baseURL, check, expectNoErrorShown, fail, openBrowserFor, pathOf, run, runChecks, signInAt,
} from './lib.mjs';

const description = process.env.CPMS_E2E_STUDY_DESCRIPTION || '';
let patientPath = '';

async function linkedStudy() {
  const s = await openBrowserFor('bloodnethpuser1');
  const { page } = s;
  await signInAt(page, '/patients', 'bloodnethpuser1');
  await page.goto(`${baseURL}/patients?q=Addel`);

  run.step = 'opening Roger Addel from the list';
  const link = page.getByRole('link', { name: /Addel/ }).first();
  await link.waitFor({ state: 'visible' });
  await link.click();
  await page.locator('#images[aria-busy]').waitFor({ state: 'detached' });
  patientPath = pathOf(page);

  run.step = 'reading the Images section';
  const rows = await page.locator('#images tbody tr').evaluateAll((trs) => trs.map((tr) => {
    const text = (label) => (tr.querySelector(`td[data-label="${label}"]`)?.innerText || '').trim();
    return {
      date: text('Study date'), description: text('Description'), modalities: text('Modalities'),
      series: text('Series'), images: text('Images'),
    };
  }));
  // The demo network's own study of the patient, and the one the test's PACS stored.
  check(rows.length === 2, `the Images section shows ${rows.length} studies, expected the demo study and the one stored`);
  check(rows.some((x) => x.description.endsWith('(demo)')), `the demo study is not listed: ${JSON.stringify(rows)}`);
  const r = rows.find((x) => x.description === description);
  check(r !== undefined, `no study is described ${JSON.stringify(description)}: ${JSON.stringify(rows)}`);
  check(r.modalities === 'CT' && r.series === '1' && r.images === '3',
    `the study shows ${JSON.stringify(r)}, expected CT, 1 series, 3 images`);
  check(r.date === '02/Jan/2024', `the study date shows ${JSON.stringify(r.date)}, expected 02/Jan/2024`);
  await expectNoErrorShown(page);
  await s.close();
}

async function otherCentre() {
  const s = await openBrowserFor('bloodnethpuser2');
  const { page } = s;
  run.step = `opening ${patientPath} as bloodnethpuser2 (BG07)`;
  await signInAt(page, patientPath, 'bloodnethpuser2');
  await page.locator('#patient-notfound').waitFor({ state: 'visible' });
  check(!(await page.locator('#images tbody tr').count()), 'another centre sees the studies');
  await s.close();
}

runChecks({
  name: 'images',
  timeoutMs: 60_000,
  before: () => {
    run.step = 'reading the study from the environment';
    if (description === '') fail('CPMS_E2E_STUDY_DESCRIPTION must be the description of a study stored for Roger Addel');
  },
  steps: async () => { await linkedStudy(); await otherCentre(); },
  summary: `${baseURL}: the study the PACS stored for Roger Addel is listed on his page, not shown to another centre`,
});
