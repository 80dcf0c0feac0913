package reddit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"commentbot/text"
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

// withDefaults returns cfg with its subreddits canonical and every zero
// field at its default, or every problem at once, each wrapping ErrConfig.
func (cfg Config) withDefaults() (Config, error) {
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
		return cfg, err
	}
	if cfg.BaseURL != "" && !strings.HasSuffix(cfg.BaseURL, "/") {
		cfg.BaseURL += "/" // go-reddit resolves "r/x/comments" against it: without the slash the last segment is lost
	}
	return cfg, nil
}
