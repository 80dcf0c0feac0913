package fakereddit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vartanbeno/go-reddit/v2/reddit"
)

type page struct {
	Data struct {
		After    *string `json:"after"`
		Before   *string `json:"before"`
		Children []struct {
			Kind string `json:"kind"`
			Data struct {
				Name, Body, Author, Subreddit string
				Edited                        any     `json:"edited"`
				Replies                       any     `json:"replies"`
				CreatedUTC                    float64 `json:"created_utc"`
			} `json:"data"`
		} `json:"children"`
	} `json:"data"`
}

func (p page) names() []string {
	var out []string
	for _, c := range p.Data.Children {
		out = append(out, c.Data.Name)
	}
	return out
}

func str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

// get fetches path from the fake through plain net/http and decodes a listing.
func get(t *testing.T, s *Server, path string) (page, *http.Response) {
	t.Helper()
	resp, err := s.Client().Get(s.URL() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var p page
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("GET %s: body is not a listing: %v\n%s", path, err, body)
		}
	}
	return p, resp
}

func addN(s *Server, sub string, n int) []string {
	var names []string
	for i := range n {
		c := s.AddComments(sub, Comment{Author: "u", Body: sub + " comment " + string(rune('a'+i%26))})
		names = append(names, c[0].Fullname())
	}
	return names
}

func reversed(xs []string) []string {
	ys := slices.Clone(xs)
	slices.Reverse(ys)
	return ys
}

// TestPaging: the listing is newest first and after/before/limit cut it as
// Reddit does; the anchors say whether there is more.
func TestPaging(t *testing.T) {
	s := New(t)
	names := addN(s, "golang", 7) // oldest first
	newest := reversed(names)     // the listing order

	tests := []struct {
		name               string
		query              string
		want               []string
		wantAfter, wantBef string
	}{
		{"default limit covers all", "", newest, "<null>", "<null>"},
		{"first page", "?limit=3", newest[:3], newest[2], "<null>"},
		{"second page", "?limit=3&after=" + newest[2], newest[3:6], newest[5], newest[3]},
		{"last page", "?limit=3&after=" + newest[5], newest[6:], "<null>", newest[6]},
		{"after the oldest is empty", "?limit=3&after=" + newest[6], nil, "<null>", "<null>"},
		{"before takes the closest newer", "?limit=2&before=" + newest[5], newest[3:5], newest[4], newest[3]},
		{"before the newest is empty", "?limit=2&before=" + newest[0], nil, "<null>", "<null>"},
		{"limit is capped at 100", "?limit=1000", newest, "<null>", "<null>"},
		{"nonsense limit is the default", "?limit=x", newest, "<null>", "<null>"},
		{".json suffix", ".json?limit=1", newest[:1], newest[0], "<null>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, resp := get(t, s, "/r/golang/comments"+tt.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			if got := p.names(); !slices.Equal(got, tt.want) {
				t.Errorf("names = %v, want %v", got, tt.want)
			}
			if got := str(p.Data.After); got != tt.wantAfter {
				t.Errorf("after = %s, want %s", got, tt.wantAfter)
			}
			if got := str(p.Data.Before); got != tt.wantBef {
				t.Errorf("before = %s, want %s", got, tt.wantBef)
			}
		})
	}
}

// TestMulti: "a+b" merges both subreddits newest first, case-insensitively,
// and an unknown part makes the multi a 404.
func TestMulti(t *testing.T) {
	s := New(t)
	a1 := s.AddComments("Alpha", Comment{Body: "a1"})[0]
	b1 := s.AddComments("beta", Comment{Body: "b1"})[0]
	a2 := s.AddComments("Alpha", Comment{Body: "a2"})[0]
	s.AddComments("gamma", Comment{Body: "g1"})
	p, resp := get(t, s, "/r/alpha+BETA/comments")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	want := []string{a2.Fullname(), b1.Fullname(), a1.Fullname()}
	if got := p.names(); !slices.Equal(got, want) {
		t.Errorf("multi = %v, want %v", got, want)
	}
	if got := p.Data.Children[0].Data.Subreddit; got != "Alpha" {
		t.Errorf("subreddit = %q, want the case it was added with, Alpha", got)
	}
	// paging one at a time through the multi skips gamma's comments
	var walked []string
	after := ""
	for range 5 {
		p, _ := get(t, s, "/r/alpha+beta/comments?limit=1&after="+after)
		walked = append(walked, p.names()...)
		if p.Data.After == nil {
			break
		}
		after = *p.Data.After
	}
	if !slices.Equal(walked, want) {
		t.Errorf("walked with after = %v, want %v", walked, want)
	}
	p, _ = get(t, s, "/r/alpha+beta/comments?limit=1&before="+a1.Fullname())
	if got := p.names(); !slices.Equal(got, want[1:2]) || str(p.Data.After) != b1.Fullname() || str(p.Data.Before) != b1.Fullname() {
		t.Errorf("before a1 = %v after %s before %s, want [%s] with both anchors", got, str(p.Data.After), str(p.Data.Before), b1.Fullname())
	}
	if _, resp := get(t, s, "/r/alpha+nope/comments"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("multi with an unknown part: status %d, want 404", resp.StatusCode)
	}
}

// TestRawJSON: bodies come HTML-escaped unless raw_json=1; replies is "" and
// edited is false or a time.
func TestRawJSON(t *testing.T) {
	s := New(t)
	c := s.AddComments("x", Comment{Body: `Tom & Jerry <3 "quotes" > you`})[0]
	tests := []struct{ query, want string }{
		{"", `Tom &amp; Jerry &lt;3 "quotes" &gt; you`},
		{"?raw_json=0", `Tom &amp; Jerry &lt;3 "quotes" &gt; you`},
		{"?raw_json=1", `Tom & Jerry <3 "quotes" > you`},
	}
	for _, tt := range tests {
		p, _ := get(t, s, "/r/x/comments"+tt.query)
		if got := p.Data.Children[0].Data.Body; got != tt.want {
			t.Errorf("%q: body = %q, want %q", tt.query, got, tt.want)
		}
		if got := p.Data.Children[0].Data.Replies; got != "" {
			t.Errorf("replies = %#v, want \"\"", got)
		}
		if got := p.Data.Children[0].Data.Edited; got != false {
			t.Errorf("edited = %#v, want false", got)
		}
	}
	if !s.EditComment(c.Fullname(), "new body") {
		t.Fatal("EditComment of an existing comment said false")
	}
	if s.EditComment("t1_zzzzzzz", "x") {
		t.Error("EditComment of a missing comment said true")
	}
	p, _ := get(t, s, "/r/x/comments?raw_json=1")
	if got := p.Data.Children[0].Data; got.Body != "new body" || got.Edited == false {
		t.Errorf("after edit: body %q edited %#v, want new body and a time", got.Body, got.Edited)
	}
}

// TestStatus: 404 and 403 subreddits, and an unknown subreddit is a 404.
func TestStatus(t *testing.T) {
	s := New(t)
	s.AddSubreddit("empty")
	s.AddSubreddit("secret")
	s.SetSubredditStatus("secret", http.StatusForbidden)
	s.AddSubreddit("gone")
	s.SetSubredditStatus("gone", http.StatusNotFound)
	tests := []struct {
		path string
		want int
	}{
		{"/r/empty/comments", 200},
		{"/r/secret/comments", 403},
		{"/r/gone/comments", 404},
		{"/r/never/comments", 404},
		{"/r/empty/hot", 404},
	}
	for _, tt := range tests {
		p, resp := get(t, s, tt.path)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.path, resp.StatusCode, tt.want)
		}
		if tt.want == 200 && len(p.Data.Children) != 0 {
			t.Errorf("%s: %d children, want 0", tt.path, len(p.Data.Children))
		}
	}
	s.SetSubredditStatus("secret", 0)
	if _, resp := get(t, s, "/r/secret/comments"); resp.StatusCode != 200 {
		t.Errorf("restored subreddit: status %d, want 200", resp.StatusCode)
	}
}

// TestRateLimit: headers count down in a window on the injected clock, the
// request after the last one is a 429, and the window resets with the clock.
func TestRateLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s := New(t, WithRateLimit(3, 10*time.Second), WithClock(func() time.Time { return now }))
	s.AddSubreddit("x")
	type hdr struct {
		status                 int
		used, remaining, reset string
	}
	step := func() hdr {
		_, resp := get(t, s, "/r/x/comments")
		h := resp.Header
		return hdr{resp.StatusCode, h.Get("X-Ratelimit-Used"), h.Get("X-Ratelimit-Remaining"), h.Get("X-Ratelimit-Reset")}
	}
	want := []hdr{
		{200, "1", "2.0", "10"},
		{200, "2", "1.0", "10"},
		{200, "3", "0.0", "10"},
		{429, "3", "0.0", "10"},
	}
	for i, w := range want {
		if got := step(); got != w {
			t.Errorf("request %d: %+v, want %+v", i+1, got, w)
		}
	}
	now = now.Add(4 * time.Second)
	if got, w := step(), (hdr{429, "3", "0.0", "6"}); got != w {
		t.Errorf("4 s later: %+v, want %+v", got, w)
	}
	now = now.Add(6 * time.Second)
	if got, w := step(), (hdr{200, "1", "2.0", "10"}); got != w {
		t.Errorf("after the window: %+v, want %+v", got, w)
	}
}

// TestFaults: queued faults hit the right endpoint, after Skip, Times times,
// in order; a hang ends when the client gives up.
func TestFaults(t *testing.T) {
	s := New(t)
	s.AddComments("x", Comment{Body: "one"}, Comment{Body: "two"})
	s.SetFault(Fault{Endpoint: Token, Kind: Status500}) // never consulted by listings
	s.SetFault(Fault{Endpoint: Listing, Kind: Status503, Skip: 1, Times: 2, RetryAfter: 1500 * time.Millisecond})
	s.SetFault(Fault{Endpoint: Listing, Kind: Status429, Times: 1, RateHeaders: true, Reset: 7 * time.Second})
	s.SetFault(Fault{Endpoint: Listing, Kind: Status429, Times: 1})
	s.SetFault(Fault{Endpoint: Listing, Kind: MalformedJSON, Times: 1})
	s.SetFault(Fault{Endpoint: Listing, Kind: TruncatedJSON, Times: 1})
	type res struct {
		status                       int
		retryAfter, remaining, reset string
		decodes                      bool
	}
	want := []res{
		{200, "", "599.0", "600", true}, // skipped
		{503, "2", "598.0", "600", false},
		{503, "2", "597.0", "600", false},
		{429, "", "0.0", "7", false},
		{429, "", "", "", false}, // no rate-limit headers at all
		{200, "", "594.0", "600", false},
		{200, "", "593.0", "600", false},
		{200, "", "592.0", "600", true},
	}
	for i, w := range want {
		resp, err := s.Client().Get(s.URL() + "/r/x/comments")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p page
		got := res{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("X-Ratelimit-Remaining"),
			resp.Header.Get("X-Ratelimit-Reset"), json.Unmarshal(body, &p) == nil && len(p.Data.Children) == 2}
		if got != w {
			t.Errorf("request %d: %+v, want %+v (body %.80s)", i+1, got, w, body)
		}
	}
	if got, want := s.Count(Listing), 8; got != want {
		t.Errorf("Count(Listing) = %d, want %d", got, want)
	}

	// a hanging listing returns when the client times out, not later
	s.SetFault(Fault{Endpoint: Listing, Kind: Hang})
	c := &http.Client{Timeout: 100 * time.Millisecond}
	start := time.Now()
	_, err := c.Get(s.URL() + "/r/x/comments")
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Errorf("hanging listing: err = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("hang outlived the client timeout: %v", d)
	}
	s.ClearFaults()
	if _, resp := get(t, s, "/r/x/comments"); resp.StatusCode != 200 {
		t.Errorf("after ClearFaults: status %d", resp.StatusCode)
	}
}

// TestGoReddit drives the fake through go-reddit's password grant, checks the
// token's grant reaches the listing, the User-Agent, bad credentials, and that
// OnListing sees each listing request.
func TestGoReddit(t *testing.T) {
	creds := Credentials{ClientID: "id", ClientSecret: "secret", Username: "bob", Password: "pw"}
	s := New(t, WithCredentials(creds))
	s.AddComments("x", Comment{Body: "hi", Author: "alice"})
	var seen []int
	s.OnListing(func(n int, r *http.Request) { seen = append(seen, n) })

	newClient := func(c reddit.Credentials) *reddit.Client {
		cl, err := reddit.NewClient(c, reddit.WithBaseURL(s.BaseURL()), reddit.WithTokenURL(s.TokenURL()),
			reddit.WithUserAgent("test:fakereddit:v0 (by /u/bob)"),
			reddit.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	fetch := func(cl *reddit.Client) (page, error) {
		req, err := cl.NewRequest(http.MethodGet, "r/x/comments?raw_json=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		var p page
		_, err = cl.Do(context.Background(), req, &p)
		return p, err
	}

	p, err := fetch(newClient(reddit.Credentials{ID: "id", Secret: "secret", Username: "bob", Password: "pw"}))
	if err != nil {
		t.Fatalf("good credentials: %v", err)
	}
	if got := p.names(); len(got) != 1 || p.Data.Children[0].Data.Author != "alice" {
		t.Errorf("listing = %v", got)
	}
	log := s.Log()
	if len(log) != 2 || log[0].Endpoint != Token || log[0].Grant != "password" || log[1].Grant != "password" ||
		log[1].UserAgent != "test:fakereddit:v0 (by /u/bob)" || log[1].Query["raw_json"] != "1" {
		t.Errorf("log = %+v", log)
	}
	if _, err := fetch(newClient(reddit.Credentials{ID: "id", Secret: "wrong", Username: "bob", Password: "pw"})); err == nil ||
		!strings.Contains(err.Error(), "401") {
		t.Errorf("wrong secret: err = %v, want a 401 from the token endpoint", err)
	}
	if _, err := fetch(newClient(reddit.Credentials{ID: "id", Secret: "secret", Username: "bob", Password: "nope"})); err == nil ||
		!strings.Contains(err.Error(), "invalid_grant") {
		t.Errorf("wrong password: err = %v, want invalid_grant", err)
	}
	// without a token the listing is refused when credentials are required
	if _, resp := get(t, s, "/r/x/comments"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: status %d, want 401", resp.StatusCode)
	}
	if !slices.Equal(seen, []int{1, 2}) {
		t.Errorf("OnListing saw %v, want [1 2]", seen)
	}
}
