package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/corpus"
)

// TestPostgresMigrations: a database made by an older program is migrated
// (its data kept), one from a newer program refused, and replicas opening a
// new database at once apply each step once.
func TestPostgresMigrations(t *testing.T) {
	ctx := context.Background()
	url := pg.Database(t)
	old, err := openPostgres(ctx, url, 0) // only the version table: an "older program"
	if err != nil {
		t.Fatal(err)
	}
	if v, err := old.Version(ctx); err != nil || v != 0 {
		t.Fatalf("old version = %d, %v", v, err)
	}
	if _, err := old.Upsert(ctx, []corpus.Comment{{ID: "t1_a", Body: "x"}}); err == nil {
		t.Errorf("Upsert at schema version 0 succeeded; the comments table should not exist yet")
	}
	old.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenPostgres(ctx, url)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("opening the database together: %v", err)
		}
	}
	s := openPG(t, url)
	if v, err := s.Version(ctx); err != nil || v != len(pgMigrations()) {
		t.Errorf("version = %d, %v; want %d", v, err, len(pgMigrations()))
	}
	if _, err := s.pool.Exec(ctx, `UPDATE commentbot_schema SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPostgres(ctx, url); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("OpenPostgres on a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// TestPostgresUnreachable: a server that does not answer, or refuses the
// password, is a clear error naming where, and never the password.
func TestPostgresUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := pg.Server(t)
	wrong := fmt.Sprintf("postgres://pgtest:s3cret-wrong@127.0.0.1:%d/postgres?sslmode=disable", srv.Port())
	for _, tc := range []struct{ url, want string }{
		{"postgres://bot:s3cret-wrong@" + addr + "/cb?sslmode=disable&connect_timeout=2", "cannot reach PostgreSQL at postgres://bot:xxxxx@" + addr},
		{wrong, "password authentication failed"},
		{"postgres://bot:s3cret-wrong@[::1/x", "PostgreSQL URL"},
	} {
		_, err := OpenPostgres(ctx, tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("OpenPostgres(%s) = %v, want an error with %q", RedactURL(tc.url), err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret-wrong") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	for in, want := range map[string]string{
		"":                            "(embedded SQLite)",
		"postgres://u:pw@h:5432/db":   "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db?sslmode=x": "postgres://u@h/db?sslmode=x",
		"host=h password=pw":          "(unparsable URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPostgresWatchLive: a follower hears every live move another store makes
// (another process), starting with "" (resync), and hears again after its
// connection was cut.
func TestPostgresWatchLive(t *testing.T) {
	url := pg.Database(t)
	follower, writer := openPG(t, url), openPG(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan string, 16)
	done := make(chan error, 1)
	go func() { done <- follower.WatchLive(ctx, func(m string) { heard <- m }) }()
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-heard:
			if got != want {
				t.Fatalf("heard %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("heard nothing, want %q", want)
		}
	}
	expect("")
	save(t, writer, "word", liveVersion("a", 0))
	expect("word")
	save(t, writer, "char", version("b"))
	if err := writer.SetLiveVersion(context.Background(), "char", 1, 0); err != nil {
		t.Fatal(err)
	}
	expect("char")
	if _, err := writer.pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	expect("") // reconnected: resync
	save(t, writer, "word", liveVersion("c", 1))
	expect("word")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchLive = %v after ctx ended", err)
	}
}
