package fakediscord

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// open starts a fake, installs it and opens a real discordgo session against it.
func open(t *testing.T, opts Options) (*Server, *discordgo.Session, chan *discordgo.InteractionCreate) {
	t.Helper()
	before := discordgo.EndpointAPI
	f := Start(opts)
	restore := f.Install()
	t.Cleanup(func() {
		restore()
		if discordgo.EndpointAPI != before {
			t.Errorf("EndpointAPI not restored: %q", discordgo.EndpointAPI)
		}
	})
	t.Cleanup(f.Close)
	if !strings.HasPrefix(discordgo.EndpointAPI, f.URL()) {
		t.Fatalf("EndpointAPI = %q, want under %q", discordgo.EndpointAPI, f.URL())
	}
	s, err := discordgo.New("Bot secret")
	if err != nil {
		t.Fatal(err)
	}
	s.LogLevel = -1
	got := make(chan *discordgo.InteractionCreate, 16)
	s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { got <- i })
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		// discordgo's heartbeat goroutine may call reconnect after Close (it does not
		// know the close was intended); switch reconnecting off first.
		s.Lock()
		s.ShouldReconnectOnError = false
		s.Unlock()
		_ = s.Close()
	})
	return f, s, got
}

func waitFor(t *testing.T, f *Server, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.Wait(ctx, cond); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func restCode(err error) (int, int) {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Response.StatusCode, re.Message.Code
	}
	return 0, 0
}

func command(name string) *discordgo.Interaction {
	return &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, ChannelID: "c",
		Data:   discordgo.ApplicationCommandInteractionData{Name: name},
		Member: &discordgo.Member{User: &discordgo.User{ID: "u"}}}
}

// Tried: a real discordgo session: HELLO/IDENTIFY/READY, heartbeats, a dispatched
// interaction answered with a callback, a second callback, an edit and a follow-up.
// Survives: READY carries the session; heartbeats are ACKed; the interaction arrives
// intact; Discord's rules are enforced (second callback 400/40060).
func TestGatewayAndInteractionFlow(t *testing.T) {
	f, s, got := open(t, Options{HeartbeatInterval: 50 * time.Millisecond})
	if ids := f.Identifies(); len(ids) != 1 || ids[0].Token != "Bot secret" {
		t.Fatalf("identifies = %+v", ids)
	}
	waitFor(t, f, "two heartbeat ACKs", func() bool { return f.HeartbeatAcks() >= 2 })

	sent := command("comment")
	if err := f.DispatchInteraction(sent); err != nil {
		t.Fatal(err)
	}
	var ic *discordgo.InteractionCreate
	select {
	case ic = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("INTERACTION_CREATE not delivered")
	}
	if ic.ID != sent.ID || ic.Token != sent.Token || ic.AppID != f.AppID() || ic.ApplicationCommandData().Name != "comment" {
		t.Fatalf("received %+v, want id %s token %s", ic.Interaction, sent.ID, sent.Token)
	}
	if _, err := s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{}); err == nil {
		t.Error("edit before the callback accepted")
	}
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatalf("callback: %v", err)
	}
	err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	if status, code := restCode(err); status != http.StatusBadRequest || code != 40060 {
		t.Errorf("second callback: %v, want 400 / 40060", err)
	}
	text := "hello"
	if _, err := s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: &text}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	msg, err := s.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "more", Flags: discordgo.MessageFlagsEphemeral})
	if err != nil || msg.Content != "more" {
		t.Fatalf("follow-up: %v %+v", err, msg)
	}
	l, _ := f.Interaction(sent.Token)
	if l.Callback == nil || l.Callback.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource ||
		len(l.Edits) != 1 || l.Edits[0].Text() != "hello" || len(l.Followups) != 1 || !l.Followups[0].Ephemeral() {
		t.Errorf("log = %+v", l)
	}
	if lat := l.Latency(); lat <= 0 || lat > time.Second {
		t.Errorf("latency %v", lat)
	}
	if len(l.Refused) != 2 {
		t.Errorf("refused = %v, want the early edit and the second callback", l.Refused)
	}
}

// Tried: a callback after the deadline. Survives: 404 Unknown interaction (10062).
func TestDeadlineEnforced(t *testing.T) {
	f, s, got := open(t, Options{Deadline: 100 * time.Millisecond})
	if err := f.DispatchInteraction(command("late")); err != nil {
		t.Fatal(err)
	}
	ic := <-got
	time.Sleep(150 * time.Millisecond)
	err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	if status, code := restCode(err); status != http.StatusNotFound || code != 10062 {
		t.Errorf("late callback: %v, want 404 / 10062", err)
	}
}

// Tried: injected 429s on command registration, with and without discordgo's retry.
// Survives: with retry, discordgo waits Retry-After and succeeds; without, the JSON
// body parses into a RateLimitError carrying retry_after.
func TestRateLimitInjection(t *testing.T) {
	f, s, _ := open(t, Options{})
	cmds := []*discordgo.ApplicationCommand{{Name: "comment", Description: "write"}}
	f.InjectRateLimit("PUT", "/commands", 1, 120*time.Millisecond, false)
	start := time.Now()
	out, err := s.ApplicationCommandBulkOverwrite(f.AppID(), "42", cmds)
	if err != nil || len(out) != 1 || out[0].ID == "" || out[0].GuildID != "42" {
		t.Fatalf("overwrite after a 429: %v %+v", err, out)
	}
	if waited := time.Since(start); waited < 120*time.Millisecond {
		t.Errorf("discordgo retried after %v, before Retry-After", waited)
	}
	var statuses []int
	for _, r := range f.Requests() {
		if r.Method == "PUT" {
			statuses = append(statuses, r.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Errorf("PUT statuses = %v, want [429 200]", statuses)
	}

	s.ShouldRetryOnRateLimit = false
	f.InjectRateLimit("PUT", "/commands", 1, 1500*time.Millisecond, true)
	_, err = s.ApplicationCommandBulkOverwrite(f.AppID(), "", cmds)
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 1500*time.Millisecond {
		t.Errorf("no retry: %v, want a RateLimitError with retry_after 1.5s", err)
	}
	if global, puts := f.Commands(""); len(global) != 0 || puts != 1 {
		t.Errorf("global commands %d after a refused PUT, puts %d", len(global), puts)
	}
	bad, _ := discordgo.New("not-a-bot-token")
	if _, err := bad.ApplicationCommandBulkOverwrite(f.AppID(), "", cmds); err == nil {
		t.Error("PUT without a bot token accepted")
	}
}

// Tried: drop the connection, dispatch while it is down. Survives: discordgo
// RESUMEs the same session, the missed dispatch is replayed, no new IDENTIFY.
func TestDropAndResume(t *testing.T) {
	f, _, got := open(t, Options{})
	f.Drop()
	if f.Connected() {
		t.Fatal("still connected after Drop")
	}
	missed := command("missed")
	if err := f.DispatchInteraction(missed); err != nil {
		t.Fatal(err)
	}
	select {
	case ic := <-got:
		if ic.Token != missed.Token {
			t.Errorf("replayed %s, want %s", ic.Token, missed.Token)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("missed dispatch never replayed")
	}
	// discordgo can notice one drop twice (listen and heartbeat both reconnect), so a
	// second RESUME is legitimate; a new IDENTIFY is not.
	if f.Resumes() < 1 || len(f.Identifies()) != 1 {
		t.Errorf("resumes %d identifies %d, want ≥ 1 and 1", f.Resumes(), len(f.Identifies()))
	}
	if l, _ := f.Interaction(missed.Token); l.Dispatched.IsZero() {
		t.Error("dispatch time of the replayed interaction not recorded")
	}
}

// restOnly installs a fake and returns a REST-only discordgo session against it.
func restOnly(t *testing.T) (*Server, *discordgo.Session) {
	t.Helper()
	f := Start(Options{})
	t.Cleanup(f.Close)
	t.Cleanup(f.Install())
	s, err := discordgo.New("Bot secret")
	if err != nil {
		t.Fatal(err)
	}
	s.LogLevel = -1
	return f, s
}

// Tried: channel messages through a real discordgo session: JSON, multipart with a
// file, empty content, content over 2000 characters, no bot token. Survives: the JSON
// and multipart ones are recorded for their channel with content, allowed_mentions and
// the file; the others are refused as Discord refuses them (400/50006, 400/50035, 401)
// and recorded nowhere.
func TestChannelMessages(t *testing.T) {
	f, s := restOnly(t)
	msg, err := s.ChannelMessageSendComplex("7", &discordgo.MessageSend{Content: "hi @everyone",
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}})
	if err != nil || msg.ChannelID != "7" || msg.Content != "hi @everyone" || msg.ID == "" {
		t.Fatalf("JSON send: %v %+v", err, msg)
	}
	_, err = s.ChannelMessageSendComplex("7", &discordgo.MessageSend{Content: "plot",
		Files: []*discordgo.File{{Name: "loss.png", ContentType: "image/png", Reader: strings.NewReader("PNG")}}})
	if err != nil {
		t.Fatalf("multipart send: %v", err)
	}
	got := f.ChannelMessages("7")
	if len(got) != 2 {
		t.Fatalf("channel 7 has %d messages, want 2", len(got))
	}
	if am := got[0].AllowedMentions; got[0].Text() != "hi @everyone" || am == nil || am.Parse == nil || len(am.Parse) != 0 {
		t.Errorf("JSON message = %q allowed_mentions %+v, want the text and parse []", got[0].Text(), am)
	}
	if got[1].Text() != "plot" || len(got[1].Files) != 1 || got[1].Files[0].Name != "loss.png" || string(got[1].Files[0].Data) != "PNG" {
		t.Errorf("multipart message = %q files %+v", got[1].Text(), got[1].Files)
	}

	for _, tc := range []struct {
		name         string
		content      string
		status, code int
	}{
		{"empty", "", http.StatusBadRequest, 50006},
		{"2001 characters", strings.Repeat("é", 2001), http.StatusBadRequest, 50035},
	} {
		_, err := s.ChannelMessageSendComplex("8", &discordgo.MessageSend{Content: tc.content})
		if status, code := restCode(err); status != tc.status || code != tc.code {
			t.Errorf("%s: %v, want %d / %d", tc.name, err, tc.status, tc.code)
		}
	}
	if _, err := s.ChannelMessageSendComplex("8", &discordgo.MessageSend{Content: strings.Repeat("é", 2000)}); err != nil {
		t.Errorf("2000 characters refused: %v", err)
	}
	bad, _ := discordgo.New("not-a-bot-token")
	if _, err := bad.ChannelMessageSend("8", "x"); err == nil {
		t.Error("message without a bot token accepted")
	}
	if n := len(f.ChannelMessages("8")); n != 1 {
		t.Errorf("channel 8 has %d messages, want only the 2000-character one", n)
	}
}

// Tried: an injected 403 on one channel, then a delay that the client abandons.
// Survives: the 403 carries Discord's code and message and applies once, to the
// matching path only; the abandoned request is recorded as 499 and creates nothing.
func TestInjectErrorAndDelay(t *testing.T) {
	f, s := restOnly(t)
	f.InjectError("POST", "/channels/9/", 1, http.StatusForbidden, 50001, "Missing Access")
	if _, err := s.ChannelMessageSend("10", "other channel"); err != nil {
		t.Fatalf("unaffected channel: %v", err)
	}
	_, err := s.ChannelMessageSend("9", "x")
	if status, code := restCode(err); status != http.StatusForbidden || code != 50001 {
		t.Errorf("injected 403: %v, want 403 / 50001", err)
	}
	if _, err := s.ChannelMessageSend("9", "again"); err != nil {
		t.Errorf("after the injected 403 was used up: %v", err)
	}

	f.InjectDelay("POST", "/channels/11/", 1, time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = s.ChannelMessageSend("11", "late", discordgo.WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("abandoned request: %v, want context.DeadlineExceeded", err)
	}
	if took := time.Since(start); took >= 30*time.Second {
		t.Errorf("abandoned request returned after %v, not before the injected 1-minute delay", took)
	}
	waitFor(t, f, "the abandoned request recorded", func() bool {
		for _, r := range f.Requests() {
			if r.Path == "/api/v"+discordgo.APIVersion+"/channels/11/messages" {
				return r.Status == 499
			}
		}
		return false
	})
	if n := len(f.ChannelMessages("11")); n != 0 {
		t.Errorf("abandoned request created %d messages", n)
	}
}
