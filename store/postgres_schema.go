package store

// pgSchemaV1 is the whole store in PostgreSQL. Comments, cursors and runs keep
// SQLite's columns (times as Unix nanoseconds, so they keep their
// nanoseconds).
//
//	models          one row per model: the live version (0 = none) and the next
//	                version number; a lineage set aside is renamed
//	                "<model>.set-aside-<time>", and its versions and files follow
//	                (ON UPDATE CASCADE)
//	model_versions  metadata (JSON, opaque here) and checkpoint bytes, stored
//	                uncompressed (they do not compress) out of line
//	model_files     side files: loss curve, an interrupted run
//	seen            replay keys of HTTP interactions, until they expire
//	limit_users     the last allowed command of each user (cooldowns)
//	limit_channels  the times of each channel's commands in the last minute
//	post_slots      scheduled posts recorded before they are sent
//	settings        small shared values (the command set Discord has)
const pgSchemaV1 = `
CREATE TABLE comments (
	seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id        text             NOT NULL UNIQUE,
	subreddit text             NOT NULL,
	author    text             NOT NULL,
	body      text             NOT NULL,
	score     bigint           NOT NULL,
	created   bigint           NOT NULL,
	ingested  bigint           NOT NULL,
	norm      bigint           NOT NULL,
	split     double precision NOT NULL
);
CREATE INDEX comments_norm ON comments(norm, seq);
CREATE INDEX comments_ingested ON comments(ingested);
CREATE TABLE cursors (
	source      text   PRIMARY KEY,
	newest      text   NOT NULL,
	pending     text   NOT NULL,
	after_token text   NOT NULL,
	updated     bigint NOT NULL
);
CREATE TABLE runs (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	job     text   NOT NULL,
	model   text   NOT NULL,
	started bigint NOT NULL,
	ended   bigint NOT NULL,
	outcome text   NOT NULL,
	detail  text   NOT NULL
);
CREATE INDEX runs_job ON runs(job, id);
CREATE TABLE run_figures (
	run_id bigint           NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	name   text             NOT NULL,
	value  double precision NOT NULL,
	PRIMARY KEY (run_id, name)
);
CREATE TABLE models (
	name         text    PRIMARY KEY,
	live         integer NOT NULL DEFAULT 0,
	next_version integer NOT NULL DEFAULT 1
);
CREATE TABLE model_versions (
	model      text    NOT NULL REFERENCES models(name) ON UPDATE CASCADE ON DELETE CASCADE,
	version    integer NOT NULL,
	meta       bytea   NOT NULL,
	checkpoint bytea   NOT NULL,
	size       bigint  NOT NULL,
	created    bigint  NOT NULL,
	PRIMARY KEY (model, version)
);
ALTER TABLE model_versions ALTER COLUMN checkpoint SET STORAGE EXTERNAL;
CREATE TABLE model_files (
	model text  NOT NULL REFERENCES models(name) ON UPDATE CASCADE ON DELETE CASCADE,
	file  text  NOT NULL,
	data  bytea NOT NULL,
	PRIMARY KEY (model, file)
);
CREATE TABLE seen (
	key   text   PRIMARY KEY,
	until bigint NOT NULL
);
CREATE TABLE limit_users (
	user_id text   PRIMARY KEY,
	last    bigint NOT NULL
);
CREATE TABLE limit_channels (
	channel text     PRIMARY KEY,
	hits    bigint[] NOT NULL
);
CREATE TABLE post_slots (
	post    text   NOT NULL,
	slot    bigint NOT NULL,
	claimed bigint NOT NULL,
	PRIMARY KEY (post, slot)
);
CREATE TABLE settings (
	key   text PRIMARY KEY,
	value text NOT NULL
);
`

// pgMigrations returns the schema steps in order; step i brings the database
// from version i to i+1. Steps are only ever appended.
func pgMigrations() []string { return []string{pgSchemaV1} }
