-- Indexes for patient searches, as on SQLite. The folded names compare byte-wise (collation
-- "C"), so that a prefix is a range whatever the database's locale.
ALTER TABLE patients ALTER COLUMN family_norm TYPE TEXT COLLATE "C";
ALTER TABLE patients ALTER COLUMN given_norm TYPE TEXT COLLATE "C";
ALTER TABLE patients ALTER COLUMN label_norm TYPE TEXT COLLATE "C";
ALTER TABLE patients ALTER COLUMN cpms_id TYPE TEXT COLLATE "C";
CREATE INDEX patients_family ON patients (family_norm, given_norm);
CREATE INDEX patients_given ON patients (given_norm);
CREATE INDEX patients_centre_family ON patients (centre, family_norm, given_norm);
CREATE INDEX patients_clinician ON patients (clinician_id);
CREATE INDEX patients_birth ON patients (birth_date);
CREATE INDEX patients_updated ON patients (updated_at);
