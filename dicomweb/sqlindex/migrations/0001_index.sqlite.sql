-- The DICOMweb index: studies, series and instances of every scope. Every row carries its scope
-- (scope_kind, scope_id) and every key and index starts with it, so that no query of one scope
-- reads another's rows. Study and series rows hold the attributes of their newest instance and
-- the counts kept up to date by each put; *_uc columns hold PN values upper-cased, *_words the
-- folded words of a PN value between spaces (" MULLER HANS ") for fuzzy matching, *_time_norm
-- TM values padded to HHMMSS.FFFFFF for range matching and ordering. Times are UTC.
-- The PostgreSQL file is the same schema with byte-wise collation and BYTEA.

CREATE TABLE dicomweb_studies (
	scope_kind TEXT NOT NULL,
	scope_id TEXT NOT NULL,
	study_uid TEXT NOT NULL,
	patient_ref TEXT NOT NULL DEFAULT '',
	patient_name TEXT NOT NULL,
	patient_name_uc TEXT NOT NULL,
	patient_name_words TEXT NOT NULL,
	patient_id TEXT NOT NULL,
	issuer_of_patient_id TEXT NOT NULL,
	patient_birth_date TEXT NOT NULL,
	patient_sex TEXT NOT NULL,
	study_date TEXT NOT NULL,
	study_time TEXT NOT NULL,
	study_time_norm TEXT NOT NULL,
	accession_number TEXT NOT NULL,
	referring_physician_name TEXT NOT NULL,
	referring_physician_uc TEXT NOT NULL,
	referring_physician_words TEXT NOT NULL,
	study_id TEXT NOT NULL,
	study_description TEXT NOT NULL,
	attrs_json BLOB,
	num_series BIGINT NOT NULL,
	num_instances BIGINT NOT NULL,
	last_stored_at TIMESTAMP NOT NULL,
	PRIMARY KEY (scope_kind, scope_id, study_uid)
);

CREATE INDEX dicomweb_studies_order ON dicomweb_studies (scope_kind, scope_id, study_date DESC, study_time_norm DESC, study_uid);
CREATE INDEX dicomweb_studies_patient_name ON dicomweb_studies (scope_kind, scope_id, patient_name_uc);
CREATE INDEX dicomweb_studies_patient_id ON dicomweb_studies (scope_kind, scope_id, patient_id);
CREATE INDEX dicomweb_studies_birth_date ON dicomweb_studies (scope_kind, scope_id, patient_birth_date);
CREATE INDEX dicomweb_studies_accession ON dicomweb_studies (scope_kind, scope_id, accession_number);
CREATE INDEX dicomweb_studies_referring ON dicomweb_studies (scope_kind, scope_id, referring_physician_uc);
CREATE INDEX dicomweb_studies_study_id ON dicomweb_studies (scope_kind, scope_id, study_id);
CREATE INDEX dicomweb_studies_patient_ref ON dicomweb_studies (scope_kind, patient_ref, scope_id);

-- A series UID belongs to one study of its scope.
CREATE TABLE dicomweb_series (
	scope_kind TEXT NOT NULL,
	scope_id TEXT NOT NULL,
	series_uid TEXT NOT NULL,
	study_uid TEXT NOT NULL,
	modality TEXT NOT NULL,
	series_number BIGINT,
	series_description TEXT NOT NULL,
	pps_start_date TEXT NOT NULL,
	pps_start_time TEXT NOT NULL,
	pps_start_time_norm TEXT NOT NULL,
	attrs_json BLOB,
	num_instances BIGINT NOT NULL,
	last_stored_at TIMESTAMP NOT NULL,
	PRIMARY KEY (scope_kind, scope_id, series_uid)
);

-- No index orders series or instances: the planner would rather walk such an index than sort
-- the few rows that the conditions select. The study index covers ModalitiesInStudy.
CREATE INDEX dicomweb_series_study ON dicomweb_series (scope_kind, scope_id, study_uid, modality);
CREATE INDEX dicomweb_series_modality ON dicomweb_series (scope_kind, scope_id, modality);
CREATE INDEX dicomweb_series_pps_date ON dicomweb_series (scope_kind, scope_id, pps_start_date);

-- The instances; metadata, layout and summary (the default QIDO attributes, precomputed) are
-- read only when instances are returned.
CREATE TABLE dicomweb_instances (
	scope_kind TEXT NOT NULL,
	scope_id TEXT NOT NULL,
	sop_uid TEXT NOT NULL,
	study_uid TEXT NOT NULL,
	series_uid TEXT NOT NULL,
	sop_class_uid TEXT NOT NULL,
	transfer_syntax_uid TEXT NOT NULL,
	instance_number BIGINT,
	num_rows BIGINT NOT NULL,
	num_columns BIGINT NOT NULL,
	num_frames BIGINT NOT NULL,
	bits_allocated BIGINT NOT NULL,
	blob_key TEXT NOT NULL,
	size_bytes BIGINT NOT NULL,
	sha256 TEXT NOT NULL,
	stored_at TIMESTAMP NOT NULL,
	metadata BLOB,
	layout BLOB,
	summary BLOB,
	PRIMARY KEY (scope_kind, scope_id, sop_uid)
);

CREATE INDEX dicomweb_instances_series ON dicomweb_instances (scope_kind, scope_id, series_uid, instance_number, sop_uid);
CREATE INDEX dicomweb_instances_study ON dicomweb_instances (scope_kind, scope_id, study_uid);
CREATE INDEX dicomweb_instances_sop_class ON dicomweb_instances (scope_kind, scope_id, sop_class_uid);

-- The SOP classes of each study (SOPClassesInStudy), kept by each put.
CREATE TABLE dicomweb_study_classes (
	scope_kind TEXT NOT NULL,
	scope_id TEXT NOT NULL,
	study_uid TEXT NOT NULL,
	sop_class_uid TEXT NOT NULL,
	PRIMARY KEY (scope_kind, scope_id, study_uid, sop_class_uid)
);
