package reddit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goreddit "github.com/vartanbeno/go-reddit/v2/reddit"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"commentbot/corpus"
	"commentbot/internal/redditlisting"
	"commentbot/store"
	"commentbot/text"
)

// Errors of the ingester. Each wraps the underlying cause (an HTTP status, a
// network error) when there is one.
var (
	// ErrConfig means an Config is unusable (the message says which field and why).
	ErrConfig = errors.New("reddit: invalid ingest config")
	// ErrSubredditNotFound is Reddit's 404 for a subreddit listing: it does not exist or is banned.
	ErrSubredditNotFound = errors.New("reddit: subreddit not found")
	// ErrSubredditForbidden is Reddit's 403: the subreddit is private or quarantined.
	ErrSubredditForbidden = errors.New("reddit: subreddit forbidden")
	// ErrAuth means the credentials were refused (token endpoint 4xx, or 401 on a listing).
	ErrAuth = errors.New("reddit: reddit authentication failed")
	// ErrUnavailable means retries ran out on 5xx, timeouts, network errors or bad JSON.
	ErrUnavailable = errors.New("reddit: reddit unavailable")
	// ErrRateLimited means Reddit asked for a wait longer than Config.MaxRateWait,
	// or 429s outlasted the retries. The cursor is kept; the next run continues.
	ErrRateLimited = errors.New("reddit: reddit rate limit")
	// ErrResponse is an answer the ingester does not understand (not a Listing, other 4xx).
	ErrResponse = errors.New("reddit: unexpected reddit response")
)

// Defaults of Config.
const (
	DefaultMaxPerRun   = 1000
	DefaultPageSize    = 100 // Reddit's maximum for limit
	DefaultTimeout     = 30 * time.Second
	DefaultMaxRetries  = 4
	DefaultBackoffBase = time.Second
	DefaultBackoffMax  = time.Minute
	DefaultMaxRateWait = 10 * time.Minute
	DefaultLowWater    = 10
	DefaultVersion     = "0.1.0"

	redditTokenURL     = "https://www.reddit.com/api/v1/access_token"
	redditOAuthBaseURL = "https://oauth.reddit.com/"
	// go-reddit appends ".json" to listing paths only on this exact host
	// (www.reddit.com would answer HTML); reddit.com redirects to www.
	redditReadonlyBaseURL = "https://reddit.com/"
)

// Credentials are the Reddit API credentials. Callers fill them from
// the environment (CredentialsFromEnv); they are never read from the
// config file nor logged.
type Credentials struct {
	ClientID, ClientSecret string // the app's id and secret (reddit.com/prefs/apps)
	Username, Password     string // a script app's own account, for the password grant
}

// CredentialsFromEnv reads REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET,
// REDDIT_USERNAME and REDDIT_PASSWORD through getenv (os.Getenv in main).
func CredentialsFromEnv(getenv func(string) string) Credentials {
	return Credentials{
		ClientID: getenv("REDDIT_CLIENT_ID"), ClientSecret: getenv("REDDIT_CLIENT_SECRET"),
		Username: getenv("REDDIT_USERNAME"), Password: getenv("REDDIT_PASSWORD"),
	}
}

// AuthMode is how the ingester authenticates.
type AuthMode string

const (
	// AuthPassword: a script app's client id and secret plus its account's
	// username and password (OAuth password grant, go-reddit's NewClient).
	AuthPassword AuthMode = "password"
	// AuthAppOnly: client id and secret only (OAuth client_credentials grant,
	// application-only access, read-only).
	AuthAppOnly AuthMode = "app-only"
	// AuthReadonly: no credentials; unauthenticated requests to reddit.com
	// (go-reddit's NewReadonlyClient), with Reddit's lower rate limit.
	AuthReadonly AuthMode = "readonly"
)

// Mode picks the auth mode the credentials allow: all four fields →
// AuthPassword, id and secret → AuthAppOnly, else AuthReadonly.
func (c Credentials) Mode() AuthMode {
	switch {
	case c.ClientID != "" && c.ClientSecret != "" && c.Username != "" && c.Password != "":
		return AuthPassword
	case c.ClientID != "" && c.ClientSecret != "":
		return AuthAppOnly
	}
	return AuthReadonly
}

// String hides the secrets, so that a credentials value logged by accident
// leaks nothing.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{mode: %s, client_id set: %t, username: %q}", c.Mode(), c.ClientID != "", c.Username)
}

// UserAgent is a User-Agent in the form Reddit's API rules ask for:
// "<platform>:<app ID>:<version> (by /u/<username>)"; without a username the
// "(by …)" part is left out.
func UserAgent(appID, version, username string) string {
	ua := runtime.GOOS + ":" + appID + ":" + version
	if username != "" {
		ua += " (by /u/" + username + ")"
	}
	return ua
}

// Config configures an Ingester. Zero fields take the defaults above.
type Config struct {
	// Subreddits are names ("golang") or multis ("golang+rust"), with or
	// without "r/". Each is one listing with its own cursor.
	Subreddits []string
	// MaxPerRun caps, per subreddit and run, the listing entries fetched
	// that are newer than the stored newest comment (default 1000, about
	// what Reddit's listing keeps). A pass cut by the cap is continued by
	// the next run.
	MaxPerRun int
	// PageSize is the listing limit per request, 1…100 (default 100).
	PageSize int
	// UserAgent overrides the whole User-Agent; default
	// UserAgent("commentbot", Version, Credentials.Username).
	UserAgent string
	// Version goes into the default User-Agent (default "0.1.0").
	Version string
	// BaseURL and TokenURL point the client elsewhere (tests use
	// fakereddit). Defaults: https://oauth.reddit.com/ with credentials,
	// https://reddit.com/ (JSON through ".json") without; Reddit's token
	// endpoint https://www.reddit.com/api/v1/access_token.
	BaseURL, TokenURL string
	// Timeout bounds every HTTP request, the token fetch included (the
	// library fetches tokens without the caller's context). Default 30 s.
	Timeout time.Duration
	// MaxRetries is how many times one request is retried after a 429, a
	// 5xx, a timeout, a network error or an unreadable answer (default 4;
	// negative: no retry).
	MaxRetries int
	// BackoffBase and BackoffMax shape the retry waits: attempt n waits
	// d = min(BackoffMax, BackoffBase·2ⁿ), jittered uniformly in [d/2, d]
	// (defaults 1 s and 1 min).
	BackoffBase, BackoffMax time.Duration
	// MaxRateWait is the longest single wait for Reddit's rate limit; a
	// longer Retry-After or reset stops the subreddit's run with
	// ErrRateLimited (default 10 min).
	MaxRateWait time.Duration
	// RateLowWater: when X-Ratelimit-Remaining falls below it, requests are
	// spaced by (reset − now)/remaining so the window is never spent before
	// it resets (default 10).
	RateLowWater int
	// Credentials select the auth mode (see Credentials.Mode).
	Credentials Credentials
	// Rules clean each comment; nil means DefaultCleanRules().
	Rules *text.CleanRules
}

// Deps are the ingester's collaborators; zero fields get real ones.
type Deps struct {
	Logger *slog.Logger // default: discard
	// Source jitters backoffs. Default: a PCG seeded from the clock. Only
	// the Run in progress uses it (runs are serialized).
	Source rand.Source
	// Now is the clock (default time.Now); Sleep waits d or until ctx is
	// done, returning ctx.Err() then (default: a timer). Tests inject a fake
	// pair so that no test really waits for a rate limit.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Transport is the HTTP transport under the timeouts (default: a clone of
	// http.DefaultTransport).
	Transport http.RoundTripper
}

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

var subredditSpec = regexp.MustCompile(`^[a-z0-9_]{2,21}(\+[a-z0-9_]{2,21})*$`)

// CanonicalSubreddit lower-cases a subreddit or multi spec, drops a leading
// "r/" or "/r/", and sorts a multi's parts, so that "r/Rust+golang" and
// "golang+rust" share one cursor. It fails with ErrConfig on anything
// that is not a valid name.
func CanonicalSubreddit(spec string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(spec))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "/"), "r/")
	s = strings.TrimSuffix(s, "/")
	parts := strings.Split(s, "+")
	slices.Sort(parts)
	parts = slices.Compact(parts)
	s = strings.Join(parts, "+")
	if !subredditSpec.MatchString(s) {
		return "", fmt.Errorf("%w: subreddit %q: want names of 2–21 letters, digits or _, joined by +", ErrConfig, spec)
	}
	return s, nil
}

// CursorSource is the Store cursor key of a canonical subreddit spec.
func CursorSource(canonical string) string { return "reddit:r/" + canonical }

// NewIngester checks cfg, fills defaults and builds the go-reddit client for
// the auth mode the credentials allow. No request is made until Run.
func NewIngester(cfg Config, st store.Store, deps Deps) (*Ingester, error) {
	if st == nil {
		return nil, fmt.Errorf("%w: nil store", ErrConfig)
	}
	var problems []error
	bad := func(field, why string) {
		problems = append(problems, fmt.Errorf("%w: %s: %s", ErrConfig, field, why))
	}
	cfg.Subreddits = slices.Clone(cfg.Subreddits) // canonicalized below; the caller's slice stays as it was
	for i, s := range cfg.Subreddits {
		c, err := CanonicalSubreddit(s)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		cfg.Subreddits[i] = c
	}
	def := func(p *time.Duration, d time.Duration, field string) {
		switch {
		case *p < 0:
			bad(field, "negative")
		case *p == 0:
			*p = d
		}
	}
	def(&cfg.Timeout, DefaultTimeout, "Timeout")
	def(&cfg.BackoffBase, DefaultBackoffBase, "BackoffBase")
	def(&cfg.BackoffMax, DefaultBackoffMax, "BackoffMax")
	def(&cfg.MaxRateWait, DefaultMaxRateWait, "MaxRateWait")
	switch {
	case cfg.MaxPerRun < 0:
		bad("MaxPerRun", "negative")
	case cfg.MaxPerRun == 0:
		cfg.MaxPerRun = DefaultMaxPerRun
	}
	switch {
	case cfg.PageSize < 0 || cfg.PageSize > 100:
		bad("PageSize", "must be 1…100 (Reddit's limit)")
	case cfg.PageSize == 0:
		cfg.PageSize = DefaultPageSize
	}
	switch {
	case cfg.MaxRetries == 0:
		cfg.MaxRetries = DefaultMaxRetries
	case cfg.MaxRetries < 0:
		cfg.MaxRetries = 0
	}
	if cfg.RateLowWater <= 0 {
		cfg.RateLowWater = DefaultLowWater
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	for _, u := range []struct{ field, v string }{{"BaseURL", cfg.BaseURL}, {"TokenURL", cfg.TokenURL}} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad(u.field, fmt.Sprintf("%q is not an http(s) URL", u.v))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if cfg.BaseURL != "" && !strings.HasSuffix(cfg.BaseURL, "/") {
		cfg.BaseURL += "/" // go-reddit resolves "r/x/comments" against it: without the slash the last segment is lost
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

// newClient builds the go-reddit client for the credentials' mode. Every
// request, token fetches included, goes through in.tr (timeouts, User-Agent,
// rate-limit headers).
func (in *Ingester) newClient() (*goreddit.Client, error) {
	cfg := in.cfg
	hc := &http.Client{Transport: in.tr}
	opts := []goreddit.Opt{goreddit.WithUserAgent(in.ua)}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = redditTokenURL
	}
	switch cfg.Credentials.Mode() {
	case AuthPassword:
		base := cfg.BaseURL
		if base == "" {
			base = redditOAuthBaseURL
		}
		opts = append(opts, goreddit.WithHTTPClient(hc), goreddit.WithBaseURL(base), goreddit.WithTokenURL(tokenURL))
		c := cfg.Credentials
		return goreddit.NewClient(goreddit.Credentials{ID: c.ClientID, Secret: c.ClientSecret, Username: c.Username, Password: c.Password}, opts...)
	case AuthAppOnly:
		base := cfg.BaseURL
		if base == "" {
			base = redditOAuthBaseURL
		}
		cc := &clientcredentials.Config{
			ClientID: cfg.Credentials.ClientID, ClientSecret: cfg.Credentials.ClientSecret,
			TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader,
		}
		// The token source keeps this context for every refresh; it carries
		// only the HTTP client (with in.tr's timeout), never a deadline.
		tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
		opts = append(opts, goreddit.WithHTTPClient(cc.Client(tokenCtx)), goreddit.WithBaseURL(base))
		return goreddit.NewReadonlyClient(opts...)
	default:
		base := cfg.BaseURL
		if base == "" {
			base = redditReadonlyBaseURL
		}
		opts = append(opts, goreddit.WithHTTPClient(hc), goreddit.WithBaseURL(base))
		return goreddit.NewReadonlyClient(opts...)
	}
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

var errNotListing = errors.New("not a listing")

type waitKind int

const (
	waitBackoff waitKind = iota
	waitRate
)

// classify says whether err is worth a retry and how long to wait first;
// final is the error to return when it is not.
func (in *Ingester) classify(err error, attempt int) (kind waitKind, wait time.Duration, final error) {
	var (
		er   *goreddit.ErrorResponse
		rl   *goreddit.RateLimitError
		je   *goreddit.JSONErrorResponse
		re   *oauth2.RetrieveError
		se   *json.SyntaxError
		te   *json.UnmarshalTypeError
		nerr net.Error
	)
	switch {
	case errors.As(err, &re): // the token endpoint said no
		if re.Response != nil && (re.Response.StatusCode == http.StatusTooManyRequests || re.Response.StatusCode >= 500) {
			code := re.Response.StatusCode
			return in.rateOrBackoff(code, re.Response.Header, attempt)
		}
		return 0, 0, fmt.Errorf("%w: token endpoint: %w", ErrAuth, err)
	case errors.As(err, &er):
		code := er.Response.StatusCode
		switch {
		case code == http.StatusTooManyRequests || code >= 500:
			return in.rateOrBackoff(code, er.Response.Header, attempt)
		case code == http.StatusNotFound:
			return 0, 0, fmt.Errorf("%w: %w", ErrSubredditNotFound, err)
		case code == http.StatusForbidden:
			return 0, 0, fmt.Errorf("%w: %w", ErrSubredditForbidden, err)
		case code == http.StatusUnauthorized:
			return 0, 0, fmt.Errorf("%w: %w", ErrAuth, err)
		}
		return 0, 0, fmt.Errorf("%w: %w", ErrResponse, err)
	case errors.As(err, &rl):
		// go-reddit's own guard; the transport hides the headers it reads,
		// so this only happens if Reddit's header names change.
		return in.rateOrBackoff(http.StatusTooManyRequests, nil, attempt)
	case errors.As(err, &je):
		return 0, 0, fmt.Errorf("%w: %w", ErrResponse, err)
	case errors.As(err, &se), errors.As(err, &te), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, errNotListing):
		return waitBackoff, in.backoff(attempt), nil // truncated or garbled answer: fetch it again
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &nerr):
		return waitBackoff, in.backoff(attempt), nil // per-request timeout, connection trouble
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return waitBackoff, in.backoff(attempt), nil
	}
	return 0, 0, fmt.Errorf("%w: %w", ErrResponse, err)
}

// rateOrBackoff: a 429 waits for Retry-After, else until the window's reset
// when the answer said the window is spent, else backs off; a 5xx honours
// Retry-After (Reddit's 503s may send it) or backs off.
func (in *Ingester) rateOrBackoff(code int, h http.Header, attempt int) (waitKind, time.Duration, error) {
	if d, ok := retryAfter(h, in.now()); ok {
		if code == http.StatusTooManyRequests {
			return waitRate, d, nil
		}
		return waitBackoff, d, nil
	}
	if code == http.StatusTooManyRequests {
		if last := in.tr.lastRate(); last.ok && last.remaining <= 0 && last.reset.After(in.now()) {
			return waitRate, last.reset.Sub(in.now()), nil
		}
		return waitRate, in.backoff(attempt), nil
	}
	return waitBackoff, in.backoff(attempt), nil
}

// backoff is min(BackoffMax, BackoffBase·2^attempt) jittered uniformly in [d/2, d].
func (in *Ingester) backoff(attempt int) time.Duration {
	d := in.cfg.BackoffMax
	if attempt < 30 {
		d = min(d, in.cfg.BackoffBase<<attempt)
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + time.Duration(in.rnd.Int64N(int64(d-half)+1))
}

// pace waits before a request when the last known X-Ratelimit-Remaining is
// below RateLowWater: (reset − now)/remaining, or until the reset when
// nothing remains.
func (in *Ingester) pace(ctx context.Context, sr *SubredditReport) error {
	r := in.tr.knownRate()
	now := in.now()
	if !r.ok || r.remaining >= float64(in.cfg.RateLowWater) || !r.reset.After(now) {
		return nil
	}
	wait := r.reset.Sub(now)
	if r.remaining >= 1 {
		wait = time.Duration(float64(wait) / r.remaining)
	}
	if wait > in.cfg.MaxRateWait {
		return fmt.Errorf("%w: window spent, resets in %v (more than MaxRateWait %v)", ErrRateLimited, wait, in.cfg.MaxRateWait)
	}
	if err := in.sleep(ctx, wait); err != nil {
		return fmt.Errorf("reddit: ingest: %w", err)
	}
	sr.RateLimitWait += wait
	in.tr.spend() // the wait bought this request; don't wait for it again if no answer comes
	return nil
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
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

// ingestTransport is the bottom of the client's transport stack: a deadline
// for every request (go-reddit fetches tokens with context.Background(), so
// only this bounds a hanging token endpoint), the User-Agent, a request
// count, and the X-Ratelimit headers.
//
// The rate-limit headers are read here and removed from the response: go-reddit
// turns any answer with X-Ratelimit-Remaining: 0 into an error — a good page
// included — and then refuses requests on its own wall clock until the reset;
// the ingester paces itself on its injected clock instead.
type ingestTransport struct {
	base     http.RoundTripper
	timeout  time.Duration
	ua       string
	now      func() time.Time
	requests atomic.Int64

	mu    sync.Mutex
	last  rateObs // of the last response (ok false when it had no headers)
	known rateObs // the last response that had headers
}

type rateObs struct {
	ok        bool
	remaining float64
	used      int
	reset     time.Time
}

func (t *ingestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	r2 := req.Clone(ctx)
	if t.ua != "" {
		r2.Header.Set("User-Agent", t.ua) // the token requests of clientcredentials have none
	}
	resp, err := t.base.RoundTrip(r2)
	if err != nil {
		cancel()
		return nil, err
	}
	t.observe(resp.Header)
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (t *ingestTransport) observe(h http.Header) {
	var o rateObs
	if rem := h.Get("X-Ratelimit-Remaining"); rem != "" {
		if v, err := strconv.ParseFloat(rem, 64); err == nil {
			o.ok, o.remaining = true, v
		}
		o.used, _ = strconv.Atoi(h.Get("X-Ratelimit-Used"))
		if s, err := strconv.ParseFloat(h.Get("X-Ratelimit-Reset"), 64); err == nil {
			o.reset = t.now().Add(time.Duration(s * float64(time.Second)))
		}
	}
	for _, k := range []string{"X-Ratelimit-Remaining", "X-Ratelimit-Used", "X-Ratelimit-Reset"} {
		h.Del(k)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last = o
	if o.ok {
		t.known = o
	}
}

func (t *ingestTransport) lastRate() rateObs {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

func (t *ingestTransport) knownRate() rateObs {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.known
}

// spend counts one request against the known window until the next answer
// says otherwise.
func (t *ingestTransport) spend() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.known.ok && t.known.remaining > 0 {
		t.known.remaining--
	}
}

// forget drops the known window, after a 429's wait has been served.
func (t *ingestTransport) forget() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.known, t.last = rateObs{}, rateObs{}
}

// cancelBody releases the request's deadline when the body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
