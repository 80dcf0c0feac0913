package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/store"
	"commentbot/text"
)

// TestFirstStartDefaults measures the first start with the shipped defaults
// (config.Default(): word-lstm and char-lstm at full size, first_train_minutes
// each, trained at the same time on the embedded sample corpus), the time until
// each model answers its first generation, and generation latency while a
// fine-tune of the word model runs. It takes minutes of both cores, so it runs
// only with SCHEDULER_SLOW=1:
//
//	SCHEDULER_SLOW=1 go test -run TestFirstStartDefaults -v -timeout 30m ./scheduler/
func TestFirstStartDefaults(t *testing.T) {
	if os.Getenv("SCHEDULER_SLOW") == "" {
		t.Skip("minutes of CPU: set SCHEDULER_SLOW=1 to measure the first start at default sizes")
	}
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "corpus.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw, err := corpus.SampleComments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rules := text.DefaultCleanRules()
	var cs []corpus.Comment
	for _, c := range raw {
		if k, why := corpus.Clean(c, rules); why == "" {
			k.Ingested = time.Now().Add(-time.Hour)
			cs = append(cs, k)
		}
	}
	if _, err := st.Upsert(ctx, cs); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Schedule.Ingest, cfg.Schedule.FineTune = "", ""
	start := time.Now()
	var mu sync.Mutex
	ready := map[string]time.Duration{}
	readyCh := make(chan string, 4)
	s, err := New(Options{
		Config: cfg, Store: st, Engine: ModelEngine{}, Registry: prometheus.NewRegistry(), Seed: 1,
		OnModelsChanged: func(names []string) {
			mu.Lock()
			defer mu.Unlock()
			for _, n := range names {
				if _, ok := ready[n]; !ok {
					ready[n] = time.Since(start)
					readyCh <- n
				}
			}
		},
		OnProgress: func(model string, p TrainProgress) {
			if p.Step%20 == 0 {
				t.Logf("%s: %v", model, p)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("Start returned after %v", time.Since(start))
	for range 2 {
		name := <-readyCh
		t0 := time.Now()
		g, err := s.Generate(ctx, name, SampleOptions{Temperature: 0.8, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		t.Logf("%s ready %v after Start; first generation %v later (took %v, %d tokens): %q",
			name, ready[name].Round(time.Millisecond), time.Since(t0), g.Elapsed, g.Tokens, g.Text)
		mu.Unlock()
		ld, _ := s.Live().Get(name)
		t.Logf("%s v%d: held-out %.3f nats/token over %d tokens, %d steps, %d tokens trained",
			name, ld.Version, ld.Info.HeldOutLoss, ld.Info.HeldOutTokens, ld.Info.Steps, ld.Info.TokensTrained)
	}
	if err := s.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	// Fresh comments, then a fine-tune of the word model (40 steps) while
	// three goroutines generate from both models.
	rng := rand.New(rand.NewPCG(3, 4))
	var fresh []corpus.Comment
	for i := range 300 {
		c := goodComment(rng, fmt.Sprintf("t1_fresh%04d", i), time.Now())
		fresh = append(fresh, c)
	}
	if _, err := st.Upsert(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	s.opts.TrainSteps = 40
	var lat []time.Duration
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"word", "char", "word"}[g]
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				t0 := time.Now()
				if _, err := s.Generate(ctx, name, SampleOptions{Temperature: 0.8, Seed: uint64(i)}); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				lat = append(lat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	t0 := time.Now()
	rep, err := s.FineTune(ctx, "word")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lat)
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	t.Logf("fine-tune word: %v, %d steps, %d tokens, fixed %.3f → %.3f, fresh %.3f → %.3f, promoted %v (%s)",
		time.Since(t0).Round(time.Millisecond), rep.Train.Steps, rep.Train.Tokens, rep.LiveFixed, rep.CandFixed,
		rep.LiveFresh, rep.CandFresh, rep.Promoted, rep.Decision.Reason)
	t.Logf("generations during the fine-tune: %d, p50 %v, p99 %v, max %v", len(lat), p(.5), p(.99), lat[len(lat)-1])
}
