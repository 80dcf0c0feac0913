package store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"commentbot/corpus"
	"commentbot/internal/leader"
)

// Postgres is the Store in a PostgreSQL database that any number of processes
// on any number of machines share (github.com/jackc/pgx/v5, a pgxpool pool).
// Model versions are rows (checkpoints in bytea, stored uncompressed) written
// in one transaction with the live pointer they move; LISTEN/NOTIFY tells the
// followers (WatchLive); elections are session-level advisory locks on
// connections of their own (leader.PG).
//
// The schema is versioned in the table commentbot_schema; OpenPostgres applies
// the missing migrations, each in its own transaction under an advisory lock,
// so that replicas starting together apply each step once.
type Postgres struct {
	pool   *pgxpool.Pool
	conn   *pgx.ConnConfig // for the connections of elections and WatchLive
	writes atomic.Uint64
}

var _ Store = (*Postgres)(nil)

// defaultMaxConns is the pool size when the URL does not set pool_max_conns:
// a serving replica makes a few short queries per interaction.
const defaultMaxConns = 8

// liveChannel is the NOTIFY channel of live-pointer moves; the payload is the
// model's name.
const liveChannel = "commentbot_live"

// OpenPostgres connects to the database at dsn (a postgres:// URL or key=value
// string; PGPASSWORD and libpq's other PG* variables fill what it leaves out)
// and migrates its schema. It fails with ErrSchemaTooNew on a database
// migrated by a newer program. Errors never contain the password.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	return openPostgres(ctx, dsn, len(pgMigrations()))
}

func openPostgres(ctx context.Context, dsn string, target int) (*Postgres, error) {
	where := RedactURL(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL URL %s: %w", where, err)
	}
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "commentbot"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: PostgreSQL at %s: %w", where, err)
	}
	p := &Postgres{pool: pool, conn: cfg.ConnConfig}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: cannot reach PostgreSQL at %s: %w", where, err)
	}
	if err := p.migrate(ctx, target); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: PostgreSQL at %s: %w", where, err)
	}
	return p, nil
}

// RedactURL returns a store URL fit for a log: its password, if any, replaced
// by "xxxxx"; a string that does not parse as a URL is shown as "(unparsable URL)".
func RedactURL(s string) string {
	if s == "" {
		return "(embedded SQLite)"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Close closes the pool.
func (p *Postgres) Close() error {
	p.pool.Close()
	return nil
}

// Version returns the schema version of the database.
func (p *Postgres) Version(ctx context.Context) (int, error) {
	var v int
	if err := p.pool.QueryRow(ctx, `SELECT version FROM commentbot_schema`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// migrateKey is the advisory lock key that serialises migrations.
var migrateKey = leader.Key("store/migrate")

// migrate applies the missing steps up to target, each in one transaction
// that holds the migration lock and re-reads the version.
func (p *Postgres) migrate(ctx context.Context, target int) error {
	steps := pgMigrations()
	for {
		done, err := p.migrateStep(ctx, steps, target)
		if err != nil || done {
			return err
		}
	}
}

func (p *Postgres) migrateStep(ctx context.Context, steps []string, target int) (done bool, err error) {
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS commentbot_schema (version integer NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM commentbot_schema`).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO commentbot_schema(version) VALUES (0)`)
		}
		if err != nil {
			return fmt.Errorf("read version: %w", err)
		}
		if v > len(steps) {
			return fmt.Errorf("%w: database at version %d, program knows %d", ErrSchemaTooNew, v, len(steps))
		}
		if v >= target {
			done = true
			return nil
		}
		if _, err := tx.Exec(ctx, steps[v]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
		_, err = tx.Exec(ctx, `UPDATE commentbot_schema SET version = $1`, v+1)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	return done, nil
}

// Upsert stores cs in one transaction (see Store.Upsert).
func (p *Postgres) Upsert(ctx context.Context, cs []corpus.Comment) (UpsertStats, error) {
	st, err := p.UpsertFrom(ctx, corpus.SliceSource(cs))
	if err != nil {
		return UpsertStats{}, fmt.Errorf("store: upsert: %w", err)
	}
	return st, nil
}

// UpsertFrom stores every comment of src in one transaction (see
// Store.UpsertFrom).
func (p *Postgres) UpsertFrom(ctx context.Context, src corpus.Source) (UpsertStats, error) {
	var st UpsertStats
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		now := time.Now()
		return src(ctx, func(c corpus.Comment) error { return pgPut(ctx, tx, &c, now, &st) })
	})
	if err != nil {
		return UpsertStats{}, err
	}
	return st, nil
}

// CommitPage stores a page, forgets the gone ids and sets the cursor of source
// in one transaction (see Store.CommitPage).
func (p *Postgres) CommitPage(ctx context.Context, source string, cursor Cursor, cs []corpus.Comment, gone []string) (UpsertStats, error) {
	if cursor.Updated.IsZero() {
		cursor.Updated = time.Now()
	}
	var st UpsertStats
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		now := time.Now()
		for i := range cs {
			if err := pgPut(ctx, tx, &cs[i], now, &st); err != nil {
				return err
			}
		}
		if len(gone) > 0 {
			tag, err := tx.Exec(ctx, `DELETE FROM comments WHERE id = ANY($1)`, gone)
			if err != nil {
				return fmt.Errorf("forget: %w", err)
			}
			st.Forgotten += int(tag.RowsAffected())
		}
		_, err := tx.Exec(ctx, `INSERT INTO cursors(source, newest, pending, after_token, updated) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (source) DO UPDATE SET newest = excluded.newest, pending = excluded.pending,
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

// pgPut writes one comment inside tx and counts it (the rules of
// Store.Upsert).
func pgPut(ctx context.Context, tx pgx.Tx, c *corpus.Comment, now time.Time, st *UpsertStats) error {
	if c.ID == "" {
		return fmt.Errorf("%w: empty id (body %.40q)", ErrInvalidComment, c.Body)
	}
	ingested := c.Ingested
	if ingested.IsZero() {
		ingested = now
	}
	norm := NormKey(c.Body)
	var seq int64
	err := tx.QueryRow(ctx, `INSERT INTO comments(id, subreddit, author, body, score, created, ingested, norm, split)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING seq`,
		c.ID, c.Subreddit, c.Author, c.Body, c.Score, toNanos(c.Created), ingested.UnixNano(), norm, corpus.SplitPoint(c.ID)).Scan(&seq)
	switch {
	case err == nil:
		st.New++
	case errors.Is(err, pgx.ErrNoRows):
		var body string
		if err := tx.QueryRow(ctx, `SELECT seq, body FROM comments WHERE id = $1`, c.ID).Scan(&seq, &body); err != nil {
			return fmt.Errorf("read %s: %w", c.ID, err)
		}
		if body == c.Body {
			st.Unchanged++
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE comments SET body = $1, norm = $2, ingested = $3 WHERE seq = $4`,
			c.Body, norm, ingested.UnixNano(), seq); err != nil {
			return fmt.Errorf("update %s: %w", c.ID, err)
		}
		st.Updated++
	default:
		return fmt.Errorf("insert %s: %w", c.ID, err)
	}
	var dup bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM comments WHERE norm = $1 AND seq < $2)`, norm, seq).Scan(&dup); err != nil {
		return fmt.Errorf("dedup %s: %w", c.ID, err)
	}
	if dup {
		st.Duplicates++
	}
	return nil
}

// Cursor returns the stored cursor of source (see Store.Cursor).
func (p *Postgres) Cursor(ctx context.Context, source string) (Cursor, error) {
	var c Cursor
	var updated int64
	err := p.pool.QueryRow(ctx, `SELECT newest, pending, after_token, updated FROM cursors WHERE source = $1`, source).
		Scan(&c.Newest, &c.Pending, &c.After, &updated)
	if errors.Is(err, pgx.ErrNoRows) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, fmt.Errorf("store: cursor of %q: %w", source, err)
	}
	c.Updated = fromNanos(updated)
	return c, nil
}

// pgWhere is where (sqlite.go) in PostgreSQL's dialect: the condition over
// alias c, its parameters numbered from first.
func pgWhere(f corpus.Filter, first int) (string, []any) {
	var b strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", first+len(args)-1)
	}
	b.WriteString("NOT EXISTS (SELECT 1 FROM comments d WHERE d.norm = c.norm AND d.seq < c.seq)")
	switch f.Split {
	case corpus.Train:
		b.WriteString(" AND c.split >= " + arg(f.Fraction()))
	case corpus.Validation:
		b.WriteString(" AND c.split < " + arg(f.Fraction()))
	}
	if !f.IngestedAfter.IsZero() {
		b.WriteString(" AND c.ingested > " + arg(f.IngestedAfter.UnixNano()))
	}
	if len(f.Subreddits) > 0 {
		subs := make([]string, len(f.Subreddits))
		for i, s := range f.Subreddits {
			subs[i] = strings.ToLower(s)
		}
		b.WriteString(" AND lower(c.subreddit) = ANY(" + arg(subs) + ")")
	}
	return b.String(), args
}

// Comments streams the comments f selects, pageSize rows per query by keyset
// paging on seq (see Store.Comments).
func (p *Postgres) Comments(f corpus.Filter) corpus.Source {
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		if err := f.Validate(); err != nil {
			return err
		}
		cond, cargs := pgWhere(f, 3)
		q := "SELECT c.seq, c.id, c.subreddit, c.author, c.body, c.score, c.created, c.ingested FROM comments c WHERE c.seq > $1 AND " +
			cond + " ORDER BY c.seq LIMIT $2"
		return pagedComments(ctx, f.Limit, func(ctx context.Context, after int64, n int, dst []corpus.Comment) ([]corpus.Comment, int64, error) {
			return p.page(ctx, q, after, n, cargs, dst)
		}, fn)
	}
}

// page reads up to n rows after seq into dst.
func (p *Postgres) page(ctx context.Context, q string, after int64, n int, cond []any, dst []corpus.Comment) ([]corpus.Comment, int64, error) {
	rows, err := p.pool.Query(ctx, q, append([]any{after, n}, cond...)...)
	if err != nil {
		return dst, after, err
	}
	defer rows.Close()
	for rows.Next() {
		var c corpus.Comment
		var created, ingested, score int64
		if err := rows.Scan(&after, &c.ID, &c.Subreddit, &c.Author, &c.Body, &score, &created, &ingested); err != nil {
			return dst, after, err
		}
		c.Score = int(score)
		c.Created, c.Ingested = fromNanos(created), fromNanos(ingested)
		dst = append(dst, c)
	}
	return dst, after, rows.Err()
}

// Count returns how many comments Comments(f) would yield.
func (p *Postgres) Count(ctx context.Context, f corpus.Filter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	cond, args := pgWhere(f, 2)
	var limit any // NULL: no limit
	if f.Limit > 0 {
		limit = f.Limit
	}
	var n int
	err := p.pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM comments c WHERE "+cond+" LIMIT $1) x",
		append([]any{limit}, args...)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count comments: %w", err)
	}
	return n, nil
}
