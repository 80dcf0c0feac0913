package reddit

import (
	"time"

	"commentbot/store"
	"commentbot/text"
)

// SubredditReport is what one run did for one subreddit.
type SubredditReport struct {
	Subreddit string // canonical spec, lower case, multis sorted: "golang+rust"
	Pages     int    // listing pages fetched and committed
	Requests  int    // HTTP requests, token fetches and retries included
	Retries   int    // requests repeated after a 429, 5xx, timeout or bad answer
	Fetched   int    // listing entries received
	New       int    // comments stored for the first time
	Updated   int    // stored comments whose body changed (edits)
	Unchanged int    // stored comments seen again unchanged
	Duplicate int    // new or updated comments whose text another comment already has
	Skipped   int    // entries not stored: cleaned away or not comments
	Forgotten int    // stored comments deleted from the store: now deleted or removed on Reddit
	// SkipReasons counts Skipped by reason (CleanRules' reasons, and
	// SkipNotComment for listing entries of another kind).
	SkipReasons   map[text.SkipReason]int
	RateLimitWait time.Duration // slept for X-Ratelimit pacing, 429 Retry-After or reset
	BackoffWait   time.Duration // slept between retries of 5xx, timeouts and bad answers
	// CaughtUp is true when the run reached comments stored before (or the
	// listing's end): nothing newer is missing.
	CaughtUp bool
	// Gap is true when the listing ended before reaching the stored newest
	// comment: Reddit no longer serves what came between (too long away).
	Gap    bool
	Cursor store.Cursor // the stored cursor after the run
	Err    error        `json:"-"`
	Error  string       `json:",omitempty"` // Err's text, for run records
}

// SkipNotComment counts listing entries that are not comments (kind t1).
const SkipNotComment text.SkipReason = "not_a_comment"

// Report is what one Run did: totals and one SubredditReport each.
type Report struct {
	Started, Finished time.Time
	Subreddits        []SubredditReport
	Pages, Requests, Retries, Fetched,
	New, Updated, Unchanged, Duplicate, Skipped, Forgotten int
	SkipReasons                map[text.SkipReason]int
	RateLimitWait, BackoffWait time.Duration
}

// Figures flattens the totals for a run record (Store.RecordRun).
func (r Report) Figures() map[string]float64 {
	f := map[string]float64{
		"pages": float64(r.Pages), "requests": float64(r.Requests), "retries": float64(r.Retries),
		"fetched": float64(r.Fetched), "new": float64(r.New), "updated": float64(r.Updated),
		"unchanged": float64(r.Unchanged), "duplicate": float64(r.Duplicate), "skipped": float64(r.Skipped),
		"forgotten":         float64(r.Forgotten),
		"rate_limit_wait_s": r.RateLimitWait.Seconds(), "backoff_wait_s": r.BackoffWait.Seconds(),
	}
	for k, v := range r.SkipReasons {
		f["skipped_"+string(k)] = float64(v)
	}
	return f
}

func (r *Report) add(s SubredditReport) {
	r.Subreddits = append(r.Subreddits, s)
	r.Pages += s.Pages
	r.Requests += s.Requests
	r.Retries += s.Retries
	r.Fetched += s.Fetched
	r.New += s.New
	r.Updated += s.Updated
	r.Unchanged += s.Unchanged
	r.Duplicate += s.Duplicate
	r.Skipped += s.Skipped
	r.Forgotten += s.Forgotten
	r.RateLimitWait += s.RateLimitWait
	r.BackoffWait += s.BackoffWait
	for k, v := range s.SkipReasons {
		r.SkipReasons[k] += v
	}
}
