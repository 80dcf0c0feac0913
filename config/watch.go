package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher reloads a config file when it changes on disk or when a signal arrives
// (SIGHUP in the program). A file that does not parse or validate is refused: OnError
// gets the reason and the running config stays.
type Watcher struct {
	Path string
	// Reload receives a value for each SIGHUP (signal.Notify in the program); may be nil.
	Reload <-chan os.Signal
	// Apply receives each new valid config, in order, from Watch's goroutine.
	Apply func(Config)
	// OnError receives each refused reload.
	OnError func(error)
	// Debounce is how long to wait for a burst of file events to settle (editors write
	// in several steps). Zero means 100ms.
	Debounce time.Duration
}

// Watch blocks until ctx ends, reloading on every change. It watches the file's
// directory, not the file, so that an editor's write-to-temp-and-rename is seen.
// Reloads of byte-identical content are skipped.
func (w *Watcher) Watch(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("config: watch: %w", err)
	}
	defer fw.Close()
	dir := filepath.Dir(w.Path)
	if err := fw.Add(dir); err != nil {
		return fmt.Errorf("config: watch %s: %w", dir, err)
	}
	debounce := w.Debounce
	if debounce <= 0 {
		debounce = 100 * time.Millisecond
	}
	last := w.digest()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	base := filepath.Base(w.Path)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if filepath.Base(ev.Name) == base && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename|fsnotify.Remove) != 0 {
				timer.Reset(debounce)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			w.OnError(fmt.Errorf("config: watch: %w", err))
		case <-w.Reload:
			last = w.reload(nil)
		case <-timer.C:
			last = w.reload(last)
		}
	}
}

// reload loads the file unless its digest equals skip; it returns the new digest.
func (w *Watcher) reload(skip []byte) []byte {
	d := w.digest()
	if d == nil {
		w.OnError(fmt.Errorf("config: %s cannot be read; keeping the running config", w.Path))
		return skip
	}
	if skip != nil && bytes.Equal(d, skip) {
		return d
	}
	c, err := Load(w.Path)
	if err != nil {
		w.OnError(fmt.Errorf("%w; keeping the running config", err))
		return d
	}
	w.Apply(c)
	return d
}

func (w *Watcher) digest() []byte {
	b, err := os.ReadFile(w.Path)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}
