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
