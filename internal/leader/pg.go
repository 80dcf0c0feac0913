package leader

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// PG elects through a PostgreSQL session-level advisory lock, keyed by a hash of the
// election's name, held on a connection of its own (never a pooled one: the lock
// belongs to the session).
type PG struct {
	config *pgx.ConnConfig
	name   string
	key    int64
	o      Options
}

// NewPG prepares an election called name in the database at url (a postgres:// URL
// or key=value string; libpq's PG* environment variables, PGPASSWORD among them, fill
// what it leaves out). Nothing is dialled until Acquire.
func NewPG(url, name string, o Options) (*PG, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("leader: store URL: %w", err)
	}
	return NewPGConfig(cfg, name, o), nil
}

// NewPGConfig is NewPG over a parsed connection config, which it copies.
func NewPGConfig(cfg *pgx.ConnConfig, name string, o Options) *PG {
	cfg = cfg.Copy()
	// Who we are, for the holder's description; and server-side keepalives so that
	// the server ends the session (freeing the lock) of a holder whose machine is gone.
	cfg.RuntimeParams["application_name"] = truncate("commentbot "+name+" "+identity(), 63)
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	return &PG{config: cfg, name: name, key: Key(name), o: o.withDefaults()}
}

// Key is the advisory lock key of the election called name: FNV-1a (64 bit) of
// "commentbot/leader/"+name.
func Key(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("commentbot/leader/" + name))
	return int64(h.Sum64())
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Acquire implements Elector.
func (p *PG) Acquire(ctx context.Context) (context.Context, func(), error) {
	return acquire(ctx, &pgLock{p: p}, p.o, true)
}

// TryAcquire implements Elector.
func (p *PG) TryAcquire(ctx context.Context) (context.Context, func(), error) {
	return acquire(ctx, &pgLock{p: p}, p.o, false)
}

// pgLock is one attempt: the connection that asks for, then holds, the lock.
type pgLock struct {
	p    *PG
	conn *pgx.Conn
}

func (l *pgLock) try(ctx context.Context) (bool, error) {
	if l.conn == nil {
		conn, err := pgx.ConnectConfig(ctx, l.p.config)
		if err != nil {
			return false, fmt.Errorf("leader %s: connecting to the store: %w", l.p.name, err)
		}
		l.conn = conn
	}
	var ok bool
	if err := l.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", l.p.key).Scan(&ok); err != nil {
		l.close()
		return false, fmt.Errorf("leader %s: asking for the lock: %w", l.p.name, err)
	}
	return ok, nil
}

// holderQuery describes the session holding a bigint advisory lock (pg_locks splits
// the key: classid its high 32 bits, objid its low 32 bits, objsubid 1).
const holderQuery = `SELECT coalesce(nullif(a.application_name, ''), 'a session') || ' (backend pid ' || a.pid ||
	coalesce(', from ' || host(a.client_addr), '') || ', connected ' ||
	to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid::bigint = $1 AND l.objid::bigint = $2
LIMIT 1`

func (l *pgLock) holder(ctx context.Context) string {
	if l.conn == nil {
		return ""
	}
	u := uint64(l.p.key)
	var who string
	if err := l.conn.QueryRow(ctx, holderQuery, int64(u>>32), int64(u&0xffffffff)).Scan(&who); err != nil {
		return ""
	}
	return who
}

func (l *pgLock) token() Token {
	return Token{Name: l.p.name, Key: l.p.key, Session: l.conn.PgConn().PID()}
}

func (l *pgLock) check(ctx context.Context) error {
	if _, err := l.conn.Exec(ctx, "SELECT 1"); err != nil {
		return fmt.Errorf("leader %s: the lock's connection: %w", l.p.name, err)
	}
	return nil
}

// unlock releases the lock explicitly when the connection still works; closing the
// session releases it anyway.
func (l *pgLock) unlock() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock_all()")
	l.close()
}

func (l *pgLock) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = l.conn.Close(ctx)
	l.conn = nil
}
