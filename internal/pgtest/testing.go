package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Start starts a server for t and removes it when t ends. A missing installation fails
// t (see Unavailable).
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New(context.Background())
	if err != nil {
		Unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// Unavailable ends t for an error of New: a missing installation fails it with
// InstallHint (under CI=true always; elsewhere unless COMMENTBOT_SKIP_PG=1, which skips
// it with the same message); any other error fails it.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("pgtest: starting PostgreSQL: %v", err)
	}
	switch {
	case os.Getenv("CI") == "true":
		t.Fatalf("%v\n%s: CI=true requires it (%s=1 is not honoured under CI)", err, InstallHint, EnvSkip)
	case os.Getenv(EnvSkip) == "1":
		t.Skipf("%v\nskipped because %s=1; %s to run it", err, EnvSkip, InstallHint)
	default:
		t.Fatalf("%v\n%s, or set %s=1 to skip the tests that need it", err, InstallHint, EnvSkip)
	}
}

// Database creates a fresh, empty database named after t and returns its URL
// (password included); it is dropped when t ends, open sessions or not (unless the
// server was closed first, which removed it).
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	s.dbs++
	name := fmt.Sprintf("%s_%d", dbName(t.Name()), s.dbs)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if s.isClosed.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: dropping the test's database: %v", err)
		}
	})
	return s.URL(name)
}

// Exec runs one SQL statement as Superuser in the database "postgres".
func (s *Server) Exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgtest: connecting: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("pgtest: %s: %w", sql, err)
	}
	return nil
}

// dbName turns a test name into an SQL identifier: lower case letters, digits and _.
func dbName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 48 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Shared is one server for the tests of a package, started by the first test that
// asks for it; the zero value is ready. Call Close from TestMain after m.Run.
type Shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Server returns the shared server, starting it on first use. A failure to start is
// remembered, and every test that asks gets it (see Unavailable).
func (sh *Shared) Server(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() { sh.srv, sh.err = New(context.Background()) })
	if sh.err != nil {
		Unavailable(t, sh.err)
	}
	return sh.srv
}

// Database is Server(t).Database(t): a fresh database on the shared server.
func (sh *Shared) Database(t testing.TB) string {
	t.Helper()
	return sh.Server(t).Database(t)
}

// Close stops and removes the shared server, if it was started.
func (sh *Shared) Close() error {
	sh.once.Do(func() {}) // no server starts after Close
	if sh.srv == nil {
		return nil
	}
	return sh.srv.Close()
}
