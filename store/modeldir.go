package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"commentbot/internal/atomicfile"
)

// ModelDir is the ModelStore in files, the SQLite store's companion:
// Root/<model>/v000007.ckpt with its metadata v000007.json, a file "live"
// holding the live version number, and side files. Every file is written
// atomically (temporary file, fsync, rename, fsync of the directory), so a
// crash at any point leaves the previous live version loadable.
//
// Writers in any number of processes on one machine take an exclusive
// flock(2) on Root/<model>.lock for each write (never removed; no model name
// has a dot), so a version number is never given twice, a live pointer moves
// only after its check, and the clean-up of a killed writer's temporary files
// never meets a write in progress. Readers take no lock.
type ModelDir struct {
	Root string
}

var _ ModelStore = (*ModelDir)(nil)

// NewModelDir returns the model store rooted at root (created on first write).
func NewModelDir(root string) *ModelDir { return &ModelDir{Root: root} }

// Dir is the directory of model.
func (d *ModelDir) Dir(model string) string { return filepath.Join(d.Root, model) }

// CheckpointPath is the checkpoint file of version v of model.
func (d *ModelDir) CheckpointPath(model string, v int) string {
	return filepath.Join(d.Dir(model), fmt.Sprintf("v%06d.ckpt", v))
}

func (d *ModelDir) metaPath(model string, v int) string {
	return filepath.Join(d.Dir(model), fmt.Sprintf("v%06d.json", v))
}

func (d *ModelDir) livePath(model string) string { return filepath.Join(d.Dir(model), "live") }

// lockPoll is how often a writer waiting for another's lock tries again.
const lockPoll = 5 * time.Millisecond

// lock takes the write lock of model, waiting for other writers until ctx ends.
func (d *ModelDir) lock(ctx context.Context, model string) (unlock func(), err error) {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return nil, fmt.Errorf("store: models directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(d.Root, model+".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store: lock of %s: %w", model, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("store: lock of %s: %w", model, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("store: waiting for the lock of %s: %w", model, ctx.Err())
		case <-time.After(lockPoll):
		}
	}
}

// versions lists the version numbers with a checkpoint file, ascending.
func (d *ModelDir) versions(model string) ([]int, error) {
	ents, err := os.ReadDir(d.Dir(model))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: versions of %s: %w", model, err)
	}
	var vs []int
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, "v") || !strings.HasSuffix(n, ".ckpt") {
			continue
		}
		if v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(n, "v"), ".ckpt")); err == nil && v > 0 {
			vs = append(vs, v)
		}
	}
	sort.Ints(vs)
	return vs, nil
}

// live reads the live file: 0 when there is none.
func (d *ModelDir) live(model string) (int, error) {
	b, err := os.ReadFile(d.livePath(model))
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: live of %s: %w", model, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: %s: live file holds %q", ErrNoLive, model, b)
	}
	return v, nil
}

// ModelVersions lists the versions of model (see ModelStore).
func (d *ModelDir) ModelVersions(_ context.Context, model string) ([]ModelVersion, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	vs, err := d.versions(model)
	if err != nil {
		return nil, err
	}
	live, err := d.live(model)
	if err != nil && !errors.Is(err, ErrNoLive) {
		return nil, err
	}
	out := make([]ModelVersion, 0, len(vs))
	for _, v := range vs {
		mv := ModelVersion{Version: v, Live: v == live}
		if b, err := os.ReadFile(d.metaPath(model, v)); err == nil {
			mv.Meta = b // a missing metadata file only loses the figures
		}
		if st, err := os.Stat(d.CheckpointPath(model, v)); err == nil {
			mv.Size = st.Size()
			mv.Stamp = fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano())
		}
		out = append(out, mv)
	}
	return out, nil
}

// OpenVersion opens the checkpoint file of version v (see ModelStore).
func (d *ModelDir) OpenVersion(_ context.Context, model string, v int) (io.ReadCloser, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	f, err := os.Open(d.CheckpointPath(model, v))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s v%d", ErrNoVersion, model, v)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s v%d: %w", model, v, err)
	}
	return f, nil
}

// LiveVersion reads the live file (see ModelStore).
func (d *ModelDir) LiveVersion(_ context.Context, model string) (int, error) {
	if err := checkModel(model); err != nil {
		return 0, err
	}
	v, err := d.live(model)
	if err == nil && v == 0 {
		err = fmt.Errorf("%w: %s", ErrNoLive, model)
	}
	return v, err
}

// SaveVersion writes the next version under the model's lock: metadata first (a
// checkpoint never exists without its figures; a stray metadata file is
// overwritten by the next save), then the checkpoint, then, with MakeLive, the
// live file (see ModelStore).
func (d *ModelDir) SaveVersion(ctx context.Context, model string, nv NewVersion) (int, error) {
	if err := checkModel(model); err != nil {
		return 0, err
	}
	unlock, err := d.lock(ctx, model)
	if err != nil {
		return 0, err
	}
	defer unlock()
	if nv.MakeLive {
		if err := d.checkLive(ctx, model, nv.Expect); err != nil {
			return 0, err
		}
	}
	if err := os.MkdirAll(d.Dir(model), 0o755); err != nil {
		return 0, fmt.Errorf("store: save %s: %w", model, err)
	}
	vs, err := d.versions(model)
	if err != nil {
		return 0, err
	}
	v := 1
	if len(vs) > 0 {
		v = vs[len(vs)-1] + 1
	}
	meta, err := nv.Meta(v)
	if err != nil {
		return 0, fmt.Errorf("store: save %s v%d: metadata: %w", model, v, err)
	}
	if err := atomicfile.WriteFile(d.metaPath(model, v), meta, 0o644); err != nil {
		return 0, fmt.Errorf("store: save %s v%d: %w", model, v, err)
	}
	if err := atomicfile.Write(d.CheckpointPath(model, v), 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := nv.Checkpoint(bw); err != nil {
			return err
		}
		return bw.Flush()
	}); err != nil {
		return 0, fmt.Errorf("store: save %s v%d: %w", model, v, err)
	}
	if nv.MakeLive {
		if err := d.writeLive(model, v); err != nil {
			return v, err
		}
	}
	return v, nil
}

// checkLive is the check a live pointer moves after, under the model's lock:
// the leaderships of ctx, then the expected version.
func (d *ModelDir) checkLive(ctx context.Context, model string, expect int) error {
	if err := checkFileTokens(ctx); err != nil {
		return err
	}
	live, err := d.live(model)
	if err != nil && !errors.Is(err, ErrNoLive) {
		return err
	}
	return expectLive(model, live, expect)
}

func (d *ModelDir) writeLive(model string, v int) error {
	if err := atomicfile.WriteFile(d.livePath(model), []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
		return fmt.Errorf("store: set live %s v%d: %w", model, v, err)
	}
	return nil
}

// SetLiveVersion moves the live file under the model's lock (see ModelStore).
func (d *ModelDir) SetLiveVersion(ctx context.Context, model string, v, expect int) error {
	if err := checkModel(model); err != nil {
		return err
	}
	unlock, err := d.lock(ctx, model)
	if err != nil {
		return err
	}
	defer unlock()
	if err := d.checkLive(ctx, model, expect); err != nil {
		return err
	}
	if _, err := os.Stat(d.CheckpointPath(model, v)); err != nil {
		return fmt.Errorf("%w: %s v%d: %w", ErrNoVersion, model, v, err)
	}
	return d.writeLive(model, v)
}

// SetAsideModel renames the model's directory (see ModelStore) and returns
// its new path.
func (d *ModelDir) SetAsideModel(ctx context.Context, model string, at time.Time) (string, error) {
	if err := checkModel(model); err != nil {
		return "", err
	}
	unlock, err := d.lock(ctx, model)
	if err != nil {
		return "", err
	}
	defer unlock()
	base := filepath.Join(d.Root, setAsideName(model, at))
	dst := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(d.Dir(model), dst); err != nil {
		return "", fmt.Errorf("store: set aside %s: %w", model, err)
	}
	if err := atomicfile.SyncDir(d.Root); err != nil {
		return dst, fmt.Errorf("store: set aside %s: %w", model, err)
	}
	return dst, nil
}

// SetAsideModels lists the directories SetAsideModel made (see ModelStore).
func (d *ModelDir) SetAsideModels(_ context.Context, model string) ([]string, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	out, err := filepath.Glob(filepath.Join(d.Root, model+".set-aside-*"))
	if err != nil {
		return nil, fmt.Errorf("store: set-aside lineages of %s: %w", model, err)
	}
	sort.Strings(out)
	return out, nil
}

// PutModelFile writes a side file atomically under the model's lock.
func (d *ModelDir) PutModelFile(ctx context.Context, model, file string, data []byte) error {
	if err := checkFile(model, file); err != nil {
		return err
	}
	unlock, err := d.lock(ctx, model)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.MkdirAll(d.Dir(model), 0o755); err != nil {
		return fmt.Errorf("store: write %s/%s: %w", model, file, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(d.Dir(model), file), data, 0o644); err != nil {
		return fmt.Errorf("store: write %s/%s: %w", model, file, err)
	}
	return nil
}

// ModelFile reads a side file (see ModelStore).
func (d *ModelDir) ModelFile(_ context.Context, model, file string) ([]byte, error) {
	if err := checkFile(model, file); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(d.Dir(model), file))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s/%s", ErrNoFile, model, file)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s/%s: %w", model, file, err)
	}
	return b, nil
}

// RemoveModelFile removes a side file under the model's lock.
func (d *ModelDir) RemoveModelFile(ctx context.Context, model, file string) error {
	if err := checkFile(model, file); err != nil {
		return err
	}
	unlock, err := d.lock(ctx, model)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(filepath.Join(d.Dir(model), file)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: remove %s/%s: %w", model, file, err)
	}
	return nil
}

// PruneVersions removes old versions and the temporary files of killed writers,
// under the model's lock, so that no other writer's file in progress is taken
// for a leftover (see ModelStore).
func (d *ModelDir) PruneVersions(ctx context.Context, model string, keep int) ([]int, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	unlock, err := d.lock(ctx, model)
	if err != nil {
		return nil, err
	}
	defer unlock()
	vs, err := d.versions(model)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	if _, err := atomicfile.CleanTemp(d.Dir(model)); err != nil {
		return nil, err
	}
	live, _ := d.live(model)
	var removed []int
	for i, v := range vs {
		if i >= len(vs)-keep || v == live {
			continue
		}
		if err := os.Remove(d.CheckpointPath(model, v)); err != nil {
			return removed, fmt.Errorf("store: prune %s v%d: %w", model, v, err)
		}
		_ = os.Remove(d.metaPath(model, v))
		removed = append(removed, v)
	}
	return removed, nil
}
