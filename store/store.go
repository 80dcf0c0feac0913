package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"time"

	"commentbot/corpus"
	"commentbot/internal/leader"
	"commentbot/scheduler/runs"
)

// A Store keeps everything commentbot shares between its processes: comments,
// ingestion cursors, run records, model versions and live pointers
// (ModelStore), the limits of the Discord commands (LimitStore), the slots of
// scheduled posts, a few settings, and the locks that elect one process for a
// job. SQLite (OpenSQLite: one file, model versions in files beside it, locks
// between the processes of one machine) and PostgreSQL (OpenPostgres: a
// database several machines share) implement it; both keep the contract
// documented on each method, which contract_test.go runs against both, and are
// safe for concurrent use, also by several processes.
type Store interface {
	// Upsert stores cs in one transaction: all or nothing.
	//
	// A new id is inserted whole. For an id already stored only an edited
	// body counts: the body, its dedup key and the ingested time (set to the
	// edit's ingestion, so Filter.IngestedAfter picks edits up for
	// fine-tuning) are replaced; subreddit, author, score and created keep
	// their first stored values (score is a snapshot taken at first
	// ingestion, a changed score is not an update). A comment with a zero
	// Ingested time gets the current time. A comment without an id fails the
	// whole call with ErrInvalidComment.
	Upsert(ctx context.Context, cs []corpus.Comment) (UpsertStats, error)
	// UpsertFrom is Upsert of every comment src yields, in one transaction:
	// an error from src (returned unchanged), from a write or from ctx leaves
	// the store as it was. The comments stream through; the transaction
	// holds the store's write lock until src ends.
	UpsertFrom(ctx context.Context, src corpus.Source) (UpsertStats, error)
	// CommitPage stores a page of comments (as Upsert does), deletes the
	// stored comments whose ids are in gone (comments an ingester sees again
	// as "[deleted]" or "[removed]", so that their text is no longer trained
	// on; UpsertStats.Forgotten counts them, ids not stored are ignored, no
	// tombstone is left) and sets the cursor of source, all in one
	// transaction. A zero cursor.Updated is set to the current time.
	CommitPage(ctx context.Context, source string, cursor Cursor, cs []corpus.Comment, gone []string) (UpsertStats, error)
	// Cursor returns the stored cursor of source, or the zero Cursor (start
	// from scratch) when none is stored.
	Cursor(ctx context.Context, source string) (Cursor, error)
	// Comments returns a Source of the stored comments that f selects, in
	// insertion order, each normalized text (NormalizeText) once: the first
	// stored copy, deduplicated before any other condition, so that a text
	// whose first copy is held out never reaches the training split through
	// a later copy. It streams a page at a time and holds no connection or
	// transaction while calling back, so the callback may write to the
	// store; comments stored meanwhile are yielded if they come after the
	// stream's position.
	Comments(f corpus.Filter) corpus.Source
	// Count returns how many comments Comments(f) would yield.
	Count(ctx context.Context, f corpus.Filter) (int, error)
	// RecordRun stores r with its figures in one transaction (its ID is
	// ignored); times keep their nanoseconds. A run without a job name, or
	// with a figure that is NaN or infinite, is refused.
	RecordRun(ctx context.Context, r runs.Run) error
	// Runs returns the newest limit runs of job ("" = every job), newest
	// first, with their ids; limit ≤ 0 means no limit.
	Runs(ctx context.Context, job string, limit int) ([]runs.Run, error)

	ModelStore
	LimitStore

	// ClaimSlot records that the scheduled post named post is sent for the
	// slot (its scheduled time): true when this call recorded it, false when
	// some process already had. Record before sending: a post goes out at most
	// once per slot, whatever fails over.
	ClaimSlot(ctx context.Context, post string, slot time.Time) (bool, error)
	// Setting returns the value stored under key, "" when none is.
	Setting(ctx context.Context, key string) (string, error)
	// SetSetting stores value under key.
	SetSetting(ctx context.Context, key, value string) error
	// Elector returns the election called name among the processes that share
	// this store (a PostgreSQL advisory lock; a lock file beside SQLite).
	Elector(name string, o leader.Options) leader.Elector
	// WatchLive calls fn with the model's name whenever another process moves
	// a live pointer, and with "" whenever notifications may have been missed
	// (at the start, after a lost connection), until ctx ends. A store that
	// cannot notify (SQLite) only waits for ctx: its followers poll.
	WatchLive(ctx context.Context, fn func(model string)) error
	// Shared reports whether processes on other machines may use this store.
	Shared() bool
	// Ping reports whether the store answers now.
	Ping(ctx context.Context) error
	// Close releases the store; streams still running fail with an error.
	Close() error
}

// LimitStore keeps the limits of the Discord commands, so that they hold
// across the replicas that share the store.
type LimitStore interface {
	// MarkSeen records each key as seen until until, unless it is seen already
	// (until at or after now: its time stays), and reports whether none of them
	// was: the replay check of an HTTP interaction, keyed by its id and its
	// signature.
	MarkSeen(ctx context.Context, keys []string, now, until time.Time) (fresh bool, err error)
	// AllowCommand applies the cooldown of user (the time since their last
	// allowed command, measured against cooldown) and the rate of channel (at
	// most perMinute commands over the last minute) at now, in one transaction:
	// it records the command and returns 0, or refuses it, records nothing and
	// returns how long to wait and which limit applied ("user" or "channel").
	// Zero cooldown or perMinute disables that limit.
	AllowCommand(ctx context.Context, user, channel string, now time.Time, cooldown time.Duration, perMinute int) (time.Duration, string, error)
}

// Errors of the store.
var (
	// ErrSchemaTooNew means the database was written by a newer program:
	// its schema version is above the last migration this one knows.
	ErrSchemaTooNew = errors.New("store: schema is newer than this program knows")
	// ErrInvalidComment means a comment cannot be stored (it has no id).
	ErrInvalidComment = errors.New("store: invalid comment")
)

// UpsertStats counts what a write did. New, Updated and Unchanged are
// disjoint and add up to the comments written. Duplicates counts the new or
// updated comments whose normalized text an earlier comment already has:
// they are stored but Comments does not yield them.
type UpsertStats struct {
	New        int // ids not stored before
	Updated    int // stored ids whose body changed (an edit)
	Unchanged  int // stored ids with the same body (score and other fields are not compared)
	Duplicates int
	Forgotten  int // stored comments deleted because they are gone from Reddit (CommitPage)
}

// Add adds o to st.
func (st *UpsertStats) Add(o UpsertStats) {
	st.New += o.New
	st.Updated += o.Updated
	st.Unchanged += o.Unchanged
	st.Duplicates += o.Duplicates
	st.Forgotten += o.Forgotten
}

// A Cursor is where an ingester stands on one source (a subreddit listing).
//
// A pass pages back from the newest comment to Newest, the newest fullname
// that a completed pass stored. While a pass is unfinished, Pending holds the
// newest fullname of that pass and After the listing token of the next page
// to fetch; a restarted ingester continues from After and, once it reaches
// Newest (or the listing ends), sets Newest = Pending and clears Pending and
// After. Because CommitPage stores a page and the cursor in one transaction,
// a crash loses at most the page in flight, which is fetched again.
type Cursor struct {
	Newest  string    // newest fullname of the last completed pass; "" before the first
	Pending string    // newest fullname of the unfinished pass; "" when none
	After   string    // listing token of the next page of the unfinished pass; "" when none
	Updated time.Time // when the cursor was last written
}

// NormalizeText returns the text that deduplication compares: s lower-cased,
// with every run of white space collapsed to one space and no leading or
// trailing space.
func NormalizeText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// NormKey returns the dedup key of a body: the first 8 bytes of
// sha256(NormalizeText(body)), big-endian, as an int64. Two different texts
// share a key with probability 2⁻⁶⁴ per pair.
func NormKey(body string) int64 {
	h := sha256.New()
	io.WriteString(h, NormalizeText(body))
	var sum [sha256.Size]byte
	return int64(binary.BigEndian.Uint64(h.Sum(sum[:0])))
}
