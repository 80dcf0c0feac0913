package fakereddit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Comment is one comment the fake serves. Only what a t1 listing carries.
type Comment struct {
	// ID is the base-36 id without the "t1_" prefix. AddComments assigns the
	// next id (larger than every id so far) when it is empty.
	ID string
	// Subreddit is set by AddComments to the subreddit it was added to.
	Subreddit string
	Author    string
	// Body is the raw markdown. The listing escapes &, < and > unless the
	// request asks for raw_json=1.
	Body  string
	Score int
	// Created defaults to the server clock at AddComments.
	Created time.Time
	// Edited is the zero time for a comment never edited; the listing then
	// says "edited": false, else the edit time in seconds.
	Edited        time.Time
	LinkID        string // "t3_…"; defaults to a fixed synthetic post
	ParentID      string // defaults to LinkID
	Distinguished string // "", "moderator", "admin"
}

// Fullname is the comment's Reddit fullname, "t1_" + ID.
func (c Comment) Fullname() string { return "t1_" + c.ID }

// Endpoint selects which requests a Fault applies to.
type Endpoint int

const (
	// Listing is every /r/{sub}/comments request.
	Listing Endpoint = iota
	// Token is every /api/v1/access_token request.
	Token
)

func (e Endpoint) String() string {
	if e == Token {
		return "token"
	}
	return "listing"
}

// FaultKind is what goes wrong.
type FaultKind int

const (
	// Status429 answers 429 Too Many Requests, with rate-limit headers
	// (remaining 0) when Fault.RateHeaders is set and Retry-After when
	// Fault.RetryAfter > 0.
	Status429 FaultKind = iota + 1
	// Status500 answers 500 Internal Server Error.
	Status500
	// Status503 answers 503 Service Unavailable (Retry-After when set).
	Status503
	// Hang never answers: the handler blocks until the client gives up
	// (closes the connection or cancels) or the server closes.
	Hang
	// MalformedJSON answers 200 with a body that is not JSON (an HTML
	// error page, as Reddit's CDN sends during outages).
	MalformedJSON
	// TruncatedJSON answers 200 with the first half of the real listing.
	TruncatedJSON
)

func (k FaultKind) String() string {
	switch k {
	case Status429:
		return "429"
	case Status500:
		return "500"
	case Status503:
		return "503"
	case Hang:
		return "hang"
	case MalformedJSON:
		return "malformed-json"
	case TruncatedJSON:
		return "truncated-json"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Fault is an injected failure. Faults are queued by SetFault; a request is
// checked against the first queued fault for its endpoint only.
type Fault struct {
	Endpoint Endpoint
	Kind     FaultKind
	// Skip is how many matching requests are served normally before the
	// fault starts.
	Skip int
	// Times is how many consecutive matching requests get the fault; 0
	// means every one until ClearFaults.
	Times int
	// RateHeaders adds X-Ratelimit-Used/Remaining(0)/Reset to a 429.
	RateHeaders bool
	// Reset is the X-Ratelimit-Reset sent with RateHeaders; 0 uses the time
	// left in the current window.
	Reset time.Duration
	// RetryAfter, when > 0, is sent as Retry-After (whole seconds, rounded
	// up) with a 429 or 503.
	RetryAfter time.Duration
}

// Credentials are what the token endpoint accepts. Empty fields are not
// checked.
type Credentials struct {
	ClientID, ClientSecret, Username, Password string
}

// Request is one request as the fake saw it.
type Request struct {
	Endpoint  Endpoint
	Method    string
	Path      string
	Query     map[string]string // first value of each parameter
	UserAgent string
	// Grant is the grant type of the bearer token used ("password",
	// "client_credentials"), "" without Authorization, or for token requests
	// the grant type requested.
	Grant  string
	Status int
	Fault  FaultKind // 0 when served normally
}

// Option configures New.
type Option func(*Server)

// WithClock makes the server read time from now (rate-limit window, default
// Created times). Default time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithRateLimit sets the fixed rate-limit window: limit requests per window.
// limit <= 0 turns the rate-limit headers and the 429 off.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(s *Server) { s.limit, s.window = limit, window }
}

// WithCredentials makes the token endpoint check the credentials and the
// listings require a bearer token it issued.
func WithCredentials(c Credentials) Option {
	return func(s *Server) { s.creds, s.requireAuth = c, true }
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	srv     *httptest.Server
	release chan struct{}
	now     func() time.Time

	mu          sync.Mutex
	comments    []Comment // ascending by numeric id
	subs        map[string]string
	status      map[string]int
	nextID      int64
	faults      []*Fault
	tokens      map[string]string // token → grant
	creds       Credentials
	requireAuth bool
	limit       int
	window      time.Duration
	windowEnd   time.Time
	used        int
	log         []Request
	listings    int
	onListing   func(n int, r *http.Request)
}

// firstID makes ids look like Reddit's (six base-36 digits and more).
const firstID = 36 * 36 * 36 * 36 * 36 * 10

// New starts a fake Reddit on a loopback port and closes it when tb ends.
// Default: no credentials required (any issued token or none is accepted),
// rate limit 600 requests per 600 s, real clock.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := Start(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Start is New for code without a testing.TB (examples, demos): the caller
// must Close the server.
func Start(opts ...Option) *Server {
	s := &Server{
		release: make(chan struct{}),
		now:     time.Now,
		subs:    map[string]string{},
		status:  map[string]int{},
		nextID:  firstID,
		tokens:  map[string]string{},
		limit:   600,
		window:  600 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/access_token", s.serveToken)
	mux.HandleFunc("/r/{sub}/{listing}", s.serveListing)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close releases hanging handlers and shuts the server down. Idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// URL is the server's root, without a trailing slash.
func (s *Server) URL() string { return s.srv.URL }

// BaseURL is the API base for reddit.WithBaseURL, with the trailing slash
// go-reddit needs to resolve relative paths under it.
func (s *Server) BaseURL() string { return s.srv.URL + "/" }

// TokenURL is the OAuth token endpoint for reddit.WithTokenURL.
func (s *Server) TokenURL() string { return s.srv.URL + "/api/v1/access_token" }

// Client is an HTTP client for the server (loopback only).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// AddSubreddit makes a subreddit exist, even without comments.
func (s *Server) AddSubreddit(sub string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addSubLocked(sub)
}

func (s *Server) addSubLocked(sub string) {
	if _, ok := s.subs[strings.ToLower(sub)]; !ok {
		s.subs[strings.ToLower(sub)] = sub
	}
}

// AddComments adds comments to sub as its newest and returns them with ids,
// subreddit and defaults filled in. An explicit ID must be new.
func (s *Server) AddComments(sub string, cs ...Comment) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addSubLocked(sub)
	out := make([]Comment, 0, len(cs))
	for _, c := range cs {
		c.Subreddit = s.subs[strings.ToLower(sub)]
		if c.ID == "" {
			c.ID = strconv.FormatInt(s.nextID, 36)
		}
		n, err := strconv.ParseInt(c.ID, 36, 64)
		if err != nil {
			panic(fmt.Sprintf("fakereddit: comment id %q is not base 36", c.ID))
		}
		if _, found := s.findLocked(c.ID); found {
			panic(fmt.Sprintf("fakereddit: comment id %q added twice", c.ID))
		}
		s.nextID = max(s.nextID, n+1)
		if c.Created.IsZero() {
			c.Created = s.now()
		}
		if c.LinkID == "" {
			c.LinkID = "t3_3fx2vw"
		}
		if c.ParentID == "" {
			c.ParentID = c.LinkID
		}
		i, _ := slices.BinarySearchFunc(s.comments, n, func(x Comment, n int64) int { return cmpInt(idNum(x.ID), n) })
		s.comments = slices.Insert(s.comments, i, c)
		out = append(out, c)
	}
	return out
}

// EditComment replaces a comment's body and stamps it edited; it reports
// whether the fullname ("t1_…" or bare id) exists.
func (s *Server) EditComment(fullname, body string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.findLocked(strings.TrimPrefix(fullname, "t1_"))
	if !ok {
		return false
	}
	s.comments[i].Body = body
	s.comments[i].Edited = s.now()
	return true
}

// Comments returns the comments of sub (a multi "a+b" too), newest first.
func (s *Server) Comments(sub string) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selectLocked(subSet(sub))
}

// SetSubredditStatus makes every listing of sub (alone or in a multi) answer
// code: 404 for a subreddit that does not exist, 403 for a private one. 0 or
// 200 restores it.
func (s *Server) SetSubredditStatus(sub string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 || code == http.StatusOK {
		delete(s.status, strings.ToLower(sub))
		return
	}
	s.status[strings.ToLower(sub)] = code
}

// SetFault queues a fault.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// OnListing runs hook(n, r) before the n-th listing request (1-based) is
// served, before its fault if any. nil removes it. The hook runs without the
// server's lock, so it may call the Server's methods (add comments, queue
// faults) or cancel the client's context.
func (s *Server) OnListing(hook func(n int, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onListing = hook
}

// Requests is the number of requests served so far, of every endpoint.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// Count is the number of requests served so far to endpoint e.
func (s *Server) Count(e Endpoint) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.log {
		if r.Endpoint == e {
			n++
		}
	}
	return n
}

// Log returns a copy of every request seen so far, in arrival order.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// takeFaultLocked returns the fault for this request to e, or nil.
func (s *Server) takeFaultLocked(e Endpoint) *Fault {
	for i, f := range s.faults {
		if f.Endpoint != e {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			return nil
		}
		g := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return &g
	}
	return nil
}

func (s *Server) record(r *http.Request, e Endpoint, grant string, status int, k FaultKind) {
	q := map[string]string{}
	for k, v := range r.URL.Query() {
		q[k] = v[0]
	}
	s.log = append(s.log, Request{
		Endpoint: e, Method: r.Method, Path: r.URL.Path, Query: q,
		UserAgent: r.UserAgent(), Grant: grant, Status: status, Fault: k,
	})
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	grant := r.PostForm.Get("grant_type")
	s.mu.Lock()
	f := s.takeFaultLocked(Token)
	if f != nil {
		s.record(r, Token, grant, faultStatus(f.Kind), f.Kind)
		s.mu.Unlock()
		s.serveFault(w, r, f, nil)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	status, body := http.StatusOK, ""
	switch {
	case r.Method != http.MethodPost:
		status, body = http.StatusMethodNotAllowed, `{"message": "Method Not Allowed", "error": 405}`
	case grant != "password" && grant != "client_credentials":
		status, body = http.StatusBadRequest, `{"error": "unsupported_grant_type"}`
	case s.creds.ClientID != "" && id != s.creds.ClientID, s.creds.ClientSecret != "" && secret != s.creds.ClientSecret:
		status, body = http.StatusUnauthorized, `{"message": "Unauthorized", "error": 401}`
	case grant == "password" && (s.creds.Username != "" && r.PostForm.Get("username") != s.creds.Username ||
		s.creds.Password != "" && r.PostForm.Get("password") != s.creds.Password):
		body = `{"error": "invalid_grant"}` // Reddit says 200 here
	default:
		tok := fmt.Sprintf("fake-%s-%d", grant, len(s.tokens)+1)
		s.tokens[tok] = grant
		body = fmt.Sprintf(`{"access_token": %q, "token_type": "bearer", "expires_in": 86400, "scope": "*"}`, tok)
	}
	s.record(r, Token, grant, status, 0)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func faultStatus(k FaultKind) int {
	switch k {
	case Status429:
		return http.StatusTooManyRequests
	case Status500:
		return http.StatusInternalServerError
	case Status503:
		return http.StatusServiceUnavailable
	case Hang:
		return 0
	}
	return http.StatusOK
}

// rateHeadersLocked counts one request against the window and sets the
// X-Ratelimit headers; it reports whether the window was already spent.
func (s *Server) rateHeadersLocked(h http.Header) (spent bool) {
	if s.limit <= 0 {
		return false
	}
	now := s.now()
	if !now.Before(s.windowEnd) {
		s.windowEnd, s.used = now.Add(s.window), 0
	}
	s.used++
	spent = s.used > s.limit
	setRate(h, min(s.used, s.limit), float64(max(s.limit-s.used, 0)), s.windowEnd.Sub(now))
	return spent
}

func setRate(h http.Header, used int, remaining float64, reset time.Duration) {
	h.Set("X-Ratelimit-Used", strconv.Itoa(used))
	h.Set("X-Ratelimit-Remaining", strconv.FormatFloat(remaining, 'f', 1, 64))
	h.Set("X-Ratelimit-Reset", strconv.Itoa(int(math.Ceil(reset.Seconds()))))
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, f *Fault, listing []byte) {
	h := w.Header()
	if f.RetryAfter > 0 && (f.Kind == Status429 || f.Kind == Status503) {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
	switch f.Kind {
	case Status429:
		if f.RateHeaders {
			s.mu.Lock()
			reset := f.Reset
			if reset == 0 {
				reset = max(s.windowEnd.Sub(s.now()), time.Second)
			}
			setRate(h, max(s.used, s.limit), 0, reset)
			s.mu.Unlock()
		} else {
			for _, k := range []string{"X-Ratelimit-Used", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
				h.Del(k)
			}
		}
		writeJSON(w, http.StatusTooManyRequests, `{"message": "Too Many Requests", "error": 429}`)
	case Status500:
		writeJSON(w, http.StatusInternalServerError, `{"message": "Internal Server Error", "error": 500}`)
	case Status503:
		h.Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>"))
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
	case MalformedJSON:
		h.Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("<!doctype html><html><title>Reddit - Our CDN was unable to reach our servers</title></html>"))
	case TruncatedJSON:
		if listing == nil {
			listing = []byte(`{"access_token": "fake-truncated", "token_type": "bearer", "expires_in": 86400}`)
		}
		writeJSON(w, http.StatusOK, string(listing[:len(listing)/2]))
	default:
		writeJSON(w, http.StatusInternalServerError, `{"message": "unknown fault", "error": 500}`)
	}
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *Server) serveListing(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.listings++
	n, hook := s.listings, s.onListing
	s.mu.Unlock()
	if hook != nil {
		hook(n, r)
	}

	s.mu.Lock()
	grant := ""
	if a := r.Header.Get("Authorization"); a != "" {
		g, ok := s.tokens[strings.TrimPrefix(a, "Bearer ")]
		if !ok {
			s.record(r, Listing, "invalid", http.StatusUnauthorized, 0)
			s.mu.Unlock()
			writeJSON(w, http.StatusUnauthorized, `{"message": "Unauthorized", "error": 401}`)
			return
		}
		grant = g
	}
	status, body := s.listingLocked(r, w.Header(), grant)
	f := s.takeFaultLocked(Listing)
	if f != nil {
		s.record(r, Listing, grant, faultStatus(f.Kind), f.Kind)
		s.mu.Unlock()
		s.serveFault(w, r, f, body)
		return
	}
	s.record(r, Listing, grant, status, 0)
	s.mu.Unlock()
	writeJSON(w, status, string(body))
}

// listingLocked builds the answer to a listing request.
func (s *Server) listingLocked(r *http.Request, h http.Header, grant string) (int, []byte) {
	if s.requireAuth && grant == "" {
		return http.StatusUnauthorized, []byte(`{"message": "Unauthorized", "error": 401}`)
	}
	if l := strings.TrimSuffix(r.PathValue("listing"), ".json"); l != "comments" || r.Method != http.MethodGet {
		return http.StatusNotFound, []byte(`{"message": "Not Found", "error": 404}`)
	}
	set := subSet(r.PathValue("sub"))
	for sub := range set {
		if code, ok := s.status[sub]; ok {
			if code == http.StatusForbidden {
				return code, []byte(`{"reason": "private", "message": "Forbidden", "error": 403}`)
			}
			return code, fmt.Appendf(nil, `{"message": %q, "error": %d}`, http.StatusText(code), code)
		}
		if _, ok := s.subs[sub]; !ok {
			return http.StatusNotFound, []byte(`{"message": "Not Found", "error": 404}`)
		}
	}
	if s.rateHeadersLocked(h) {
		return http.StatusTooManyRequests, []byte(`{"message": "Too Many Requests", "error": 429}`)
	}
	q := r.URL.Query()
	limit := 25
	if v, err := strconv.Atoi(q.Get("limit")); err == nil && v > 0 {
		limit = min(v, 100)
	}
	page, older, newer := s.pageLocked(set, q.Get("after"), q.Get("before"), limit)
	raw := q.Get("raw_json") == "1"

	var l listing
	l.Kind = "Listing"
	l.Data.Dist = len(page)
	l.Data.Children = make([]thing, 0, len(page))
	for _, c := range page {
		l.Data.Children = append(l.Data.Children, thing{Kind: "t1", Data: toJSON(c, raw)})
	}
	if len(page) > 0 {
		if older {
			a := page[len(page)-1].Fullname()
			l.Data.After = &a
		}
		if (q.Get("after") != "" || q.Get("before") != "") && newer {
			b := page[0].Fullname()
			l.Data.Before = &b
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return http.StatusInternalServerError, []byte(`{"message": "encode", "error": 500}`)
	}
	return http.StatusOK, bytes.TrimSpace(buf.Bytes())
}

// pageLocked picks one page of the listing of set (newest first): with
// after, the limit comments older than after; with before, the limit
// comments newer than before that are closest to it; else the newest limit.
// older and newer report whether the listing has comments beyond the page's
// last and first.
func (s *Server) pageLocked(set map[string]bool, after, before string, limit int) (page []Comment, older, newer bool) {
	in := func(i int) bool { return set[strings.ToLower(s.comments[i].Subreddit)] }
	if before != "" {
		b := idNum(strings.TrimPrefix(before, "t1_"))
		i, found := s.findLocked(strings.TrimPrefix(before, "t1_"))
		if found {
			i++
		}
		for ; i < len(s.comments); i++ {
			if !in(i) || idNum(s.comments[i].ID) <= b {
				continue
			}
			if len(page) == limit {
				newer = true
				break
			}
			page = append(page, s.comments[i])
		}
		if len(page) > 0 {
			oldest, _ := s.findLocked(page[0].ID)
			for j := oldest - 1; j >= 0; j-- {
				if in(j) {
					older = true
					break
				}
			}
		}
		slices.Reverse(page)
		return page, older, newer
	}
	start := len(s.comments) - 1
	if after != "" {
		i, _ := s.findLocked(strings.TrimPrefix(after, "t1_"))
		start = i - 1 // the comments before index i have smaller ids
	}
	i := start
	for ; i >= 0; i-- {
		if !in(i) {
			continue
		}
		if len(page) == limit {
			older = true
			break
		}
		page = append(page, s.comments[i])
	}
	for j := start + 1; j < len(s.comments) && len(page) > 0; j++ {
		if in(j) {
			newer = true
			break
		}
	}
	return page, older, newer
}

func (s *Server) selectLocked(set map[string]bool) []Comment {
	var out []Comment
	for i := len(s.comments) - 1; i >= 0; i-- {
		if set[strings.ToLower(s.comments[i].Subreddit)] {
			out = append(out, s.comments[i])
		}
	}
	return out
}

func (s *Server) findLocked(id string) (int, bool) {
	return slices.BinarySearchFunc(s.comments, idNum(id), func(x Comment, n int64) int { return cmpInt(idNum(x.ID), n) })
}

func subSet(spec string) map[string]bool {
	set := map[string]bool{}
	for _, p := range strings.Split(strings.ToLower(spec), "+") {
		if p != "" {
			set[p] = true
		}
	}
	return set
}

func idNum(id string) int64 {
	n, err := strconv.ParseInt(id, 36, 64)
	if err != nil {
		return -1
	}
	return n
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

type listing struct {
	Kind string `json:"kind"`
	Data struct {
		After     *string `json:"after"`
		Dist      int     `json:"dist"`
		Modhash   string  `json:"modhash"`
		GeoFilter string  `json:"geo_filter"`
		Children  []thing `json:"children"`
		Before    *string `json:"before"`
	} `json:"data"`
}

type thing struct {
	Kind string      `json:"kind"`
	Data commentJSON `json:"data"`
}

// commentJSON is the t1 data Reddit sends, in Reddit's field names.
type commentJSON struct {
	SubredditID           string  `json:"subreddit_id"`
	LinkTitle             string  `json:"link_title"`
	Replies               string  `json:"replies"` // "" without replies; never null
	Author                string  `json:"author"`
	AuthorFullname        string  `json:"author_fullname,omitempty"`
	Score                 int     `json:"score"`
	Ups                   int     `json:"ups"`
	Downs                 int     `json:"downs"`
	Body                  string  `json:"body"`
	BodyHTML              string  `json:"body_html"`
	Edited                any     `json:"edited"`
	Distinguished         *string `json:"distinguished"`
	Stickied              bool    `json:"stickied"`
	ID                    string  `json:"id"`
	Name                  string  `json:"name"`
	ParentID              string  `json:"parent_id"`
	LinkID                string  `json:"link_id"`
	Subreddit             string  `json:"subreddit"`
	SubredditNamePrefixed string  `json:"subreddit_name_prefixed"`
	Permalink             string  `json:"permalink"`
	Created               float64 `json:"created"`
	CreatedUTC            float64 `json:"created_utc"`
	Controversiality      int     `json:"controversiality"`
	Over18                bool    `json:"over_18"`
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func toJSON(c Comment, raw bool) commentJSON {
	body := c.Body
	bodyHTML := "<div class=\"md\"><p>" + htmlEscaper.Replace(c.Body) + "</p>\n</div>"
	bodyHTML = htmlEscaper.Replace(bodyHTML) // body_html is entity-escaped HTML even with raw_json=1
	if !raw {
		body = htmlEscaper.Replace(body)
		bodyHTML = htmlEscaper.Replace(bodyHTML)
	}
	j := commentJSON{
		SubredditID: "t5_2qh1i", LinkTitle: "A post", Author: c.Author,
		Score: c.Score, Ups: c.Score, Body: body, BodyHTML: bodyHTML,
		Edited: false, ID: c.ID, Name: c.Fullname(), ParentID: c.ParentID, LinkID: c.LinkID,
		Subreddit: c.Subreddit, SubredditNamePrefixed: "r/" + c.Subreddit,
		Permalink: "/r/" + c.Subreddit + "/comments/" + strings.TrimPrefix(c.LinkID, "t3_") + "/a_post/" + c.ID + "/",
		Created:   float64(c.Created.Unix()), CreatedUTC: float64(c.Created.Unix()),
	}
	if c.Author != "[deleted]" {
		j.AuthorFullname = "t2_" + strconv.FormatInt(int64(len(c.Author))*7919, 36)
	}
	if !c.Edited.IsZero() {
		j.Edited = float64(c.Edited.Unix())
	}
	if c.Distinguished != "" {
		d := c.Distinguished
		j.Distinguished = &d
	}
	return j
}
