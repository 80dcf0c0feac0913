package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// clock is an injected clock the tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// testWriter sends log lines to t.Log (shown for failing tests and with -v).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// env is one scheduler over a real SQLite store in a temp dir.
type env struct {
	t       *testing.T
	s       *Scheduler
	store   *store.SQLite
	eng     *uniEngine
	clock   *clock
	reg     *prometheus.Registry
	rng     *rand.Rand
	next    int
	mu      sync.Mutex
	changes [][]string // OnModelsChanged calls
	bodies  map[string]bool
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig(dir string, models ...config.ModelConfig) config.Config {
	cfg := config.Default()
	cfg.DataDir = dir
	if len(models) == 0 {
		models = []config.ModelConfig{testModel("uni")}
	}
	cfg.Models = models
	cfg.Schedule.Ingest = ""
	cfg.Schedule.FineTune = ""
	cfg.Schedule.PromoteTolerance = 0.01
	cfg.Schedule.KeepVersions = 3
	cfg.Schedule.ReplayRatio = 1
	cfg.Corpus.ValidationFraction = 0.2
	return cfg
}

func testModel(name string) config.ModelConfig {
	m := config.DefaultModel(name, config.KindWordLSTM)
	m.VocabSize = 200
	m.MaxTokens = 12
	return m
}

// newEnv seeds the store with n good comments ingested before t0 and builds a
// scheduler (not started). mod may adjust the options.
func newEnv(t *testing.T, n int, mod func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenSQLite(context.Background(), filepath.Join(dir, "corpus.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, eng: &uniEngine{}, clock: newClock(t0), reg: prometheus.NewRegistry(), rng: rand.New(rand.NewPCG(1, 2))}
	e.addGood(n, t0.Add(-time.Hour))
	o := Options{
		Config: testConfig(dir), Store: st, Engine: e.eng, Registry: e.reg,
		Now: e.clock.Now, Seed: 7, TrainSteps: 20,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		OnModelsChanged: func(names []string) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.changes = append(e.changes, names)
		},
	}
	if mod != nil {
		mod(&o)
	}
	e.s, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return e
}

func (e *env) add(n int, at time.Time, gen func(*rand.Rand, string, time.Time) corpus.Comment) {
	e.t.Helper()
	if e.bodies == nil {
		e.bodies = map[string]bool{}
	}
	cs := make([]corpus.Comment, n)
	for i := range cs {
		e.next++
		for { // distinct bodies: the store trains on duplicates once
			cs[i] = gen(e.rng, fmt.Sprintf("t1_c%05d", e.next), at)
			if !e.bodies[cs[i].Body] {
				break
			}
		}
		e.bodies[cs[i].Body] = true
	}
	if _, err := e.store.Upsert(context.Background(), cs); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) addGood(n int, at time.Time) { e.add(n, at, goodComment) }
func (e *env) addJunk(n int, at time.Time) { e.add(n, at, junkComment) }

// start starts the scheduler and waits for the first trainings.
func (e *env) start() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.s.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	if err := e.s.Wait(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) lastChange() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.changes) == 0 {
		return nil
	}
	return e.changes[len(e.changes)-1]
}

func (e *env) runs(job string) []runs.Run {
	e.t.Helper()
	rs, err := e.store.Runs(context.Background(), job, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return rs
}

// liveVersion is the version Get returns for name (0 when none).
func (e *env) liveVersion(name string) int {
	ld, err := e.s.Live().Get(name)
	if err != nil {
		return 0
	}
	return ld.Version
}
