package scheduler

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"commentbot/config"
	"commentbot/internal/atomicfile"
)

// Errors of the version repository.
var (
	ErrNoVersion = errors.New("scheduler: no such version")
	ErrNoLive    = errors.New("scheduler: model has no live version")
	ErrBadName   = errors.New("scheduler: bad model name")
)

// VersionInfo describes one checkpoint on disk. Losses are mean nats per token;
// a loss with zero tokens was not measured.
type VersionInfo struct {
	Version int `json:"version"`
	// Parent is the version this one was fine-tuned from; 0 starts a lineage.
	Parent        int       `json:"parent"`
	Job           string    `json:"job"`
	Created       time.Time `json:"created"`
	VocabHash     string    `json:"vocab_hash"`
	HeldOutLoss   float64   `json:"held_out_loss"`
	HeldOutTokens int64     `json:"held_out_tokens"`
	FreshLoss     float64   `json:"fresh_loss"`
	FreshTokens   int64     `json:"fresh_tokens"`
	TrainLoss     float64   `json:"train_loss"`
	TokensTrained int64     `json:"tokens_trained"`
	Steps         int       `json:"steps"`
	// DataUntil is the ingest time up to which comments were seen by this lineage
	// (zero for a pretrained version: none of the store's yet).
	DataUntil time.Time `json:"data_until"`
	// HeldOutBPC is the bits per character (see Eval) on the HeldOutComments
	// held-out comments the version was measured on when it was made.
	HeldOutBPC      float64 `json:"held_out_bits_per_char,omitempty"`
	HeldOutComments int     `json:"held_out_comments,omitempty"`
	// Comments is how many comments the fine-tune that made it trained on
	// (fresh and replayed), and Learned how much of the fresh ones' tokens.
	Comments int       `json:"comments,omitempty"`
	Learned  *Coverage `json:"fresh_learned,omitempty"`
	// Pretrained says what a version installed from a shipped checkpoint was
	// trained on (its manifest's summary).
	Pretrained string `json:"pretrained,omitempty"`
	// Computed when listing, not stored.
	Live bool  `json:"-"`
	Size int64 `json:"-"`
}

// Origin says in words where the version came from, as /models and
// `commentbot models` show it: "pretrained on … (20000 steps)", "fine-tuned
// on 491 comments (from v1)", "trained from scratch", "trained further (from
// v2)".
func (v VersionInfo) Origin() string {
	switch {
	case v.Job == JobPretrained && v.Pretrained != "":
		return v.Pretrained
	case v.Job == JobPretrained:
		return "pretrained (shipped with the binary)"
	case v.Job == JobFineTune:
		return fmt.Sprintf("fine-tuned on %d comments (from v%d)", v.Comments, v.Parent)
	case v.Parent > 0:
		return fmt.Sprintf("trained further (from v%d)", v.Parent)
	case v.Job == JobBootstrap || v.Job == JobFullTrain || v.Job == JobTrain:
		return "trained from scratch"
	case v.Job == "":
		return "unknown (no metadata)"
	}
	return v.Job
}

// Repo keeps model versions on disk: Root/<name>/v000007.ckpt with its metadata
// v000007.json, and a file "live" holding the live version number. Every file is
// written atomically (temp file, fsync, rename, fsync dir), so a crash at any point
// leaves the previous live version loadable. Repo is safe for concurrent use.
type Repo struct {
	Root string
	mu   sync.Mutex // serialises writes (save, set-live, prune)
}

// Dir is the directory of model name.
func (r *Repo) Dir(name string) string { return filepath.Join(r.Root, name) }

func (r *Repo) check(name string) error {
	if !config.ValidModelName(name) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return nil
}

func ckptFile(v int) string { return fmt.Sprintf("v%06d.ckpt", v) }
func metaFile(v int) string { return fmt.Sprintf("v%06d.json", v) }

// CheckpointPath is the checkpoint file of version v of name.
func (r *Repo) CheckpointPath(name string, v int) string {
	return filepath.Join(r.Dir(name), ckptFile(v))
}

// versions lists the version numbers with a checkpoint file, ascending.
func (r *Repo) versions(name string) ([]int, error) {
	ents, err := os.ReadDir(r.Dir(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scheduler: versions of %s: %w", name, err)
	}
	var vs []int
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, "v") || !strings.HasSuffix(n, ".ckpt") {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(n, "v"), ".ckpt"))
		if err == nil && v > 0 {
			vs = append(vs, v)
		}
	}
	sort.Ints(vs)
	return vs, nil
}

// List returns the versions of name, oldest first, with their metadata.
func (r *Repo) List(name string) ([]VersionInfo, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	vs, err := r.versions(name)
	if err != nil {
		return nil, err
	}
	live, err := r.Live(name)
	if err != nil && !errors.Is(err, ErrNoLive) {
		return nil, err
	}
	out := make([]VersionInfo, 0, len(vs))
	for _, v := range vs {
		info := VersionInfo{Version: v}
		if b, err := os.ReadFile(filepath.Join(r.Dir(name), metaFile(v))); err == nil {
			// A missing or damaged metadata file only loses the figures.
			_ = json.Unmarshal(b, &info)
			info.Version = v
		}
		if st, err := os.Stat(r.CheckpointPath(name, v)); err == nil {
			info.Size = st.Size()
		}
		info.Live = v == live
		out = append(out, info)
	}
	return out, nil
}

// Info returns the metadata of version v of name.
func (r *Repo) Info(name string, v int) (VersionInfo, error) {
	list, err := r.List(name)
	if err != nil {
		return VersionInfo{}, err
	}
	for _, i := range list {
		if i.Version == v {
			return i, nil
		}
	}
	return VersionInfo{}, fmt.Errorf("%w: %s v%d", ErrNoVersion, name, v)
}

// Save writes m as the next version of name (one above the highest on disk) with
// the figures in info, and returns the info as stored. It does not make it live.
func (r *Repo) Save(name string, m Model, info VersionInfo) (VersionInfo, error) {
	if err := r.check(name); err != nil {
		return VersionInfo{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dir := r.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return VersionInfo{}, fmt.Errorf("scheduler: save %s: %w", name, err)
	}
	vs, err := r.versions(name)
	if err != nil {
		return VersionInfo{}, err
	}
	info.Version = 1
	if len(vs) > 0 {
		info.Version = vs[len(vs)-1] + 1
	}
	for _, p := range []*float64{&info.HeldOutLoss, &info.FreshLoss, &info.TrainLoss, &info.HeldOutBPC} {
		if math.IsNaN(*p) || math.IsInf(*p, 0) {
			*p = 0 // JSON has no NaN; zero tokens says "not measured"
		}
	}
	meta, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return VersionInfo{}, fmt.Errorf("scheduler: save %s: %w", name, err)
	}
	// Metadata first: a checkpoint never exists without its figures; a stray
	// metadata file without checkpoint is ignored and overwritten by the next save.
	if err := atomicfile.WriteFile(filepath.Join(dir, metaFile(info.Version)), append(meta, '\n'), 0o644); err != nil {
		return VersionInfo{}, fmt.Errorf("scheduler: save %s: %w", name, err)
	}
	if err := atomicfile.Write(r.CheckpointPath(name, info.Version), 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := m.Encode(bw); err != nil {
			return err
		}
		return bw.Flush()
	}); err != nil {
		return VersionInfo{}, fmt.Errorf("scheduler: save %s v%d: %w", name, info.Version, err)
	}
	return info, nil
}

// Load decodes version v of name.
func (r *Repo) Load(e Engine, name string, v int) (m Model, err error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	f, err := os.Open(r.CheckpointPath(name, v))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s v%d", ErrNoVersion, name, v)
	}
	if err != nil {
		return nil, fmt.Errorf("scheduler: load %s v%d: %w", name, v, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("scheduler: load %s v%d: %w", name, v, cerr)
		}
	}()
	m, err = e.Decode(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("scheduler: load %s v%d: %w", name, v, err)
	}
	return m, nil
}

// Live returns the live version of name (ErrNoLive when none is set).
func (r *Repo) Live(name string) (int, error) {
	if err := r.check(name); err != nil {
		return 0, err
	}
	b, err := os.ReadFile(filepath.Join(r.Dir(name), "live"))
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%w: %s", ErrNoLive, name)
	}
	if err != nil {
		return 0, fmt.Errorf("scheduler: live of %s: %w", name, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: %s: live file holds %q", ErrNoLive, name, b)
	}
	return v, nil
}

// SetLive records v as the live version of name; v must exist on disk.
func (r *Repo) SetLive(name string, v int) error {
	if err := r.check(name); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := os.Stat(r.CheckpointPath(name, v)); err != nil {
		return fmt.Errorf("%w: %s v%d: %w", ErrNoVersion, name, v, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(r.Dir(name), "live"), []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
		return fmt.Errorf("scheduler: set live %s v%d: %w", name, v, err)
	}
	return nil
}

// SetAside moves the whole directory of name (every version, the live file, an
// interrupted run) to Root/<name>.set-aside-<UTC time>, where nothing loads it again
// (no model name contains a dot) and an operator can inspect or delete it. It
// returns the new path.
func (r *Repo) SetAside(name string, at time.Time) (string, error) {
	if err := r.check(name); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	base := filepath.Join(r.Root, name+".set-aside-"+at.UTC().Format("20060102T150405Z"))
	dst := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(dst); errors.Is(err, os.ErrNotExist) {
			break
		}
		dst = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(r.Dir(name), dst); err != nil {
		return "", fmt.Errorf("scheduler: set aside %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(r.Root); err != nil {
		return dst, fmt.Errorf("scheduler: set aside %s: %w", name, err)
	}
	return dst, nil
}

// SetAsides lists the directories SetAside made for name, oldest first.
func (r *Repo) SetAsides(name string) ([]string, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	out, err := filepath.Glob(filepath.Join(r.Root, name+".set-aside-*"))
	if err != nil {
		return nil, fmt.Errorf("scheduler: set-aside lineages of %s: %w", name, err)
	}
	sort.Strings(out)
	return out, nil
}

// WriteFile atomically writes a side file (such as loss.png) into name's directory.
func (r *Repo) WriteFile(name, file string, data []byte) error {
	if err := r.check(name); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := os.MkdirAll(r.Dir(name), 0o755); err != nil {
		return fmt.Errorf("scheduler: write %s/%s: %w", name, file, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(r.Dir(name), file), data, 0o644); err != nil {
		return fmt.Errorf("scheduler: write %s/%s: %w", name, file, err)
	}
	return nil
}

// Prune keeps the newest keep versions of name (and always the live one) and
// removes the others, with leftovers of interrupted writes; it returns the
// versions removed.
func (r *Repo) Prune(name string, keep int) ([]int, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	vs, err := r.versions(name)
	if err != nil || len(vs) == 0 {
		return nil, err
	}
	if _, err := atomicfile.CleanTemp(r.Dir(name)); err != nil {
		return nil, err
	}
	live, _ := r.Live(name)
	var removed []int
	for i, v := range vs {
		if i >= len(vs)-keep || v == live {
			continue
		}
		if err := os.Remove(r.CheckpointPath(name, v)); err != nil {
			return removed, fmt.Errorf("scheduler: prune %s v%d: %w", name, v, err)
		}
		_ = os.Remove(filepath.Join(r.Dir(name), metaFile(v)))
		removed = append(removed, v)
	}
	return removed, nil
}
