-- Indexes for patient searches: name prefixes (range scans on the folded names), the centre
-- list sorted by name, birth dates and recent changes.
CREATE INDEX patients_family ON patients (family_norm, given_norm);
CREATE INDEX patients_given ON patients (given_norm);
CREATE INDEX patients_centre_family ON patients (centre, family_norm, given_norm);
CREATE INDEX patients_clinician ON patients (clinician_id);
CREATE INDEX patients_birth ON patients (birth_date);
CREATE INDEX patients_updated ON patients (updated_at);
