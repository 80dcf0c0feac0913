package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"commentbot/scheduler"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// loadSample is one signed /comment of a load: when it was sent, the time to
// its first response (the HTTP body: the deferred callback) and to its answer
// (the edit with the comment).
type loadSample struct {
	sent         time.Time
	first, final time.Duration
}

// loadStats are the samples of a load, the time it took and what failed.
type loadStats struct {
	samples []loadSample
	elapsed time.Duration // first send → last answer
	failed  int
}

// firsts are the sorted times to the first response of the samples sent in
// [from, to) (all with zero times).
func (s loadStats) firsts(from, to time.Time) []time.Duration {
	var d []time.Duration
	for _, x := range s.samples {
		if (from.IsZero() || !x.sent.Before(from)) && (to.IsZero() || x.sent.Before(to)) {
			d = append(d, x.first)
		}
	}
	slices.Sort(d)
	return d
}

// quantile is the q-quantile (0…1) of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// load sends n signed /comment interactions (until stop is closed when n is
// 0), each from its own user in its own channel, round-robin over replicas,
// with at most conc in flight: one leaves the flight when its answer is edited
// in. Every one must get a 200 deferred callback before Discord's deadline and
// then a comment with the model's footer; each failure is reported with
// t.Errorf and counted.
func (f *fleet) load(stop <-chan struct{}, replicas []*fleetNode, n, conc int, tag string) loadStats {
	t := f.t
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	slots := make(chan struct{}, conc)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		st      loadStats
		failed  atomic.Int64
		started = time.Now()
	)
send:
	for k := 0; n == 0 || k < n; k++ {
		select {
		case slots <- struct{}{}:
		case <-stop:
			break send
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			s, err := f.oneComment(client, replicas[k%len(replicas)], fmt.Sprintf("load-%s-%d", tag, k))
			if err != nil {
				t.Errorf("interaction %s-%d: %v", tag, k, err)
				failed.Add(1)
				return
			}
			mu.Lock()
			st.samples = append(st.samples, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	st.elapsed, st.failed = time.Since(started), int(failed.Load())
	return st
}

// oneComment sends one signed /comment by user to r and waits for its answer.
func (f *fleet) oneComment(client *http.Client, r *fleetNode, user string) (loadSample, error) {
	i, body, stamp, sig := f.comment(user)
	req, err := http.NewRequestWithContext(f.t.Context(), http.MethodPost, "http://"+r.listen+"/", bytes.NewReader(body))
	if err != nil {
		return loadSample{}, err
	}
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", stamp)
	s := loadSample{sent: time.Now()}
	resp, err := client.Do(req)
	if err != nil {
		return s, fmt.Errorf("%s: %w", r.name, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.first = time.Since(s.sent)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"type":5`) {
		return s, fmt.Errorf("%s answered %d %s, want 200 deferred", r.name, resp.StatusCode, b)
	}
	if s.first > discordgo.InteractionDeadline {
		return s, fmt.Errorf("%s answered after %v, past Discord's %v deadline", r.name, s.first, discordgo.InteractionDeadline)
	}
	ctx, cancel := context.WithTimeout(f.t.Context(), 60*time.Second)
	defer cancel()
	var text string
	err = f.fake.Wait(ctx, func() bool {
		l, ok := f.fake.Interaction(i.Token)
		if ok && len(l.Edits) > 0 {
			text = l.Edits[len(l.Edits)-1].Text()
		}
		return text != ""
	})
	if err != nil {
		return s, fmt.Errorf("%s never edited the answer in: %w", r.name, err)
	}
	if !strings.Contains(text, "\n-# word v") {
		return s, fmt.Errorf("%s answered %q, not a comment", r.name, text)
	}
	s.final = time.Since(s.sent)
	return s, nil
}

// summary is one line on a load: rate, p50 and p99 to the first response.
func (s loadStats) summary() string {
	d := s.firsts(time.Time{}, time.Time{})
	return fmt.Sprintf("%d answered in %v: %.1f comments/s; first response p50 %v p99 %v max %v",
		len(s.samples), s.elapsed.Round(time.Millisecond), float64(len(s.samples))/s.elapsed.Seconds(),
		quantile(d, 0.5).Round(time.Millisecond), quantile(d, 0.99).Round(time.Millisecond), quantile(d, 1).Round(time.Millisecond))
}

// setSchedule replaces the schedule section of the node's config (the file
// is renamed into place, so that the running process reloads it whole).
func (n *fleetNode) setSchedule(t *testing.T, schedule string) {
	t.Helper()
	if n.base == "" {
		b, err := os.ReadFile(n.cfg)
		if err != nil {
			t.Fatal(err)
		}
		n.base = string(b)
	}
	tmp := filepath.Join(filepath.Dir(n.cfg), ".next.yaml")
	if err := os.WriteFile(tmp, []byte(n.base+"schedule:\n"+schedule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, n.cfg); err != nil {
		t.Fatal(err)
	}
}

// trainingLine is what a trainer logs while it trains a model.
const trainingLine = "level=INFO msg=training "

// fineTuneKill makes the active trainer fine-tune its models (a config
// reload of its schedule, with a budget of a minute) and kills it with
// SIGKILL once the first fine-tune trains; it returns the time of the kill.
// The reload must apply the schedule and leave the role, which --role chose.
func fineTuneKill(t *testing.T, active *fleetNode) time.Time {
	t.Helper()
	before, reloads := active.count(trainingLine), active.count("msg=\"config reloaded\"")
	active.setSchedule(t, "  fine_tune: \"@every 1s\"\n  fine_tune_minutes: 1\n")
	active.waitFor("the schedule reloaded", 30*time.Second, func() bool { return active.count("msg=\"config reloaded\"") > reloads })
	if l := active.logLines("msg=\"config reloaded\""); !strings.Contains(l, "schedule.fine_tune:") || strings.Contains(l, "role:") {
		t.Errorf("the reload of the schedule of a `run --role train` logged %s, want the schedule applied and the role untouched", l)
	}
	active.waitFor("a fine-tune training on the active trainer", 60*time.Second, func() bool { return active.count(trainingLine) > before })
	if err := active.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// storedVersions are the stored versions of model and its live one.
func (f *fleet) storedVersions(model string) (vs []int, live int) {
	ctx := f.t.Context()
	st, err := store.OpenPostgres(ctx, f.dbURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Close()
	mv, err := st.ModelVersions(ctx, model)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, v := range mv {
		vs = append(vs, v.Version)
	}
	if live, err = st.LiveVersion(ctx, model); err != nil {
		f.t.Fatal(err)
	}
	return vs, live
}

// fineTuneRuns are the recorded fine-tunes of model, newest first.
func (f *fleet) fineTuneRuns(model string) []runs.Run {
	ctx := f.t.Context()
	st, err := store.OpenPostgres(ctx, f.dbURL)
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Runs(ctx, scheduler.JobFineTune, 50)
	if err != nil {
		f.t.Fatal(err)
	}
	var out []runs.Run
	for _, r := range rs {
		if r.Model == model {
			out = append(out, r)
		}
	}
	return out
}

// loadAvg is the machine's load average, as /proc/loadavg says.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// envFlag reports whether the environment variable is set to 1 or true.
func envFlag(name string) bool {
	v, _ := strconv.ParseBool(os.Getenv(name))
	return v
}

// ingest runs `commentbot ingest` with cfg, which must store want new comments.
func (f *fleet) ingest(cfg string, want int) {
	t := f.t
	t.Helper()
	ing := startBinary(t, map[string]string{"PGPASSWORD": f.env["PGPASSWORD"]}, "ingest", "--config", cfg)
	if code := ing.exit(60 * time.Second); code != 0 || !strings.Contains(ing.stdout.String(), fmt.Sprintf(" %d new", want)) {
		t.Fatalf("ingest: exit %d, %s%s, want %d new", code, ing.stdout.String(), ing.stderr.String(), want)
	}
}

// logTime is the time of the first log line of n holding sub.
func (n *fleetNode) logTime(t *testing.T, sub string) time.Time {
	t.Helper()
	for _, l := range strings.Split(n.logLines(sub), "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "time=") {
			at, err := time.Parse(time.RFC3339Nano, strings.TrimPrefix(f[0], "time="))
			if err != nil {
				t.Fatal(err)
			}
			return at
		}
	}
	t.Fatalf("%s never logged %q", n.name, sub)
	return time.Time{}
}

// startMeasureFleet starts the fleet of TestFleetMeasure: PostgreSQL, an
// elected trainer, a standby and three serving replicas, all ready.
func startMeasureFleet(t *testing.T) (f *fleet, active, standby *fleetNode, replicas []*fleetNode) {
	f = newFleet(t)
	f.addReddit(30, "a")
	active = f.start("trainer1", "train")
	active.waitFor("trainer1 elected", 60*time.Second, func() bool { return active.count("elected the active trainer") > 0 })
	standby = f.start("trainer2", "train")
	for k := range 3 {
		replicas = append(replicas, f.start(fmt.Sprintf("replica%d", k+1), "serve"))
	}
	for _, r := range replicas {
		r.waitFor(r.name+" ready", 120*time.Second, func() bool { code, _ := r.get("/readyz"); return code == http.StatusOK })
	}
	return f, active, standby, replicas
}

// promotionSpread runs `commentbot train --steps 1` with cfg and returns the
// time from the moment the store's live pointer of word names the new version
// (polled every 2 ms) to the moment every replica serves it (polled likewise).
func (f *fleet) promotionSpread(replicas []*fleetNode, cfg string) time.Duration {
	t := f.t
	ctx := t.Context()
	st, err := store.OpenPostgres(ctx, f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before, err := st.LiveVersion(ctx, "word")
	if err != nil {
		t.Fatal(err)
	}
	train := startBinary(t, map[string]string{"PGPASSWORD": f.env["PGPASSWORD"]}, "train", "--model", "word", "--steps", "1", "--config", cfg)
	var committed time.Time
	v, deadline := 0, time.Now().Add(2*time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no promotion followed by every replica within 2m: %s", train.stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
		if committed.IsZero() {
			if live, err := st.LiveVersion(ctx, "word"); err == nil && live != before {
				committed, v = time.Now(), live
			}
			continue
		}
		if !slices.ContainsFunc(replicas, func(r *fleetNode) bool { return r.version("word") != v }) {
			break
		}
	}
	spread := time.Since(committed)
	if code := train.exit(60 * time.Second); code != 0 {
		t.Fatalf("train exited %d: %s", code, train.stderr.String())
	}
	return spread
}

// Measured with COMMENTBOT_FLEET_MEASURE=1 (the assertions are the fleet's
// guarantees only: every /comment answered before Discord's deadline, the
// standby leading within 15 s): on one fleet of real binaries — PostgreSQL,
// two trainers, three serving replicas, the small word model of binModels —
// /comment throughput and first-response latency with 1 and with 3 replicas
// under the same load (300 signed interactions, 25 in flight; twice each,
// alternating, against the drift of a shared machine); the time a promotion
// takes to reach every replica; the trainer failover time after kill -9 in a
// fine-tune; and the p99 first-response latency of the /comment sent from the
// kill until the new trainer's first ingest ended.
func TestFleetMeasure(t *testing.T) {
	if !envFlag("COMMENTBOT_FLEET_MEASURE") {
		t.Skip("a measurement, not run by default: COMMENTBOT_FLEET_MEASURE=1 go test ./cli -run TestFleetMeasure -v")
	}
	f, active, standby, replicas := startMeasureFleet(t)
	t.Logf("machine: %d CPUs, GOMAXPROCS %d, load average %s", runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAvg())
	if ld := f.load(nil, replicas, 50, 25, "warm"); ld.failed > 0 {
		t.Fatalf("warm-up: %d failed", ld.failed)
	}
	rate := map[int][]float64{}
	for round := range 2 {
		for _, k := range []int{1, 3} {
			ld := f.load(nil, replicas[:k], 300, 25, fmt.Sprintf("r%d-%d", round, k))
			if ld.failed > 0 {
				t.Fatalf("%d replica(s): %d of 300 failed", k, ld.failed)
			}
			rate[k] = append(rate[k], float64(len(ld.samples))/ld.elapsed.Seconds())
			t.Logf("round %d, %d replica(s), 300 /comment, 25 in flight: %s", round+1, k, ld.summary())
		}
	}
	one, three := (rate[1][0]+rate[1][1])/2, (rate[3][0]+rate[3][1])/2
	t.Logf("throughput: 1 replica %.1f comments/s, 3 replicas %.1f comments/s (×%.2f)", one, three, three/one)

	var spreads []time.Duration
	for range 3 {
		spreads = append(spreads, f.promotionSpread(replicas, standby.cfg))
	}
	t.Logf("promotion (train --steps 1) from the store's commit to every replica serving it: %v", spreads)

	f.addReddit(20, "b")
	f.ingest(active.cfg, 20) // fresh comments: the fine-tune trains
	stop := make(chan struct{})
	during := make(chan loadStats, 1)
	go func() { during <- f.load(stop, replicas, 0, 25, "failover") }()
	time.Sleep(2 * time.Second) // a baseline before the kill, under the fine-tune
	ingests := standby.count("job=ingest")
	killed := fineTuneKill(t, active)
	standby.waitFor("the standby elected", 15*time.Second, func() bool { return standby.count("elected the active trainer") > 0 })
	standby.waitFor("the new trainer's first ingest", 60*time.Second, func() bool { return standby.count("job=ingest") > ingests })
	ingested := standby.logTime(t, "job=ingest")
	close(stop)
	ld := <-during
	if ld.failed > 0 {
		t.Fatalf("%d /comment failed during the failover", ld.failed)
	}
	elected := standby.logTime(t, "elected the active trainer")
	before, window := ld.firsts(time.Time{}, killed), ld.firsts(killed, ingested)
	t.Logf("failover: %s elected %v after kill -9 of %s in a fine-tune; its first ingest ended %v after the kill",
		standby.name, elected.Sub(killed).Round(time.Millisecond), active.name, ingested.Sub(killed).Round(time.Millisecond))
	t.Logf("first response, 25 in flight over 3 replicas: before the kill (fine-tune running) n=%d p50 %v p99 %v; from the kill to the new trainer's first ingest n=%d p50 %v p99 %v max %v",
		len(before), quantile(before, 0.5).Round(time.Millisecond), quantile(before, 0.99).Round(time.Millisecond),
		len(window), quantile(window, 0.5).Round(time.Millisecond), quantile(window, 0.99).Round(time.Millisecond), quantile(window, 1).Round(time.Millisecond))
}
