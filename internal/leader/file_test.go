package leader

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFileRemoved: a holder whose lock file is removed (so that a newcomer could lock
// a new file) gives up with ErrLost; the newcomer then leads alone.
func TestFileRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.lock")
	a, b := NewFile(path, fast), NewFile(path, fast)
	held, release := mustAcquire(t, a)
	defer release()
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), "pid") {
		t.Errorf("lock file says %q, want the holder's host and pid", got)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitDone(t, held, fast.Check+time.Second, "lock file removed")
	if !errors.Is(context.Cause(held), ErrLost) {
		t.Errorf("cause = %v, want ErrLost", context.Cause(held))
	}
	mustAcquire(t, b)
}

// TestFileUnusable: a lock file that cannot be created is a clear error, not ErrHeld.
func TestFileUnusable(t *testing.T) {
	e := NewFile(filepath.Join(t.TempDir(), "missing-dir", "test.lock"), fast)
	_, _, err := e.TryAcquire(context.Background())
	if err == nil || errors.Is(err, ErrHeld) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("TryAcquire in a missing directory: %v; want a not-exist error", err)
	}
}

// TestFileTokens: a held context carries the tokens of every leadership it comes from,
// outermost first; a file token checks out while held and fails once released or
// once its file is replaced, so that a fenced write refuses then.
func TestFileTokens(t *testing.T) {
	dir := t.TempDir()
	outer, inner := filepath.Join(dir, "outer.lock"), filepath.Join(dir, "inner.lock")
	held, release := mustAcquire(t, NewFile(outer, fast))
	defer release()
	held2, release2, err := NewFile(inner, fast).Acquire(held)
	if err != nil {
		t.Fatal(err)
	}
	ts := Tokens(held2)
	if len(ts) != 2 || ts[0].Name != outer || ts[1].Name != inner || ts[0].Session != 0 {
		t.Fatalf("Tokens = %+v, want the outer then the inner lock file", ts)
	}
	if len(Tokens(context.Background())) != 0 {
		t.Errorf("a context without leadership has tokens")
	}
	for _, tok := range ts {
		if err := tok.Check(); err != nil {
			t.Errorf("token %s while held: %v", tok.Name, err)
		}
	}
	release2()
	if err := ts[1].Check(); err == nil {
		t.Errorf("token of a released lock still checks out")
	}
	if err := os.Rename(inner, outer); err != nil { // replace the outer lock's file
		t.Fatal(err)
	}
	if err := ts[0].Check(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("token of a replaced lock file: %v, want replaced", err)
	}
}
