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
