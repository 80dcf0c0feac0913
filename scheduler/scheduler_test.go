package scheduler

import (
	"commentbot/store"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler/runs"
)

// TestBootstrap: a fresh data dir; Start returns at once, the model trains in the
// background, is saved as v1, goes live, and the bot is told.
func TestBootstrap(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.eng.stepDelay.Store(int64(2 * time.Millisecond))
	if err := e.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Start did not wait for training: 20 steps × 2 ms are still running.
	if _, err := e.s.Live().Get("uni"); !errors.Is(err, ErrNotReady) {
		t.Errorf("Get right after Start: err = %v, want ErrNotReady", err)
	}
	if err := e.s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.liveVersion("uni"); got != 1 {
		t.Fatalf("live version = %d, want 1", got)
	}
	vs, err := e.s.Versions(context.Background(), "uni")
	if err != nil || len(vs) != 1 || !vs[0].Live || vs[0].Job != JobBootstrap || vs[0].HeldOutTokens == 0 {
		t.Fatalf("Versions = %+v, %v; want one live bootstrap version with a held-out loss", vs, err)
	}
	if got := e.lastChange(); !slices.Equal(got, []string{"uni"}) {
		t.Errorf("OnModelsChanged last = %v, want [uni]", got)
	}
	png, err := e.s.LossPNG(context.Background(), "uni")
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Errorf("LossPNG = %d bytes, %v; want a PNG", len(png), err)
	}
	if _, err := os.Stat(filepath.Join(e.s.Repo().Dir("uni"), "loss.png")); err != nil {
		t.Errorf("loss.png not on disk: %v", err)
	}
	rs := e.runs(JobBootstrap)
	if len(rs) != 1 || rs[0].Outcome != runs.OutcomeOK || rs[0].Figures["tokens_trained"] <= 0 {
		t.Errorf("bootstrap runs = %+v, want one ok run with tokens_trained > 0", rs)
	}
	g, err := e.s.Generate(context.Background(), "uni", SampleOptions{Temperature: 0.8, Seed: 3})
	if err != nil || g.Text == "" || g.Version != 1 || g.Tokens != 12 {
		t.Errorf("Generate = %+v, %v; want 12 tokens of text from v1", g, err)
	}
}

// TestFineTuneGate: fine-tunes whose candidates improve, worsen, hit NaN or
// report divergence, each checked for the decision, the live version, the files
// and the recorded run.
func TestFineTuneGate(t *testing.T) {
	tests := []struct {
		name         string
		junk         bool
		replay       float64
		nan, diverge bool
		wantPromote  bool
		wantReason   string
	}{
		{name: "more of the same data improves", replay: 1, wantPromote: true, wantReason: "held-out"},
		{name: "junk data worsens", junk: true, replay: 0, wantReason: "worse on the fixed held-out set"},
		{name: "NaN candidate", replay: 1, nan: true, wantReason: "NaN"},
		{name: "divergence reported by training", replay: 1, diverge: true, wantReason: "diverged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 60, func(o *Options) { o.Config.Schedule.ReplayRatio = tt.replay })
			e.start()
			if e.liveVersion("uni") != 1 {
				t.Fatal("bootstrap did not make v1 live")
			}
			older, err := e.store.Count(context.Background(), corpus.Filter{Split: corpus.Train, ValidFraction: 0.2})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Add(time.Hour)
			if tt.junk {
				e.addJunk(60, e.clock.Now())
			} else {
				e.addGood(60, e.clock.Now())
			}
			e.clock.Add(time.Hour)
			e.eng.nan.Store(tt.nan)
			e.eng.diverge.Store(tt.diverge)
			rep, err := e.s.FineTune(context.Background(), "uni")
			if err != nil {
				t.Fatalf("FineTune: %v", err)
			}
			if rep.Promoted != tt.wantPromote || !strings.Contains(rep.Decision.Reason, tt.wantReason) {
				t.Fatalf("promoted = %v (%q), want %v with reason containing %q; report %+v",
					rep.Promoted, rep.Decision.Reason, tt.wantPromote, tt.wantReason, rep)
			}
			if wantReplay := min(int(tt.replay*float64(rep.Fresh)), older); rep.Fresh == 0 || rep.Replay != wantReplay {
				t.Errorf("trained on %d fresh + %d replay, want > 0 fresh and %d replay (ratio %v, %d older)",
					rep.Fresh, rep.Replay, wantReplay, tt.replay, older)
			}
			wantLive, wantVersions, wantOutcome := 1, 1, runs.OutcomeRejected
			if tt.wantPromote {
				wantLive, wantVersions, wantOutcome = 2, 2, runs.OutcomePromoted
				if !(rep.CandFixed <= rep.LiveFixed+0.01) {
					t.Errorf("promoted with candidate %v vs live %v", rep.CandFixed, rep.LiveFixed)
				}
			}
			if got := e.liveVersion("uni"); got != wantLive {
				t.Errorf("live version = %d, want %d", got, wantLive)
			}
			if v, _ := e.s.Repo().Live(context.Background(), "uni"); v != wantLive {
				t.Errorf("live file = %d, want %d", v, wantLive)
			}
			if vs, _ := e.s.Versions(context.Background(), "uni"); len(vs) != wantVersions {
				t.Errorf("%d versions on disk, want %d", len(vs), wantVersions)
			}
			rs := e.runs(JobFineTune)
			if len(rs) != 1 || rs[0].Outcome != wantOutcome || !strings.Contains(rs[0].Detail, tt.wantReason) {
				t.Fatalf("runs = %+v, want one %s run whose detail has %q", rs, wantOutcome, tt.wantReason)
			}
			if rs[0].Figures["tokens_trained"] <= 0 || rs[0].Figures["fresh_comments"] != float64(rep.Fresh) {
				t.Errorf("run figures = %v, want tokens_trained > 0 and fresh_comments %d", rs[0].Figures, rep.Fresh)
			}
			if !tt.nan {
				if _, ok := rs[0].Figures["loss_before"]; !ok {
					t.Errorf("run figures lack loss_before: %v", rs[0].Figures)
				}
			}
			// A second fine-tune with nothing new is skipped, not an error.
			e.eng.nan.Store(false)
			e.eng.diverge.Store(false)
			rep2, err := e.s.FineTune(context.Background(), "uni")
			if err != nil || rep2.Skipped == "" {
				t.Errorf("second FineTune = %+v, %v; want skipped (no new comments)", rep2, err)
			}
		})
	}
}

// TestRollbackAndRetention: five promotions with keep_versions 3 leave the three
// newest on disk; rollback goes back one (default) or to a named version while
// generations run; a pruned or unknown version is refused.
func TestRollbackAndRetention(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	for i := 0; i < 4; i++ {
		e.clock.Add(time.Hour)
		e.addGood(30, e.clock.Now())
		e.clock.Add(time.Hour)
		rep, err := e.s.FineTune(context.Background(), "uni")
		if err != nil || !rep.Promoted {
			t.Fatalf("fine-tune %d: %+v, %v; want promoted", i, rep.Decision, err)
		}
	}
	var got []int
	vs, _ := e.s.Versions(context.Background(), "uni")
	for _, v := range vs {
		got = append(got, v.Version)
	}
	if !slices.Equal(got, []int{3, 4, 5}) {
		t.Fatalf("versions on disk = %v, want [3 4 5]", got)
	}

	// Generations keep running while we roll back.
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var genErr error
	var mu sync.Mutex
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if _, err := e.s.Generate(ctx, "uni", SampleOptions{Temperature: 1, Seed: uint64(i)}); err != nil && ctx.Err() == nil {
					mu.Lock()
					genErr = err
					mu.Unlock()
				}
			}
		}()
	}
	steps := []struct {
		to, want int
		wantErr  error
	}{
		{0, 4, nil},
		{0, 3, nil},
		{0, 0, ErrNoVersion}, // nothing older than 3 on disk
		{5, 5, nil},
		{1, 0, ErrNoVersion}, // pruned
		{99, 0, ErrNoVersion},
	}
	for _, st := range steps {
		v, err := e.s.Rollback(context.Background(), "uni", st.to)
		if !errors.Is(err, st.wantErr) || (err == nil && v != st.want) {
			t.Errorf("Rollback(to=%d) = %d, %v; want %d, %v", st.to, v, err, st.want, st.wantErr)
		}
		wantLive := st.want
		if st.wantErr != nil {
			wantLive = e.liveVersion("uni") // unchanged
		}
		if got := e.liveVersion("uni"); got != wantLive {
			t.Errorf("after Rollback(to=%d) live = %d, want %d", st.to, got, wantLive)
		}
	}
	stop()
	wg.Wait()
	if genErr != nil {
		t.Errorf("a generation failed during rollbacks: %v", genErr)
	}
	// Roll back to 3, then a promotion: prune must keep the live one's
	// successors and never delete what is live.
	if _, err := e.s.Rollback(context.Background(), "uni", 3); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	e.addGood(30, e.clock.Now())
	e.clock.Add(time.Hour)
	if rep, err := e.s.FineTune(context.Background(), "uni"); err != nil || !rep.Promoted || rep.From != 3 || rep.Version != 6 {
		t.Fatalf("fine-tune after rollback = %+v, %v; want v3 → v6", rep, err)
	}
	got = got[:0]
	vs, _ = e.s.Versions(context.Background(), "uni")
	for _, v := range vs {
		got = append(got, v.Version)
	}
	if !slices.Equal(got, []int{4, 5, 6}) {
		t.Errorf("versions after rollback+promotion = %v, want [4 5 6]", got)
	}
	if rb := e.runs("rollback"); len(rb) != 4 {
		t.Errorf("%d rollback runs recorded, want 4", len(rb))
	}
}

// TestApply: enabling, disabling and re-enabling models and changing schedules
// while running.
func TestApply(t *testing.T) {
	e := newEnv(t, 60, func(o *Options) {
		b := testModel("b")
		b.Enabled = false
		o.Config.Models = []config.ModelConfig{testModel("a"), b}
	})
	e.start()
	if got := e.s.Live().Names(); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("names = %v, want [a]", got)
	}
	if _, err := e.s.Live().Get("b"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Get(disabled b) err = %v, want ErrUnknownModel", err)
	}
	cfg := e.s.Config()
	entries := len(e.s.cronEntries())

	// Enable b (no checkpoint: it trains), add a scheduled post and a fine-tune schedule.
	cfg.Models = []config.ModelConfig{testModel("a"), testModel("b")}
	cfg.Schedule.FineTune = "@daily"
	cfg.Schedule.Posts = []config.Post{{Channel: "42", Cron: "0 18 * * *", Model: "b", Temperature: 0.8}}
	e.s.Apply(cfg)
	if err := e.s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.s.Live().Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after enabling b names = %v, want [a b]", got)
	}
	if got := e.lastChange(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("OnModelsChanged = %v, want [a b]", got)
	}
	if got := len(e.s.cronEntries()); got != entries+2 {
		t.Errorf("cron entries = %d, want %d (fine-tune + post added)", got, entries+2)
	}

	// Disable a: gone at once.
	cfg2 := cfg
	a := testModel("a")
	a.Enabled = false
	cfg2.Models = []config.ModelConfig{a, testModel("b")}
	cfg2.Schedule.Posts = nil
	e.s.Apply(cfg2)
	if _, err := e.s.Live().Get("a"); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Get(a) after disabling: err = %v, want ErrUnknownModel", err)
	}
	if _, err := e.s.Generate(context.Background(), "a", SampleOptions{Temperature: 1}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Generate(a) after disabling: err = %v, want ErrUnknownModel", err)
	}
	if got := e.lastChange(); !slices.Equal(got, []string{"b"}) {
		t.Errorf("OnModelsChanged = %v, want [b]", got)
	}
	if got := len(e.s.cronEntries()); got != entries+1 {
		t.Errorf("cron entries = %d, want %d (post removed)", got, entries+1)
	}

	// Re-enable a: loads its checkpoint from disk, no new training.
	decodes := e.eng.decodes.Load()
	e.s.Apply(cfg)
	if err := e.s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.liveVersion("a"); got != 1 {
		t.Errorf("re-enabled a live version = %d, want 1", got)
	}
	if e.eng.decodes.Load() != decodes+1 {
		t.Errorf("decodes = %d, want %d (a loaded from disk)", e.eng.decodes.Load(), decodes+1)
	}
	if got := len(e.runs(JobBootstrap)); got != 2 {
		t.Errorf("bootstrap runs = %d, want 2 (a once, b once)", got)
	}
}

// TestStartLoadsFromDisk: a restart loads the live version instead of training,
// and a live checkpoint that no longer decodes falls back to the newest that does.
func TestStartLoadsFromDisk(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	e.clock.Add(time.Hour)
	e.addGood(30, e.clock.Now())
	e.clock.Add(time.Hour)
	if rep, err := e.s.FineTune(context.Background(), "uni"); err != nil || !rep.Promoted {
		t.Fatalf("fine-tune: %+v %v", rep, err)
	}
	dir := e.s.Config().DataDir
	tests := []struct {
		name     string
		damage   bool
		wantLive int
	}{
		{"clean restart", false, 2},
		{"live checkpoint corrupted", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.damage {
				if err := os.WriteFile(e.s.Repo().CheckpointPath("uni", 2), []byte("{garbage"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e2 := newEnv(t, 0, func(o *Options) { o.Config = testConfig(dir) })
			e2.start()
			if got := e2.liveVersion("uni"); got != tt.wantLive {
				t.Errorf("live after restart = %d, want %d", got, tt.wantLive)
			}
			if v, _ := e2.s.Repo().Live(context.Background(), "uni"); v != tt.wantLive {
				t.Errorf("live file after restart = %d, want %d", v, tt.wantLive)
			}
			if n := len(e2.runs(JobBootstrap)); n != 0 {
				t.Errorf("%d bootstrap runs after restart, want 0", n)
			}
		})
	}
}

// TestShutdownAbandonsFineTune: Shutdown during a fine-tune cancels it; the
// candidate is dropped, live stays, the run is recorded as cancelled.
func TestShutdownAbandonsFineTune(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	e.clock.Add(time.Hour)
	e.addGood(30, e.clock.Now())
	e.eng.stepDelay.Store(int64(50 * time.Millisecond)) // 20 steps = 1 s
	done := make(chan error, 1)
	go func() { _, err := e.s.FineTune(context.Background(), "uni"); done <- err }()
	for !e.s.Training("uni") {
		select {
		case err := <-done:
			t.Fatalf("FineTune ended before Shutdown: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	// FineTune was called with a context nobody cancels: Shutdown still ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t1 := time.Now()
	if err := e.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Shutdown took %v with a fine-tune running", time.Since(t1))
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("FineTune err = %v, want context.Canceled", err)
	}
	rs := e.runs(JobFineTune)
	if len(rs) != 1 || rs[0].Outcome != runs.OutcomeCancelled {
		t.Errorf("runs = %+v, want one cancelled fine-tune", rs)
	}
	if vs, _ := e.s.Versions(context.Background(), "uni"); len(vs) != 1 || !vs[0].Live {
		t.Errorf("versions = %+v, want only v1, live", vs)
	}
	if e.liveVersion("uni") != 1 {
		t.Errorf("live = %d, want 1", e.liveVersion("uni"))
	}
	if _, err := e.s.FineTune(context.Background(), "uni"); !errors.Is(err, ErrStopped) {
		t.Errorf("FineTune after Shutdown err = %v, want ErrStopped", err)
	}
}

// TestHandler: /metrics from the given registry, /healthz up then stopping.
func TestHandler(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	e.s.ObserveCommand("comment", 30*time.Millisecond, nil)
	if _, err := e.s.Generate(context.Background(), "uni", SampleOptions{Temperature: 1}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.s.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	for _, want := range []string{
		`commentbot_live_version{model="uni"} 1`,
		`commentbot_commands_total{command="comment",outcome="ok"} 1`,
		`commentbot_command_seconds_count{command="comment"} 1`,
		`commentbot_generation_tokens_total{model="uni"} 12`,
		`commentbot_job_runs_total{job="bootstrap",outcome="ok"} 1`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %q", code, want)
		}
	}
	code, body = get("/healthz")
	var h struct {
		Status string
		Models []struct {
			Name    string
			Ready   bool
			Version int
		}
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil || code != 200 || h.Status != "ok" || len(h.Models) != 1 || h.Models[0].Version != 1 {
		t.Errorf("/healthz = %d %s (%v), want 200 ok with uni v1", code, body, err)
	}
	if err := e.s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _ = get("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz after Shutdown = %d, want 503", code)
	}
}

// TestSyncLiveFollowsAnotherProcess: `commentbot rollback` in another process
// rewrites the live file; SyncLive (run every 5 s by cron) makes the running
// scheduler serve that version.
func TestSyncLiveFollowsAnotherProcess(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	e.clock.Add(time.Hour)
	e.addGood(30, e.clock.Now())
	e.clock.Add(time.Hour)
	if rep, err := e.s.FineTune(context.Background(), "uni"); err != nil || !rep.Promoted {
		t.Fatalf("fine-tune: %+v %v", rep, err)
	}
	other := NewRepo(store.NewModelDir(e.s.Repo().Store().(*store.ModelDir).Root)) // what the CLI process opens
	steps := []struct {
		setLive, want int
	}{
		{1, 1},
		{2, 2},
		{2, 2}, // unchanged: nothing reloaded
	}
	for _, st := range steps {
		decodes := e.eng.decodes.Load()
		if err := other.SetLive(context.Background(), "uni", st.setLive, store.AnyLive); err != nil {
			t.Fatal(err)
		}
		e.s.SyncLive(context.Background())
		if got := e.liveVersion("uni"); got != st.want {
			t.Errorf("after the other process set v%d: serving v%d, want v%d", st.setLive, got, st.want)
		}
		if st.setLive == st.want && e.eng.decodes.Load() > decodes+1 {
			t.Errorf("SyncLive decoded %d checkpoints, want at most 1", e.eng.decodes.Load()-decodes)
		}
	}
}

// TestTrainFull: a full training (Train with Full) starts a new lineage (parent 0, new
// vocabulary counted on the grown corpus) and makes it live; progress reaches
// the OnProgress callback.
func TestTrainFull(t *testing.T) {
	var mu sync.Mutex
	progress := 0
	e := newEnv(t, 60, func(o *Options) {
		o.OnProgress = func(model string, p TrainProgress) {
			mu.Lock()
			defer mu.Unlock()
			if model == "uni" && p.Step > 0 {
				progress++
			}
		}
	})
	e.start()
	old, _ := e.s.Live().Get("uni")
	e.clock.Add(time.Hour)
	e.addJunk(40, e.clock.Now()) // new words: the new vocabulary has them
	rep, err := e.s.Train(context.Background(), "uni", TrainRequest{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if info := rep.Info; info.Version != 2 || info.Parent != 0 || info.Job != JobFullTrain || rep.From != 0 {
		t.Errorf("Train(Full) = %+v, want v2, parent 0, job %s", rep, JobFullTrain)
	}
	ld, _ := e.s.Live().Get("uni")
	if ld.Version != 2 || ld.Model.VocabHash() == old.Model.VocabHash() {
		t.Errorf("live = v%d vocab %s; want v2 with a vocabulary other than %s", ld.Version, ld.Model.VocabHash(), old.Model.VocabHash())
	}
	mu.Lock()
	defer mu.Unlock()
	if progress != 40 { // 20 steps at bootstrap + 20 now
		t.Errorf("OnProgress saw %d steps, want 40", progress)
	}
}

// TestBootstrapRetriesAfterIngest: on an empty store the first training fails
// (recorded); the first ingest that brings comments starts it again.
func TestBootstrapRetriesAfterIngest(t *testing.T) {
	var e *env
	e = newEnv(t, 0, func(o *Options) {
		o.Ingester = IngestFunc(func(ctx context.Context) (IngestCounts, error) {
			e.addGood(60, e.clock.Now())
			return IngestCounts{New: 60}, nil
		})
	})
	e.start()
	if _, err := e.s.Live().Get("uni"); !errors.Is(err, ErrNotReady) {
		t.Fatalf("Get on an empty store: err = %v, want ErrNotReady", err)
	}
	if rs := e.runs(JobBootstrap); len(rs) != 1 || rs[0].Outcome != runs.OutcomeError {
		t.Fatalf("bootstrap runs = %+v, want one error", rs)
	}
	if err := e.s.RunIngest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.liveVersion("uni"); got != 1 {
		t.Errorf("after ingest live = %d, want 1", got)
	}
}

// TestApplyNewLimits: a reload that changes max_tokens applies to the next
// generation without reloading the model.
func TestApplyNewLimits(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	for _, maxTok := range []int{12, 5, 30} {
		cfg := e.s.Config()
		m := testModel("uni")
		m.MaxTokens = maxTok
		cfg.Models = []config.ModelConfig{m}
		e.s.Apply(cfg)
		g, err := e.s.Generate(context.Background(), "uni", SampleOptions{Temperature: 1, MaxTokens: 1000})
		if err != nil || g.Tokens != maxTok || g.Version != 1 {
			t.Errorf("max_tokens %d: Generate = %d tokens v%d, %v; want %d tokens from v1", maxTok, g.Tokens, g.Version, err, maxTok)
		}
	}
}
