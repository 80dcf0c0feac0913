package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"commentbot/corpus"

	_ "modernc.org/sqlite" // registers the pure-Go "sqlite" driver
)

// busyTimeout is how long a connection waits for another writer's lock
// before giving up with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// pageSize is how many rows Comments reads per query. Rows of a page are held
// in memory while the page is handed to the caller; no connection or read
// transaction stays open between pages.
const pageSize = 256

// SQLite is the Store in one SQLite database file (modernc.org/sqlite, pure
// Go, no cgo). It is safe for concurrent use, also by several processes on
// one file.
//
// Files are opened in WAL mode (readers never block the writer) with
// synchronous=NORMAL, foreign keys on, a busy timeout of 10 s and write
// transactions that take the write lock when they begin (BEGIN IMMEDIATE),
// so two writers queue instead of failing on a lock upgrade. The schema is
// versioned by PRAGMA user_version; OpenSQLite applies missing migrations,
// each in its own transaction.
//
// ":memory:" opens a private in-memory database for tests. database/sql
// would give every pooled connection its own empty memory database, so a
// memory store uses exactly one connection: a call that needs the database
// while another holds it (a write inside a Comments callback is fine, since
// Comments holds no connection while calling back) waits for it.
//
// Model versions are files in the directory "models" beside the database
// (ModelDir), and elections lock files in "locks": both hold between the
// processes of one machine. A memory store keeps them in a temporary directory
// removed by Close.
type SQLite struct {
	db *sql.DB
	*ModelDir
	dir     string // beside the database: models/, locks/
	tempDir bool   // dir was made for a memory store; Close removes it
	writes  atomic.Uint64
}

var _ Store = (*SQLite)(nil)

// Comments: one row per Reddit fullname.
//
//	seq       insertion order; Comments streams in seq order
//	created   unix nanoseconds UTC, 0 when unknown
//	ingested  unix nanoseconds UTC of the first store, or of the last edit
//	norm      dedup key: the first 8 bytes of sha256(normalized body) as a
//	          big-endian int64 (normalized: lower-case, whitespace runs
//	          collapsed to one space, trimmed). Two different texts share a
//	          key with probability 2^-64 per pair.
//	split     corpus.SplitPoint(id), so that Train/Validation filter in SQL.
const schemaV1 = `
CREATE TABLE comments (
	seq       INTEGER PRIMARY KEY,
	id        TEXT    NOT NULL UNIQUE,
	subreddit TEXT    NOT NULL,
	author    TEXT    NOT NULL,
	body      TEXT    NOT NULL,
	score     INTEGER NOT NULL,
	created   INTEGER NOT NULL,
	ingested  INTEGER NOT NULL,
	norm      INTEGER NOT NULL,
	split     REAL    NOT NULL
);
CREATE INDEX comments_norm ON comments(norm, seq);
CREATE INDEX comments_ingested ON comments(ingested);
CREATE TABLE cursors (
	source      TEXT PRIMARY KEY,
	newest      TEXT NOT NULL,
	pending     TEXT NOT NULL,
	after_token TEXT NOT NULL,
	updated     INTEGER NOT NULL
);
`

// Runs: one row per scheduler job run, its figures in a child table that is
// removed with the run (foreign key, ON DELETE CASCADE).
const schemaV2 = `
CREATE TABLE runs (
	id      INTEGER PRIMARY KEY,
	job     TEXT    NOT NULL,
	model   TEXT    NOT NULL,
	started INTEGER NOT NULL,
	ended   INTEGER NOT NULL,
	outcome TEXT    NOT NULL,
	detail  TEXT    NOT NULL
);
CREATE INDEX runs_job ON runs(job, id);
CREATE TABLE run_figures (
	run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	name   TEXT    NOT NULL,
	value  REAL    NOT NULL,
	PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
`

// The limits of the Discord commands and the fleet's records: interaction
// replays (seen), the last allowed command of each user, the recent commands
// of each channel, the claimed slots of scheduled posts, and settings.
const schemaV3 = `
CREATE TABLE seen (
	key   TEXT    PRIMARY KEY,
	until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE limit_users (
	user_id TEXT    PRIMARY KEY,
	last    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE limit_hits (
	channel TEXT    NOT NULL,
	at      INTEGER NOT NULL
);
CREATE INDEX limit_hits_channel ON limit_hits(channel, at);
CREATE TABLE post_slots (
	post    TEXT    NOT NULL,
	slot    INTEGER NOT NULL,
	claimed INTEGER NOT NULL,
	PRIMARY KEY (post, slot)
) WITHOUT ROWID;
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
`

// migrations returns the schema steps in order; step i brings the database
// from user_version i to i+1. Steps are only ever appended.
func migrations() []string {
	return []string{schemaV1, schemaV2, schemaV3}
}

// SchemaVersion is the schema version this program writes.
func SchemaVersion() int { return len(migrations()) }

// OpenSQLite opens (creating if needed) the store at path, or a private
// in-memory store for ":memory:", and migrates its schema to SchemaVersion.
// It fails with ErrSchemaTooNew on a database from a newer program.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	return openSQLite(ctx, path, SchemaVersion())
}

// openSQLite opens the store and migrates it to version target (≤
// SchemaVersion); tests use a lower target to build an old database.
func openSQLite(ctx context.Context, path string, target int) (*SQLite, error) {
	if path == "" {
		return nil, fmt.Errorf("store: open store: empty path")
	}
	memory := path == ":memory:"
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("store: open store %q: path must not contain '?'", path)
	}
	dsn := fmt.Sprintf("%s?_busy_timeout=%d&_foreign_keys=1&_txlock=immediate", path, busyTimeout.Milliseconds())
	if !memory {
		dsn += "&_journal_mode=WAL&_synchronous=NORMAL"
	}
	dir := filepath.Dir(path)
	if memory {
		var err error
		if dir, err = os.MkdirTemp("", "commentbot-memory-store-"); err != nil {
			return nil, fmt.Errorf("store: open store %q: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open store %q: %w", path, err)
	}
	if memory {
		db.SetMaxOpenConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	}
	s := &SQLite{db: db, ModelDir: NewModelDir(filepath.Join(dir, "models")), dir: dir, tempDir: memory}
	if err := s.migrate(ctx, target); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open store %q: %w", path, err), s.Close())
	}
	return s, nil
}

// Close closes the database (and removes a memory store's directory). Streams
// still running fail with an error.
func (s *SQLite) Close() error {
	var err error
	if cerr := s.db.Close(); cerr != nil {
		err = fmt.Errorf("store: close store: %w", cerr)
	}
	if s.tempDir {
		err = errors.Join(err, os.RemoveAll(s.dir))
	}
	return err
}

// Version returns the schema version of the open database.
func (s *SQLite) Version(ctx context.Context) (int, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// migrate applies the missing steps up to target, each in one transaction
// that re-reads the version under the write lock, so two processes opening
// the same new file do not both apply a step.
func (s *SQLite) migrate(ctx context.Context, target int) error {
	steps := migrations()
	for {
		done, err := s.migrateStep(ctx, steps, target)
		if err != nil || done {
			return err
		}
	}
}

func (s *SQLite) migrateStep(ctx context.Context, steps []string, target int) (done bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read version: %w", err)
	}
	if v > len(steps) {
		return false, fmt.Errorf("%w: database at version %d, program knows %d", ErrSchemaTooNew, v, len(steps))
	}
	if v >= target {
		return true, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, steps[v]); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	// PRAGMA takes no parameters; v+1 is an int, not input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", v+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to version %d: commit: %w", v+1, err)
	}
	return false, nil
}

// Upsert stores cs in one transaction (see Store.Upsert).
func (s *SQLite) Upsert(ctx context.Context, cs []corpus.Comment) (UpsertStats, error) {
	st, err := s.UpsertFrom(ctx, corpus.SliceSource(cs))
	if err != nil {
		return UpsertStats{}, fmt.Errorf("store: upsert: %w", err)
	}
	return st, nil
}

// UpsertFrom stores every comment of src in one transaction (see
// Store.UpsertFrom). Other writers wait up to the busy timeout (10 s) for
// it, then fail with SQLITE_BUSY: import a large dump while nothing is
// ingesting.
func (s *SQLite) UpsertFrom(ctx context.Context, src corpus.Source) (UpsertStats, error) {
	var st UpsertStats
	err := s.write(ctx, func(w *writer) error {
		return src(ctx, func(c corpus.Comment) error { return w.put(ctx, &c, &st) })
	})
	if err != nil {
		return UpsertStats{}, err
	}
	return st, nil
}

// CommitPage stores a page, forgets the gone ids and sets the cursor of
// source in one transaction (see Store.CommitPage).
func (s *SQLite) CommitPage(ctx context.Context, source string, cursor Cursor, cs []corpus.Comment, gone []string) (UpsertStats, error) {
	if cursor.Updated.IsZero() {
		cursor.Updated = time.Now()
	}
	var st UpsertStats
	err := s.write(ctx, func(w *writer) error {
		for i := range cs {
			if err := w.put(ctx, &cs[i], &st); err != nil {
				return err
			}
		}
		for _, id := range gone {
			res, err := w.tx.ExecContext(ctx, `DELETE FROM comments WHERE id = ?`, id)
			if err != nil {
				return fmt.Errorf("forget %s: %w", id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("forget %s: %w", id, err)
			}
			st.Forgotten += int(n)
		}
		_, err := w.tx.ExecContext(ctx, `INSERT INTO cursors(source, newest, pending, after_token, updated)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(source) DO UPDATE SET newest = excluded.newest, pending = excluded.pending,
				after_token = excluded.after_token, updated = excluded.updated`,
			source, cursor.Newest, cursor.Pending, cursor.After, cursor.Updated.UnixNano())
		if err != nil {
			return fmt.Errorf("cursor: %w", err)
		}
		return nil
	})
	if err != nil {
		return UpsertStats{}, fmt.Errorf("store: commit page of %q: %w", source, err)
	}
	return st, nil
}

// Cursor returns the stored cursor of source, or the zero Cursor (start from
// scratch) when none is stored.
func (s *SQLite) Cursor(ctx context.Context, source string) (Cursor, error) {
	var c Cursor
	var updated int64
	err := s.db.QueryRowContext(ctx, `SELECT newest, pending, after_token, updated FROM cursors WHERE source = ?`, source).
		Scan(&c.Newest, &c.Pending, &c.After, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, fmt.Errorf("store: cursor of %q: %w", source, err)
	}
	c.Updated = fromNanos(updated)
	return c, nil
}

// where returns the SQL condition (over alias c) and its arguments. A
// comment is kept only when no comment with a lower seq has the same
// normalized text; deduplication comes before every other condition, so a
// text whose first copy is in the validation split never shows up in the
// training split through a later copy.
func where(f corpus.Filter) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("NOT EXISTS (SELECT 1 FROM comments d WHERE d.norm = c.norm AND d.seq < c.seq)")
	switch f.Split {
	case corpus.Train:
		b.WriteString(" AND c.split >= ?")
		args = append(args, f.Fraction())
	case corpus.Validation:
		b.WriteString(" AND c.split < ?")
		args = append(args, f.Fraction())
	}
	if !f.IngestedAfter.IsZero() {
		b.WriteString(" AND c.ingested > ?")
		args = append(args, f.IngestedAfter.UnixNano())
	}
	if len(f.Subreddits) > 0 {
		b.WriteString(" AND c.subreddit COLLATE NOCASE IN (")
		for i, sub := range f.Subreddits {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("?")
			args = append(args, sub)
		}
		b.WriteString(")")
	}
	return b.String(), args
}

// Comments streams the comments f selects (see Store.Comments): rows are
// read pageSize at a time by keyset paging on seq.
func (s *SQLite) Comments(f corpus.Filter) corpus.Source {
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		if err := f.Validate(); err != nil {
			return err
		}
		cond, args := where(f)
		q := "SELECT c.seq, c.id, c.subreddit, c.author, c.body, c.score, c.created, c.ingested FROM comments c WHERE c.seq > ? AND " +
			cond + " ORDER BY c.seq LIMIT ?"
		return pagedComments(ctx, f.Limit, func(ctx context.Context, after int64, n int, dst []corpus.Comment) ([]corpus.Comment, int64, error) {
			return s.page(ctx, q, after, args, n, dst)
		}, fn)
	}
}

// page reads up to n rows after seq into dst and returns them with the seq
// of the last one.
func (s *SQLite) page(ctx context.Context, q string, after int64, cond []any, n int, dst []corpus.Comment) ([]corpus.Comment, int64, error) {
	args := make([]any, 0, len(cond)+2)
	args = append(args, after)
	args = append(args, cond...)
	args = append(args, n)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return dst, after, err
	}
	defer rows.Close()
	for rows.Next() {
		var c corpus.Comment
		var created, ingested int64
		if err := rows.Scan(&after, &c.ID, &c.Subreddit, &c.Author, &c.Body, &c.Score, &created, &ingested); err != nil {
			return dst, after, err
		}
		c.Created = fromNanos(created)
		c.Ingested = fromNanos(ingested)
		dst = append(dst, c)
	}
	return dst, after, rows.Err()
}

// Count returns how many comments Comments(f) would yield.
func (s *SQLite) Count(ctx context.Context, f corpus.Filter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	cond, args := where(f)
	limit := -1 // SQLite: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	args = append(args, limit)
	var n int
	err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM comments c WHERE "+cond+" LIMIT ?)", args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count comments: %w", err)
	}
	return n, nil
}

// writer is one write transaction with its prepared statements.
type writer struct {
	tx                  *sql.Tx
	insert, get, update *sql.Stmt
	dup                 *sql.Stmt
	now                 time.Time
}

// write runs fn in one write transaction, committed when fn returns nil and
// rolled back otherwise.
func (s *SQLite) write(ctx context.Context, fn func(*writer) error) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w := &writer{tx: tx, now: time.Now()}
	defer func() {
		for _, st := range []*sql.Stmt{w.insert, w.get, w.update, w.dup} {
			if st != nil {
				st.Close()
			}
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	prep := func(dst **sql.Stmt, q string) error {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		*dst = st
		return nil
	}
	if err := errors.Join(
		prep(&w.insert, `INSERT INTO comments(id, subreddit, author, body, score, created, ingested, norm, split)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`),
		prep(&w.get, `SELECT seq, body FROM comments WHERE id = ?`),
		prep(&w.update, `UPDATE comments SET body = ?, norm = ?, ingested = ? WHERE seq = ?`),
		prep(&w.dup, `SELECT EXISTS (SELECT 1 FROM comments WHERE norm = ? AND seq < ?)`),
	); err != nil {
		return err
	}
	if err := fn(w); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// put writes one comment inside the writer's transaction and counts it.
func (w *writer) put(ctx context.Context, c *corpus.Comment, st *UpsertStats) error {
	if c.ID == "" {
		return fmt.Errorf("%w: empty id (body %.40q)", ErrInvalidComment, c.Body)
	}
	ingested := c.Ingested
	if ingested.IsZero() {
		ingested = w.now
	}
	norm := NormKey(c.Body)
	res, err := w.insert.ExecContext(ctx, c.ID, c.Subreddit, c.Author, c.Body, c.Score,
		toNanos(c.Created), ingested.UnixNano(), norm, corpus.SplitPoint(c.ID))
	if err != nil {
		return fmt.Errorf("insert %s: %w", c.ID, err)
	}
	inserted, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("insert %s: %w", c.ID, err)
	}
	var seq int64
	if inserted == 1 {
		if seq, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert %s: %w", c.ID, err)
		}
		st.New++
	} else {
		var body string
		if err := w.get.QueryRowContext(ctx, c.ID).Scan(&seq, &body); err != nil {
			return fmt.Errorf("read %s: %w", c.ID, err)
		}
		if body == c.Body {
			st.Unchanged++
			return nil
		}
		if _, err := w.update.ExecContext(ctx, c.Body, norm, ingested.UnixNano(), seq); err != nil {
			return fmt.Errorf("update %s: %w", c.ID, err)
		}
		st.Updated++
	}
	var dup bool
	if err := w.dup.QueryRowContext(ctx, norm, seq).Scan(&dup); err != nil {
		return fmt.Errorf("dedup %s: %w", c.ID, err)
	}
	if dup {
		st.Duplicates++
	}
	return nil
}

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
