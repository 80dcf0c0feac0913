package reddit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	goreddit "github.com/vartanbeno/go-reddit/v2/reddit"

	"commentbot/corpus"
	"commentbot/internal/redditlisting"
	"commentbot/store"
	"commentbot/text"
)

// Errors of the ingester. Each wraps the underlying cause (an HTTP status, a
// network error) when there is one.
var (
	// ErrConfig means a Config is unusable (the message says which field and why).
	ErrConfig = errors.New("reddit: invalid ingest config")
	// ErrSubredditNotFound is Reddit's 404 for a subreddit listing: it does not exist or is banned.
	ErrSubredditNotFound = errors.New("reddit: subreddit not found")
	// ErrSubredditForbidden is Reddit's 403: the subreddit is private or quarantined.
	ErrSubredditForbidden = errors.New("reddit: subreddit forbidden")
	// ErrAuth means the credentials were refused (token endpoint 4xx, or 401 on a listing).
	ErrAuth = errors.New("reddit: authentication failed")
	// ErrUnavailable means retries ran out on 5xx, timeouts, network errors or bad JSON.
	ErrUnavailable = errors.New("reddit: unavailable")
	// ErrRateLimited means Reddit asked for a wait longer than Config.MaxRateWait,
	// or 429s outlasted the retries. The cursor is kept; the next run continues.
	ErrRateLimited = errors.New("reddit: rate limit")
	// ErrResponse is an answer the ingester does not understand (not a Listing, other 4xx).
	ErrResponse = errors.New("reddit: unexpected response")
)

// Ingester fetches new comments from Reddit into a Store. Its methods are
// safe for concurrent use; runs are serialized (a second Run waits for the
// first, or for its ctx).
type Ingester struct {
	cfg    Config
	rules  text.CleanRules
	store  store.Store
	log    *slog.Logger
	rnd    *rand.Rand
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	tr     *ingestTransport
	client *goreddit.Client
	ua     string
	run    chan struct{} // one token: held by the Run in progress
}

// NewIngester checks cfg, fills defaults and builds the go-reddit client for
// the auth mode the credentials allow. No request is made until Run.
func NewIngester(cfg Config, st store.Store, deps Deps) (*Ingester, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil store", ErrConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	in := &Ingester{cfg: cfg, store: st, log: deps.Logger, now: deps.Now, sleep: deps.Sleep, run: make(chan struct{}, 1)}
	if cfg.Rules != nil {
		in.rules = *cfg.Rules
	} else {
		in.rules = text.DefaultCleanRules()
	}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.now == nil {
		in.now = time.Now
	}
	src := deps.Source
	if src == nil {
		src = rand.NewPCG(uint64(time.Now().UnixNano()), 0x1b873593)
	}
	in.rnd = rand.New(src)
	if in.sleep == nil {
		in.sleep = sleepCtx
	}
	in.ua = cfg.UserAgent
	if in.ua == "" {
		in.ua = UserAgent("commentbot", cfg.Version, cfg.Credentials.Username)
	}
	base := deps.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	in.tr = &ingestTransport{base: base, timeout: cfg.Timeout, ua: in.ua, now: in.now}
	client, err := in.newClient()
	if err != nil {
		return nil, fmt.Errorf("%w: reddit client: %w", ErrConfig, err)
	}
	in.client = client
	return in, nil
}

// CloseIdleConnections closes the idle keep-alive connections of the
// ingester's transport; call it when the ingester is dropped.
func (in *Ingester) CloseIdleConnections() {
	if c, ok := in.tr.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// Mode is the auth mode in use.
func (in *Ingester) Mode() AuthMode { return in.cfg.Credentials.Mode() }

// UserAgent is the User-Agent sent with every request.
func (in *Ingester) UserAgent() string { return in.ua }

// Run ingests every configured subreddit; see RunSubreddits.
func (in *Ingester) Run(ctx context.Context) (Report, error) {
	return in.RunSubreddits(ctx, in.cfg.Subreddits)
}

// RunSubreddits ingests subs (names or multis) in order. For each, it pages
// back through /r/{sub}/comments from the newest comment until it reaches
// the cursor's Newest (comments stored by an earlier run), the listing's end
// or MaxPerRun entries; an unfinished pass left by an earlier run (Pending,
// After) is finished first, then a new pass starts from the top.
//
// Each page is cleaned and committed with the advanced cursor in one
// transaction (Store.CommitPage): stopping anywhere — an error, ctx, a
// crash — leaves every committed page and its cursor consistent, and the
// next run continues from the cursor. Entries of a page older than Newest
// are stored again (the page holds them anyway), so an edit of a comment
// near the boundary updates it, and one now deleted or removed is forgotten.
//
// A failing subreddit does not stop the others, except when ctx is done.
// The error joins the failures; the report covers what was done either way.
func (in *Ingester) RunSubreddits(ctx context.Context, subs []string) (Report, error) {
	rep := Report{Started: in.now(), SkipReasons: map[text.SkipReason]int{}}
	select {
	case in.run <- struct{}{}:
	case <-ctx.Done():
		return rep, fmt.Errorf("reddit: ingest: waiting for the run in progress: %w", ctx.Err())
	}
	defer func() { <-in.run }()

	var errs []error
	for _, spec := range subs {
		canon, err := CanonicalSubreddit(spec)
		if err != nil {
			errs = append(errs, err)
			rep.add(SubredditReport{Subreddit: spec, Err: err, Error: err.Error()})
			continue
		}
		sr := in.ingest(ctx, canon)
		rep.add(sr)
		lvl := slog.LevelInfo
		if sr.Err != nil {
			lvl = slog.LevelWarn
			errs = append(errs, fmt.Errorf("r/%s: %w", canon, sr.Err))
		}
		in.log.Log(ctx, lvl, "ingest subreddit", "subreddit", canon, "pages", sr.Pages, "requests", sr.Requests,
			"retries", sr.Retries, "fetched", sr.Fetched, "new", sr.New, "updated", sr.Updated, "unchanged", sr.Unchanged,
			"duplicate", sr.Duplicate, "skipped", sr.Skipped, "skip_reasons", sr.SkipReasons, "forgotten", sr.Forgotten,
			"rate_limit_wait", sr.RateLimitWait, "backoff_wait", sr.BackoffWait, "caught_up", sr.CaughtUp,
			"gap", sr.Gap, "error", sr.Error)
		if ctx.Err() != nil {
			break
		}
	}
	rep.Finished = in.now()
	in.log.Info("ingest run", "subreddits", len(rep.Subreddits), "pages", rep.Pages, "requests", rep.Requests,
		"retries", rep.Retries, "new", rep.New, "updated", rep.Updated, "skipped", rep.Skipped, "forgotten", rep.Forgotten,
		"rate_limit_wait", rep.RateLimitWait, "backoff_wait", rep.BackoffWait, "took", rep.Finished.Sub(rep.Started))
	if err := errors.Join(errs...); err != nil {
		return rep, fmt.Errorf("reddit: ingest: %w", err)
	}
	return rep, nil
}

// ingest runs the passes of one subreddit.
func (in *Ingester) ingest(ctx context.Context, spec string) (sr SubredditReport) {
	sr = SubredditReport{Subreddit: spec, SkipReasons: map[text.SkipReason]int{}}
	reqs := in.tr.requests.Load()
	defer func() {
		sr.Requests = int(in.tr.requests.Load() - reqs)
		if sr.Err != nil {
			sr.Error = sr.Err.Error()
		}
	}()
	source := CursorSource(spec)
	cur, err := in.store.Cursor(ctx, source)
	if err != nil {
		sr.Err = err
		return sr
	}
	budget := in.cfg.MaxPerRun
	ownPass := false // the pass in progress was started by this run
	for budget > 0 {
		fresh := cur.Pending == "" // a new pass from the top, else finishing one
		after := ""
		if !fresh {
			after = cur.After
		}
		l, err := in.fetch(ctx, &sr, spec, after, min(in.cfg.PageSize, budget))
		if err != nil {
			sr.Err = err
			sr.Cursor = cur
			return sr
		}
		sr.Fetched += len(l.Data.Children)
		next := cur
		next.Updated = in.now()
		if fresh {
			if len(l.Data.Children) == 0 || !newerID(l.Data.Children[0].Data.Fullname(), cur.Newest) {
				// Nothing newer than what is stored: commit the page only to
				// catch edits of the comments it shows again.
				if err := in.commit(ctx, &sr, source, next, l); err != nil {
					sr.Err = err
					sr.Cursor = cur
					return sr
				}
				sr.CaughtUp = true
				cur = next
				break
			}
			next.Pending = l.Data.Children[0].Data.Fullname()
			ownPass = true
		}
		reached, newer := false, 0
		for _, ch := range l.Data.Children {
			if cur.Newest != "" && !newerID(ch.Data.Fullname(), cur.Newest) {
				reached = true
			} else {
				newer++
			}
		}
		budget -= newer
		end := l.Data.After == "" || len(l.Data.Children) == 0
		if reached || end {
			// The pass is complete: everything from Pending back to Newest is stored.
			if newerID(next.Pending, next.Newest) {
				next.Newest = next.Pending
			}
			next.Pending, next.After = "", ""
			sr.Gap = sr.Gap || (!reached && cur.Newest != "")
		} else {
			next.After = l.Data.After
		}
		if err := in.commit(ctx, &sr, source, next, l); err != nil {
			sr.Err = err
			sr.Cursor = cur
			return sr
		}
		cur = next
		if next.Pending == "" && ownPass {
			sr.CaughtUp = true
			break // this run's pass is done; newer comments wait for the next run
		}
		// else: more of this pass, or an earlier run's pass finished and a fresh one starts
	}
	sr.Cursor = cur
	return sr
}

// commit cleans a page and stores it with cursor in one transaction.
func (in *Ingester) commit(ctx context.Context, sr *SubredditReport, source string, cursor store.Cursor, l redditListing) error {
	now := in.now()
	cs := make([]corpus.Comment, 0, len(l.Data.Children))
	var gone []string
	for _, ch := range l.Data.Children {
		if ch.Kind != "t1" {
			sr.Skipped++
			sr.SkipReasons[SkipNotComment]++
			continue
		}
		c, why := corpus.Clean(fromReddit(ch.Data, now), in.rules)
		if why != "" {
			sr.Skipped++
			sr.SkipReasons[why]++
			if why == text.SkipDeleted || why == text.SkipRemoved {
				gone = append(gone, c.ID) // stored by an earlier run? then forget it
			}
			continue
		}
		cs = append(cs, c)
	}
	// Oldest first: within a page the store's order (and which of two equal
	// texts counts as the original) follows Reddit's time.
	slices.Reverse(cs)
	st, err := in.store.CommitPage(ctx, source, cursor, cs, gone)
	if err != nil {
		return err
	}
	sr.Pages++
	sr.Forgotten += st.Forgotten
	sr.New += st.New
	sr.Updated += st.Updated
	sr.Unchanged += st.Unchanged
	sr.Duplicate += st.Duplicates
	in.log.Debug("ingest page", "source", source, "entries", len(l.Data.Children), "kept", len(cs),
		"new", st.New, "updated", st.Updated, "after", cursor.After, "newest", cursor.Newest, "pending", cursor.Pending)
	return nil
}

// fetch gets one listing page, pacing before each request and retrying
// 429s, 5xx, timeouts, network errors and unreadable answers.
func (in *Ingester) fetch(ctx context.Context, sr *SubredditReport, spec, after string, limit int) (redditListing, error) {
	q := url.Values{"raw_json": {"1"}, "limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	path := "r/" + spec + "/comments?" + q.Encode()
	for attempt := 0; ; attempt++ {
		if err := in.pace(ctx, sr); err != nil {
			return redditListing{}, err
		}
		req, err := in.client.NewRequest(http.MethodGet, path, nil)
		if err != nil {
			return redditListing{}, fmt.Errorf("%w: build request: %w", ErrResponse, err)
		}
		var l redditListing
		_, err = in.client.Do(ctx, req, &l)
		if err == nil && l.Kind != "Listing" {
			err = fmt.Errorf("%w: kind %q, want Listing", errNotListing, l.Kind)
		}
		if err == nil {
			return l, nil
		}
		if ctx.Err() != nil {
			return redditListing{}, fmt.Errorf("reddit: ingest r/%s: %w", spec, ctx.Err())
		}
		kind, wait, final := in.classify(err, attempt)
		if final != nil {
			return redditListing{}, final
		}
		if attempt >= in.cfg.MaxRetries {
			sentinel := ErrUnavailable
			if kind == waitRate {
				sentinel = ErrRateLimited
			}
			return redditListing{}, fmt.Errorf("%w: gave up after %d attempts: %w", sentinel, attempt+1, err)
		}
		if kind == waitRate && wait > in.cfg.MaxRateWait {
			return redditListing{}, fmt.Errorf("%w: asked to wait %v (more than MaxRateWait %v): %w", ErrRateLimited, wait, in.cfg.MaxRateWait, err)
		}
		in.log.Warn("ingest retry", "subreddit", spec, "attempt", attempt+1, "wait", wait, "error", err)
		sr.Retries++
		if err := in.sleep(ctx, wait); err != nil {
			return redditListing{}, fmt.Errorf("reddit: ingest r/%s: %w", spec, err)
		}
		if kind == waitRate {
			sr.RateLimitWait += wait
			in.tr.forget() // the wait Reddit asked for is served: pace on the next answer's headers
		} else {
			sr.BackoffWait += wait
		}
	}
}

// newerID reports whether fullname a is newer than b. Reddit ids are base-36
// counters, so a longer id is newer and equal lengths compare as strings.
// Every id is newer than "".
func newerID(a, b string) bool {
	a, b = strings.TrimPrefix(a, "t1_"), strings.TrimPrefix(b, "t1_")
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// redditListing is a /r/{sub}/comments answer: go-reddit v2.0.1 has no type
// for it.
type redditListing = redditlisting.Listing

// fromReddit is the Comment of a decoded Reddit comment, ingested at ingested.
func fromReddit(c redditlisting.Comment, ingested time.Time) corpus.Comment {
	return corpus.Comment{
		ID: c.Fullname(), Subreddit: c.Subreddit, Author: c.Author, Body: c.Body, Score: c.Score,
		Created: c.Created(), Ingested: ingested,
	}
}
