// A black-box check of a DICOMweb origin server with dicomweb-client, the library the OHIF
// viewer uses, and dcmjs to read what comes back: store, search (studies, series, instances,
// with includefield), metadata, frames, the whole instance and a rendered frame.
//
// usage: node conformance/dicomweb/client.mjs BASE_URL TOKEN STUDY_UID FILE.dcm…
// BASE_URL is the scope's root (…/dicomweb/centres/BE10); the files are one study's instances.
// Exits 1 with the first thing that does not hold.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
globalThis.XMLHttpRequest = require('xhr2');
const { api } = require('dicomweb-client');
const dcmjs = require('dcmjs');

const [base, token, studyUID, ...files] = process.argv.slice(2);
if (!base || !token || !studyUID || files.length === 0) {
  console.error('usage: client.mjs BASE_URL TOKEN STUDY_UID FILE.dcm…');
  process.exit(2);
}

function check(ok, what) {
  if (!ok) {
    throw new Error(what);
  }
}

const client = new api.DICOMwebClient({ url: base, headers: { Authorization: `Bearer ${token}` } });

async function main() {
  const datasets = files.map((f) => {
    const b = readFileSync(f);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  });
  const stored = await client.storeInstances({ datasets });
  check(stored !== undefined, 'STOW-RS answered nothing');

  const studies = await client.searchForStudies({ queryParams: { StudyInstanceUID: studyUID, includefield: 'StudyDescription,00081030' } });
  check(studies.length === 1, `QIDO found ${studies.length} studies, want 1`);
  const study = dcmjs.data.DicomMetaDictionary.naturalizeDataset(studies[0]);
  check(study.StudyInstanceUID === studyUID, 'QIDO answered another study');
  check(Number(study.NumberOfStudyRelatedInstances) === files.length, `the study has ${study.NumberOfStudyRelatedInstances} instances, want ${files.length}`);
  check(typeof study.StudyDescription === 'string', 'includefield did not add StudyDescription');

  const byName = await client.searchForStudies({ queryParams: { PatientName: `${study.PatientName[0].Alphabetic.slice(0, 5)}*` } });
  check(byName.some((s) => s['0020000D'].Value[0] === studyUID), 'a wildcard PatientName search misses the study');

  const series = await client.searchForSeries({ studyInstanceUID: studyUID });
  check(series.length >= 1, 'no series');
  const seriesUID = series[0]['0020000E'].Value[0];
  const instances = await client.searchForInstances({ studyInstanceUID: studyUID, seriesInstanceUID: seriesUID });
  check(instances.length === files.length, `QIDO found ${instances.length} instances, want ${files.length}`);

  const metadata = await client.retrieveStudyMetadata({ studyInstanceUID: studyUID });
  check(metadata.length === files.length, `study metadata has ${metadata.length} instances`);
  const first = dcmjs.data.DicomMetaDictionary.naturalizeDataset(metadata[0]);
  check(first.Rows > 0 && first.Columns > 0, 'metadata without Rows and Columns');
  check(first.PixelData && first.PixelData.BulkDataURI, 'metadata gives no BulkDataURI for the pixel data');
  const sopUID = first.SOPInstanceUID;

  const seriesMeta = await client.retrieveSeriesMetadata({ studyInstanceUID: studyUID, seriesInstanceUID: first.SeriesInstanceUID });
  check(seriesMeta.length === files.length, 'series metadata');

  const frames = await client.retrieveInstanceFrames({
    studyInstanceUID: studyUID, seriesInstanceUID: first.SeriesInstanceUID, sopInstanceUID: sopUID, frameNumbers: [1],
  });
  const want = first.Rows * first.Columns * (first.BitsAllocated / 8) * (first.SamplesPerPixel || 1);
  check(frames.length === 1 && frames[0].byteLength === want, `frame 1 is ${frames[0] && frames[0].byteLength} bytes, want ${want}`);

  const instance = await client.retrieveInstance({
    studyInstanceUID: studyUID, seriesInstanceUID: first.SeriesInstanceUID, sopInstanceUID: sopUID,
  });
  const parsed = dcmjs.data.DicomMessage.readFile(instance);
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  check(ds.SOPInstanceUID === sopUID, 'the retrieved instance is another one');
  check(ds.PixelData && ds.PixelData[0].byteLength === want, 'the retrieved instance lost its pixel data');

  const rendered = await client.retrieveInstanceRendered({
    studyInstanceUID: studyUID, seriesInstanceUID: first.SeriesInstanceUID, sopInstanceUID: sopUID,
    mediaTypes: [{ mediaType: 'image/png' }],
  });
  const png = new Uint8Array(Array.isArray(rendered) ? rendered[0] : rendered);
  check(png[0] === 0x89 && png[1] === 0x50, 'the rendered instance is not a PNG');

  console.log(`dicomweb-client: stored ${files.length}, searched, metadata, frame, instance and rendered hold`);
}

main().catch((e) => {
  console.error(`FAIL: ${e.message || e}`);
  process.exit(1);
});
