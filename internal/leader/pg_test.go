package leader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"commentbot/internal/pgtest"
)

// terminateHolder ends, from another session, the session holding the election's lock
// and returns how many it ended.
func terminateHolder(t *testing.T, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	u := uint64(Key("test"))
	var n int
	err = conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND classid::bigint = $1 AND objid::bigint = $2`,
		int64(u>>32), int64(u&0xffffffff)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPGHolderLosesConnection: when the server ends the holder's session, the holder
// notices within Check+Timeout, cancels its context with ErrLost, and a standby leads.
func TestPGHolderLosesConnection(t *testing.T) {
	url := pg.Database(t)
	a, err := NewPG(url, "test", fast)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPG(url, "test", fast)
	held, release := mustAcquire(t, a)
	defer release()
	standby := make(chan error, 1)
	go func() {
		_, rel, err := b.Acquire(context.Background())
		if err == nil {
			defer rel()
		}
		standby <- err
	}()
	if n := terminateHolder(t, url); n != 1 {
		t.Fatalf("terminated %d sessions holding the lock, want 1", n)
	}
	start := time.Now()
	waitDone(t, held, fast.Check+fast.Timeout+time.Second, "holder's session terminated")
	t.Logf("holder noticed the lost session after %v", time.Since(start).Round(time.Millisecond))
	if !errors.Is(context.Cause(held), ErrLost) {
		t.Errorf("cause = %v, want ErrLost", context.Cause(held))
	}
	select {
	case err := <-standby:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the standby did not lead within 10s of the holder's session ending")
	}
}

// TestPGHolderSessionHangs: when the holder's session stops answering (its server
// process frozen with SIGSTOP: a network partition as the holder sees it), the
// keepalive query times out and the holder gives up within Check+Timeout.
func TestPGHolderSessionHangs(t *testing.T) {
	url := pg.Database(t)
	a, _ := NewPG(url, "test", fast)
	held, release := mustAcquire(t, a)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	u := uint64(Key("test"))
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid::bigint = $1 AND objid::bigint = $2`, int64(u>>32), int64(u&0xffffffff)).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	start := time.Now()
	waitDone(t, held, fast.Check+fast.Timeout+2*time.Second, "holder's session frozen")
	t.Logf("holder gave up %v after its session froze (Check %v + Timeout %v)",
		time.Since(start).Round(time.Millisecond), fast.Check, fast.Timeout)
	if !errors.Is(context.Cause(held), ErrLost) {
		t.Errorf("cause = %v, want ErrLost", context.Cause(held))
	}
}

// TestPGServerRestart: a restart of PostgreSQL ends the holder's leadership; standbys
// keep retrying through the outage, and one leads once the server is back.
func TestPGServerRestart(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.Database(t)
	a, _ := NewPG(url, "test", fast)
	b, _ := NewPG(url, "test", fast)
	held, release := mustAcquire(t, a)
	defer release()
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	waitDone(t, held, fast.Check+fast.Timeout+time.Second, "server stopped")
	if !errors.Is(context.Cause(held), ErrLost) {
		t.Errorf("cause = %v, want ErrLost", context.Cause(held))
	}
	standby := make(chan error, 1)
	go func() {
		_, rel, err := b.Acquire(context.Background())
		if err == nil {
			defer rel()
		}
		standby <- err
	}()
	time.Sleep(3 * fast.Poll) // the standby fails to connect a few times
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-standby:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(maxBackoff + 5*time.Second):
		t.Fatal("no leader after the server came back")
	}
}

// TestPGUnreachable: with no server, TryAcquire says so at once (not ErrHeld), and
// Acquire keeps trying until its deadline, then reports the last failure.
func TestPGUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	e, err := NewPG(fmt.Sprintf("postgres://u:p@%s/db?sslmode=disable&connect_timeout=1", addr), "test", fast)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.TryAcquire(context.Background())
	if err == nil || errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "connecting to the store") {
		t.Errorf("TryAcquire with no server: %v; want a connection error", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, _, err = e.Acquire(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "last attempt") {
		t.Errorf("Acquire with no server: %v; want the deadline and the last failure", err)
	}
}

// TestPGURLRefused: a malformed URL is refused by NewPG, and the error does not echo a password.
func TestPGURLRefused(t *testing.T) {
	_, err := NewPG("postgres://u:s3cret@host:notaport/db", "test", Options{})
	if err == nil {
		t.Fatal("NewPG accepted a URL with a bad port")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
}

// TestPGToken: the held context's token names the session that holds the advisory
// lock, as pg_locks shows it, so a writer can check the lock in its own transaction.
func TestPGToken(t *testing.T) {
	url := pg.Database(t)
	e, err := NewPG(url, "test", fast)
	if err != nil {
		t.Fatal(err)
	}
	held, release := mustAcquire(t, e)
	defer release()
	ts := Tokens(held)
	if len(ts) != 1 || ts[0].Name != "test" || ts[0].Key != Key("test") || ts[0].Session == 0 {
		t.Fatalf("Tokens = %+v", ts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	u := uint64(ts[0].Key)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1 AND pid = $3`,
		int64(u>>32), int64(u&0xffffffff), int64(ts[0].Session)).Scan(&n); err != nil || n != 1 {
		t.Errorf("pg_locks rows for the token's session: %d, %v; want 1", n, err)
	}
	if err := ts[0].Check(); err != nil {
		t.Errorf("a PostgreSQL token's Check = %v, want nil (only the database can tell)", err)
	}
}
