package leader

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// File elects through an exclusive flock(2) on a file, for processes on one machine
// (the embedded SQLite store: a file next to it). The file is never removed: removing
// it would let a newcomer lock a new file while the holder still holds the old one,
// which is why a holder that finds its file removed or replaced gives up. The holder
// writes its host, pid and start time into the file for the others to report.
// Not for network file systems, where flock may be emulated or local only.
type File struct {
	path string
	o    Options
}

// NewFile prepares an election on the lock file at path (created when missing).
func NewFile(path string, o Options) *File { return &File{path: path, o: o.withDefaults()} }

// Acquire implements Elector.
func (f *File) Acquire(ctx context.Context) (context.Context, func(), error) {
	return acquire(ctx, &fileLock{path: f.path, gone: new(atomic.Bool)}, f.o, true)
}

// TryAcquire implements Elector.
func (f *File) TryAcquire(ctx context.Context) (context.Context, func(), error) {
	return acquire(ctx, &fileLock{path: f.path, gone: new(atomic.Bool)}, f.o, false)
}

// fileLock is one attempt: the open file that is, or will be, locked.
type fileLock struct {
	path   string
	f      *os.File // close-on-exec, so no child process inherits the lock
	locked bool
	gone   *atomic.Bool // set when a held lock is given up (read by its Token)
}

func (l *fileLock) try(context.Context) (bool, error) {
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return false, fmt.Errorf("leader: lock file: %w", err)
		}
		l.f = f
	}
	err := unix.Flock(int(l.f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	if errors.Is(err, unix.EWOULDBLOCK) {
		return false, nil
	}
	if err != nil {
		l.close()
		return false, fmt.Errorf("leader: locking %s: %w", l.path, err)
	}
	// The file may have been removed or replaced between open and lock: then this
	// lock guards nothing; open the path again next time.
	if err := l.check(context.Background()); err != nil {
		l.close()
		return false, nil
	}
	l.locked = true
	me := fmt.Sprintf("%s, since %s\n", identity(), time.Now().UTC().Format(time.RFC3339))
	if err := l.f.Truncate(0); err == nil {
		_, _ = l.f.WriteAt([]byte(me), 0) // a description only: the lock is what counts
	}
	return true, nil
}

func (l *fileLock) holder(context.Context) string {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// token's check compares the path with the file locked now, and fails once the
// lock is given up (it may run on any goroutine, after unlock too).
func (l *fileLock) token() Token {
	var held unix.Stat_t
	_ = unix.Fstat(int(l.f.Fd()), &held)
	path, gone := l.path, l.gone
	return Token{Name: path, check: func() error {
		if gone.Load() {
			return fmt.Errorf("leader: lock file %s: released", path)
		}
		var now unix.Stat_t
		if err := unix.Stat(path, &now); err != nil {
			return fmt.Errorf("leader: lock file %s: %w", path, err)
		}
		if held.Dev != now.Dev || held.Ino != now.Ino {
			return fmt.Errorf("leader: lock file %s was replaced", path)
		}
		return nil
	}}
}

// check confirms that the path still names the file this attempt opened.
func (l *fileLock) check(context.Context) error {
	var held, now unix.Stat_t
	if err := unix.Fstat(int(l.f.Fd()), &held); err != nil {
		return fmt.Errorf("leader: lock file: %w", err)
	}
	if err := unix.Stat(l.path, &now); err != nil {
		return fmt.Errorf("leader: lock file %s: %w", l.path, err)
	}
	if held.Dev != now.Dev || held.Ino != now.Ino {
		return fmt.Errorf("leader: lock file %s was replaced", l.path)
	}
	return nil
}

func (l *fileLock) unlock() {
	if l.f == nil {
		return
	}
	if l.locked {
		l.gone.Store(true)
		_ = l.f.Truncate(0) // no stale description for the next reader
	}
	l.close()
}

// close closes the file, which releases the lock.
func (l *fileLock) close() {
	_ = l.f.Close()
	l.f, l.locked = nil, false
}
