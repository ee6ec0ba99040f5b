-- Patients, their consents, the versions of both (FHIR history), the CPMS ID sequences and
-- transfer requests. Each current row keeps the whole object as JSON in data, and beside it
-- the columns that searches and sorting need (names folded by the application, dates as
-- YYYY-MM-DD text, which sorts as dates). An enrolment writes its identifiers and consents
-- before the patient row (which needs the CPMS ID, numbered last): those references are checked
-- at commit.

CREATE TABLE cpms_id_seq (
	centre TEXT NOT NULL,
	ern TEXT NOT NULL,
	last BIGINT NOT NULL,
	PRIMARY KEY (centre, ern)
);

CREATE TABLE patients (
	id TEXT PRIMARY KEY,
	cpms_id TEXT NOT NULL UNIQUE,
	ern TEXT NOT NULL REFERENCES erns (code),
	centre TEXT NOT NULL REFERENCES centres (code),
	seq BIGINT NOT NULL,
	family_norm TEXT NOT NULL,
	given_norm TEXT NOT NULL,
	label_norm TEXT NOT NULL,
	gender TEXT NOT NULL,
	birth_date TEXT NOT NULL,
	enrolled_on TEXT NOT NULL,
	clinician_id TEXT NOT NULL,
	frozen BOOLEAN NOT NULL,
	consent_care TEXT NOT NULL,
	consent_registry TEXT NOT NULL,
	version BIGINT NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	data TEXT NOT NULL
);

-- A local identifier belongs to one patient per ERN (the same person may be enrolled in two
-- ERNs at one hospital).
CREATE TABLE patient_identifiers (
	ern TEXT NOT NULL,
	system TEXT NOT NULL,
	value TEXT NOT NULL,
	patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	PRIMARY KEY (ern, system, value)
);

CREATE INDEX patient_identifiers_value ON patient_identifiers (value);
CREATE INDEX patient_identifiers_patient ON patient_identifiers (patient_id);

CREATE TABLE patient_versions (
	patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
	version BIGINT NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (patient_id, version)
);

CREATE TABLE consents (
	id TEXT PRIMARY KEY,
	patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	kind TEXT NOT NULL,
	status TEXT NOT NULL,
	answer_date TEXT NOT NULL,
	version BIGINT NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	data TEXT NOT NULL,
	UNIQUE (patient_id, kind)
);

CREATE INDEX consents_date ON consents (answer_date);
CREATE INDEX consents_updated ON consents (updated_at);

CREATE TABLE consent_versions (
	consent_id TEXT NOT NULL REFERENCES consents (id) ON DELETE CASCADE,
	version BIGINT NOT NULL,
	updated_at TIMESTAMP NOT NULL,
	data TEXT NOT NULL,
	PRIMARY KEY (consent_id, version)
);

CREATE TABLE transfers (
	id TEXT PRIMARY KEY,
	patient_id TEXT NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
	status TEXT NOT NULL,
	from_centre TEXT NOT NULL,
	to_centre TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	data TEXT NOT NULL
);

-- One pending transfer per patient.
CREATE UNIQUE INDEX transfers_pending ON transfers (patient_id) WHERE status = 'pending';
CREATE INDEX transfers_from ON transfers (from_centre, created_at);
CREATE INDEX transfers_to ON transfers (to_centre, created_at);
