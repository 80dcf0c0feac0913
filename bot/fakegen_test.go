package bot

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/internal/fakediscord"

	"github.com/bwmarrin/discordgo"
)

// fakeGen is a deterministic Generator for tests: the text is a function of the model,
// the seed, the prompt and the length (fakeText). Some prompts trigger behaviour:
//
//	"slow"     blocks until ctx ends
//	"stubborn" sleeps 300 ms ignoring ctx, then returns a comment
//	"explode"  returns an internal error
//	"full"     returns ErrBusy: the model's batch and queue are full
type fakeGen struct {
	mu        sync.Mutex
	models    []ModelInfo
	delay     time.Duration // per Generate, honouring ctx
	slowList  time.Duration // per Models call
	calls     []GenerateRequest
	retrained []string
	override  func(GenerateRequest) string // when set, the text
}

func newFakeGen() *fakeGen {
	return &fakeGen{models: []ModelInfo{
		{Name: "word", Kind: "word-lstm", Enabled: true, Version: "v3", TrainedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), HeldOutLoss: 4.25, CorpusSize: 15000, LossCurvePNG: []byte("\x89PNG\r\n\x1a\nfake-word")},
		{Name: "char", Kind: "char-lstm", Enabled: true, Version: "v1", HeldOutLoss: 1.5, CorpusSize: 15000},
		{Name: "rnn", Kind: "rnn", Enabled: false},
	}}
}

var fakeWords = []string{"i", "think", "this", "is", "the", "best", "comment", "reddit", "has", "seen", "today", "honestly", "lol", "."}

// fakeText is what fakeGen writes for req (without override).
func fakeText(req GenerateRequest) string {
	n := req.Length
	if n == 0 {
		n = 12
	}
	r := rand.New(rand.NewPCG(req.Seed, 7))
	words := []string{}
	if req.Prompt != "" {
		words = append(words, req.Prompt)
	}
	for range n {
		words = append(words, fakeWords[r.IntN(len(fakeWords))])
	}
	return req.Model + ": " + strings.Join(words, " ")
}

func (g *fakeGen) Models(ctx context.Context) []ModelInfo {
	g.mu.Lock()
	slow := g.slowList
	g.mu.Unlock()
	if slow > 0 {
		select {
		case <-time.After(slow):
		case <-ctx.Done():
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]ModelInfo(nil), g.models...)
}

func (g *fakeGen) setEnabled(name string, on bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := range g.models {
		if g.models[i].Name == name {
			g.models[i].Enabled = on
		}
	}
}

func (g *fakeGen) Generate(ctx context.Context, req GenerateRequest) (Generated, error) {
	g.mu.Lock()
	g.calls = append(g.calls, req)
	var info *ModelInfo
	for i := range g.models {
		if g.models[i].Name == req.Model {
			info = &g.models[i]
		}
	}
	delay, override := g.delay, g.override
	g.mu.Unlock()
	switch {
	case info == nil:
		return Generated{}, fmt.Errorf("%w: %q", ErrUnknownModel, req.Model)
	case !info.Enabled:
		return Generated{}, fmt.Errorf("%w: %q", ErrModelDisabled, req.Model)
	case req.Prompt == "slow":
		<-ctx.Done()
		return Generated{}, ctx.Err()
	case req.Prompt == "stubborn":
		time.Sleep(300 * time.Millisecond)
	case req.Prompt == "explode":
		return Generated{}, fmt.Errorf("checkpoint mismatch")
	case req.Prompt == "full":
		return Generated{}, fmt.Errorf("%w: model: busy: 32 comments being written and 64 waiting", ErrBusy)
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return Generated{}, ctx.Err()
		}
	}
	text := fakeText(req)
	if override != nil {
		text = override(req)
	}
	return Generated{Text: text, Model: req.Model, Version: info.Version, Temperature: req.Temperature, Seed: req.Seed}, nil
}

func (g *fakeGen) Retrain(ctx context.Context, model string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retrained = append(g.retrained, model)
	if model == "rnn" {
		return "", fmt.Errorf("no comments to train on")
	}
	return "version v4 promoted, held-out loss 4.10 → 4.02", nil
}

func (g *fakeGen) callCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// seedsFrom returns the first n seeds a bot built with Seeds: rand.NewPCG(a, b) draws.
func seedsFrom(a, b uint64, n int) []uint64 {
	r := rand.New(rand.NewPCG(a, b))
	out := make([]uint64, n)
	for i := range out {
		out[i] = r.Uint64() >> 11
	}
	return out
}

// testConfig is DefaultConfig with a guild, so commands register per guild.
func testConfig() Config {
	c := DefaultConfig()
	c.GuildID = "555"
	c.GenerationTimeout = 2 * time.Second
	return c
}

const testToken = "test-token"

// harness is a bot connected to a fake Discord over the gateway.
type harness struct {
	fake *fakediscord.Server
	bot  *Bot
	gen  *fakeGen
	gw   *Gateway
}

// startGateway starts a fake Discord, points discordgo at it, connects a bot and
// registers cleanups (shutdown, fake close, endpoint restore). Not parallel-safe.
func startGateway(t testing.TB, cfg Config, gen *fakeGen, opts Options) *harness {
	t.Helper()
	// discordgo reconnects when no ACK came within 5 intervals: 2 s keeps a loaded
	// machine (-race, shared cores) from tripping it, while the first heartbeat is
	// still sent at once.
	fake := fakediscord.Start(fakediscord.Options{HeartbeatInterval: 2 * time.Second})
	restore := fake.Install()
	t.Cleanup(restore)
	t.Cleanup(fake.Close)
	if opts.Seeds == nil {
		opts.Seeds = rand.NewPCG(1, 2)
	}
	b, err := New(cfg, gen, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gw, err := b.Connect(ctx, testToken, fake.AppID())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := b.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &harness{fake: fake, bot: b, gen: gen, gw: gw}
}

func strOpt(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

func numOpt(name string, v any) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionNumber, Value: v}
}

// guildCmd builds a slash command from user in channel of guild 555, with perms.
func guildCmd(name, user, channel string, perms int64, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	return &discordgo.Interaction{
		Type: discordgo.InteractionApplicationCommand, GuildID: "555", ChannelID: channel,
		Data:   discordgo.ApplicationCommandInteractionData{ID: "1", Name: name, Options: opts},
		Member: &discordgo.Member{User: &discordgo.User{ID: user}, Permissions: perms, Roles: []string{"r-member"}},
	}
}

// dmCmd builds a slash command sent in a DM: Member is nil, User is set.
func dmCmd(name, user string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	return &discordgo.Interaction{
		Type: discordgo.InteractionApplicationCommand, ChannelID: "dm-" + user,
		Data: discordgo.ApplicationCommandInteractionData{ID: "1", Name: name, Options: opts},
		User: &discordgo.User{ID: user},
	}
}

// dispatch sends i and waits until cond holds for its log (or fails after 10 s).
func (h *harness) dispatch(t *testing.T, i *discordgo.Interaction, cond func(fakediscord.InteractionLog) bool) fakediscord.InteractionLog {
	t.Helper()
	if err := h.fake.DispatchInteraction(i); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	return h.await(t, i.Token, cond)
}

func (h *harness) await(t *testing.T, token string, cond func(fakediscord.InteractionLog) bool) fakediscord.InteractionLog {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var l fakediscord.InteractionLog
	err := h.fake.Wait(ctx, func() bool {
		l, _ = h.fake.Interaction(token)
		return cond(l)
	})
	if err != nil {
		t.Fatalf("interaction %s: %v; log: %+v", token, err, l)
	}
	return l
}

// answered: a message callback, or a deferral followed by an edit.
func answered(l fakediscord.InteractionLog) bool {
	_, ok := l.Final()
	return ok || len(l.Refused) > 0
}
