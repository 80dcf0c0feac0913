package scheduler

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"commentbot/config"
	"commentbot/store"
)

// Errors of the version repository: the store's, so that errors.Is holds
// whichever package a caller names.
var (
	ErrNoVersion = store.ErrNoVersion
	ErrNoLive    = store.ErrNoLive
	ErrBadName   = errors.New("scheduler: bad model name")
	// ErrLiveMoved: another process promoted or rolled back meanwhile; the
	// write that expected the old live version was refused whole.
	ErrLiveMoved = store.ErrLiveMoved
)

// VersionInfo describes one stored version. Losses are mean nats per token;
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

// VersionStore keeps model versions as bytes: the store's ModelStore, in
// files beside SQLite (store.ModelDir) or in PostgreSQL.
type VersionStore = store.ModelStore

// Repo is the typed view of a VersionStore: versions as VersionInfo and Model,
// the checks a model name must pass, and the side files the scheduler keeps.
// It is safe for concurrent use, also by several processes sharing the store
// (every write is one transaction of the store).
type Repo struct {
	vs VersionStore
}

// NewRepo returns the repository over vs.
func NewRepo(vs VersionStore) *Repo { return &Repo{vs: vs} }

// Store is the VersionStore under r.
func (r *Repo) Store() VersionStore { return r.vs }

// Dir is the directory of name's versions when they are files ("" otherwise).
func (r *Repo) Dir(name string) string {
	if d, ok := r.vs.(interface{ Dir(string) string }); ok {
		return d.Dir(name)
	}
	return ""
}

// CheckpointPath is the checkpoint file of version v of name when versions are
// files ("" otherwise).
func (r *Repo) CheckpointPath(name string, v int) string {
	if d, ok := r.vs.(interface{ CheckpointPath(string, int) string }); ok {
		return d.CheckpointPath(name, v)
	}
	return ""
}

func (r *Repo) check(name string) error {
	if !config.ValidModelName(name) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return nil
}

// List returns the versions of name, oldest first, with their metadata.
func (r *Repo) List(ctx context.Context, name string) ([]VersionInfo, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	list, err := r.vs.ModelVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	out := make([]VersionInfo, 0, len(list))
	for _, mv := range list {
		info := VersionInfo{}
		// A missing or damaged metadata file only loses the figures.
		_ = json.Unmarshal(mv.Meta, &info)
		info.Version, info.Live, info.Size = mv.Version, mv.Live, mv.Size
		out = append(out, info)
	}
	return out, nil
}

// Info returns the metadata of version v of name.
func (r *Repo) Info(ctx context.Context, name string, v int) (VersionInfo, error) {
	list, err := r.List(ctx, name)
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

// Stamp identifies the stored bytes of version v of name ("" when unknown):
// a version refused once is tried again only when its stamp changes.
func (r *Repo) Stamp(ctx context.Context, name string, v int) string {
	list, err := r.vs.ModelVersions(ctx, name)
	if err != nil {
		return ""
	}
	for _, mv := range list {
		if mv.Version == v {
			return mv.Stamp
		}
	}
	return ""
}

// Save stores m as the next version of name with the figures in info and
// returns the info as stored. It does not make it live.
func (r *Repo) Save(ctx context.Context, name string, m Model, info VersionInfo) (VersionInfo, error) {
	return r.save(ctx, name, m, info, store.NewVersion{})
}

// SaveLive stores m as the next version of name and makes it live in the same
// transaction, provided the live version is still expect (0: none): otherwise
// nothing is stored and the error wraps ErrLiveMoved.
func (r *Repo) SaveLive(ctx context.Context, name string, m Model, info VersionInfo, expect int) (VersionInfo, error) {
	return r.save(ctx, name, m, info, store.NewVersion{MakeLive: true, Expect: expect})
}

func (r *Repo) save(ctx context.Context, name string, m Model, info VersionInfo, nv store.NewVersion) (VersionInfo, error) {
	if err := r.check(name); err != nil {
		return VersionInfo{}, err
	}
	for _, p := range []*float64{&info.HeldOutLoss, &info.FreshLoss, &info.TrainLoss, &info.HeldOutBPC} {
		if math.IsNaN(*p) || math.IsInf(*p, 0) {
			*p = 0 // JSON has no NaN; zero tokens says "not measured"
		}
	}
	nv.Meta = func(v int) ([]byte, error) {
		info.Version = v
		meta, err := json.MarshalIndent(info, "", "  ")
		return append(meta, '\n'), err
	}
	nv.Checkpoint = m.Encode
	v, err := r.vs.SaveVersion(ctx, name, nv)
	if err != nil {
		return VersionInfo{}, fmt.Errorf("scheduler: save %s: %w", name, err)
	}
	info.Version, info.Live = v, nv.MakeLive
	return info, nil
}

// Load decodes version v of name.
func (r *Repo) Load(ctx context.Context, e Engine, name string, v int) (m Model, err error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	rc, err := r.vs.OpenVersion(ctx, name, v)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := rc.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("scheduler: load %s v%d: %w", name, v, cerr)
		}
	}()
	m, err = e.Decode(bufio.NewReaderSize(rc, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("scheduler: load %s v%d: %w", name, v, err)
	}
	return m, nil
}

// Live returns the live version of name (ErrNoLive when none is set).
func (r *Repo) Live(ctx context.Context, name string) (int, error) {
	if err := r.check(name); err != nil {
		return 0, err
	}
	return r.vs.LiveVersion(ctx, name)
}

// SetLive makes the stored version v of name live, provided the live version
// is still expect (store.AnyLive: whatever it is; 0: none).
func (r *Repo) SetLive(ctx context.Context, name string, v, expect int) error {
	if err := r.check(name); err != nil {
		return err
	}
	return r.vs.SetLiveVersion(ctx, name, v, expect)
}

// SetAside moves the whole lineage of name (every version, the live pointer, an
// interrupted run) to <name>.set-aside-<UTC time>, where nothing loads it again
// and an operator can inspect or delete it; it returns where (a path when
// versions are files).
func (r *Repo) SetAside(ctx context.Context, name string, at time.Time) (string, error) {
	if err := r.check(name); err != nil {
		return "", err
	}
	return r.vs.SetAsideModel(ctx, name, at)
}

// SetAsides lists what SetAside made for name, oldest first.
func (r *Repo) SetAsides(ctx context.Context, name string) ([]string, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	return r.vs.SetAsideModels(ctx, name)
}

// WriteFile stores a side file (such as loss.png) of name.
func (r *Repo) WriteFile(ctx context.Context, name, file string, data []byte) error {
	if err := r.check(name); err != nil {
		return err
	}
	return r.vs.PutModelFile(ctx, name, file, data)
}

// ReadFile reads a side file of name; the error wraps os.ErrNotExist when
// there is none.
func (r *Repo) ReadFile(ctx context.Context, name, file string) ([]byte, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	return r.vs.ModelFile(ctx, name, file)
}

// RemoveFile removes a side file of name (a missing one is fine).
func (r *Repo) RemoveFile(ctx context.Context, name, file string) error {
	if err := r.check(name); err != nil {
		return err
	}
	return r.vs.RemoveModelFile(ctx, name, file)
}

// Prune keeps the newest keep versions of name (and always the live one) and
// removes the others; it returns the versions removed.
func (r *Repo) Prune(ctx context.Context, name string, keep int) ([]int, error) {
	if err := r.check(name); err != nil {
		return nil, err
	}
	return r.vs.PruneVersions(ctx, name, keep)
}
