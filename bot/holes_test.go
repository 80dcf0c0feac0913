package bot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/bwmarrin/discordgo"

	"commentbot/internal/fakediscord"
)

// postSigned sends body with the given signature and timestamp headers as written.
func (h *httpHarness) postSigned(t *testing.T, stamp, sig string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", stamp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func httptestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// mixedCase upper-cases every other hex letter of s.
func mixedCase(s string) string {
	rs := []rune(s)
	for i := range rs {
		if i%2 == 0 {
			rs[i] = unicode.ToUpper(rs[i])
		}
	}
	return string(rs)
}

// Tried: one /comment signed with a real ed25519 key, accepted once, then the same
// request sent again with the signature hex in upper case, in mixed case, and (as a
// sender holding the key could) signed anew with a later timestamp. Survives: each
// replay gets 401; the generator ran once and Discord got one edit.
func TestHTTPReplayRespelledSignature(t *testing.T) {
	gen := newFakeGen()
	h := startHTTP(t, gen)
	i := guildCmd("comment", "u1", "c1", 0)
	body := interactionJSON(t, h.fake, i)
	h.fake.Register(i.ID, i.Token, discordgo.InteractionResponseDeferredChannelMessageWithSource)
	stamp := strconv.FormatInt(h.now.Unix(), 10)
	sig := hex.EncodeToString(ed25519.Sign(h.priv, append([]byte(stamp), body...)))
	if code := h.postSigned(t, stamp, sig, body); code != http.StatusOK {
		t.Fatalf("first delivery: %d, want 200", code)
	}
	later := strconv.FormatInt(h.now.Add(time.Second).Unix(), 10)
	for name, replay := range map[string][2]string{
		"upper-case signature": {stamp, strings.ToUpper(sig)},
		"mixed-case signature": {stamp, mixedCase(sig)},
		"re-signed, later":     {later, hex.EncodeToString(ed25519.Sign(h.priv, append([]byte(later), body...)))},
	} {
		if code := h.postSigned(t, replay[0], replay[1], body); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	hh := &harness{fake: h.fake}
	l := hh.await(t, i.Token, func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })
	time.Sleep(300 * time.Millisecond) // room for a wrongly accepted replay to edit too
	l, _ = h.fake.Interaction(i.Token)
	if n := gen.callCount(); n != 1 || len(l.Edits) != 1 {
		t.Errorf("generations %d, edits %d; want 1 and 1", n, len(l.Edits))
	}
}

// Tried: a signed body of 2 MiB, announced by Content-Length and sent chunked without
// one. Survives: both get 413, not 401; a normal PING afterwards still gets PONG.
func TestHTTPOversizedBody(t *testing.T) {
	h := startHTTP(t, newFakeGen())
	big := bytes.Repeat([]byte("x"), 2<<20)
	stamp := strconv.FormatInt(h.now.Unix(), 10)
	sig := hex.EncodeToString(ed25519.Sign(h.priv, append([]byte(stamp), big...)))
	if code := h.postSigned(t, stamp, sig, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB with Content-Length: %d, want 413", code)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL, struct{ *bytes.Reader }{bytes.NewReader(big)}) // no length: chunked
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", stamp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if req.ContentLength != 0 || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB chunked: %d (length %d), want 413", resp.StatusCode, req.ContentLength)
	}
	ping := []byte(`{"id":"9","type":1}`)
	if code, body := h.post(t, h.priv, h.now, ping, ping); code != http.StatusOK || !bytes.Contains(body, []byte(`"type":1`)) {
		t.Errorf("PING after the big bodies: %d %s", code, body)
	}
}

// Tried: Apply a config with lower temperature bound, shorter prompts, a longer word
// filter, no cooldown, a moderator role and a concurrency of 1, then Refresh. Survives:
// the next commands follow the new config, and Discord is sent the new bounds; an
// invalid config is refused and the running one stays; the guild stays the one the
// bot started with.
func TestApplyReloadsBehaviour(t *testing.T) {
	gen := newFakeGen()
	h := startGateway(t, testConfig(), gen, Options{})
	ctx := context.Background()
	nc := testConfig()
	nc.MaxTemperature, nc.Temperature = 1.2, 0.5
	nc.MaxPromptChars = 10
	nc.WordFilter = []string{"comment"}
	nc.Cooldown = 0
	nc.ModeratorRole = "r-member"
	nc.GuildID = "777"
	if err := h.bot.Apply(nc); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := h.bot.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	cmds, puts := h.fake.Commands("555")
	if puts != 2 || cmds[0].Options[1].MaxValue != 1.2 || cmds[0].Options[2].MaxLength != 10 {
		t.Errorf("after Apply: %d overwrites, temperature max %v, prompt max %d; want 2, 1.2, 10",
			puts, cmds[0].Options[1].MaxValue, cmds[0].Options[2].MaxLength)
	}
	if other, _ := h.fake.Commands("777"); len(other) != 0 {
		t.Errorf("a reload moved the commands to guild 777 (%d commands): guild_id applies at the next start", len(other))
	}
	text := func(l fakediscord.InteractionLog) string { m, _ := l.Final(); return m.Text() }
	if got := text(h.dispatch(t, guildCmd("comment", "u1", "c1", 0, numOpt("temperature", 1.5)), answered)); !strings.Contains(got, "out of range") {
		t.Errorf("temperature 1.5 after lowering the max to 1.2: %q", got)
	}
	if got := text(h.dispatch(t, guildCmd("comment", "u1", "c1", 0, strOpt("prompt", "far too long a prompt")), answered)); !strings.Contains(got, "limit is 10") {
		t.Errorf("21-character prompt with max 10: %q", got)
	}
	got := text(h.dispatch(t, guildCmd("comment", "u1", "c1", 0), answered))
	if !strings.Contains(got, "temperature 0.5") || strings.Contains(strings.SplitN(got, "\n-#", 2)[0], " comment") {
		t.Errorf("default temperature 0.5 and filtered 'comment' expected: %q", got)
	}
	if got := text(h.dispatch(t, guildCmd("comment", "u1", "c1", 0), answered)); strings.Contains(got, "Easy there") {
		t.Errorf("second /comment right away with cooldown 0: %q", got)
	}
	if got := text(h.dispatch(t, guildCmd("retrain", "u1", "c1", 0, strOpt("model", "word")), answered)); !strings.Contains(got, "Fine-tuning") {
		t.Errorf("/retrain by a member of the new moderator role: %q", got)
	}
	bad := nc
	bad.MinTemperature = 0
	if err := h.bot.Apply(bad); err == nil {
		t.Error("Apply of an invalid config succeeded")
	}
	if got := text(h.dispatch(t, guildCmd("comment", "u2", "c2", 0, numOpt("temperature", 1.5)), answered)); !strings.Contains(got, "out of range") {
		t.Errorf("after a refused Apply the running bounds changed: %q", got)
	}
}

// Tried: max_concurrent lowered from 4 to 1 by Apply while nothing runs, then two slow
// comments at once. Survives: the second is told the bot is busy.
func TestApplyConcurrency(t *testing.T) {
	gen := newFakeGen()
	gen.delay = 500 * time.Millisecond
	h := startGateway(t, testConfig(), gen, Options{})
	nc := testConfig()
	nc.MaxConcurrent = 1
	if err := h.bot.Apply(nc); err != nil {
		t.Fatal(err)
	}
	a, b := guildCmd("comment", "u1", "c1", 0), guildCmd("comment", "u2", "c2", 0)
	if err := h.fake.DispatchInteraction(a); err != nil {
		t.Fatal(err)
	}
	h.await(t, a.Token, func(l fakediscord.InteractionLog) bool { return l.Callback != nil })
	l := h.dispatch(t, b, answered)
	if m, _ := l.Final(); !strings.Contains(m.Text(), "busy") {
		t.Errorf("second comment with max_concurrent 1: %q, want busy", m.Text())
	}
	h.await(t, a.Token, func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })
}

// Tried: Discord's REST API answering 500 to the first two command registrations of
// an HTTP-interactions bot. Survives: HTTPInteractions returns the endpoint at once
// (a PING gets PONG), Health says "retrying" with the error and the next attempt, the
// registration is retried with backoff and succeeds, and Health says "registered".
func TestRegistrationRetried(t *testing.T) {
	fake := fakediscord.Start(fakediscord.Options{})
	t.Cleanup(fake.Close)
	t.Cleanup(fake.Install())
	fake.InjectError(http.MethodPut, "/commands", 2, http.StatusInternalServerError, 0, "Discord is having a bad day")
	b, err := New(testConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	h, err := b.HTTPInteractions(context.Background(), testToken, fake.AppID(), priv.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatalf("HTTPInteractions with Discord failing: %v", err)
	}
	if hl := b.Health(); hl.Commands != "retrying" || hl.FailedAttempts != 1 || !strings.Contains(hl.LastError, "bad day") || hl.NextAttempt == nil {
		t.Errorf("health after the first failure = %+v", hl)
	}
	hh := &httpHarness{srv: httptestServer(t, h), priv: priv, now: time.Now()}
	ping := []byte(`{"id":"1","type":1}`)
	if code, _ := hh.post(t, priv, hh.now, ping, ping); code != http.StatusOK {
		t.Errorf("PING while registration fails: %d", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fake.Wait(ctx, func() bool { cmds, _ := fake.Commands("555"); return len(cmds) == 3 }); err != nil {
		t.Fatalf("commands never registered after the failures: %v (health %+v)", err, b.Health())
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Health().Commands != "registered" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hl := b.Health(); hl.Commands != "registered" || hl.LastError != "" {
		t.Errorf("health after the retry = %+v", hl)
	}
	var puts []fakediscord.Request
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPut {
			puts = append(puts, r)
		}
	}
	if len(puts) != 3 || puts[2].At.Sub(puts[1].At) < puts[1].At.Sub(puts[0].At) {
		t.Errorf("%d registration attempts; want 3 with growing waits", len(puts))
	}
}

// Tried: the gateway URL call failing twice with 503 (Discord's REST API down at
// start), then a bad token. Survives: ConnectRetrying connects on the third attempt
// and Health passes through "connecting" with the error; a token Discord refuses
// (401) stops at once with that error.
func TestConnectRetrying(t *testing.T) {
	fake := fakediscord.Start(fakediscord.Options{HeartbeatInterval: 2 * time.Second})
	t.Cleanup(fake.Close)
	t.Cleanup(fake.Install())
	fake.InjectError(http.MethodGet, "/gateway", 2, http.StatusServiceUnavailable, 0, "upstream connect error")
	b, err := New(testConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := make(chan Health, 1)
	go func() {
		for ctx.Err() == nil {
			if hl := b.Health(); hl.GatewayError != "" {
				seen <- hl
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	if _, err := b.ConnectRetrying(ctx, testToken, fake.AppID()); err != nil {
		t.Fatalf("ConnectRetrying: %v", err)
	}
	if hl := <-seen; hl.Gateway != "connecting" || !strings.Contains(hl.GatewayError, "503") {
		t.Errorf("health while Discord failed = %+v", hl)
	}
	if hl := b.Health(); hl.Gateway != "connected" || hl.Commands != "registered" {
		t.Errorf("health after connecting = %+v", hl)
	}
	if !fake.Connected() || !slices.ContainsFunc(fake.Identifies(), func(id fakediscord.Identify) bool { return id.Token == "Bot "+testToken }) {
		t.Error("gateway not connected after the retries")
	}

	fake.InjectError(http.MethodGet, "/gateway", 1, http.StatusUnauthorized, 0, "401: Unauthorized")
	b2, _ := New(testConfig(), newFakeGen(), Options{})
	t.Cleanup(func() { _ = b2.Shutdown(context.Background()) })
	start := time.Now()
	_, err = b2.ConnectRetrying(ctx, "revoked-token", fake.AppID())
	if err == nil || !strings.Contains(err.Error(), "401") || time.Since(start) > 10*time.Second {
		t.Errorf("bad token: %v after %v, want a 401 error without retrying", err, time.Since(start))
	}
}

// Tried: a console session with /models, a 2 MiB line, a line of exactly
// MaxConsoleLine bytes, /models again and a final command without a newline before
// EOF. Survives: the long line is refused with its size, the others are answered in
// order, and the session ends at EOF without an error.
func TestConsoleOverlongLine(t *testing.T) {
	b, err := New(DefaultConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	exact := "/comment prompt:\"" + strings.Repeat("a", MaxConsoleLine-len("/comment prompt:\"\"")) + "\""
	in := "/models\n" + strings.Repeat("x", 2<<20) + "\n" + exact + "\r\n/models\n/help"
	var out bytes.Buffer
	if err := b.ServeConsole(context.Background(), strings.NewReader(in), &out); err != nil {
		t.Fatalf("ServeConsole: %v", err)
	}
	got := out.String()
	if n := strings.Count(got, "**word** — word-lstm"); n != 2 {
		t.Errorf("/models answered %d times, want 2:\n%.500s", n, got)
	}
	for _, want := range []string{"that line has 2097152 bytes; lines are at most 65536", "The prompt is 65518 characters long", "/comment [model:NAME]"} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%.2000s", want, got)
		}
	}
}

// Tried: unknown console commands and options carrying ESC, BEL, a C1 CSI and invalid
// UTF-8. Survives: the answers show them escaped; no control byte but newline reaches
// the output.
func TestConsoleEscapesControlCharacters(t *testing.T) {
	b, err := New(DefaultConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := "/\x1b[2J\x07boom\n/comment model:\x1b]0;owned\x07\n/comment prompt:\"\u009b31m\xff\"\n"
	var out bytes.Buffer
	if err := b.ServeConsole(context.Background(), strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, r := range got {
		if r != '\n' && unicode.IsControl(r) {
			t.Errorf("control character %U reached the console:\n%q", r, got)
		}
	}
	for _, want := range []string{`/\x1b[2j\x07boom`, `\x1b]0;owned\a`, `\x9b31m�`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks the escaped %s:\n%s", want, got)
		}
	}
}

// Tried: /healthz asked while the first command registration is still on its way
// (Discord slow to answer the bulk overwrite). Survives: Health says "registering",
// not "registered", until Discord has answered; then "registered". Before, a
// transport counted as registered as soon as it was attached, so a probe (and the
// binary test of a Discord down at start) could see "registered" with no command
// in Discord.
func TestHealthNotRegisteredBeforeDiscordAnswers(t *testing.T) {
	fake := fakediscord.Start(fakediscord.Options{})
	t.Cleanup(fake.Close)
	t.Cleanup(fake.Install())
	fake.InjectDelay(http.MethodPut, "/commands", 1, 2*time.Second)
	b, err := New(testConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown(context.Background()) })
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{2}, ed25519.SeedSize))
	done := make(chan error, 1)
	go func() {
		_, err := b.HTTPInteractions(context.Background(), testToken, fake.AppID(), priv.Public().(ed25519.PublicKey))
		done <- err
	}()
	// The transport is attached at once; Discord answers the registration 2 s later.
	deadline := time.Now().Add(time.Second)
	for b.Health().Commands == "none" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hl := b.Health(); hl.Commands != "registering" {
		t.Errorf("health while Discord has not answered the registration = %+v, want registering", hl)
	}
	if cmds, _ := fake.Commands("555"); len(cmds) != 0 {
		t.Fatalf("the delayed registration was already served: %d commands", len(cmds))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if hl := b.Health(); hl.Commands != "registered" {
		t.Errorf("health after Discord answered = %+v, want registered", hl)
	}
	if cmds, _ := fake.Commands("555"); len(cmds) != 3 {
		t.Errorf("%d commands registered, want 3", len(cmds))
	}
}
