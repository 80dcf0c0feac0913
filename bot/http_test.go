package bot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"commentbot/internal/fakediscord"

	"github.com/bwmarrin/discordgo"
)

type httpHarness struct {
	fake  *fakediscord.Server
	bot   *Bot
	srv   *httptest.Server
	priv  ed25519.PrivateKey
	now   time.Time
	forge ed25519.PrivateKey
}

func startHTTP(t *testing.T, gen *fakeGen) *httpHarness {
	t.Helper()
	fake := fakediscord.Start(fakediscord.Options{})
	t.Cleanup(fake.Close)
	t.Cleanup(fake.Install())
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	b, err := New(testConfig(), gen, Options{Now: func() time.Time { return now }, Seeds: rand.NewPCG(1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	forge := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := b.HTTPInteractions(ctx, testToken, fake.AppID(), priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("HTTPInteractions: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &httpHarness{fake: fake, bot: b, srv: srv, priv: priv, now: now, forge: forge}
}

// post sends body signed by key with timestamp ts and returns status and body.
func (h *httpHarness) post(t *testing.T, key ed25519.PrivateKey, ts time.Time, signed, sent []byte) (int, []byte) {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, h.srv.URL, bytes.NewReader(sent))
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, append([]byte(stamp), signed...))))
		req.Header.Set("X-Signature-Timestamp", stamp)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

func interactionJSON(t *testing.T, fake *fakediscord.Server, i *discordgo.Interaction) []byte {
	t.Helper()
	i.ID, i.Token = fake.NewInteraction()
	i.AppID = fake.AppID()
	b, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Tried: PINGs with a good signature, a forged one (other key), a tampered body, no
// headers, a signature that is not hex, timestamps 6 minutes old and 6 minutes ahead,
// a replay of an accepted request, a GET, and signed garbage. Survives: only the
// good PING gets PONG; every bad signature, stale timestamp and replay gets 401.
func TestHTTPSignatures(t *testing.T) {
	h := startHTTP(t, newFakeGen())
	ping := []byte(`{"id":"1","application_id":"` + h.fake.AppID() + `","type":1,"token":"p","version":1}`)
	ping2 := []byte(`{"id":"2","application_id":"` + h.fake.AppID() + `","type":1,"token":"q","version":1}`)

	status, body := h.post(t, h.priv, h.now, ping, ping)
	if status != http.StatusOK || strings.TrimSpace(string(body)) != `{"type":1}` {
		t.Fatalf("good PING: %d %s, want 200 {\"type\":1}", status, body)
	}
	for _, tc := range []struct {
		name         string
		key          ed25519.PrivateKey
		ts           time.Time
		signed, sent []byte
		want         int
	}{
		{"replayed", h.priv, h.now, ping, ping, http.StatusUnauthorized},
		{"forged key", h.forge, h.now, ping2, ping2, http.StatusUnauthorized},
		{"tampered body", h.priv, h.now, ping2, bytes.Replace(ping2, []byte(`"2"`), []byte(`"3"`), 1), http.StatusUnauthorized},
		{"no signature", nil, h.now, ping2, ping2, http.StatusUnauthorized},
		{"stale", h.priv, h.now.Add(-6 * time.Minute), ping2, ping2, http.StatusUnauthorized},
		{"from the future", h.priv, h.now.Add(6 * time.Minute), ping2, ping2, http.StatusUnauthorized},
		{"inside the window", h.priv, h.now.Add(-4 * time.Minute), ping2, ping2, http.StatusOK},
		{"signed garbage", h.priv, h.now.Add(time.Second), []byte("{not json"), []byte("{not json"), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, body := h.post(t, tc.key, tc.ts, tc.signed, tc.sent); status != tc.want {
				t.Errorf("status %d (%s), want %d", status, body, tc.want)
			}
		})
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL, bytes.NewReader(ping))
	req.Header.Set("X-Signature-Ed25519", "zz-not-hex")
	req.Header.Set("X-Signature-Timestamp", strconv.FormatInt(h.now.Unix(), 10))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("non-hex signature: %v %v, want 401", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get(h.srv.URL); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v, want 405", resp, err)
	} else {
		resp.Body.Close()
	}
}

// Tried: /comment, a bad temperature and /models over HTTP interactions. Survives: the
// comment is deferred in the HTTP body and edited in over REST with the footer and no
// mentions; the bad input is answered in the body, ephemerally; /models (with an
// attachment) is deferred and edited in with the PNG.
func TestHTTPCommands(t *testing.T) {
	gen := newFakeGen()
	h := startHTTP(t, gen)
	if cmds, _ := h.fake.Commands("555"); len(cmds) != 3 {
		t.Fatalf("registered %d commands, want 3", len(cmds))
	}
	send := func(i *discordgo.Interaction) (discordgo.InteractionResponse, string) {
		t.Helper()
		body := interactionJSON(t, h.fake, i)
		h.fake.Register(i.ID, i.Token, discordgo.InteractionResponseDeferredChannelMessageWithSource)
		status, out := h.post(t, h.priv, h.now, body, body)
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, out)
		}
		var resp discordgo.InteractionResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("response %s: %v", out, err)
		}
		return resp, i.Token
	}
	edited := func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 }
	hh := &harness{fake: h.fake}

	resp, token := send(guildCmd("comment", "u1", "c1", 0, strOpt("prompt", "hello")))
	if resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Errorf("/comment first response type %v, want deferred", resp.Type)
	}
	l := hh.await(t, token, edited)
	seed := seedsFrom(1, 2, 1)[0]
	want := fakeText(GenerateRequest{Model: "word", Temperature: 0.8, Prompt: "hello", Seed: seed}) +
		fmt.Sprintf("\n-# word v3 · temperature 0.8 · seed %d", seed)
	if got := l.Edits[0].Text(); got != want {
		t.Errorf("edited comment = %q, want %q", got, want)
	}
	if !allowedMentionsEmpty(t, l.Edits[0].Raw) {
		t.Errorf("allowed_mentions = %s", l.Edits[0].Raw)
	}

	resp, _ = send(guildCmd("comment", "u2", "c2", 0, numOpt("temperature", 9.0)))
	if resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data == nil ||
		resp.Data.Flags&discordgo.MessageFlagsEphemeral == 0 || !strings.Contains(resp.Data.Content, "out of range") {
		t.Errorf("bad temperature answered %+v, want an ephemeral message in the body", resp)
	}

	resp, token = send(guildCmd("models", "u3", "c3", 0))
	if resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Errorf("/models first response type %v, want deferred (attachments go over REST)", resp.Type)
	}
	l = hh.await(t, token, edited)
	if len(l.Edits[0].Files) != 1 || l.Edits[0].Files[0].Name != "word-loss.png" || !strings.Contains(l.Edits[0].Text(), "**word**") {
		t.Errorf("/models edit = %q with files %+v", l.Edits[0].Text(), l.Edits[0].Files)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.bot.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	resp, _ = send(guildCmd("comment", "u4", "c4", 0))
	if resp.Data == nil || resp.Data.Flags&discordgo.MessageFlagsEphemeral == 0 || !strings.Contains(resp.Data.Content, "restarting") {
		t.Errorf("after Shutdown: %+v, want an ephemeral 'restarting'", resp)
	}
}

// Tried: the portal's hex key, with spaces, too short, not hex. Survives: only a
// 32-byte hex key parses; errors are ErrConfig.
func TestParsePublicKey(t *testing.T) {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{hex.EncodeToString(pub), true},
		{" " + strings.ToUpper(hex.EncodeToString(pub)) + "\n", true},
		{hex.EncodeToString(pub[:31]), false},
		{"zz" + hex.EncodeToString(pub[1:]), false},
		{"", false},
	} {
		got, err := ParsePublicKey(tc.in)
		if tc.ok != (err == nil) || (tc.ok && !got.Equal(pub)) || (!tc.ok && !errors.Is(err, ErrConfig)) {
			t.Errorf("ParsePublicKey(%q) = %x, %v", tc.in, got, err)
		}
	}
}
