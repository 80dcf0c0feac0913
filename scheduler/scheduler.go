package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"commentbot/config"
	"commentbot/scheduler/runs"
)

// Errors of the scheduler.
var (
	ErrBusy     = errors.New("scheduler: model is already training")
	ErrStopped  = errors.New("scheduler: shut down")
	ErrNoPoster = errors.New("scheduler: no poster configured")
	// ErrUnoriginal is what a Poster wraps when it refuses text that copies training
	// data; RunPost then samples again, up to postAttempts times.
	ErrUnoriginal = errors.New("scheduler: sample copies training data")
)

// DefaultEvalLimit is the size (comments) of the fixed held-out set: the
// first comments of the store's validation split, on which fine-tunes are
// judged and every model is ranked.
const DefaultEvalLimit = 2000

// Options configure a Scheduler. Config, Store, Engine and Registry are required.
type Options struct {
	Config config.Config
	Store  Store
	Engine Engine
	// Ingester fetches fresh comments; nil disables the ingest job (offline).
	Ingester Ingester
	// Poster sends scheduled posts; nil makes each scheduled post a recorded error.
	Poster Poster
	// Registry receives the metrics (a prometheus.NewRegistry(), never the default).
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil); it stamps runs and versions and decides
	// which comments count as fresh.
	Now func() time.Time
	// Seed is the base of every seed the scheduler hands out (training, replay
	// sampling, scheduled posts); runs get Seed+1, Seed+2, … in order.
	Seed uint64
	// OnModelsChanged is called (from the goroutine that made the change) whenever
	// the set of models ready to serve changes, with the new sorted list: the bot
	// re-registers its /comment choices.
	OnModelsChanged func(ready []string)
	// OnProgress, when set, receives training progress (bootstrap, fine-tune, full).
	OnProgress func(model string, p TrainProgress)
	// TrainSteps, when > 0, replaces the minute budgets with a step budget (tests,
	// and CLI runs that want reproducible work).
	TrainSteps int
	// FineTuneLearningRate, when > 0, is the learning rate of fine-tunes
	// (0 continues the lineage's current, decayed rate).
	FineTuneLearningRate float64
	// EvalLimit is the size (comments) of the fixed held-out set; 0 means
	// DefaultEvalLimit.
	EvalLimit int
	// Pretrained are the checkpoints shipped with the binary: an enabled model
	// with no checkpoint on disk whose kind and shape match one (and whose
	// config says pretrained: true) starts its lineage from it.
	Pretrained []Pretrained
	// Health, when set, adds entries to /healthz's JSON (such as the state of the
	// link to Discord). They do not change the status code: /healthz says the
	// process is alive.
	Health func() map[string]any
}

// Scheduler runs the jobs (ingest, fine-tune, scheduled posts) on cron schedules,
// owns the live model set and the versions on disk, and applies config reloads.
type Scheduler struct {
	opts     Options
	store    Store
	engine   Engine
	repo     *Repo
	live     *Live
	met      *metrics
	gatherer prometheus.Gatherer
	log      *slog.Logger
	now      func() time.Time

	ctx      context.Context // cancelled by Shutdown; every job's context ends with it
	cancel   context.CancelFunc
	stopping atomic.Bool
	seq      atomic.Uint64
	ingestMu sync.Mutex // one ingest at a time, whatever the cron entries

	mu      sync.Mutex // guards the fields below
	cfg     config.Config
	cron    *cron.Cron
	entries []cron.EntryID
	busy    map[string]bool
	booting map[string]bool    // first trainings scheduled or running
	trouble map[string]Trouble // why a model does not serve what its files say
	started bool
	scores  map[string]Score // bits per character of the live versions (rank.go)
	// rescoring: a rescore runs; rescoreAgain: a publication asked for another.
	rescoring, rescoreAgain bool
	ready                   []string      // last ready set reported to OnModelsChanged
	running                 int           // jobs running (see begin)
	idle                    chan struct{} // closed when running drops to 0
}

// New builds a scheduler; nothing runs until Start.
func New(o Options) (*Scheduler, error) {
	if o.Store == nil || o.Engine == nil || o.Registry == nil {
		return nil, errors.New("scheduler: Options.Store, Engine and Registry are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.EvalLimit <= 0 {
		o.EvalLimit = DefaultEvalLimit
	}
	met, err := newMetrics(o.Registry)
	if err != nil {
		return nil, fmt.Errorf("scheduler: metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		opts: o, store: o.Store, engine: o.Engine,
		repo:     &Repo{Root: filepath.Join(o.Config.DataDir, "models")},
		live:     NewLive(),
		met:      met,
		gatherer: o.Registry,
		log:      o.Logger.With("component", "scheduler"),
		now:      o.Now,
		ctx:      ctx, cancel: cancel,
		cfg:     o.Config,
		busy:    map[string]bool{},
		booting: map[string]bool{},
		trouble: map[string]Trouble{},
		scores:  map[string]Score{},
	}
	cl := cronLogger{s.log}
	s.cron = cron.New(cron.WithLogger(cl), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	return s, nil
}

// cronLogger adapts slog to cron.Logger (cron's Info lines are chatty: debug).
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// Live is the set of live models the bot samples from.
func (s *Scheduler) Live() *Live { return s.live }

// Repo is the versions on disk.
func (s *Scheduler) Repo() *Repo { return s.repo }

// Config returns the config in force.
func (s *Scheduler) Config() config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Start loads the live version of every enabled model, starts training (in the
// background) those that have none, and starts the cron jobs. It returns without
// waiting for any training: models become available as they finish.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("scheduler: already started")
	}
	s.started = true
	s.mu.Unlock()
	if err := os.MkdirAll(s.repo.Root, 0o755); err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	s.apply(ctx, s.Config())
	s.cron.Start()
	s.rescoreSoon()
	return nil
}

// Apply puts a new (already validated) config in force while running: models
// disabled or removed leave the live set at once (their next Get fails), models
// enabled load their live checkpoint or, without one, train in the background;
// cron entries are rebuilt from the new schedules. OnModelsChanged reports the
// new set of ready models when it changed.
func (s *Scheduler) Apply(cfg config.Config) {
	if s.stopping.Load() {
		return
	}
	s.mu.Lock()
	s.cfg = cfg
	started := s.started
	s.mu.Unlock()
	if started {
		s.apply(s.ctx, cfg)
	}
}

func (s *Scheduler) apply(ctx context.Context, cfg config.Config) {
	var enabled []config.ModelConfig
	for _, mc := range cfg.Models {
		if mc.Enabled {
			enabled = append(enabled, mc)
		}
	}
	before := s.live.Models()
	s.live.configure(enabled)
	for _, st := range before {
		if !s.live.Enabled(st.Config.Name) {
			s.met.liveVersion.DeleteLabelValues(st.Config.Name)
			s.met.heldOutLoss.DeleteLabelValues(st.Config.Name)
		}
	}
	for _, mc := range enabled {
		if ld, err := s.live.Get(mc.Name); err == nil {
			if err := Check(mc, ld.Info, ld.Model); err != nil && !s.Training(mc.Name) {
				// Kind or sizes changed in the config: the serving lineage cannot
				// become that model; a new one trains while it serves.
				s.log.Warn("the config no longer matches the serving lineage; a new lineage trains while it serves",
					"model", mc.Name, "serving", ld.Version, "err", err)
				s.startFull(mc.Name)
			}
			continue
		}
		if err := s.loadLive(ctx, mc); err != nil {
			var ue *UnloadableError
			switch {
			case errors.As(err, &ue):
				_ = s.setAside(mc.Name, ue) // logged; the bootstrap reports what follows
			case !errors.Is(err, ErrNoLive):
				s.log.Warn("no loadable checkpoint; training a new one", "model", mc.Name, "err", err)
			}
			if !s.startPretrained(mc) {
				s.startBootstrap(mc.Name)
			}
		}
	}
	s.rebuildCron(cfg)
	s.notify()
}

// Settled reports whether start-up is over for every enabled model: each one is
// ready, or its first training has ended (and failed: the log says why).
func (s *Scheduler) Settled() bool {
	s.mu.Lock()
	booting := len(s.booting) > 0
	s.mu.Unlock()
	return !booting
}

// publish swaps the live pointer of name and updates the metrics.
func (s *Scheduler) publish(name string, v int, info VersionInfo, m Model) bool {
	ok := s.live.publish(&Loaded{Name: name, Version: v, Info: info, Model: m, LoadedAt: s.now()})
	if ok {
		s.met.liveVersion.WithLabelValues(name).Set(float64(v))
		if info.HeldOutTokens > 0 {
			s.met.heldOutLoss.WithLabelValues(name).Set(info.HeldOutLoss)
		}
		s.log.Info("model live", "model", name, "version", v)
		s.rescoreSoon()
	}
	return ok
}

// notify calls OnModelsChanged when the ready set differs from the last one sent.
func (s *Scheduler) notify() {
	names := s.live.Names()
	s.mu.Lock()
	same := len(names) == len(s.ready)
	for i := 0; same && i < len(names); i++ {
		same = names[i] == s.ready[i]
	}
	s.ready = names
	s.mu.Unlock()
	if !same && s.opts.OnModelsChanged != nil {
		s.opts.OnModelsChanged(names)
	}
}

// rebuildCron replaces every cron entry with the schedules of cfg.
func (s *Scheduler) rebuildCron(cfg config.Config) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.entries {
		s.cron.Remove(id)
	}
	s.entries = s.entries[:0]
	add := func(what, spec string, job func()) {
		if spec == "" {
			return
		}
		id, err := s.cron.AddFunc(spec, job)
		if err != nil { // config.Validate refuses these; keep running without the entry
			s.log.Error("bad cron spec", "job", what, "spec", spec, "err", err)
			return
		}
		s.entries = append(s.entries, id)
	}
	if s.opts.Ingester != nil {
		add("ingest", cfg.Schedule.Ingest, func() { _ = s.RunIngest(s.ctx) })
	}
	add("fine-tune", cfg.Schedule.FineTune, func() {
		for _, name := range s.live.Names() {
			if s.ctx.Err() != nil {
				return
			}
			_, _ = s.FineTune(s.ctx, name)
		}
	})
	// Another process (the CLI) may roll a model back: follow the live files.
	add("sync-live", "@every 5s", func() { s.SyncLive(s.ctx) })
	for _, p := range cfg.Schedule.Posts {
		add("post", p.Cron, func() { _ = s.RunPost(s.ctx, p) })
	}
}

// cronEntries returns the next run times of the scheduled entries.
func (s *Scheduler) cronEntries() []time.Time {
	var out []time.Time
	for _, e := range s.cron.Entries() {
		out = append(out, e.Next)
	}
	return out
}

// acquire marks name as training; false when it already is.
func (s *Scheduler) acquire(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[name] {
		return false
	}
	s.busy[name] = true
	return true
}

func (s *Scheduler) release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, name)
}

// Training reports whether name is being trained right now, or its first training
// is about to start.
func (s *Scheduler) Training(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[name] || s.booting[name]
}

// Wait blocks until no job is running (background trainings included), or
// ctx ends. Tests and the CLI's "train then exit" mode use it.
func (s *Scheduler) Wait(ctx context.Context) error {
	s.mu.Lock()
	if s.running == 0 {
		s.mu.Unlock()
		return nil
	}
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// begin registers a job: its context ends when ctx or the scheduler ends, and
// Shutdown waits for done. After Shutdown began it returns ErrStopped.
func (s *Scheduler) begin(ctx context.Context) (context.Context, func(), error) {
	s.mu.Lock()
	if s.stopping.Load() {
		s.mu.Unlock()
		return nil, nil, ErrStopped
	}
	if s.running == 0 {
		s.idle = make(chan struct{})
	}
	s.running++
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.running--; s.running == 0 {
			close(s.idle)
		}
	}, nil
}

// Shutdown stops the cron (no new runs), cancels every running job — a
// fine-tune or training in progress abandons its candidate, the live version
// stays — and waits for them until ctx ends. Later job calls return ErrStopped.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	first := s.stopping.CompareAndSwap(false, true)
	s.mu.Unlock()
	if !first {
		return s.Wait(ctx)
	}
	cronDone := s.cron.Stop()
	s.cancel()
	select {
	case <-cronDone.Done():
	case <-ctx.Done():
		return fmt.Errorf("scheduler: shutdown: %w", ctx.Err())
	}
	if err := s.Wait(ctx); err != nil {
		return fmt.Errorf("scheduler: shutdown: %w", err)
	}
	return nil
}

// nextSeed hands out run seeds: Seed+1, Seed+2, …
func (s *Scheduler) nextSeed() uint64 { return s.opts.Seed + s.seq.Add(1) }

// record stores a run (with a context that survives the job's cancellation) and
// counts it. Figures that are NaN or ±Inf are left out (the store refuses them);
// the run's detail says what the gate saw.
func (s *Scheduler) record(r runs.Run) {
	s.met.runs.WithLabelValues(r.Job, r.Outcome).Inc()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 10*time.Second)
	defer cancel()
	r.Figures = r.FiniteFigures()
	if err := s.store.RecordRun(ctx, r); err != nil {
		s.log.Error("cannot record run", "job", r.Job, "model", r.Model, "err", err)
	}
	lvl := slog.LevelInfo
	if r.Outcome == runs.OutcomeError {
		lvl = slog.LevelError
	}
	s.log.Log(ctx, lvl, "run", "job", r.Job, "model", r.Model, "outcome", r.Outcome,
		"seconds", r.Ended.Sub(r.Started).Seconds(), "detail", r.Detail)
}

// outcomeOf maps a job error to a run outcome.
func outcomeOf(err error) string {
	switch {
	case err == nil:
		return runs.OutcomeOK
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return runs.OutcomeCancelled
	default:
		return runs.OutcomeError
	}
}
