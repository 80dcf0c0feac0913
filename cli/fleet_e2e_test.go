package cli

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"commentbot/corpus"
	"commentbot/internal/fakediscord"
	"commentbot/internal/fakereddit"
	"commentbot/internal/pgtest"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// fleetNode is one `commentbot run --role …` process of the fleet test.
type fleetNode struct {
	*proc
	name, role, cfg string
	metrics, listen string // host:port of /metrics, /healthz, /readyz; of the interactions endpoint (serve)
	base            string // the config as first written (setSchedule adds to it)
}

// fleet is a real PostgreSQL, a fake Discord and the binaries around them.
type fleet struct {
	t       *testing.T
	fake    *fakediscord.Server
	key     ed25519.PrivateKey
	env     map[string]string
	storeDB string // the URL without its password (the config's store.url)
	dbURL   string // with it, for the test's own look
	pg      *pgtest.Server
	reddit  *fakereddit.Server
}

func newFleet(t *testing.T) *fleet {
	pg := pgtest.Start(t)
	dbURL := pg.Database(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(u.User.Username()) // the password goes through PGPASSWORD only
	fake := fakediscord.Start(fakediscord.Options{})
	t.Cleanup(fake.Close)
	f := &fleet{t: t, fake: fake, pg: pg, dbURL: dbURL, reddit: fakereddit.New(t), storeDB: u.String(), key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, ed25519.SeedSize))}
	f.env = map[string]string{"DISCORD_TOKEN": e2eToken, "DISCORD_APP_ID": fake.AppID(), "PGPASSWORD": pg.Password(),
		"DISCORD_PUBLIC_KEY": hex.EncodeToString(f.key.Public().(ed25519.PublicKey))}
	return f
}

// config writes the config of one node: the shared store without a password,
// a 30 s cooldown, room for 25 generations at once, its own ports and data
// directory.
func (f *fleet) config(name string) (cfg, metrics, listen string) {
	dir := filepath.Join(f.t.TempDir(), name)
	mkdir(f.t, dir)
	cfg = writeConfig(f.t, dir, f.reddit.BaseURL(), f.reddit.TokenURL(), fmt.Sprintf(binModels, false))
	metrics, listen = freeAddr(f.t), freeAddr(f.t)
	rewriteConfig(f.t, cfg, "bot:\n  cooldown: 0s\n", fmt.Sprintf("store:\n  url: %q\nbot:\n  cooldown: 30s\n  max_concurrent: 25\n  guild_id: %q\n  api_url: %q\n  http_listen: %s\n",
		f.storeDB, e2eGuild, f.fake.APIURL(), listen))
	rewriteConfig(f.t, cfg, "metrics:\n  listen: \"\"\n", "metrics:\n  listen: "+metrics+"\n")
	return cfg, metrics, listen
}

func (f *fleet) start(name, role string) *fleetNode {
	cfg, metrics, listen := f.config(name)
	n := &fleetNode{name: name, role: role, cfg: cfg, metrics: metrics, listen: listen}
	n.proc = startBinary(f.t, f.env, "run", "--role", role, "--config", cfg)
	return n
}

// get fetches path on the node's health port: status and body, 0 while it does not answer.
func (n *fleetNode) get(path string) (int, string) {
	resp, err := http.Get("http://" + n.metrics + path)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// version is the version of model the node serves (0: none), from /healthz.
func (n *fleetNode) version(model string) int {
	code, body := n.get("/healthz")
	if code != http.StatusOK {
		return 0
	}
	var h struct{ Models []modelVersion }
	if json.Unmarshal([]byte(body), &h) != nil {
		return 0
	}
	for _, m := range h.Models {
		if m.Name == model {
			return m.Version
		}
	}
	return 0
}

type modelVersion struct {
	Name    string
	Version int
}

// post sends body to the node's interactions endpoint with the given signature headers.
func (n *fleetNode) post(t *testing.T, body []byte, stamp, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.listen+"/", bytes.NewReader(body))
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", stamp)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// comment is a signed /comment by user: its body and signature headers.
func (f *fleet) comment(user string) (i *discordgo.Interaction, body []byte, stamp, sig string) {
	i = &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand, GuildID: e2eGuild, ChannelID: "c-" + user,
		AppID: f.fake.AppID(), Member: &discordgo.Member{User: &discordgo.User{ID: user}},
		Data: discordgo.ApplicationCommandInteractionData{ID: "1", Name: "comment", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "model", Type: discordgo.ApplicationCommandOptionString, Value: "word"}}}}
	i.ID, i.Token = f.fake.NewInteraction()
	f.fake.Register(i.ID, i.Token, discordgo.InteractionResponseDeferredChannelMessageWithSource)
	body, _ = json.Marshal(i)
	stamp = strconv.FormatInt(time.Now().Unix(), 10)
	sig = hex.EncodeToString(ed25519.Sign(f.key, append([]byte(stamp), body...)))
	return i, body, stamp, sig
}

// leaders are the trainers whose log says they were elected, and how often.
func leaders(ts ...*fleetNode) (who []*fleetNode) {
	for _, n := range ts {
		if n.count("elected the active trainer") > 0 {
			who = append(who, n)
		}
	}
	return who
}

var liveLine = regexp.MustCompile(`word v(\d+) is live`)

// Tried, from outside with the real binaries: a real PostgreSQL, a fake
// Reddit and a fake Discord; two trainers (`run --role train`) and three
// serving replicas (`run --role serve`, HTTP interactions) on one store, the
// password only in PGPASSWORD. Then a signed /comment on one replica and the
// same request replayed to another; the same user's next /comment on another
// replica; 300 signed /comment from distinct users, round-robin over the
// replicas, 25 in flight; two `commentbot train` started together against the
// store; a rollback from the CLI; more comments on Reddit, some ingested by
// `commentbot ingest`, and kill -9 of the active trainer in the middle of a
// fine-tune (started by a reload of its schedule); PostgreSQL stopped and
// started again under the fleet; a fine-tune by the new trainer.
// Survives: exactly one trainer leads and registers the commands, once; the
// replicas report not-ready until they hold every model, then serve; the
// replay gets 401 and the second /comment the cooldown answer; each of the 300
// gets its first response before Discord's deadline and then a comment; the
// two trainings get distinct versions, one continuing the other, and the
// replicas serve the last (and then the rollback) within 5 s; the standby
// takes over within 15 s and ingests, every Reddit comment stored exactly
// once; the killed fine-tune left no version and the live pointer where it
// was; while the database is away the replicas answer from memory and say
// not-ready, then recover and follow the next rollback without a restart; the
// new trainer's fine-tune (on the model lock the killed one held) is promoted
// and shows in every replica's footer within 5 s.
func TestFleetEndToEnd(t *testing.T) {
	f := newFleet(t)
	first := f.addReddit(30, "a")
	t1, t2 := f.start("trainer1", "train"), f.start("trainer2", "train")
	r1, r2, r3 := f.start("replica1", "serve"), f.start("replica2", "serve"), f.start("replica3", "serve")
	trainers, replicas := []*fleetNode{t1, t2}, []*fleetNode{r1, r2, r3}

	sawNotReady, ready := make([]bool, len(replicas)), make([]bool, len(replicas))
	r1.waitFor("/readyz 200 on every replica", 90*time.Second, func() bool {
		all := true
		for i, r := range replicas {
			code, body := r.get("/readyz")
			if code == http.StatusServiceUnavailable && strings.Contains(body, "not loaded") {
				sawNotReady[i] = true
			}
			ready[i] = ready[i] || code == http.StatusOK
			all = all && ready[i]
		}
		return all
	})
	probe := startBinary(t, nil, "probe", "http://"+r1.metrics+"/readyz")
	if code := probe.exit(10 * time.Second); code != 0 {
		t.Errorf("probe of a ready replica exited %d: %s", code, probe.stderr.String())
	}
	probe = startBinary(t, nil, "probe", "http://"+freeAddr(t)+"/readyz")
	if code := probe.exit(10 * time.Second); code != 1 || !strings.Contains(probe.stderr.String(), "connection refused") {
		t.Errorf("probe of a closed port exited %d: %s, want 1 with the reason", code, probe.stderr.String())
	}
	for i, seen := range sawNotReady {
		if !seen {
			t.Errorf("%s never reported not-ready before its models were loaded", replicas[i].name)
		}
	}
	if l := leaders(t1, t2); len(l) != 1 {
		t.Fatalf("%d trainers elected, want exactly 1", len(l))
	}
	for _, r := range replicas {
		if code, body := r.get("/healthz"); code != http.StatusOK || !strings.Contains(body, `"commands":"trainer"`) {
			t.Errorf("%s /healthz = %d %s, want the commands left to the trainer", r.name, code, body)
		}
	}
	active := leaders(t1, t2)[0]
	standby := t1
	if active == t1 {
		standby = t2
	}
	for _, r := range replicas {
		if r.count("job=ingest") > 0 || r.count("job=bootstrap") > 0 {
			t.Errorf("serving replica %s ingested or trained", r.name)
		}
	}
	r1.waitFor("the commands registered", 30*time.Second, func() bool { _, puts := f.fake.Commands(e2eGuild); return puts >= 1 })
	if _, puts := f.fake.Commands(e2eGuild); puts != 1 {
		t.Errorf("the command set was registered %d times, want once (by the trainer)", puts)
	}

	// A /comment on replica 1, the same signed request replayed to replica 2,
	// the same user's next /comment on replica 2.
	i, body, stamp, sig := f.comment("u1")
	if code, resp := r1.post(t, body, stamp, sig); code != http.StatusOK || !strings.Contains(resp, `"type":5`) {
		t.Fatalf("/comment on replica1: %d %s, want 200 deferred", code, resp)
	}
	if code, _ := r2.post(t, body, stamp, sig); code != http.StatusUnauthorized {
		t.Errorf("the replay sent to replica2: %d, want 401", code)
	}
	_, body2, stamp2, sig2 := f.comment("u1")
	if code, resp := r2.post(t, body2, stamp2, sig2); code != http.StatusOK || !strings.Contains(resp, "Easy there") {
		t.Errorf("u1's second /comment on replica2: %d %s, want the cooldown answer", code, resp)
	}
	r1.waitFor("the edit of the first /comment", 30*time.Second, func() bool {
		l, ok := f.fake.Interaction(i.Token)
		return ok && len(l.Edits) > 0 && strings.Contains(l.Edits[0].Text(), "-# word v")
	})
	ld := f.load(nil, replicas, 300, 25, "rr")
	if ld.failed > 0 || len(ld.samples) != 300 {
		t.Fatalf("%d of 300 /comment answered (%d failed)", len(ld.samples), ld.failed)
	}
	t.Logf("300 /comment round-robin over 3 replicas, 25 in flight: %s", ld.summary())

	// Two trainings started together: distinct versions, the later continuing
	// the earlier; the replicas follow the last promotion within 5 s.
	before := r1.version("word")
	outs, exited := trainTogether(t, map[string]string{"PGPASSWORD": f.env["PGPASSWORD"]}, active.cfg)
	got := liveVersions(outs)
	if len(got) != 2 || got[0] == got[1] || min(got[0], got[1]) <= before {
		t.Fatalf("two trains together made %v live (serving v%d before), want two distinct newer versions:\n%s", got, before, strings.Join(outs, "\n"))
	}
	last, promoted := got[0], exited[0] // the later promotion: its process exits right after it
	if got[1] > got[0] {
		last, promoted = got[1], exited[1]
	}
	if !strings.Contains(strings.Join(outs, "\n"), fmt.Sprintf("continued v%d", min(got[0], got[1]))) {
		t.Errorf("the later training did not continue the earlier one's version:\n%s", strings.Join(outs, "\n"))
	}
	for _, r := range replicas {
		r.waitFor(fmt.Sprintf("%s serving word v%d", r.name, last), 5*time.Second, func() bool { return r.version("word") == last })
		t.Logf("%s serves word v%d %v after the promotion", r.name, last, time.Since(promoted).Round(time.Millisecond))
	}

	// A rollback from the CLI: the replicas follow it, measured from the
	// command's exit, while polling them together.
	rb := startBinary(t, map[string]string{"PGPASSWORD": f.env["PGPASSWORD"]}, "rollback", "--model", "word", "--config", standby.cfg)
	if code := rb.exit(60 * time.Second); code != 0 || !strings.Contains(rb.stdout.String(), fmt.Sprintf("v%d is live (was v%d)", last-1, last)) {
		t.Fatalf("rollback: exit %d, %s", code, rb.stdout.String())
	}
	rolled := time.Now()
	r1.waitFor("every replica serving the rollback", 5*time.Second, func() bool {
		return r1.version("word") == last-1 && r2.version("word") == last-1 && r3.version("word") == last-1
	})
	t.Logf("rollback to v%d followed by every replica %v after the command exited", last-1, time.Since(rolled).Round(time.Millisecond))
	last--

	f.failover(replicas, active, standby, first, last)
	if _, puts := f.fake.Commands(e2eGuild); puts != 1 {
		t.Errorf("after the failover the command set was registered %d times, want once: it did not change", puts)
	}
	i3, body3, stamp3, sig3 := f.comment("u2")
	if code, resp := r2.post(t, body3, stamp3, sig3); code != http.StatusOK || !strings.Contains(resp, `"type":5`) {
		t.Fatalf("/comment on replica2 after the failover: %d %s", code, resp)
	}
	r2.waitFor("the edit after the failover", 30*time.Second, func() bool {
		l, ok := f.fake.Interaction(i3.Token)
		return ok && len(l.Edits) > 0 && strings.Contains(l.Edits[0].Text(), fmt.Sprintf("-# word v%d", last))
	})
	f.restartStore(replicas, standby, last)
	f.fineTuneFollowed(replicas, standby, last-1)
	for _, n := range append(trainers, replicas...) {
		if l := n.logLines("the first ingest as the active trainer failed"); l != "" {
			t.Errorf("%s, elected, did not ingest at once:\n%s", n.name, l)
		}
		if strings.Contains(n.stderr.String(), f.env["PGPASSWORD"]) {
			t.Errorf("%s logged the database password", n.name)
		}
	}
	for _, n := range append([]*fleetNode{standby}, replicas...) {
		if code := n.stop(30 * time.Second); code != 0 {
			t.Errorf("%s exited %d after SIGTERM", n.name, code)
		}
	}
}

// trainTogether starts two `commentbot train --model word --steps 2` at once
// over cfg and returns what each printed and when each exited.
func trainTogether(t *testing.T, env map[string]string, cfg string) (outs []string, exited []time.Time) {
	outs, exited = make([]string, 2), make([]time.Time, 2)
	var wg sync.WaitGroup
	for k := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := startBinary(t, env, "train", "--model", "word", "--steps", "2", "--config", cfg)
			if code := c.exit(90 * time.Second); code != 0 {
				t.Errorf("train %d exited %d: %s", k, code, c.stderr.String())
			}
			outs[k], exited[k] = c.stdout.String(), time.Now()
		}()
	}
	wg.Wait()
	return outs, exited
}

// liveVersions are the versions the outputs of train say went live.
func liveVersions(outs []string) []int {
	var got []int
	for _, o := range outs {
		if m := liveLine.FindStringSubmatch(o); m != nil {
			v, _ := strconv.Atoi(m[1])
			got = append(got, v)
		}
	}
	return got
}

// Tried on the embedded SQLite store, with the real binary: two `commentbot
// train` of one model started together. Survives: they take turns on the
// model's lock file, so they make two distinct versions live, the later
// continuing the earlier, and no temporary file is left behind.
func TestTrainTogetherOnSQLite(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	outs, _ := trainTogether(t, nil, cfg)
	got := liveVersions(outs)
	all := strings.Join(outs, "\n")
	if len(got) != 2 || got[0] == got[1] {
		t.Fatalf("two trains together made %v live, want two distinct versions:\n%s", got, all)
	}
	if !strings.Contains(all, fmt.Sprintf("continued v%d", min(got[0], got[1]))) {
		t.Errorf("the later training did not continue the earlier one's version:\n%s", all)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "data", "models", "word", ".*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// Tried with the real binary: `run --role serve` with COMMENTBOT_STORE_URL
// naming a PostgreSQL that does not answer, its password in the URL.
// Survives: the process does not exit; the log says it retries (backoff
// growing) and names the store without the password.
func TestRunStoreUnreachableRetries(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, deadReddit(t), deadReddit(t)+"token", fmt.Sprintf(binModels, false))
	const secret = "s3cret-pw"
	p := startBinary(t, map[string]string{"COMMENTBOT_STORE_URL": "postgres://bot:" + secret + "@" + freeAddr(t) + "/cb?connect_timeout=2"},
		"run", "--role", "serve", "--config", cfg)
	p.waitFor("two retries", 20*time.Second, func() bool { return p.count("the store cannot be reached; retrying") >= 2 })
	if strings.Contains(p.stderr.String(), secret) {
		t.Errorf("the log holds the password:\n%s", p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "retry_in=2s") || !strings.Contains(p.stderr.String(), "bot:xxxxx@") {
		t.Errorf("the log does not show the backoff and the redacted URL:\n%s", p.logLines("store"))
	}
	p.stop(10 * time.Second)
}

// restartStore stops PostgreSQL under the fleet and starts it again. The
// replicas report not-ready while it is away and keep answering /comment from
// the models they hold; they are ready again after it returns, without a
// restart, and follow the next rollback (made with cfg) within 5 s.
func (f *fleet) restartStore(replicas []*fleetNode, any *fleetNode, live int) {
	t := f.t
	if err := f.pg.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			_ = f.pg.Start(t.Context())
		}
	}()
	for _, r := range replicas {
		r.waitFor(r.name+" not ready while the store is away", 15*time.Second, func() bool {
			code, body := r.get("/readyz")
			return code == http.StatusServiceUnavailable && strings.Contains(body, "store")
		})
	}
	i, body, stamp, sig := f.comment("u3")
	if code, resp := replicas[0].post(t, body, stamp, sig); code != http.StatusOK || !strings.Contains(resp, `"type":5`) {
		t.Fatalf("/comment while the store is away: %d %s, want 200 deferred", code, resp)
	}
	replicas[0].waitFor("the edit while the store is away", 30*time.Second, func() bool {
		l, ok := f.fake.Interaction(i.Token)
		return ok && len(l.Edits) > 0 && strings.Contains(l.Edits[0].Text(), fmt.Sprintf("-# word v%d", live))
	})
	if err := f.pg.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopped = false
	back := time.Now()
	for _, r := range replicas {
		r.waitFor(r.name+" ready again", 30*time.Second, func() bool { code, _ := r.get("/readyz"); return code == http.StatusOK })
	}
	t.Logf("replicas ready %v after PostgreSQL came back", time.Since(back).Round(time.Millisecond))
	rb := startBinary(t, map[string]string{"PGPASSWORD": f.env["PGPASSWORD"]}, "rollback", "--model", "word", "--config", any.cfg)
	if code := rb.exit(60 * time.Second); code != 0 {
		t.Fatalf("rollback after the restart: exit %d, %s", code, rb.stderr.String())
	}
	for _, r := range replicas {
		r.waitFor(fmt.Sprintf("%s serving word v%d after the restart", r.name, live-1), 5*time.Second, func() bool { return r.version("word") == live-1 })
	}
}

// failover kills the active trainer with SIGKILL in the middle of a fine-tune
// (its first, of char or word), after `commentbot ingest` stored some of Reddit's comments and
// while others wait there. The standby must lead within 15 s and ingest, every
// comment (first, and those added here) must be stored exactly once, and the
// killed fine-tune must leave the versions of both models as they were, live
// still live, word's served by every replica.
func (f *fleet) failover(replicas []*fleetNode, active, standby *fleetNode, first []string, live int) {
	t := f.t
	active.waitFor("the first ingest of the active trainer", 30*time.Second, func() bool { return active.count("job=ingest") > 0 })
	wantIDs := append(first, f.addReddit(20, "b")...)
	f.ingest(active.cfg, 20)
	wantIDs = append(wantIDs, f.addReddit(10, "c")...) // on Reddit, not ingested at the kill
	versions, before := f.storedVersions("word")
	if before != live {
		t.Fatalf("the store has word v%d live, the replicas serve v%d", before, live)
	}
	charVersions, charLive := f.storedVersions("char")
	ingestsBefore := standby.count("job=ingest")
	killed := fineTuneKill(t, active)
	standby.waitFor("the standby elected", 15*time.Second, func() bool { return standby.count("elected the active trainer") > 0 })
	t.Logf("failover: %s leads %v after kill -9 of %s in a fine-tune", standby.name, time.Since(killed).Round(time.Millisecond), active.name)
	standby.waitFor("an ingest by the new trainer", 60*time.Second, func() bool { return standby.count("job=ingest") > ingestsBefore })
	stored := f.redditIDs()
	for _, id := range wantIDs {
		if stored[id] != 1 {
			t.Errorf("comment %s stored %d times across the failover, want once", id, stored[id])
		}
	}
	if len(stored) != len(wantIDs) {
		t.Errorf("%d Reddit comments stored, want %d", len(stored), len(wantIDs))
	}
	after, now := f.storedVersions("word")
	if !slices.Equal(after, versions) || now != live {
		t.Errorf("after the kill in a fine-tune word has versions %v, v%d live; before: %v, v%d live", after, now, versions, live)
	}
	if after, now := f.storedVersions("char"); !slices.Equal(after, charVersions) || now != charLive {
		t.Errorf("after the kill in a fine-tune char has versions %v, v%d live; before: %v, v%d live", after, now, charVersions, charLive)
	}
	for _, r := range replicas {
		if v := r.version("word"); v != live {
			t.Errorf("%s serves word v%d after the kill, want v%d", r.name, v, live)
		}
	}
}

// fineTuneFollowed makes the trainer fine-tune word (a reload of its
// schedule, a tolerant gate) from the live version and waits for the
// promotion: a version continuing live, served by every replica within 5 s
// of the run's end and named in the footer of a /comment.
func (f *fleet) fineTuneFollowed(replicas []*fleetNode, trainer *fleetNode, live int) {
	t := f.t
	trainer.setSchedule(t, "  fine_tune: \"@every 1s\"\n  fine_tune_minutes: 0.05\n  promote_tolerance: 1\n")
	const done = "job=fine-tune model=word outcome="
	// Right after the store's restart the trainer may not have noticed yet that
	// its election session died: a fine-tune then finishes but its write is
	// fenced off ("leadership lost"), and the next one, re-elected, promotes.
	trainer.waitFor("a promoted fine-tune of word by "+trainer.name, 90*time.Second, func() bool {
		return trainer.count(done+"promoted") > 0 || trainer.count(done+"rejected") > 0
	})
	if trainer.count(done+"promoted") == 0 {
		t.Fatalf("the fine-tune was not promoted:\n%s", trainer.logLines(done))
	}
	if l := trainer.logLines(done + "error"); l != "" && !strings.Contains(l, "leadership lost") {
		t.Errorf("a fine-tune failed otherwise than fenced off:\n%s", l)
	}
	var run runs.Run
	for _, r := range f.fineTuneRuns("word") {
		if r.Outcome == runs.OutcomePromoted {
			run = r
			break
		}
	}
	v := int(run.Figures["version"])
	if from := int(run.Figures["from_version"]); from != live || v <= live {
		t.Fatalf("the fine-tune made v%d from v%d, want a new version from live v%d", v, from, live)
	}
	for _, r := range replicas {
		r.waitFor(fmt.Sprintf("%s serving word v%d", r.name, v), 5*time.Second, func() bool { return r.version("word") == v })
	}
	t.Logf("the trainer's fine-tune v%d served by every replica %v after its run ended", v, time.Since(run.Ended).Round(time.Millisecond))
	i, body, stamp, sig := f.comment("u4")
	r := replicas[len(replicas)-1]
	if code, resp := r.post(t, body, stamp, sig); code != http.StatusOK {
		t.Fatalf("/comment on %s after the fine-tune: %d %s", r.name, code, resp)
	}
	r.waitFor("the footer of the fine-tuned version", 30*time.Second, func() bool {
		l, ok := f.fake.Interaction(i.Token)
		return ok && len(l.Edits) > 0 && strings.Contains(l.Edits[0].Text(), fmt.Sprintf("-# word v%d", v))
	})
}

// addReddit adds n comments with distinct bodies to the fake Reddit and
// returns their fullnames.
func (f *fleet) addReddit(n int, tag string) []string {
	var ids []string
	for k := range n {
		c := f.reddit.AddComments("cooking", fakereddit.Comment{Author: "fleetcook" + tag, Score: 1, Created: time.Now(),
			Body: fmt.Sprintf("Batch %s comment %d: rest the dough before you roll it out thin.", tag, k)})
		ids = append(ids, c[0].Fullname())
	}
	return ids
}

// redditIDs are the ids of the stored comments that came from the fake Reddit.
func (f *fleet) redditIDs() map[string]int {
	ctx := f.t.Context()
	st, err := store.OpenPostgres(ctx, f.dbURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Close()
	ids := map[string]int{}
	err = st.Comments(corpus.Filter{})(ctx, func(c corpus.Comment) error {
		if strings.HasPrefix(c.Author, "fleetcook") {
			ids[c.ID]++
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// Tried with the real binaries on the embedded SQLite store of one machine:
// two trainers and a serving replica over one data directory, a `commentbot
// train` beside them, kill -9 of the active trainer. Survives: one trainer
// leads (a lock file), the replica follows the CLI's promotion within 5 s by
// polling, and the standby leads within 15 s of the kill.
func TestFleetOnSQLite(t *testing.T) {
	dir := t.TempDir()
	base := binConfig(t, dir, false)
	node := func(name, role string) *fleetNode {
		b, err := os.ReadFile(base)
		if err != nil {
			t.Fatal(err)
		}
		n := &fleetNode{name: name, role: role, metrics: freeAddr(t), cfg: filepath.Join(dir, name+".yaml")}
		y := strings.Replace(string(b), "metrics:\n  listen: \"\"\n", "metrics:\n  listen: "+n.metrics+"\n", 1)
		if err := os.WriteFile(n.cfg, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		n.proc = startBinary(t, nil, "run", "--role", role, "--config", n.cfg)
		return n
	}
	t1, t2, r := node("trainer1", "train"), node("trainer2", "train"), node("replica", "serve")
	r.waitFor("the replica ready", 60*time.Second, func() bool { code, _ := r.get("/readyz"); return code == http.StatusOK })
	r.waitFor("a trainer elected", 30*time.Second, func() bool { return len(leaders(t1, t2)) > 0 })
	if l := leaders(t1, t2); len(l) != 1 {
		t.Fatalf("%d trainers elected, want 1", len(l))
	}
	active, standby := t1, t2
	if leaders(t1, t2)[0] == t2 {
		active, standby = t2, t1
	}
	before := r.version("word")
	c := startBinary(t, nil, "train", "--model", "word", "--steps", "2", "--config", base)
	if code := c.exit(90 * time.Second); code != 0 {
		t.Fatalf("train exited %d", code)
	}
	got := liveVersions([]string{c.stdout.String()})
	if len(got) != 1 || got[0] <= before {
		t.Fatalf("train made %v live, serving v%d before", got, before)
	}
	promoted := time.Now()
	r.waitFor("the replica following the promotion", 5*time.Second, func() bool { return r.version("word") == got[0] })
	t.Logf("SQLite replica serves word v%d %v after the promotion (polling)", got[0], time.Since(promoted).Round(time.Millisecond))
	if err := active.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	standby.waitFor("the standby elected", 15*time.Second, func() bool { return standby.count("elected the active trainer") > 0 })
	t.Logf("SQLite failover: %s leads %v after kill -9 of %s", standby.name, time.Since(killed).Round(time.Millisecond), active.name)
}
