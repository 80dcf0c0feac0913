package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"commentbot/internal/fakediscord"

	"github.com/bwmarrin/discordgo"
)

// Tried: connect a real discordgo session to the fake and read back what was
// registered, then disable a model and Refresh. Survives: the guild gets exactly
// /comment, /models, /retrain with the enabled models as choices and the configured
// bounds; IDENTIFY asks for no intents; Refresh re-registers only on a change.
func TestGatewayRegistersCommands(t *testing.T) {
	gen := newFakeGen()
	cfg := testConfig()
	cfg.ShardID, cfg.ShardCount = 1, 2
	h := startGateway(t, cfg, gen, Options{})

	ids := h.fake.Identifies()
	if len(ids) != 1 || ids[0].Intents != discordgo.IntentsNone || ids[0].Token != "Bot "+testToken ||
		ids[0].Shard == nil || *ids[0].Shard != [2]int{1, 2} {
		t.Fatalf("identifies = %+v, want one with token %q, no intents, shard [1 2]", ids, "Bot "+testToken)
	}
	cmds, puts := h.fake.Commands("555")
	if puts != 1 {
		t.Fatalf("bulk overwrites = %d, want 1", puts)
	}
	if global, _ := h.fake.Commands(""); len(global) != 0 {
		t.Errorf("global commands = %d, want 0 with a guild configured", len(global))
	}
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if want := []string{"comment", "models", "retrain"}; !slices.Equal(names, want) {
		t.Fatalf("commands = %v, want %v", names, want)
	}
	choices := func(c *discordgo.ApplicationCommand) []string {
		var out []string
		for _, ch := range c.Options[0].Choices {
			out = append(out, ch.Name)
		}
		return out
	}
	if got, want := choices(cmds[0]), []string{"word", "char"}; !slices.Equal(got, want) {
		t.Errorf("/comment model choices = %v, want %v", got, want)
	}
	temp := cmds[0].Options[1]
	if temp.MinValue == nil || *temp.MinValue != 0.1 || temp.MaxValue != 2.0 || temp.Type != discordgo.ApplicationCommandOptionNumber {
		t.Errorf("temperature option = %+v, want number in [0.1, 2]", temp)
	}
	if p := cmds[0].Options[2]; p.Name != "prompt" || p.MaxLength != 200 {
		t.Errorf("prompt option = %+v, want max_length 200", p)
	}
	if perms := cmds[2].DefaultMemberPermissions; perms == nil || *perms != discordgo.PermissionManageGuild {
		t.Errorf("/retrain default_member_permissions = %v, want Manage Server", perms)
	}

	ctx := context.Background()
	if err := h.bot.Refresh(ctx); err != nil {
		t.Fatalf("Refresh without change: %v", err)
	}
	if _, puts := h.fake.Commands("555"); puts != 1 {
		t.Errorf("bulk overwrites after a no-op Refresh = %d, want still 1", puts)
	}
	gen.setEnabled("char", false)
	if err := h.bot.Refresh(ctx); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	cmds, puts = h.fake.Commands("555")
	if puts != 2 {
		t.Errorf("bulk overwrites after disabling a model = %d, want 2", puts)
	}
	if got, want := choices(cmds[0]), []string{"word"}; !slices.Equal(got, want) {
		t.Errorf("choices after disabling char = %v, want %v", got, want)
	}
}

// allowedMentionsEmpty reports whether raw JSON has "allowed_mentions":{"parse":[]}.
func allowedMentionsEmpty(t *testing.T, raw json.RawMessage) bool {
	t.Helper()
	var m struct {
		AllowedMentions *struct {
			Parse *[]string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("message JSON: %v", err)
	}
	return m.AllowedMentions != nil && m.AllowedMentions.Parse != nil && len(*m.AllowedMentions.Parse) == 0
}

// Tried: /comment end to end, with a prompt that makes the text ping @everyone and a
// user. Survives: a deferral within the deadline, then one edit whose content is the
// generator's text for the bot's first seed plus the footer, with
// allowed_mentions {"parse": []}.
func TestGatewayCommentEndToEnd(t *testing.T) {
	gen := newFakeGen()
	h := startGateway(t, testConfig(), gen, Options{})
	seeds := seedsFrom(1, 2, 2)

	for n, tc := range []struct {
		name   string
		opts   []*discordgo.ApplicationCommandInteractionDataOption
		req    GenerateRequest
		footer string
	}{
		{"all options", []*discordgo.ApplicationCommandInteractionDataOption{strOpt("model", "char"), numOpt("temperature", 0.7), strOpt("prompt", "i think"), numOpt("length", 5.0)},
			GenerateRequest{Model: "char", Temperature: 0.7, Prompt: "i think", Length: 5, Seed: seeds[0]},
			fmt.Sprintf("-# char v1 · temperature 0.7 · seed %d", seeds[0])},
		{"defaults and a ping", []*discordgo.ApplicationCommandInteractionDataOption{strOpt("prompt", "@everyone <@123> look")},
			GenerateRequest{Model: "word", Temperature: 0.8, Prompt: "@everyone <@123> look", Seed: seeds[1]},
			fmt.Sprintf("-# word v3 · temperature 0.8 · seed %d", seeds[1])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := guildCmd("comment", fmt.Sprintf("user%d", n), "chan1", 0, tc.opts...)
			l := h.dispatch(t, i, func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })
			if l.Callback.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
				t.Errorf("callback type = %v, want deferred (5)", l.Callback.Type)
			}
			if lat := l.Latency(); lat < 0 || lat > discordgo.InteractionDeadline {
				t.Errorf("first response after %v, want within %v", lat, discordgo.InteractionDeadline)
			}
			want := fakeText(tc.req) + "\n" + tc.footer
			if got := l.Edits[0].Text(); got != want {
				t.Errorf("edited content = %q, want %q", got, want)
			}
			if !allowedMentionsEmpty(t, l.Edits[0].Raw) {
				t.Errorf("edit allowed_mentions = %s, want {\"parse\":[]}", l.Edits[0].Raw)
			}
			if len(l.Edits) != 1 || len(l.Followups) != 0 || len(l.Refused) != 0 {
				t.Errorf("edits %d, follow-ups %d, refused %v; want exactly one edit", len(l.Edits), len(l.Followups), l.Refused)
			}
		})
	}
}

// Tried: every kind of bad input, each from a fresh user. Survives: each is answered
// at once (callback type 4) with an ephemeral plain-language message, the generator is
// never called, no panic, and a good /comment afterwards is still served.
func TestGatewayBadInput(t *testing.T) {
	gen := newFakeGen()
	h := startGateway(t, testConfig(), gen, Options{})
	long := strings.Repeat("é", 201)
	for n, tc := range []struct {
		name string
		i    *discordgo.Interaction
		want string // substring of the ephemeral answer
	}{
		{"unknown model", nil, "no model called"},
		{"disabled model", nil, "switched off"},
		{"temperature too high", nil, "out of range"},
		{"temperature too low", nil, "out of range"},
		{"temperature not a number", nil, "must be a number"},
		{"temperature null-ish bool", nil, "must be a number"},
		{"prompt too long", nil, "201 characters"},
		{"prompt not text", nil, "must be text"},
		{"length zero", nil, "whole number"},
		{"length fraction", nil, "whole number"},
		{"unknown option", nil, "no option"},
		{"retrain in a DM", dmCmd("retrain", "dm1", strOpt("model", "word")), "only works in a server"},
		{"retrain without permission", guildCmd("retrain", "u", "c", discordgo.PermissionSendMessages, strOpt("model", "word")), "Only moderators"},
		{"retrain without model", guildCmd("retrain", "u", "c", discordgo.PermissionManageGuild), "which model"},
		{"retrain unknown model", guildCmd("retrain", "u", "c", discordgo.PermissionAdministrator, strOpt("model", "gpt")), "no model called"},
		{"unknown command", guildCmd("tldr", "u", "c", 0), "don't know the command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := fmt.Sprintf("bad%d", n)
			i := tc.i
			if i == nil {
				opts := map[string][]*discordgo.ApplicationCommandInteractionDataOption{
					"unknown model":             {strOpt("model", "gpt-9")},
					"disabled model":            {strOpt("model", "rnn")},
					"temperature too high":      {numOpt("temperature", 5.0)},
					"temperature too low":       {numOpt("temperature", -1.0)},
					"temperature not a number":  {numOpt("temperature", "hot")},
					"temperature null-ish bool": {numOpt("temperature", true)},
					"prompt too long":           {strOpt("prompt", long)},
					"prompt not text":           {numOpt("prompt", 3.0)},
					"length zero":               {numOpt("length", 0.0)},
					"length fraction":           {numOpt("length", 2.5)},
					"unknown option":            {strOpt("mood", "grumpy")},
				}[tc.name]
				i = guildCmd("comment", user, "c"+user, 0, opts...)
			}
			calls := gen.callCount()
			l := h.dispatch(t, i, answered)
			if l.Callback == nil || l.Callback.Type != discordgo.InteractionResponseChannelMessageWithSource || l.Callback.Data == nil {
				t.Fatalf("callback = %+v, want an immediate message", l.Callback)
			}
			if !l.Callback.Data.Ephemeral() {
				t.Errorf("answer not ephemeral: %s", l.Callback.Data.Raw)
			}
			if got := l.Callback.Data.Text(); !strings.Contains(got, tc.want) {
				t.Errorf("answer = %q, want it to mention %q", got, tc.want)
			}
			if gen.callCount() != calls {
				t.Errorf("generator called for bad input")
			}
		})
	}
	l := h.dispatch(t, guildCmd("comment", "good", "good", 0), func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })
	if !strings.Contains(l.Edits[0].Text(), "-# word v3") {
		t.Errorf("after bad input, /comment answered %q, want a comment", l.Edits[0].Text())
	}
	if s := h.bot.Stats(); s.BadInput != 16 || s.Generated != 1 {
		t.Errorf("stats = %+v, want 16 bad inputs and 1 comment", s)
	}
}

// Tried: a comment from a DM (Member nil, User set) and the same user again at once,
// a channel over its rate, and generations over the concurrency cap. Survives: the DM
// comment is served; repeats are refused ephemerally with the time to wait.
func TestGatewayAbuseLimits(t *testing.T) {
	gen := newFakeGen()
	cfg := testConfig()
	cfg.ChannelRate = 2
	cfg.MaxConcurrent = 1
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	var outcomes []string
	metrics := MetricsFunc(func(command, outcome string, first, total time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if first <= 0 || first > total {
			t.Errorf("%s %s: first response %v, total %v", command, outcome, first, total)
		}
		outcomes = append(outcomes, command+":"+outcome)
	})
	h := startGateway(t, cfg, gen, Options{Now: clock, Metrics: metrics})
	edited := func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 }

	if l := h.dispatch(t, dmCmd("comment", "alice"), edited); !strings.Contains(l.Edits[0].Text(), "-# word") {
		t.Fatalf("DM comment = %q, want a comment", l.Edits[0].Text())
	}
	advance(3 * time.Second)
	l := h.dispatch(t, dmCmd("comment", "alice"), answered)
	if got := l.Callback.Data; got == nil || !got.Ephemeral() || !strings.Contains(got.Text(), "in 7 seconds") {
		t.Errorf("cooldown answer = %+v, want ephemeral 'in 7 seconds'", got)
	}
	advance(10 * time.Second)
	h.dispatch(t, dmCmd("comment", "alice"), edited) // cooldown over

	// Channel rate: 2 per minute in channel "busy".
	h.dispatch(t, guildCmd("comment", "u1", "busy", 0), edited)
	h.dispatch(t, guildCmd("comment", "u2", "busy", 0), edited)
	l = h.dispatch(t, guildCmd("comment", "u3", "busy", 0), answered)
	if got := l.Callback.Data; got == nil || !got.Ephemeral() || !strings.Contains(got.Text(), "This channel") {
		t.Errorf("channel rate answer = %+v, want ephemeral channel message", got)
	}

	// Concurrency cap 1: a slow generation holds the slot.
	slow := guildCmd("comment", "s1", "s1", 0, strOpt("prompt", "stubborn"))
	if err := h.fake.DispatchInteraction(slow); err != nil {
		t.Fatal(err)
	}
	h.await(t, slow.Token, func(l fakediscord.InteractionLog) bool { return l.Callback != nil })
	l = h.dispatch(t, guildCmd("comment", "s2", "s2", 0), answered)
	if got := l.Callback.Data; got == nil || !got.Ephemeral() || !strings.Contains(got.Text(), "busy") {
		t.Errorf("over the cap: %+v, want ephemeral busy", got)
	}
	if l := h.await(t, slow.Token, edited); !strings.Contains(l.Edits[0].Text(), "stubborn") {
		t.Errorf("slow comment = %q", l.Edits[0].Text())
	}
	if s := h.bot.Stats(); s.Limited != 2 || s.Busy != 1 {
		t.Errorf("stats = %+v, want 2 limited, 1 busy", s)
	}
	// The observation follows the answer: wait for the eighth.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(outcomes)
		mu.Unlock()
		if n >= 8 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(outcomes)
	want := []string{"comment:busy", "comment:limited", "comment:limited", "comment:ok", "comment:ok", "comment:ok", "comment:ok", "comment:ok"}
	if !slices.Equal(outcomes, want) {
		t.Errorf("metrics outcomes = %v, want %v", outcomes, want)
	}
}

// Tried: texts that are too long (multi-byte runes), contain filtered words in any
// case or are blank, a generator that never returns, one that ignores ctx, one
// that fails and one whose batch and queue are full. Survives: ≤ 2000 valid UTF-8
// characters with the footer intact, masked words only as whole words, never an
// empty message, plain messages for timeout, failure and load.
func TestGatewayOutputSafety(t *testing.T) {
	gen := newFakeGen()
	cfg := testConfig()
	cfg.WordFilter = []string{"heck", "Darn"}
	cfg.Cooldown = 0
	cfg.ChannelRate = 0
	cfg.GenerationTimeout = 200 * time.Millisecond
	h := startGateway(t, cfg, gen, Options{})
	gen.override = func(req GenerateRequest) string {
		switch req.Prompt {
		case "long":
			return strings.Repeat("ü€", 1500)
		case "swear":
			return "what the HECK, heck's darn checked Darned heck"
		case "blank":
			return " \n\t "
		}
		return fakeText(req)
	}
	edited := func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 }
	for _, tc := range []struct {
		prompt string
		check  func(t *testing.T, got string)
	}{
		{"long", func(t *testing.T, got string) {
			if n := utf8.RuneCountInString(got); n != MaxMessageRunes || !utf8.ValidString(got) {
				t.Errorf("long: %d runes (valid %v), want exactly %d", n, utf8.ValidString(got), MaxMessageRunes)
			}
			if !strings.Contains(got, "…\n-# word v3") {
				t.Errorf("long: footer lost or no ellipsis: …%q", got[len(got)-80:])
			}
		}},
		{"swear", func(t *testing.T, got string) {
			if want := "what the [expletive], [expletive]'s [expletive] checked Darned [expletive]\n"; !strings.HasPrefix(got, want) {
				t.Errorf("swear: %q, want prefix %q", got, want)
			}
		}},
		{"blank", func(t *testing.T, got string) {
			if !strings.HasPrefix(got, emptyText+"\n-# ") {
				t.Errorf("blank: %q, want the placeholder and footer", got)
			}
		}},
		{"slow", func(t *testing.T, got string) {
			if !strings.Contains(got, "longer than 200ms") {
				t.Errorf("slow: %q, want the timeout message", got)
			}
		}},
		{"stubborn", func(t *testing.T, got string) {
			if !strings.Contains(got, "longer than 200ms") {
				t.Errorf("stubborn: %q, want the timeout message even though the generator ignores ctx", got)
			}
		}},
		{"explode", func(t *testing.T, got string) {
			if got != "Something went wrong while writing the comment; the error was logged." {
				t.Errorf("explode: %q", got)
			}
		}},
		{"full", func(t *testing.T, got string) {
			if got != busyText {
				t.Errorf("full batch and queue: %q, want %q", got, busyText)
			}
		}},
	} {
		t.Run(tc.prompt, func(t *testing.T) {
			l := h.dispatch(t, guildCmd("comment", "u", "c", 0, strOpt("prompt", tc.prompt)), edited)
			if !allowedMentionsEmpty(t, l.Edits[0].Raw) {
				t.Errorf("allowed_mentions not empty: %s", l.Edits[0].Raw)
			}
			tc.check(t, l.Edits[0].Text())
		})
	}
	if s := h.bot.Stats(); s.Timeouts != 2 || s.Busy != 1 {
		t.Errorf("timeouts = %d, busy = %d, want 2 and 1", s.Timeouts, s.Busy)
	}
}

// Tried: an originality check that flags the first two samples, then one that flags
// everything. Survives: the third sample (third seed) is posted and the footer names
// its seed; with everything flagged the user is told so after 1+retries samples; the
// rejection rate counts both.
func TestGatewayOriginality(t *testing.T) {
	gen := newFakeGen()
	var mu sync.Mutex
	flagged, levels := 2, []string{}
	orig := OriginalityFunc(func(level, text string) bool {
		mu.Lock()
		defer mu.Unlock()
		levels = append(levels, level)
		if flagged < 0 {
			return true
		}
		if flagged > 0 {
			flagged--
			return true
		}
		return false
	})
	cfg := testConfig()
	cfg.OriginalityRetries = 3
	h := startGateway(t, cfg, gen, Options{Originality: orig})
	seeds := seedsFrom(1, 2, 3)
	edited := func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 }

	l := h.dispatch(t, guildCmd("comment", "a", "a", 0, strOpt("model", "char")), edited)
	want := fakeText(GenerateRequest{Model: "char", Temperature: 0.8, Seed: seeds[2]}) + fmt.Sprintf("\n-# char v1 · temperature 0.8 · seed %d", seeds[2])
	if got := l.Edits[0].Text(); got != want {
		t.Errorf("after two rejections: %q, want %q", got, want)
	}
	mu.Lock()
	flagged = -1
	mu.Unlock()
	l = h.dispatch(t, guildCmd("comment", "b", "b", 0), edited)
	if got := l.Edits[0].Text(); !strings.Contains(got, "(4 tries)") {
		t.Errorf("all rejected: %q, want the parrot message", got)
	}
	s := h.bot.Stats()
	if s.Samples != 7 || s.Rejected != 6 || s.Exhausted != 1 || s.Generated != 1 {
		t.Errorf("stats = %+v, want 7 samples, 6 rejected, 1 exhausted, 1 generated", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if levels[0] != "char" || levels[len(levels)-1] != "word" {
		t.Errorf("levels asked = %v, want char first and word last", levels)
	}
}

// Tried: /models with a loss curve, /retrain by a moderator (permission), by a member
// holding the configured role, and of a model whose retrain fails. Survives: the
// listing names every model with its facts and carries the PNG; retrains are
// acknowledged then reported as follow-ups.
func TestGatewayModelsAndRetrain(t *testing.T) {
	gen := newFakeGen()
	cfg := testConfig()
	cfg.ModeratorRole = "r-mod"
	h := startGateway(t, cfg, gen, Options{})

	l := h.dispatch(t, guildCmd("models", "u", "c", 0), answered)
	m, _ := l.Final()
	for _, want := range []string{
		"**word** — word-lstm, enabled, version v3, trained 2026-11-26 12:00 UTC, held-out loss 4.250, corpus 15000 comments",
		"**char** — char-lstm, enabled, version v1, held-out loss 1.500",
		"**rnn** — rnn, disabled, version not trained yet",
	} {
		if !strings.Contains(m.Text(), want) {
			t.Errorf("/models = %q, want a line %q", m.Text(), want)
		}
	}
	if len(m.Files) != 1 || m.Files[0].Name != "word-loss.png" || string(m.Files[0].Data) != string(gen.models[0].LossCurvePNG) {
		t.Errorf("/models files = %+v, want word-loss.png with the PNG bytes", m.Files)
	}

	followed := func(l fakediscord.InteractionLog) bool { return len(l.Followups) > 0 || len(l.Refused) > 0 }
	mod := guildCmd("retrain", "m", "c", discordgo.PermissionManageGuild, strOpt("model", "word"))
	l = h.dispatch(t, mod, followed)
	if l.Callback.Data == nil || l.Callback.Data.Ephemeral() || !strings.Contains(l.Callback.Data.Text(), "Fine-tuning **word**") {
		t.Errorf("retrain ack = %+v", l.Callback.Data)
	}
	if got := l.Followups[0].Text(); got != "Fine-tune of **word** finished: version v4 promoted, held-out loss 4.10 → 4.02" {
		t.Errorf("retrain follow-up = %q", got)
	}
	role := guildCmd("retrain", "r", "c", 0, strOpt("model", "rnn"))
	role.Member.Roles = []string{"r-mod"}
	l = h.dispatch(t, role, followed)
	if got := l.Followups[0].Text(); got != "Fine-tune of **rnn** failed: no comments to train on" {
		t.Errorf("failed retrain follow-up = %q", got)
	}
	if !allowedMentionsEmpty(t, l.Followups[0].Raw) {
		t.Errorf("follow-up allowed_mentions = %s", l.Followups[0].Raw)
	}
	gen.mu.Lock()
	defer gen.mu.Unlock()
	if !slices.Equal(gen.retrained, []string{"word", "rnn"}) {
		t.Errorf("retrained = %v", gen.retrained)
	}
}

// Tried: drop the gateway connection and dispatch an interaction while it is down.
// Survives: discordgo reconnects with RESUME (no second IDENTIFY), the queued
// interaction is replayed and answered, heartbeats were ACKed.
func TestGatewayDisconnectResume(t *testing.T) {
	gen := newFakeGen()
	h := startGateway(t, testConfig(), gen, Options{})
	edited := func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 }
	h.dispatch(t, guildCmd("comment", "before", "c1", 0), edited)

	h.fake.Drop()
	during := guildCmd("comment", "during", "c2", 0)
	if err := h.fake.DispatchInteraction(during); err != nil {
		t.Fatalf("dispatch while down: %v", err)
	}
	l := h.await(t, during.Token, edited)
	if !strings.Contains(l.Edits[0].Text(), "-# word v3") || l.Latency() > discordgo.InteractionDeadline {
		t.Errorf("replayed interaction: %q after %v", l.Edits[0].Text(), l.Latency())
	}
	// discordgo can notice one drop twice (listen and heartbeat both reconnect), so a
	// second RESUME is legitimate; a new IDENTIFY is not.
	if r, ids := h.fake.Resumes(), len(h.fake.Identifies()); r < 1 || ids != 1 {
		t.Errorf("resumes = %d, identifies = %d; want ≥ 1 and 1", r, ids)
	}
	h.dispatch(t, guildCmd("comment", "after", "c3", 0), edited)
	if acks := h.fake.HeartbeatAcks(); acks < 1 {
		t.Errorf("heartbeat acks = %d, want ≥ 1", acks)
	}
}

// Tried: 429s with JSON bodies and Retry-After on the command registration, the
// callback, the edit, and a global one. Survives: discordgo waits and retries, every
// answer arrives, the callback within the deadline.
func TestGatewayRateLimited(t *testing.T) {
	gen := newFakeGen()
	fake := fakediscord.Start(fakediscord.Options{})
	defer fake.Close()
	defer fake.Install()()
	fake.InjectRateLimit("PUT", "/commands", 1, 150*time.Millisecond, false)
	b, err := New(testConfig(), gen, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Connect(ctx, testToken, fake.AppID()); err != nil {
		t.Fatalf("Connect with a 429 on registration: %v", err)
	}
	defer func() {
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	if cmds, _ := fake.Commands("555"); len(cmds) != 3 {
		t.Fatalf("commands after a 429 = %d, want 3", len(cmds))
	}
	h := &harness{fake: fake, bot: b, gen: gen}
	fake.InjectRateLimit("POST", "/callback", 1, 300*time.Millisecond, false)
	fake.InjectRateLimit("PATCH", "/messages/@original", 2, 100*time.Millisecond, false)
	l := h.dispatch(t, guildCmd("comment", "u", "c", 0), func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })
	if lat := l.Latency(); lat < 300*time.Millisecond || lat > discordgo.InteractionDeadline {
		t.Errorf("callback after %v, want after the 300ms Retry-After and within the deadline", lat)
	}
	fake.InjectRateLimit("", "/webhooks/", 1, 200*time.Millisecond, true)
	h.dispatch(t, guildCmd("comment", "v", "d", 0), func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 })

	var limited []string
	for _, r := range fake.Requests() {
		if r.Status == 429 {
			limited = append(limited, r.Method+" "+r.Path[strings.LastIndex(r.Path, "/"):])
		}
	}
	sort.Strings(limited)
	want := []string{"PATCH /@original", "PATCH /@original", "PATCH /@original", "POST /callback", "PUT /commands"}
	if !slices.Equal(limited, want) {
		t.Errorf("429s served = %v, want %v", limited, want)
	}
	if s := b.Stats(); s.RespondErrors != 0 || s.Generated != 2 {
		t.Errorf("stats = %+v, want 2 comments and no respond errors", s)
	}
}

// Tried: Shutdown while a slow generation is in flight. Survives: Shutdown returns only
// after the answer was edited in.
func TestGatewayShutdownFinishesInFlight(t *testing.T) {
	gen := newFakeGen()
	gen.delay = 400 * time.Millisecond
	h := startGateway(t, testConfig(), gen, Options{})
	i := guildCmd("comment", "u", "c", 0)
	if err := h.fake.DispatchInteraction(i); err != nil {
		t.Fatal(err)
	}
	h.await(t, i.Token, func(l fakediscord.InteractionLog) bool { return l.Callback != nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.bot.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if l, _ := h.fake.Interaction(i.Token); len(l.Edits) != 1 {
		t.Errorf("after Shutdown the in-flight comment has %d edits, want 1", len(l.Edits))
	}
}

// Tried: a Generator whose model listing takes 2.7 s, so validation alone would miss
// Discord's 3 s deadline, on the gateway and over HTTP. Survives: the bot defers by
// itself within the deadline and edits the comment in afterwards.
func TestSlowValidationStillDeferred(t *testing.T) {
	edited := func(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 }
	t.Run("gateway", func(t *testing.T) {
		gen := newFakeGen()
		h := startGateway(t, testConfig(), gen, Options{})
		gen.mu.Lock()
		gen.slowList = 2700 * time.Millisecond
		gen.mu.Unlock()
		l := h.dispatch(t, guildCmd("comment", "u", "c", 0), edited)
		if l.Callback.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || l.Latency() > discordgo.InteractionDeadline {
			t.Errorf("callback %v after %v, want deferred within the deadline", l.Callback.Type, l.Latency())
		}
		if !strings.Contains(l.Edits[0].Text(), "-# word v3") || len(l.Refused) != 0 {
			t.Errorf("answer %q, refused %v", l.Edits[0].Text(), l.Refused)
		}
	})
	t.Run("http", func(t *testing.T) {
		gen := newFakeGen()
		h := startHTTP(t, gen)
		gen.mu.Lock()
		gen.slowList = 2700 * time.Millisecond
		gen.mu.Unlock()
		i := guildCmd("comment", "u", "c", 0)
		body := interactionJSON(t, h.fake, i)
		h.fake.Register(i.ID, i.Token, discordgo.InteractionResponseDeferredChannelMessageWithSource)
		start := time.Now()
		status, out := h.post(t, h.priv, h.now, body, body)
		took := time.Since(start)
		if status != 200 || !strings.Contains(string(out), `"type":5`) || took > discordgo.InteractionDeadline {
			t.Errorf("HTTP answer %d %s after %v, want a deferral within the deadline", status, out, took)
		}
		l := (&harness{fake: h.fake}).await(t, i.Token, edited)
		if !strings.Contains(l.Edits[0].Text(), "-# word v3") {
			t.Errorf("answer %q", l.Edits[0].Text())
		}
	})
}
