package leader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"commentbot/internal/pgtest"
)

var pg pgtest.Shared

func TestMain(m *testing.M) {
	if kind := os.Getenv(contenderEnv); kind != "" {
		os.Exit(contend(kind, os.Getenv(targetEnv)))
	}
	code := m.Run()
	if err := pg.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// fast are the options of the in-process tests: quick polls and checks.
var fast = Options{Poll: 100 * time.Millisecond, Check: 100 * time.Millisecond, Timeout: 2 * time.Second}

// newElector makes contenders in one election.
type newElector func(t *testing.T) Elector

// implementations returns, for each implementation, a setup that makes a fresh
// election (its own database or lock file) and returns a maker of its contenders.
// Call it inside the subtest, so that only the PostgreSQL one needs the server.
func implementations() map[string]func(t *testing.T) newElector {
	return map[string]func(t *testing.T) newElector{
		"pg": func(t *testing.T) newElector {
			url := pg.Database(t)
			return func(t *testing.T) Elector {
				e, err := NewPG(url, "test", fast)
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
		},
		"file": func(t *testing.T) newElector {
			path := filepath.Join(t.TempDir(), "test.lock")
			return func(*testing.T) Elector { return NewFile(path, fast) }
		},
	}
}

func mustAcquire(t *testing.T, e Elector) (context.Context, func()) {
	t.Helper()
	held, release, err := e.TryAcquire(context.Background()) // held ends with this context

	if err != nil {
		t.Fatalf("TryAcquire of a free election: %v", err)
	}
	t.Cleanup(release)
	return held, release
}

func waitDone(t *testing.T, held context.Context, within time.Duration, what string) {
	t.Helper()
	select {
	case <-held.Done():
	case <-time.After(within):
		t.Fatalf("%s: leadership not ended within %v", what, within)
	}
}

// TestExclusive: while one leads, TryAcquire of another says who holds it; release
// ends the holder's context (cause ErrReleased), is idempotent, and frees the lock.
func TestExclusive(t *testing.T) {
	for name, setup := range implementations() {
		t.Run(name, func(t *testing.T) {
			mk := setup(t)
			a, b := mk(t), mk(t)
			held, release := mustAcquire(t, a)
			_, _, err := b.TryAcquire(context.Background())
			if !errors.Is(err, ErrHeld) {
				t.Fatalf("second TryAcquire: %v, want ErrHeld", err)
			}
			if me := fmt.Sprintf("pid %d", os.Getpid()); !strings.Contains(err.Error(), me) {
				t.Errorf("ErrHeld does not name the holder (%q): %v", me, err)
			}
			if held.Err() != nil {
				t.Fatalf("holder's context ended while held: %v", context.Cause(held))
			}
			release()
			release()
			if !errors.Is(context.Cause(held), ErrReleased) {
				t.Errorf("after release, cause = %v, want ErrReleased", context.Cause(held))
			}
			mustAcquire(t, b)
		})
	}
}

// TestStandby: Acquire waits while another leads and takes over after its release;
// a waiting Acquire ends with its context.
func TestStandby(t *testing.T) {
	for name, setup := range implementations() {
		t.Run(name, func(t *testing.T) {
			mk := setup(t)
			a, b := mk(t), mk(t)
			_, release := mustAcquire(t, a)

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			_, _, err := b.Acquire(ctx)
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Acquire while held, until a deadline: %v, want DeadlineExceeded", err)
			}

			got := make(chan error, 1)
			go func() {
				_, rel, err := b.Acquire(context.Background())
				if err == nil {
					defer rel()
				}
				got <- err
			}()
			select {
			case err := <-got:
				t.Fatalf("standby acquired while the leader held it: %v", err)
			case <-time.After(3 * fast.Poll):
			}
			release()
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("standby did not take over within 10s of the release")
			}
		})
	}
}

// TestContextEnds: when the context given to Acquire ends, leadership ends and the
// lock is free for another.
func TestContextEnds(t *testing.T) {
	for name, setup := range implementations() {
		t.Run(name, func(t *testing.T) {
			mk := setup(t)
			a, b := mk(t), mk(t)
			ctx, cancel := context.WithCancel(context.Background())
			held, release, err := a.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			waitDone(t, held, time.Second, "ctx cancelled")
			release() // waits until the lock is given up
			mustAcquire(t, b)
		})
	}
}
