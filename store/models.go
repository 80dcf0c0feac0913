package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"time"

	"commentbot/internal/leader"
)

// ModelStore keeps the versions of each model — checkpoint bytes and metadata,
// opaque to the store — the live pointer of each model, and a few side files
// (loss curve, an interrupted run). SQLite keeps them in files under its
// directory (ModelDir), PostgreSQL in tables; both keep the contract written on
// each method, also between processes.
//
// Every write that moves a live pointer is fenced: the leaderships the context
// was derived from (leader.Tokens) are checked inside the same transaction, and
// the write fails with ErrFenced when one of them is no longer held.
type ModelStore interface {
	// SaveVersion stores a new version of model: its number is one above the
	// highest ever given in the model's lineage, the metadata is what
	// nv.Meta returns for that number and the checkpoint what nv.Checkpoint
	// writes. Other processes see the version only once it is whole. With
	// nv.MakeLive the live pointer moves to it in the same transaction,
	// provided it still names nv.Expect (AnyLive: whatever it names; 0: none);
	// otherwise nothing is stored and the error wraps ErrLiveMoved.
	SaveVersion(ctx context.Context, model string, nv NewVersion) (int, error)
	// ModelVersions lists the stored versions of model, oldest first, without
	// their checkpoints; none is not an error.
	ModelVersions(ctx context.Context, model string) ([]ModelVersion, error)
	// OpenVersion reads the checkpoint of version v (ErrNoVersion when none).
	OpenVersion(ctx context.Context, model string, v int) (io.ReadCloser, error)
	// LiveVersion returns the live version of model (ErrNoLive when none is set).
	LiveVersion(ctx context.Context, model string) (int, error)
	// SetLiveVersion makes the stored version v live, provided the live
	// pointer still names expect (AnyLive: whatever it names; 0: none), in one
	// transaction with that check: ErrLiveMoved otherwise, ErrNoVersion when v
	// is not stored, ErrFenced when a leadership of ctx is lost. Followers are
	// told (WatchLive).
	SetLiveVersion(ctx context.Context, model string, v, expect int) error
	// SetAsideModel moves the whole lineage of model (versions, live pointer,
	// files) to the name "<model>.set-aside-<UTC time>", where nothing loads it
	// again and an operator can inspect it, and returns that name (for
	// ModelDir, its path). The model starts over with no version.
	SetAsideModel(ctx context.Context, model string, at time.Time) (string, error)
	// SetAsideModels lists what SetAsideModel made for model, oldest first.
	SetAsideModels(ctx context.Context, model string) ([]string, error)
	// PutModelFile stores a side file of model, replacing it whole.
	PutModelFile(ctx context.Context, model, file string, data []byte) error
	// ModelFile reads a side file; the error wraps ErrNoFile (and fs.ErrNotExist)
	// when there is none.
	ModelFile(ctx context.Context, model, file string) ([]byte, error)
	// RemoveModelFile removes a side file; a missing one is not an error.
	RemoveModelFile(ctx context.Context, model, file string) error
	// PruneVersions keeps the newest keep versions of model and the live one,
	// removes the others, and returns the numbers removed.
	PruneVersions(ctx context.Context, model string, keep int) ([]int, error)
}

// AnyLive as the expected live version accepts whatever the live pointer names.
const AnyLive = -1

// NewVersion is what SaveVersion stores.
type NewVersion struct {
	// Meta returns the metadata of the version once its number is known.
	Meta func(version int) ([]byte, error)
	// Checkpoint writes the checkpoint; it may be called before the number is
	// known, and its error comes back unchanged (wrapped).
	Checkpoint func(w io.Writer) error
	// MakeLive moves the live pointer to the new version when it still names
	// Expect (AnyLive: whatever it names; 0: none).
	MakeLive bool
	Expect   int
}

// ModelVersion is one stored version, without its checkpoint.
type ModelVersion struct {
	Version int
	Meta    []byte // as stored; nil when the metadata is missing
	Size    int64  // bytes of the checkpoint
	Live    bool
	// Stamp changes whenever the checkpoint's bytes may have changed, so that a
	// version refused once is tried again only after that.
	Stamp string
}

// Errors of the model store.
var (
	ErrNoVersion = errors.New("store: no such version")
	ErrNoLive    = errors.New("store: model has no live version")
	ErrBadName   = errors.New("store: bad model or file name")
	// ErrLiveMoved means the live pointer no longer names the version the
	// writer expected: another process promoted or rolled back meanwhile.
	ErrLiveMoved = errors.New("store: the live version moved meanwhile")
	// ErrFenced means a leadership the write was made under is no longer held.
	ErrFenced = errors.New("store: leadership lost; write refused")
	// ErrNoFile means a model has no side file of that name.
	ErrNoFile = fmt.Errorf("store: no such model file: %w", fs.ErrNotExist)
)

// LiveMovedError says where the live pointer was when a write expected another
// version; it wraps ErrLiveMoved.
type LiveMovedError struct {
	Model            string
	Expected, Actual int // 0: none
}

func (e *LiveMovedError) Error() string {
	return fmt.Sprintf("store: %s: the live version is %s, not %s as expected: another process moved it meanwhile",
		e.Model, versionName(e.Actual), versionName(e.Expected))
}

// Unwrap makes errors.Is(err, ErrLiveMoved) hold.
func (e *LiveMovedError) Unwrap() error { return ErrLiveMoved }

func versionName(v int) string {
	if v == 0 {
		return "none"
	}
	return fmt.Sprintf("v%d", v)
}

// expectLive returns the LiveMovedError when live is not what expect asks.
func expectLive(model string, live, expect int) error {
	if expect == AnyLive || live == expect {
		return nil
	}
	return &LiveMovedError{Model: model, Expected: expect, Actual: live}
}

// storeName is what the store accepts as a model name: path-safe, no dot (a
// set-aside lineage has one), at most 64 bytes. Which names a config may use
// is config's rule, narrower than this.
var storeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// fileName is what the store accepts as a side file's name.
var fileName = regexp.MustCompile(`^[a-z][a-z0-9_-]*\.[a-z0-9]{1,8}$`)

func checkModel(model string) error {
	if !storeName.MatchString(model) {
		return fmt.Errorf("%w: model %q", ErrBadName, model)
	}
	return nil
}

func checkFile(model, file string) error {
	if err := checkModel(model); err != nil {
		return err
	}
	if !fileName.MatchString(file) {
		return fmt.Errorf("%w: file %q", ErrBadName, file)
	}
	return nil
}

// setAsideName is the name a lineage set aside at is moved to.
func setAsideName(model string, at time.Time) string {
	return model + ".set-aside-" + at.UTC().Format("20060102T150405Z")
}

// checkFileTokens checks the file-lock leaderships of ctx (PostgreSQL ones are
// checked by the database, in the writer's transaction).
func checkFileTokens(ctx context.Context) error {
	for _, t := range leader.Tokens(ctx) {
		if t.Session != 0 {
			continue
		}
		if err := t.Check(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrFenced, t.Name, err)
		}
	}
	return nil
}
