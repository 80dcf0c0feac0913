package bot

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"commentbot/internal/fakediscord"

	"github.com/bwmarrin/discordgo"
)

// startPoster starts a fake Discord (REST only, no gateway: the HTTP-interactions
// deployment) and returns a Poster of a bot with cfg and opts. Not parallel-safe.
func startPoster(t *testing.T, cfg Config, opts Options) (*fakediscord.Server, *Poster) {
	t.Helper()
	fake := fakediscord.Start(fakediscord.Options{})
	t.Cleanup(fake.Close)
	t.Cleanup(fake.Install())
	b, err := New(cfg, newFakeGen(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	p, err := b.Poster(testToken)
	if err != nil {
		t.Fatalf("Poster: %v", err)
	}
	t.Cleanup(p.calls.Wait) // runs first: no call outlives the fake or the endpoints
	return fake, p
}

// channelStatuses lists the statuses the fake answered to POST /channels/{id}/messages.
func channelStatuses(fake *fakediscord.Server, channelID string) []int {
	var out []int
	for _, r := range fake.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/channels/"+channelID+"/messages") {
			out = append(out, r.Status)
		}
	}
	return out
}

// Tried: posts whose text pings @everyone and a user, holds filtered words in several
// cases and as a possessive, is padded with white space, is 3000 two-byte characters,
// and is 1999 ASCII letters followed by 1001 four-byte emoji. Survives: each arrives
// once, as one JSON request, with allowed_mentions {"parse": []}; filtered words are
// masked as whole words; the long ones are cut to exactly 2000 valid characters
// ending in "…" without splitting a multi-byte character.
func TestPostSafety(t *testing.T) {
	cfg := testConfig()
	cfg.WordFilter = []string{"heck", "Darn"}
	fake, p := startPoster(t, cfg, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for n, tc := range []struct {
		name, text, want string
	}{
		{"pings", "@everyone look <@123> and <@&456> here", "@everyone look <@123> and <@&456> here"},
		{"filtered words", "what the HECK, heck's darn checked Darned heck", "what the [expletive], [expletive]'s [expletive] checked Darned [expletive]"},
		{"white space", " \n hello there\t\n", "hello there"},
		{"3000 two-byte chars", strings.Repeat("é", 3000), strings.Repeat("é", MaxMessageRunes-1) + "…"},
		{"cut before an emoji", strings.Repeat("a", 1999) + strings.Repeat("😀", 1001), strings.Repeat("a", 1999) + "…"},
		{"cut inside emoji", strings.Repeat("a", 1000) + strings.Repeat("😀", 2000), strings.Repeat("a", 1000) + strings.Repeat("😀", 999) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := "70" + string(rune('0'+n))
			if err := p.Post(ctx, ch, tc.text); err != nil {
				t.Fatalf("Post: %v", err)
			}
			msgs := fake.ChannelMessages(ch)
			if len(msgs) != 1 {
				t.Fatalf("channel %s got %d messages, want 1", ch, len(msgs))
			}
			got := msgs[0]
			if got.Text() != tc.want {
				t.Errorf("content (%d runes) = %.80q…, want (%d runes) %.80q…",
					utf8.RuneCountInString(got.Text()), got.Text(), utf8.RuneCountInString(tc.want), tc.want)
			}
			if n := utf8.RuneCountInString(got.Text()); n > MaxMessageRunes || !utf8.ValidString(got.Text()) {
				t.Errorf("content has %d runes (valid UTF-8: %v), want ≤ %d valid", n, utf8.ValidString(got.Text()), MaxMessageRunes)
			}
			if !allowedMentionsEmpty(t, got.Raw) {
				t.Errorf("allowed_mentions = %+v, want {\"parse\":[]}", got.AllowedMentions)
			}
			if len(got.Files) != 0 {
				t.Errorf("%d files attached, want none", len(got.Files))
			}
			if st := channelStatuses(fake, ch); !slices.Equal(st, []int{http.StatusOK}) {
				t.Errorf("statuses = %v, want one 200", st)
			}
		})
	}
}

// Tried: blank texts (empty, white space only) and channel ids that are not
// snowflakes (empty, a name, a path), and an empty token. Survives: each is refused
// with its sentinel error and nothing reaches Discord.
func TestPostRefusesWithoutRequest(t *testing.T) {
	fake, p := startPoster(t, testConfig(), Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name, channel, text string
		want                error
	}{
		{"empty text", "1", "", ErrEmptyMessage},
		{"blank text", "1", " \n\t\u00a0 ", ErrEmptyMessage},
		{"empty channel", "", "hello", ErrBadChannel},
		{"channel name", "general", "hello", ErrBadChannel},
		{"channel path", "1/../../guilds/2", "hello", ErrBadChannel},
		{"channel too long", strings.Repeat("9", 21), "hello", ErrBadChannel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Post(ctx, tc.channel, tc.text)
			if !errors.Is(err, tc.want) {
				t.Errorf("Post(%q, %q) = %v, want %v", tc.channel, tc.text, err, tc.want)
			}
		})
	}
	if reqs := fake.Requests(); len(reqs) != 0 {
		t.Errorf("%d requests reached the fake, want none (first: %s %s)", len(reqs), reqs[0].Method, reqs[0].Path)
	}
	b, err := New(testConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Poster(""); !errors.Is(err, ErrConfig) {
		t.Errorf("Poster(\"\") = %v, want ErrConfig", err)
	}
}

// Tried: 403 Missing Access, 403 Missing Permissions and 404 Unknown Channel on the
// channel endpoint. Survives: the 403s are ErrNoAccess naming the channel and Discord's
// reason, with the RESTError still reachable; the 404 is a plain error naming the
// channel; nothing is retried.
func TestPostDiscordErrors(t *testing.T) {
	fake, p := startPoster(t, testConfig(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		channel      string
		status, code int
		message      string
		noAccess     bool
	}{
		{"4242", http.StatusForbidden, 50001, "Missing Access", true},
		{"4343", http.StatusForbidden, 50013, "Missing Permissions", true},
		{"4444", http.StatusNotFound, 10003, "Unknown Channel", false},
	} {
		t.Run(tc.message, func(t *testing.T) {
			fake.InjectError("POST", "/channels/"+tc.channel+"/", 1, tc.status, tc.code, tc.message)
			err := p.Post(ctx, tc.channel, "hello")
			if err == nil {
				t.Fatal("Post succeeded, want an error")
			}
			if errors.Is(err, ErrNoAccess) != tc.noAccess {
				t.Errorf("errors.Is(%v, ErrNoAccess) = %v, want %v", err, !tc.noAccess, tc.noAccess)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.channel) || !strings.Contains(msg, tc.message) {
				t.Errorf("error %q does not name channel %s and %q", msg, tc.channel, tc.message)
			}
			var re *discordgo.RESTError
			if !errors.As(err, &re) || re.Response.StatusCode != tc.status || re.Message == nil || re.Message.Code != tc.code {
				t.Errorf("error %v does not wrap a RESTError %d / %d", err, tc.status, tc.code)
			}
			if st := channelStatuses(fake, tc.channel); !slices.Equal(st, []int{tc.status}) {
				t.Errorf("statuses = %v, want one %d (no retry)", st, tc.status)
			}
			if n := len(fake.ChannelMessages(tc.channel)); n != 0 {
				t.Errorf("%d messages created", n)
			}
		})
	}
}

// Tried: 429s with Discord's JSON body on the channel endpoint: two in a row, a global
// one, more than PostRateLimitRetries in a row, and one whose retry_after exceeds
// MaxRateLimitWait. Survives: Post waits out retry_after and sends again (discordgo's
// own retry is off), the message arrives exactly once; too many 429s and a too-long
// retry_after give ErrRateLimited wrapping discordgo's RateLimitError, after
// 1+PostRateLimitRetries requests and after one request respectively.
func TestPostRateLimited(t *testing.T) {
	fake, p := startPoster(t, testConfig(), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name       string
		channel    string
		count      int
		retryAfter time.Duration
		global     bool
		wantErr    bool
		wantReqs   int
	}{
		{"two 429s", "501", 2, 100 * time.Millisecond, false, false, 3},
		{"global 429", "502", 1, 150 * time.Millisecond, true, false, 2},
		{"too many 429s", "503", PostRateLimitRetries + 1, 20 * time.Millisecond, false, true, PostRateLimitRetries + 1},
		{"retry_after too long", "504", 1, MaxRateLimitWait + time.Second, false, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake.InjectRateLimit("POST", "/channels/"+tc.channel+"/", tc.count, tc.retryAfter, tc.global)
			start := time.Now()
			err := p.Post(ctx, tc.channel, "hello "+tc.name)
			took := time.Since(start)
			st := channelStatuses(fake, tc.channel)
			if len(st) != tc.wantReqs {
				t.Errorf("statuses = %v, want %d requests", st, tc.wantReqs)
			}
			msgs := fake.ChannelMessages(tc.channel)
			if tc.wantErr {
				var rl *discordgo.RateLimitError
				if !errors.Is(err, ErrRateLimited) || !errors.As(err, &rl) || !strings.Contains(err.Error(), tc.channel) {
					t.Errorf("Post = %v, want ErrRateLimited naming channel %s and wrapping a RateLimitError", err, tc.channel)
				}
				if len(msgs) != 0 {
					t.Errorf("%d messages created, want none", len(msgs))
				}
				return
			}
			if err != nil {
				t.Fatalf("Post after %d 429s: %v", tc.count, err)
			}
			if len(msgs) != 1 || msgs[0].Text() != "hello "+tc.name {
				t.Errorf("messages = %d, want exactly one", len(msgs))
			}
			if waited := time.Duration(tc.count) * tc.retryAfter; took < waited {
				t.Errorf("Post returned after %v, before the %v of retry_after", took, waited)
			}
		})
	}
}

// Tried: ctx ending while the request hangs at Discord, while Post waits out a 20 s
// retry_after, and before Post is called. Survives: Post returns ctx's error (wrapped,
// naming the channel) long before the hang or the retry_after would end, and no
// message is created.
func TestPostContext(t *testing.T) {
	fake, p := startPoster(t, testConfig(), Options{})
	fake.InjectDelay("POST", "/channels/601/", 1, time.Minute)
	fake.InjectRateLimit("POST", "/channels/602/", 1, 20*time.Second, false)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name, channel string
		ctx           func() (context.Context, context.CancelFunc)
		want          error
		wantReqs      int
	}{
		{"hanging request", "601", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded, 1},
		{"waiting out a 429", "602", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded, 1},
		{"already cancelled", "603", func() (context.Context, context.CancelFunc) {
			return cancelled, func() {}
		}, context.Canceled, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			err := p.Post(ctx, tc.channel, "hello")
			if took := time.Since(start); took >= 10*time.Second {
				t.Errorf("Post returned after %v, not before the injected hang or retry_after", took)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.channel) {
				t.Errorf("Post = %v, want %v naming channel %s", err, tc.want, tc.channel)
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer wcancel()
			// The fake records the abandoned request once it notices the client left.
			if err := fake.Wait(wctx, func() bool { return len(channelStatuses(fake, tc.channel)) >= tc.wantReqs }); err != nil {
				t.Errorf("requests = %v, want %d", channelStatuses(fake, tc.channel), tc.wantReqs)
			}
			if n := len(fake.ChannelMessages(tc.channel)); n != 0 {
				t.Errorf("%d messages created, want none", n)
			}
		})
	}
}

// Tried: a second Post to a channel whose rate-limit bucket discordgo holds exhausted
// (a first Post got a 429 with a 3 s reset and is waiting it out), with a 200 ms
// deadline. Survives: the second Post returns its deadline error although discordgo
// sleeps through the reset ignoring ctx, and the first returns at once when cancelled;
// neither creates a message, not even once discordgo wakes up.
func TestPostContextWhileBucketExhausted(t *testing.T) {
	fake, p := startPoster(t, testConfig(), Options{})
	fake.InjectRateLimit("POST", "/channels/604/", 1, 3*time.Second, false)
	firstCtx, cancelFirst := context.WithCancel(context.Background())
	defer cancelFirst()
	first := make(chan error, 1)
	go func() { first <- p.Post(firstCtx, "604", "first") }()
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := fake.Wait(wctx, func() bool { return len(channelStatuses(fake, "604")) == 1 }); err != nil {
		t.Fatalf("first Post's 429 never arrived: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Post(ctx, "604", "second")
	if took := time.Since(start); took >= 2*time.Second {
		t.Errorf("second Post returned after %v, not before the 3 s bucket reset", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Post = %v, want context.DeadlineExceeded", err)
	}
	cancelFirst()
	select {
	case err := <-first:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("first Post = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("first Post still waiting 5 s after its ctx was cancelled")
	}
	// The abandoned call wakes at the reset and must send nothing with its dead ctx;
	// waiting for it also keeps it from reading discordgo's endpoints after cleanup.
	p.calls.Wait()
	if n := len(fake.ChannelMessages("604")); n != 0 {
		t.Errorf("%d messages created, want none", n)
	}
}

// Tried: PostOriginal with an Originality that flags texts containing "copied",
// at both levels and with no level, and Post with the same text. Survives: a flagged
// text is refused with ErrUnoriginal before any request, the level reaches the check
// unchanged, an unflagged text is posted, and level "" (and Post) skip the check.
func TestPostOriginality(t *testing.T) {
	var mu sync.Mutex
	var levels []string
	orig := OriginalityFunc(func(level, text string) bool {
		mu.Lock()
		levels = append(levels, level)
		mu.Unlock()
		return strings.Contains(text, "copied")
	})
	fake, p := startPoster(t, testConfig(), Options{Originality: orig})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, channel, level, text string
		want                       error
		posted                     int
	}{
		{"word copy", "801", "word", "this was copied from reddit", ErrUnoriginal, 0},
		{"char copy", "802", "char", "copied again", ErrUnoriginal, 0},
		{"original", "803", "word", "all my own words", nil, 1},
		{"no level", "804", "", "copied but unchecked", nil, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.PostOriginal(ctx, tc.channel, tc.level, tc.text)
			if !errors.Is(err, tc.want) || (err != nil && tc.want == nil) {
				t.Errorf("PostOriginal = %v, want %v", err, tc.want)
			}
			if n := len(fake.ChannelMessages(tc.channel)); n != tc.posted {
				t.Errorf("%d messages, want %d", n, tc.posted)
			}
			if n := len(channelStatuses(fake, tc.channel)); n != tc.posted {
				t.Errorf("%d requests, want %d", n, tc.posted)
			}
		})
	}
	if err := p.Post(ctx, "805", "copied, via Post"); err != nil {
		t.Errorf("Post skips originality, got %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"word", "char", "word"}; !slices.Equal(levels, want) {
		t.Errorf("levels checked = %v, want %v", levels, want)
	}
}

// Tried: a Poster made from the token of a bot connected over the gateway, posting
// while the gateway session is open. Survives: the post arrives on the channel with
// empty allowed_mentions and a /comment still gets its answer afterwards.
func TestPostWithGateway(t *testing.T) {
	h := startGateway(t, testConfig(), newFakeGen(), Options{})
	p, err := h.bot.Poster(testToken)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Post(ctx, "901", "scheduled @here"); err != nil {
		t.Fatalf("Post: %v", err)
	}
	msgs := h.fake.ChannelMessages("901")
	if len(msgs) != 1 || msgs[0].Text() != "scheduled @here" || !allowedMentionsEmpty(t, msgs[0].Raw) {
		t.Fatalf("messages = %+v, want one with empty allowed_mentions", msgs)
	}
	l := h.dispatch(t, guildCmd("comment", "u", "c", 0), func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })
	if len(l.Edits) != 1 {
		t.Errorf("/comment after a post: %d edits, want 1", len(l.Edits))
	}
}
