package scheduler

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/config"
	"commentbot/tokens"
)

// Tests with the real model (package model through ModelEngine), tiny sizes,
// over the real SQLite store.

func tinyWord(name string) config.ModelConfig {
	m := config.DefaultModel(name, config.KindWordLSTM)
	m.VocabSize, m.Embed, m.Hidden, m.Dropout = 100, 16, []int{32}, 0
	m.Streams, m.Steps, m.MaxTokens, m.LearningRate = 4, 12, 20, 0.01
	return m
}

func newRealEnv(t *testing.T, n, steps int, mod func(*Options)) *env {
	return newEnv(t, n, func(o *Options) {
		o.Engine = ModelEngine{EvalEvery: 50, EvalBatches: 10}
		o.Config.Models = []config.ModelConfig{tinyWord("word")}
		o.TrainSteps = steps
		if mod != nil {
			mod(o)
		}
	})
}

// TestRealBootstrapAndRestart: first start trains the real model, it samples
// text with no unknown tokens, and a restart decodes the same version.
func TestRealBootstrapAndRestart(t *testing.T) {
	e := newRealEnv(t, 80, 40, nil)
	e.start()
	ld, err := e.s.Live().Get("word")
	if err != nil || ld.Version != 1 {
		t.Fatalf("Get = %v, %v; want v1", ld, err)
	}
	if ld.Info.HeldOutTokens == 0 || !(ld.Info.HeldOutLoss > 0) || ld.Info.TokensTrained == 0 {
		t.Errorf("v1 figures = %+v, want held-out loss and tokens trained", ld.Info)
	}
	var texts []string
	for seed := range uint64(5) {
		g, err := e.s.Generate(context.Background(), "word", SampleOptions{Temperature: 0.8, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if g.Text == "" || strings.Contains(g.Text, tokens.UnknownToken) || strings.Contains(g.Text, tokens.SentenceEnd) {
			t.Errorf("sample %d = %q: want text without specials", seed, g.Text)
		}
		texts = append(texts, g.Text)
	}
	t.Logf("samples after 40 steps: %q", texts)
	if len(ld.Model.History()) == 0 {
		t.Error("no training history for the loss plot")
	}

	e2 := newRealEnv(t, 0, 40, func(o *Options) { o.Config.DataDir = e.s.Config().DataDir })
	e2.start()
	ld2, err := e2.s.Live().Get("word")
	if err != nil || ld2.Version != 1 || ld2.Model.VocabHash() != ld.Model.VocabHash() {
		t.Fatalf("after restart Get = %v, %v; want v1 with the same vocabulary", ld2, err)
	}
	for seed := range uint64(3) {
		a, _ := e.s.Generate(context.Background(), "word", SampleOptions{Temperature: 0.8, Seed: seed})
		b, _ := e2.s.Generate(context.Background(), "word", SampleOptions{Temperature: 0.8, Seed: seed})
		if a.Text != b.Text {
			t.Errorf("seed %d: %q before restart, %q after: the checkpoint did not round-trip", seed, a.Text, b.Text)
		}
	}
	if n := len(e2.runs(JobBootstrap)); n != 0 {
		t.Errorf("restart trained again (%d bootstrap runs)", n)
	}
}

// TestRealFineTuneGate: the real model fine-tuned on more of the same kind of
// text is promoted; on junk it is rejected; with an exploding learning rate it
// diverges and is rejected.
func TestRealFineTuneGate(t *testing.T) {
	tests := []struct {
		name        string
		junk        bool
		replay      float64
		lr          float64
		wantPromote bool
		wantReason  string
	}{
		{"more of the same improves", false, 1, 0, true, "held-out"},
		{"junk worsens", true, 0, 0, false, "worse on the fixed held-out set"},
		// Depending on where the overflow lands, the model reports NaN/Inf
		// (diverged) or a finite but exploded loss: rejected either way.
		{"exploding learning rate diverges", false, 1, 1e30, false, "diverged|worse on the fixed held-out set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRealEnv(t, 80, 30, func(o *Options) {
				o.Config.Schedule.ReplayRatio = tt.replay
				o.FineTuneLearningRate = tt.lr
				o.TrainSteps = 30
			})
			e.start()
			e.clock.Add(time.Hour)
			if tt.junk {
				e.addJunk(80, e.clock.Now())
			} else {
				e.addGood(80, e.clock.Now())
			}
			e.clock.Add(time.Hour)
			rep, err := e.s.FineTune(context.Background(), "word")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("live %.4f → candidate %.4f on fixed; fresh %.4f → %.4f (%d tokens); %d steps, %d tokens, stop %s; %s",
				rep.LiveFixed, rep.CandFixed, rep.LiveFresh, rep.CandFresh, rep.FreshTokens, rep.Train.Steps, rep.Train.Tokens, rep.Train.Stopped, rep.Decision.Reason)
			if rep.Promoted != tt.wantPromote || !containsAny(rep.Decision.Reason, tt.wantReason) {
				t.Fatalf("promoted = %v (%s), want %v with %q", rep.Promoted, rep.Decision.Reason, tt.wantPromote, tt.wantReason)
			}
			want := 1
			if tt.wantPromote {
				want = 2
			}
			if got := e.liveVersion("word"); got != want {
				t.Errorf("live version = %d, want %d", got, want)
			}
			rs := e.runs(JobFineTune)
			if len(rs) != 1 || !containsAny(rs[0].Detail, tt.wantReason) {
				t.Errorf("run = %+v, want detail with %q", rs, tt.wantReason)
			}
		})
	}
}

// TestRealSamplingDuringFineTune: /comment-style generations from the live set
// keep being served while a fine-tune trains a clone on the same cores. It
// reports latency percentiles (no timed assertion: the machine is shared) and
// asserts that every generation succeeded, some ran during the fine-tune, and
// the version they saw only ever moved forward.
func TestRealSamplingDuringFineTune(t *testing.T) {
	e := newRealEnv(t, 80, 30, nil)
	e.start()
	e.clock.Add(time.Hour)
	e.addGood(120, e.clock.Now())
	e.clock.Add(time.Hour)

	measure := func(during func()) (lat []time.Duration, versions []int, errs int) {
		ctx, stop := context.WithCancel(context.Background())
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var seen []int
				for i := 0; ctx.Err() == nil; i++ {
					t0 := time.Now()
					out, err := e.s.Generate(context.Background(), "word", SampleOptions{Temperature: 0.8, Seed: uint64(g*100000 + i)})
					d := time.Since(t0)
					mu.Lock()
					if err != nil {
						errs++
					} else {
						lat = append(lat, d)
						seen = append(seen, out.Version)
					}
					mu.Unlock()
				}
				mu.Lock()
				if !slices.IsSorted(seen) {
					errs++
					t.Errorf("goroutine %d saw versions going backwards: %v", g, seen)
				}
				versions = append(versions, seen...)
				mu.Unlock()
			}()
		}
		during()
		stop()
		wg.Wait()
		return lat, versions, errs
	}
	pct := func(lat []time.Duration, p float64) time.Duration {
		s := slices.Clone(lat)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[int(math.Ceil(p*float64(len(s))))-1]
	}
	idle, _, errs := measure(func() { time.Sleep(300 * time.Millisecond) })
	if errs != 0 || len(idle) == 0 {
		t.Fatalf("idle: %d generations, %d errors", len(idle), errs)
	}
	e.s.opts.TrainSteps = 150
	var rep FineTuneReport
	var ftErr error
	var ftTime time.Duration
	busy, versions, errs := measure(func() {
		t0 := time.Now()
		rep, ftErr = e.s.FineTune(context.Background(), "word")
		ftTime = time.Since(t0)
	})
	if ftErr != nil {
		t.Fatal(ftErr)
	}
	if errs != 0 || len(busy) == 0 {
		t.Fatalf("during fine-tune: %d generations, %d errors", len(busy), errs)
	}
	t.Logf("idle: %d generations, p50 %v p99 %v", len(idle), pct(idle, .5), pct(idle, .99))
	t.Logf("during a %v fine-tune (%d steps, promoted %v): %d generations, p50 %v p99 %v max %v",
		ftTime.Round(time.Millisecond), rep.Train.Steps, rep.Promoted, len(busy), pct(busy, .5), pct(busy, .99), pct(busy, 1))
	if rep.Promoted && !slices.Contains(versions, 1) {
		t.Errorf("no generation ran on v1 during the fine-tune")
	}
}

// containsAny reports whether s contains one of the |-separated alternatives.
func containsAny(s, alts string) bool {
	for _, a := range strings.Split(alts, "|") {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}

// TestRealRunsEvaluateWithOnePlan: the first training and a fine-tune run the same
// logic — held-out evaluations during the run (the fine-tune on the fixed held-out set)
// with their standard errors, the configured schedule, the run's end marked in the
// history, and the best held-out loss and where it was reached in the run record.
func TestRealRunsEvaluateWithOnePlan(t *testing.T) {
	e := newRealEnv(t, 120, 60, func(o *Options) {
		o.Engine = ModelEngine{EvalEvery: 20, EvalBatches: 10}
		o.Config.Models[0].LRSchedule = "cosine"
	})
	e.start()
	e.clock.Add(time.Hour)
	e.addGood(120, e.clock.Now())
	e.clock.Add(time.Hour)
	if _, err := e.s.FineTune(context.Background(), "word"); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{JobBootstrap, JobFineTune} {
		rs := e.runs(job)
		if len(rs) != 1 {
			t.Fatalf("%s: %d runs", job, len(rs))
		}
		r := rs[0]
		if !(r.Figures["best_loss"] > 0) || !(r.Figures["best_loss_stderr"] > 0) || !strings.Contains(r.Detail, "stopped: budget; best held-out") {
			t.Errorf("%s run record: figures %v, detail %q; want the best held-out loss, its standard error and where", job, r.Figures, r.Detail)
		}
	}
	m, err := e.s.Repo().Load(context.Background(), e.s.engine, "word", e.liveVersion("word"))
	if err != nil {
		t.Fatal(err)
	}
	var evals, ends int
	var rates []float64
	for _, p := range m.History() {
		if finite(p.ValidLoss) && p.StdErr > 0 {
			evals++
		}
		if p.Event == "budget" {
			ends++
		}
		rates = append(rates, p.LR)
	}
	// 60 steps with an evaluation every 20, in each of the two runs (the third of
	// each is the run's end).
	if evals != 6 || ends != 2 || !(rates[1] < rates[0]) || !(rates[len(rates)-1] < rates[3]) {
		t.Errorf("history: %d evaluations with a standard error (want 6), %d run ends (want 2), rates %v falling in each run",
			evals, ends, rates)
	}
}

// Issue 12 with the real model: a fine-tune with no step override is planned
// as one pass over the fresh and replayed comments, and learns (nearly) every
// fresh token — the batcher's last partial batch is all it may leave out;
// when the speed measured on the first training says the pass cannot fit in
// schedule.fine_tune_minutes, the replay is cut first and the record says
// which share of the fresh tokens the capped run learned.
func TestRealFineTuneLearnsTheFreshComments(t *testing.T) {
	for _, tc := range []struct {
		name       string
		capMinutes float64
		wantCut    bool
	}{
		{"the default cap", 120, false},
		{"a cap too short for the pass", 0.00001, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newRealEnv(t, 80, 30, func(o *Options) { o.Config.Schedule.FineTuneMinutes = tc.capMinutes })
			e.start()
			e.s.opts.TrainSteps = 0
			e.clock.Add(time.Hour)
			e.addGood(120, e.clock.Now())
			e.clock.Add(time.Hour)
			rep, err := e.s.FineTune(context.Background(), "word")
			if err != nil {
				t.Fatal(err)
			}
			p, l := rep.Plan, rep.Learned
			t.Logf("plan %+v; learned %d of %d fresh tokens in %d steps (%s)", p, l.Trained, l.Tokens, rep.Train.Steps, rep.Train.Stopped)
			if p.Speed <= 0 || l.Tokens != p.FreshTokens || l.Tokens == 0 {
				t.Fatalf("plan %+v, coverage %+v: want a measured speed and the fresh tokens counted", p, l)
			}
			if !tc.wantCut {
				if p.ReplayCut != 0 || rep.Replay == 0 || l.Share() < 0.9 || rep.Train.Steps > p.Steps {
					t.Errorf("uncapped: cut %d of %d replayed, learned %.3f of the fresh tokens in %d steps (plan %d); want no cut and ≥ 0.9 learned in at most the plan",
						p.ReplayCut, rep.Replay+p.ReplayCut, l.Share(), rep.Train.Steps, p.Steps)
				}
			} else if p.ReplayCut == 0 || rep.Replay != 0 || l.Share() >= 0.9 {
				t.Errorf("capped: cut %d, %d replayed kept, learned %.3f; want all replay cut and the cap to stop the run early", p.ReplayCut, rep.Replay, l.Share())
			}
			rs := e.runs(JobFineTune)
			if len(rs) != 1 || rs[0].Figures["fresh_learned_share"] != l.Share() || rs[0].Figures["fresh_train_tokens"] != float64(l.Tokens) {
				t.Errorf("run record %+v does not carry the coverage %+v", rs, l)
			}
		})
	}
}
