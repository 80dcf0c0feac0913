// Package atomicfile writes files so that a reader (or a process restarted after a
// crash, kill -9 or power loss) sees either the old content or the new content,
// never a mix or a truncated file.
//
// The recipe: write to a temporary file in the same directory (so the rename stays
// on one file system), fsync it, close it, rename it over the target (atomic on
// POSIX), then fsync the directory so the rename itself is durable. A failed write
// removes the temporary file; the target is untouched.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ErrWrite marks a failed atomic write; the target file, if any, is unchanged.
var ErrWrite = errors.New("atomicfile: write failed")

// TempPrefix starts the name of every temporary file this package creates, so that
// leftovers of a killed process can be recognised (see CleanTemp).
const TempPrefix = ".atomicfile-"

// Write calls fn with a writer on a temporary file next to path and, if fn
// succeeds, atomically replaces path with it (mode perm). Errors are wrapped with
// ErrWrite; the error of fn is wrapped too, so errors.Is sees both.
func Write(path string, perm os.FileMode, fn func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, TempPrefix+base+"-*")
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrWrite, path, err)
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if !closed {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("%w: %s: close: %w", ErrWrite, path, cerr)
			}
		}
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err := fn(f); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrWrite, path, err)
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("%w: %s: chmod: %w", ErrWrite, path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: %s: fsync: %w", ErrWrite, path, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("%w: %s: close: %w", ErrWrite, path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("%w: %s: rename: %w", ErrWrite, path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrWrite, path, err)
	}
	return nil
}

// WriteFile atomically replaces path with data.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// SyncDir fsyncs a directory so that renames and creations in it are durable.
func SyncDir(dir string) (err error) {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer func() {
		if cerr := d.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("sync dir: close: %w", cerr)
		}
	}()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// CleanTemp removes the temporary files a killed writer left in dir and returns
// how many it removed. Call it only when no writer is active in dir.
func CleanTemp(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("atomicfile: clean %s: %w", dir, err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() && len(e.Name()) > len(TempPrefix) && e.Name()[:len(TempPrefix)] == TempPrefix {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return n, fmt.Errorf("atomicfile: clean %s: %w", dir, err)
			}
			n++
		}
	}
	return n, nil
}
