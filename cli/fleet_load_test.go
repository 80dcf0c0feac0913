package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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
