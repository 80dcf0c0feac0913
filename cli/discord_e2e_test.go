package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"commentbot/internal/fakediscord"
)

// e2eToken is the bot token the fake Discord sees (as "Bot e2e-token").
const e2eToken = "e2e-token"

// e2eGuild is the guild the end-to-end configs register their commands in.
const e2eGuild = "555"

// lockedBuffer is an io.Writer safe for the concurrent logging of serve and train.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// deadReddit returns a base URL on a loopback port nothing listens on: every Reddit
// call is refused at once, so the bot runs offline.
func deadReddit(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	return dead
}

// discordRun is `commentbot run` started through serve against a fake Discord.
type discordRun struct {
	fake    *fakediscord.Server
	cfgPath string
	stderr  *lockedBuffer
	cancel  context.CancelFunc
	done    chan error // serve's result
	seq     atomic.Int64
}

// startDiscordRun installs a fake Discord, starts serve with DISCORD_TOKEN and
// DISCORD_APP_ID set as production reads them, and waits until every enabled model is
// ready (the ready callback) and the commands are registered in e2eGuild.
func startDiscordRun(t *testing.T, cfgPath string, trainSteps int, readyWithin time.Duration) *discordRun {
	t.Helper()
	// discordgo reconnects when no ACK came within 5 intervals; 2 s keeps a loaded machine
	// from tripping that while the first heartbeat still goes out at once.
	fake := fakediscord.Start(fakediscord.Options{HeartbeatInterval: 2 * time.Second})
	restore := fake.Install()
	t.Cleanup(func() { fake.Close(); restore() })
	secrets := map[string]string{"DISCORD_TOKEN": e2eToken, "DISCORD_APP_ID": fake.AppID()}
	r := &discordRun{fake: fake, cfgPath: cfgPath, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	env := Env{Stdin: strings.NewReader(""), Stdout: r.stderr, Stderr: r.stderr, Getenv: func(k string) string { return secrets[k] }}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	ready := make(chan struct{})
	go func() {
		r.done <- serve(ctx, common{configPath: cfgPath}, env, runOptions{
			trainSteps: trainSteps, firstIngestTimeout: 2 * time.Second, ready: func() { close(ready) }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
			t.Errorf("serve still running 60 s after its ctx ended")
		}
		if t.Failed() {
			t.Logf("serve's log:\n%s", r.stderr.String())
		}
	})
	select {
	case <-ready:
	case err := <-r.done:
		r.done <- err
		t.Fatalf("serve returned before the models were ready: %v\n%s", err, r.stderr.String())
	case <-time.After(readyWithin):
		t.Fatalf("models not ready after %v\n%s", readyWithin, r.stderr.String())
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := fake.Wait(wctx, func() bool {
		cmds, _ := fake.Commands(e2eGuild)
		return fake.Connected() && len(cmds) > 0
	}); err != nil {
		t.Fatalf("gateway connected %v, commands never registered: %v\n%s", fake.Connected(), err, r.stderr.String())
	}
	return r
}

// comment builds a /comment from a fresh user in a fresh channel of e2eGuild, so that
// no cooldown or channel rate applies.
func (r *discordRun) comment(opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	n := strconv.FormatInt(r.seq.Add(1), 10)
	return &discordgo.Interaction{
		Type: discordgo.InteractionApplicationCommand, GuildID: e2eGuild, ChannelID: "chan-" + n,
		Data:   discordgo.ApplicationCommandInteractionData{ID: "1", Name: "comment", Options: opts},
		Member: &discordgo.Member{User: &discordgo.User{ID: "user-" + n}},
	}
}

// send dispatches i on the gateway and waits up to within for cond on its log.
func (r *discordRun) send(t testing.TB, i *discordgo.Interaction, within time.Duration, cond func(fakediscord.InteractionLog) bool) fakediscord.InteractionLog {
	t.Helper()
	if err := r.fake.DispatchInteraction(i); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	l, err := r.await(i.Token, within, cond)
	if err != nil {
		t.Fatalf("interaction %s: %v; log %+v", i.Token, err, l)
	}
	return l
}

func (r *discordRun) await(token string, within time.Duration, cond func(fakediscord.InteractionLog) bool) (fakediscord.InteractionLog, error) {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var l fakediscord.InteractionLog
	err := r.fake.Wait(ctx, func() bool {
		l, _ = r.fake.Interaction(token)
		return cond(l)
	})
	return l, err
}

func edited(l fakediscord.InteractionLog) bool { return len(l.Edits) > 0 || len(l.Refused) > 0 }

func messaged(l fakediscord.InteractionLog) bool {
	_, ok := l.Final()
	return ok || len(l.Refused) > 0
}

func strOption(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

func numOption(name string, v float64) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionNumber, Value: v}
}

// modelChoices returns the names of the /comment model choices in cmds, and whether
// /comment is there at all.
func modelChoices(cmds []*discordgo.ApplicationCommand) ([]string, bool) {
	for _, c := range cmds {
		if c.Name != "comment" {
			continue
		}
		var out []string
		for _, o := range c.Options {
			if o.Name == "model" {
				for _, ch := range o.Choices {
					out = append(out, ch.Name)
				}
			}
		}
		return out, true
	}
	return nil, false
}

// mentionsNone reports whether raw has "allowed_mentions": {"parse": []} — nobody is
// pinged, whatever the text says.
func mentionsNone(t testing.TB, raw json.RawMessage) bool {
	t.Helper()
	var m struct {
		AllowedMentions *struct {
			Parse *[]string `json:"parse"`
		} `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("message JSON %s: %v", raw, err)
	}
	return m.AllowedMentions != nil && m.AllowedMentions.Parse != nil && len(*m.AllowedMentions.Parse) == 0
}

// footerRE matches the footer of a /comment answer.
var footerRE = regexp.MustCompile(`\n-# (\w+) v(\d+) · temperature ([0-9.]+) · seed (\d+)$`)

// e2eConfig is tinyConfig with the commands registered in e2eGuild and room for
// concurrent comments.
func e2eConfig(t *testing.T, dir, dead string) string {
	t.Helper()
	path := tinyConfig(t, dir, dead, dead+"api/v1/access_token")
	rewriteConfig(t, path, "bot:\n", "bot:\n  guild_id: \""+e2eGuild+"\"\n  max_concurrent: 10\n")
	return path
}

// rewriteConfig replaces old (which must occur exactly once) with new in the file.
func rewriteConfig(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), old); n != 1 {
		t.Fatalf("config %s has %d occurrences of %q, want 1:\n%s", path, n, old, b)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// `commentbot run` serving Discord through the gateway, end to end: the real store,
// scheduler and freshly trained tiny models, started through serve as production does
// (secrets from the environment, Reddit offline), against the fake Discord.
//
// Tried: registration, a /comment with every option and one with none, a burst of
// ten at once, bad input, then a hot reload of the config file that switches the
// char model off, then cancelling the run. Survives: the guild gets /comment, /models, /retrain with the
// enabled models as choices (nothing global); each /comment is deferred within 3 s
// then edited into a comment whose footer names model, version, temperature and seed,
// with allowed_mentions empty, and `generate` with that footer's seed reproduces it
// exactly, for the burst's comments (written together in batches) too; a
// temperature of 7, an unknown model and (after the reload) the disabled model are
// refused ephemerally at once; the reload re-registers the commands without
// "char" over the same gateway session; cancelling makes serve return nil.
func TestRunServesDiscordGateway(t *testing.T) {
	dir := t.TempDir()
	cfg := e2eConfig(t, dir, deadReddit(t))
	r := startDiscordRun(t, cfg, 3, 90*time.Second)
	fake := r.fake

	// Registration: one IDENTIFY with the token from the environment, commands in the guild.
	if ids := fake.Identifies(); len(ids) != 1 || ids[0].Token != "Bot "+e2eToken || ids[0].Intents != discordgo.IntentsNone {
		t.Errorf("identifies = %+v, want one with %q and no intents", ids, "Bot "+e2eToken)
	}
	cmds, puts := fake.Commands(e2eGuild)
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	if want := []string{"comment", "models", "retrain"}; !slices.Equal(names, want) {
		t.Errorf("guild commands = %v, want %v", names, want)
	}
	if global, _ := fake.Commands(""); len(global) != 0 {
		t.Errorf("%d global commands registered, want none with guild_id set", len(global))
	}
	if got, _ := modelChoices(cmds); !slices.Equal(got, []string{"word", "char"}) {
		t.Errorf("/comment model choices = %v, want [word char] (rnn is disabled)", got)
	}

	// Good /comment: with every option, and with none (the default model and temperature).
	for _, tc := range []struct {
		name                 string
		opts                 []*discordgo.ApplicationCommandInteractionDataOption
		model, temp, genArgs string
	}{
		{"char with options", []*discordgo.ApplicationCommandInteractionDataOption{strOption("model", "char"), numOption("temperature", 0.7), strOption("prompt", "i think")},
			"char", "0.7", "--prompt=i think"},
		{"defaults", nil, "word", "0.8", ""},
	} {
		l := r.send(t, r.comment(tc.opts...), 30*time.Second, edited)
		if l.Callback == nil || l.Callback.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
			t.Errorf("%s: callback %+v, want deferred (5)", tc.name, l.Callback)
			continue
		}
		if lat := l.Latency(); lat < 0 || lat > discordgo.InteractionDeadline {
			t.Errorf("%s: first response after %v, over Discord's %v", tc.name, lat, discordgo.InteractionDeadline)
		}
		if len(l.Edits) != 1 || len(l.Refused) != 0 || len(l.Followups) != 0 {
			t.Errorf("%s: %d edits, %d follow-ups, refused %v; want exactly one edit", tc.name, len(l.Edits), len(l.Followups), l.Refused)
			continue
		}
		got := l.Edits[0].Text()
		m := footerRE.FindStringSubmatch(got)
		if m == nil || m[1] != tc.model || m[2] != "1" || m[3] != tc.temp {
			t.Errorf("%s: answer %q, want a footer naming %s v1 · temperature %s · seed N", tc.name, got, tc.model, tc.temp)
			continue
		}
		if !mentionsNone(t, l.Edits[0].Raw) {
			t.Errorf("%s: allowed_mentions in %s, want {\"parse\":[]}", tc.name, l.Edits[0].Raw)
		}
		// The footer is enough to reproduce the comment offline.
		args := []string{"generate", "--config", cfg, "--model", m[1], "--temperature", m[3], "--seed", m[4]}
		if tc.genArgs != "" {
			args = append(args, tc.genArgs)
		}
		code, out, errs := run(t, "", args...)
		t.Logf("%s: Discord answer %q after %v (callback %v); reproduced by %v", tc.name, got,
			l.Edits[0].At.Sub(l.Dispatched).Round(time.Millisecond), l.Latency().Round(time.Millisecond), args[5:])
		if code != 0 || !sameComment(out, got, m[0]) {
			t.Errorf("%s: %v exit %d\n got %q\nwant %q (the Discord answer)\n%s", tc.name, args, code, strings.TrimSpace(out), got, errs)
		}
	}

	// Comments written together, in one batch, are the comments written alone.
	r.reproduceBurst(t, cfg, 10)

	// Bad input is refused at once, ephemerally, in plain words.
	for _, tc := range []struct {
		name string
		opts []*discordgo.ApplicationCommandInteractionDataOption
		want string
	}{
		{"temperature 7", []*discordgo.ApplicationCommandInteractionDataOption{numOption("temperature", 7)}, "Temperature 7 is out of range"},
		{"temperature 0", []*discordgo.ApplicationCommandInteractionDataOption{strOption("model", "char"), numOption("temperature", 0)}, "Temperature 0 is out of range"},
		{"unknown model", []*discordgo.ApplicationCommandInteractionDataOption{strOption("model", "nosuch")}, `no model called "nosuch"`},
	} {
		l := r.send(t, r.comment(tc.opts...), 10*time.Second, messaged)
		if l.Callback == nil || l.Callback.Type != discordgo.InteractionResponseChannelMessageWithSource || l.Callback.Data == nil {
			t.Errorf("%s: callback %+v, want an immediate message (4)", tc.name, l.Callback)
			continue
		}
		if !l.Callback.Data.Ephemeral() || !strings.Contains(l.Callback.Data.Text(), tc.want) || len(l.Edits) != 0 {
			t.Errorf("%s: answered %q (ephemeral %v, %d edits), want ephemeral %q", tc.name, l.Callback.Data.Text(), l.Callback.Data.Ephemeral(), len(l.Edits), tc.want)
		}
	}

	// Hot reload: switch the char model off in the file; serve keeps running.
	rewriteConfig(t, cfg, "    kind: char-lstm\n", "    kind: char-lstm\n    enabled: false\n")
	wctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := fake.Wait(wctx, func() bool {
		_, n := fake.Commands(e2eGuild)
		return n > puts
	})
	cmds, after := fake.Commands(e2eGuild)
	if err != nil {
		t.Fatalf("commands not re-registered within 20 s of the config change (%d bulk overwrites): %v", after, err)
	}
	if got, ok := modelChoices(cmds); !ok || !slices.Equal(got, []string{"word"}) {
		t.Errorf("after disabling char: /comment choices = %v (present %v), want [word]", got, ok)
	}
	l := r.send(t, r.comment(strOption("model", "char")), 10*time.Second, messaged)
	if l.Callback == nil || l.Callback.Data == nil || !l.Callback.Data.Ephemeral() ||
		!strings.Contains(l.Callback.Data.Text(), `"char" is switched off`) {
		t.Errorf("/comment model:char after the reload: %+v, want an ephemeral 'switched off'", l.Callback)
	}
	l = r.send(t, r.comment(), 30*time.Second, edited)
	if len(l.Edits) != 1 || !strings.Contains(l.Edits[0].Text(), "\n-# word v1 · temperature 0.8 · seed ") {
		t.Errorf("/comment after the reload: edits %d, refused %v, want a word comment", len(l.Edits), l.Refused)
	}
	if ids := fake.Identifies(); len(ids) != 1 {
		t.Errorf("%d IDENTIFYs, want 1: the reload must not reconnect", len(ids))
	}
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("serve returned during the run: %v", err)
	default:
	}

	// Clean shutdown.
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Errorf("serve after cancel = %v, want nil", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("serve did not return within 45 s of cancel")
	}
}

// reproduceBurst dispatches n /comment at once (word and char alternating, with
// and without prompts, temperatures 0.5 to 1.4), so that the bot writes them in
// its models' batches, and wants each answer reproduced exactly, offline, by
// `generate` with the seed, model and temperature its footer names.
func (r *discordRun) reproduceBurst(t *testing.T, cfg string, n int) {
	t.Helper()
	is := make([]*discordgo.Interaction, n)
	prompts := make([]string, n)
	for k := range is {
		opts := []*discordgo.ApplicationCommandInteractionDataOption{
			strOption("model", []string{"word", "char"}[k%2]), numOption("temperature", 0.5+float64(k%10)/10)}
		if k%3 == 0 {
			prompts[k] = "i think"
			opts = append(opts, strOption("prompt", prompts[k]))
		}
		is[k] = r.comment(opts...)
	}
	for _, i := range is {
		if err := r.fake.DispatchInteraction(i); err != nil {
			t.Fatalf("dispatch: %v", err)
		}
	}
	for k, i := range is {
		l, err := r.await(i.Token, time.Minute, edited)
		if err != nil || len(l.Edits) != 1 {
			t.Errorf("burst %d: %v; %d edits, refused %v", k, err, len(l.Edits), l.Refused)
			continue
		}
		got := l.Edits[0].Text()
		m := footerRE.FindStringSubmatch(got)
		if m == nil {
			t.Errorf("burst %d: answer %q has no footer", k, got)
			continue
		}
		args := []string{"generate", "--config", cfg, "--model", m[1], "--temperature", m[3], "--seed", m[4]}
		if prompts[k] != "" {
			args = append(args, "--prompt="+prompts[k])
		}
		code, out, errs := run(t, "", args...)
		if code != 0 || !sameComment(out, got, m[0]) {
			t.Errorf("burst %d: %v exit %d\n got %q\nwant %q (the Discord answer)\n%s", k, args, code, strings.TrimSpace(out), got, errs)
		}
	}
}

// sameComment reports whether generate's output is the Discord answer got, whose
// footer (as footerRE matched it) is footer: the same footer, and the same text
// but for the white space a char model may end with, which the bot trims before
// the footer and generate prints as sampled.
func sameComment(out, got, footer string) bool {
	body := func(s string) string {
		return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), footer[1:]))
	}
	return strings.HasSuffix(strings.TrimSpace(out), footer) && body(out) == body(got)
}

// e2ePercentile returns the q-quantile (0…1) of sorted durations, nearest rank.
func e2ePercentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// latencies are the per-interaction times from INTERACTION_CREATE dispatch.
type latencies struct {
	first, final []time.Duration // to the callback, to the edit with the comment
	byModel      map[string][]time.Duration
	runes        map[string]int // characters of comment text (footer excluded), by model
}

// loadComments dispatches n /comment interactions, conc in flight (one leaves the
// flight when its answer is edited in), alternating the word and char models, and
// returns the latencies. Every interaction must get its callback within Discord's
// 3 s and a comment; none may be lost.
func (r *discordRun) loadComments(t *testing.T, n, conc int) latencies {
	t.Helper()
	slots := make(chan struct{}, conc)
	var wg sync.WaitGroup
	logs := make([]fakediscord.InteractionLog, n)
	errs := make([]error, n)
	for k := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			m := []string{"word", "char"}[k%2]
			i := r.comment(strOption("model", m), numOption("temperature", 0.5+float64(k%10)/10))
			if err := r.fake.DispatchInteraction(i); err != nil {
				errs[k] = err
				return
			}
			logs[k], errs[k] = r.await(i.Token, 2*time.Minute, edited)
		}()
	}
	wg.Wait()
	lat := latencies{byModel: map[string][]time.Duration{}, runes: map[string]int{}}
	lost := 0
	for k, l := range logs {
		switch {
		case errs[k] != nil:
			lost++
			t.Errorf("interaction %d lost: %v; log %+v", k, errs[k], l)
			continue
		case l.Callback == nil || len(l.Refused) > 0 || len(l.Edits) == 0:
			lost++
			t.Errorf("interaction %d: callback %+v, edits %d, refused %v", k, l.Callback, len(l.Edits), l.Refused)
			continue
		}
		if lat := l.Latency(); lat > discordgo.InteractionDeadline {
			t.Errorf("interaction %d: first response after %v, over Discord's %v", k, lat, discordgo.InteractionDeadline)
		}
		m := footerRE.FindStringSubmatch(l.Edits[len(l.Edits)-1].Text())
		if m == nil {
			t.Errorf("interaction %d: answer %q is not a comment", k, l.Edits[len(l.Edits)-1].Text())
			continue
		}
		final := l.Edits[len(l.Edits)-1].At.Sub(l.Dispatched)
		text := l.Edits[len(l.Edits)-1].Text()
		lat.runes[m[1]] += utf8.RuneCountInString(text[:len(text)-len(m[0])])
		lat.first = append(lat.first, l.Latency())
		lat.final = append(lat.final, final)
		lat.byModel[m[1]] = append(lat.byModel[m[1]], final)
	}
	if lost > 0 {
		t.Fatalf("%d of %d interactions lost or unanswered", lost, n)
	}
	slices.Sort(lat.first)
	slices.Sort(lat.final)
	for _, v := range lat.byModel {
		slices.Sort(v)
	}
	return lat
}

// measureConfig writes e2eConfig's settings with the default model sizes (word-lstm
// embedding 128 → LSTM 256, vocabulary 4000; char-lstm 128 → 512), Reddit offline,
// and room for inFlight generations at once.
func measureConfig(t *testing.T, dir, dead string, inFlight int) string {
	t.Helper()
	path := writeConfig(t, dir, dead, dead+"api/v1/access_token", "  - name: word\n    kind: word-lstm\n  - name: char\n    kind: char-lstm\n")
	rewriteConfig(t, path, "bot:\n", fmt.Sprintf("bot:\n  guild_id: \"%s\"\n  max_concurrent: %d\n", e2eGuild, inFlight))
	return path
}

// measureEnv reads the measurement's knobs: COMMENTBOT_MEASURE_INFLIGHT, the
// interactions in flight (default 10), and COMMENTBOT_MEASURE_PHASES=idle, which
// leaves out the phase under a training run.
func measureEnv(t *testing.T) (inFlight int, training bool) {
	t.Helper()
	inFlight = 10
	if v := os.Getenv("COMMENTBOT_MEASURE_INFLIGHT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("COMMENTBOT_MEASURE_INFLIGHT=%q: want a count ≥ 1", v)
		}
		inFlight = n
	}
	return inFlight, os.Getenv("COMMENTBOT_MEASURE_PHASES") != "idle"
}

// Measurement, behind COMMENTBOT_MEASURE=1: /comment latency through the gateway with
// the default-size models (trained a few steps), 300 interactions 10 at a time
// (COMMENTBOT_MEASURE_INFLIGHT) alternating word and char, first on an otherwise idle
// CPU, then (unless COMMENTBOT_MEASURE_PHASES=idle) while a training run
// of the char model (`commentbot train` in this process, its own scheduler on the same
// data directory) competes for the cores. Logged: p50/p99/max from INTERACTION_CREATE
// to the first response (callback) and to the answer (edit). Asserted: none lost,
// every first response within Discord's 3 s.
func TestRunDiscordLatencyMeasure(t *testing.T) {
	if os.Getenv("COMMENTBOT_MEASURE") != "1" {
		t.Skip("measurement of /comment latency at default model sizes with and without a concurrent training run; set COMMENTBOT_MEASURE=1 to run it (several minutes, both cores)")
	}
	const n, steps = 300, 3
	conc, training := measureEnv(t)
	dir := t.TempDir()
	cfg := measureConfig(t, dir, deadReddit(t), conc)
	t0 := time.Now()
	r := startDiscordRun(t, cfg, steps, 10*time.Minute)
	t.Logf("first start at default sizes, %d training steps per model: ready and registered after %v", steps, time.Since(t0).Round(time.Millisecond))

	start := time.Now()
	idle := r.loadComments(t, n, conc)
	rows := []latencyRow{{"idle", idle, time.Since(start)}}
	if training {
		rows = append(rows, measureUnderTraining(t, r, cfg, n, conc))
	}
	logLatencies(t, r, rows, n, conc)
}

// latencyRow is one phase of TestRunDiscordLatencyMeasure.
type latencyRow struct {
	phase string
	lat   latencies
	took  time.Duration
}

// measureUnderTraining loads r with n /comment, conc in flight, while a char
// training run (`commentbot train` in this process, its own scheduler on the same
// data directory) competes for the cores.
func measureUnderTraining(t *testing.T, r *discordRun, cfg string, n, conc int) latencyRow {
	t.Helper()
	trainLog := &lockedBuffer{}
	tctx, tcancel := context.WithCancel(context.Background())
	defer tcancel()
	trainDone := make(chan int, 1)
	go func() {
		trainDone <- Main(tctx, []string{"train", "--config", cfg, "--model", "char", "--minutes", "30"},
			Env{Stdin: strings.NewReader(""), Stdout: trainLog, Stderr: trainLog, Getenv: func(string) string { return "" }})
	}()
	// Wait for its first optimizer steps (the scheduler logs the first progress at once).
	stepping := regexp.MustCompile(`msg=training .*model=char step=\d+`)
	for deadline := time.Now().Add(3 * time.Minute); !stepping.MatchString(trainLog.String()); time.Sleep(50 * time.Millisecond) {
		select {
		case code := <-trainDone:
			t.Fatalf("train returned %d before training:\n%s", code, trainLog.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("train not stepping after 3 minutes:\n%s", trainLog.String())
		}
	}
	start := time.Now()
	busy := r.loadComments(t, n, conc)
	took := time.Since(start)
	select {
	case code := <-trainDone:
		t.Fatalf("train ended (exit %d) before the load did: the figures are not under training\n%s", code, trainLog.String())
	default:
	}
	tcancel()
	select {
	case code := <-trainDone:
		if code != 0 {
			t.Errorf("interrupted train exited %d, want 0 (run saved):\n%s", code, trainLog.String())
		}
	case <-time.After(2 * time.Minute):
		t.Errorf("train did not stop within 2 minutes of cancel")
	}
	return latencyRow{"char training", busy, took}
}

// logLatencies logs the measurement's table: p50/p99/max per phase to the
// callback and to the answer (both models, then each).
func logLatencies(t *testing.T, r *discordRun, rows []latencyRow, n, conc int) {
	t.Helper()
	t.Logf("%d /comment per phase, %d in flight, word/char alternating, GOMAXPROCS=%d; gateway %d IDENTIFY, %d RESUME",
		n, conc, runtime.GOMAXPROCS(0), len(r.fake.Identifies()), r.fake.Resumes())
	t.Logf("%-14s %-12s %9s %9s %9s %11s %11s", "phase", "to", "p50", "p99", "max", "comments/s", "mean chars")
	for _, rw := range rows {
		for _, s := range []struct {
			to string
			d  []time.Duration
		}{{"callback", rw.lat.first}, {"answer", rw.lat.final}, {"answer word", rw.lat.byModel["word"]}, {"answer char", rw.lat.byModel["char"]}} {
			rate, chars := "", ""
			if s.to == "callback" {
				rate = fmt.Sprintf("%.1f", float64(len(rw.lat.final))/rw.took.Seconds())
			}
			if m, ok := strings.CutPrefix(s.to, "answer "); ok && len(s.d) > 0 {
				chars = fmt.Sprintf("%.0f", float64(rw.lat.runes[m])/float64(len(s.d)))
			}
			t.Logf("%-14s %-12s %9v %9v %9v %11s %11s", rw.phase, s.to,
				e2ePercentile(s.d, 0.5).Round(time.Millisecond), e2ePercentile(s.d, 0.99).Round(time.Millisecond),
				e2ePercentile(s.d, 1).Round(time.Millisecond), rate, chars)
		}
	}
}
