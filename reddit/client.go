package reddit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goreddit "github.com/vartanbeno/go-reddit/v2/reddit"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

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
