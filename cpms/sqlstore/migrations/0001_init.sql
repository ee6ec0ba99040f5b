-- The cpms schema: networks, accounts and their credentials, access requests, the audit
-- chain, shared secrets and settings. It runs unchanged on SQLite and PostgreSQL: TEXT,
-- BIGINT, BOOLEAN and TIMESTAMP (UTC, microseconds) only, keys made by the application.
-- Empty optional strings are '' except where a column takes part in a foreign key or a
-- unique constraint that must ignore it: those hold NULL.

CREATE TABLE centres (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	country TEXT NOT NULL
);

CREATE TABLE erns (
	code TEXT PRIMARY KEY,
	name TEXT NOT NULL
);

CREATE TABLE ern_areas (
	ern TEXT NOT NULL REFERENCES erns (code) ON DELETE CASCADE,
	pos BIGINT NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (ern, pos)
);

CREATE TABLE ern_centres (
	ern TEXT NOT NULL REFERENCES erns (code) ON DELETE CASCADE,
	centre TEXT NOT NULL REFERENCES centres (code),
	PRIMARY KEY (ern, centre)
);

CREATE INDEX ern_centres_centre ON ern_centres (centre);

CREATE TABLE users (
	id TEXT PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	-- username and display name folded to lower case by the application, for searching:
	-- SQLite's LOWER() folds ASCII only.
	search_text TEXT NOT NULL,
	email TEXT NOT NULL,
	disabled BOOLEAN NOT NULL,
	created_at TIMESTAMP NOT NULL,
	password_hash TEXT NOT NULL,
	must_change_password BOOLEAN NOT NULL,
	totp_secret TEXT NOT NULL,
	totp_enabled BOOLEAN NOT NULL,
	totp_last_step BIGINT NOT NULL,
	failed_logins BIGINT NOT NULL,
	locked_until TIMESTAMP,
	oidc_issuer TEXT,
	oidc_subject TEXT,
	UNIQUE (oidc_issuer, oidc_subject)
);

-- ern is '' for a deployment-wide Helpdesk grant and centre is '' for the roles not tied to
-- a centre, so that the uniqueness of (user, role, ern, centre) holds for them too.
CREATE TABLE role_grants (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role TEXT NOT NULL,
	ern TEXT NOT NULL,
	centre TEXT NOT NULL,
	expires_at TIMESTAMP,
	granted_by TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	UNIQUE (user_id, role, ern, centre)
);

CREATE INDEX role_grants_ern ON role_grants (ern, centre);
CREATE INDEX role_grants_centre ON role_grants (centre);

CREATE TABLE recovery_codes (
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash TEXT NOT NULL,
	used_at TIMESTAMP,
	PRIMARY KEY (user_id, hash)
);

CREATE TABLE assistants (
	clinician_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	assistant_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	appointed_at TIMESTAMP NOT NULL,
	PRIMARY KEY (clinician_id, assistant_id)
);

CREATE INDEX assistants_assistant ON assistants (assistant_id);

CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	hash TEXT NOT NULL UNIQUE,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	on_behalf_of TEXT REFERENCES users (id) ON DELETE SET NULL,
	method TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	last_seen_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL,
	source TEXT NOT NULL,
	user_agent TEXT NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

CREATE TABLE tokens (
	id TEXT PRIMARY KEY,
	hash TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
	centre TEXT NOT NULL,
	system TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP,
	revoked_at TIMESTAMP,
	last_used_at TIMESTAMP
);

CREATE INDEX tokens_user ON tokens (user_id);
CREATE INDEX tokens_centre ON tokens (centre);

CREATE TABLE access_requests (
	id TEXT PRIMARY KEY,
	user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	ern TEXT NOT NULL,
	centre TEXT NOT NULL,
	role TEXT NOT NULL,
	comment TEXT NOT NULL,
	status TEXT NOT NULL,
	decided_by TEXT NOT NULL,
	decision_comment TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL,
	decided_at TIMESTAMP
);

CREATE INDEX access_requests_created ON access_requests (created_at);
CREATE INDEX access_requests_status ON access_requests (status, created_at);
CREATE INDEX access_requests_user ON access_requests (user_id);

-- The hash chain: each record's hash covers the previous record's hash and every other column.
CREATE TABLE audit_events (
	seq BIGINT PRIMARY KEY,
	at TIMESTAMP NOT NULL,
	action TEXT NOT NULL,
	outcome BIGINT NOT NULL,
	actor TEXT NOT NULL,
	actor_id TEXT NOT NULL,
	on_behalf_of TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id TEXT NOT NULL,
	patient_id TEXT NOT NULL,
	source TEXT NOT NULL,
	request_id TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);

CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_patient ON audit_events (patient_id, seq);
CREATE INDEX audit_events_object ON audit_events (object_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);

-- Secret values are base64 (standard encoding): the schema keeps to TEXT.
CREATE TABLE secrets (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE settings (
	name TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
