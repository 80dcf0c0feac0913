package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"commentbot/config"
	"commentbot/internal/leader"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// Errors of the scheduler.
var (
	ErrBusy     = errors.New("scheduler: model is already training")
	ErrStopped  = errors.New("scheduler: shut down")
	ErrNoPoster = errors.New("scheduler: no poster configured")
	// ErrUnoriginal is what a Poster wraps when it refuses text that copies training
	// data; RunPost then samples again, up to postAttempts times.
	ErrUnoriginal = errors.New("scheduler: sample copies training data")
	// ErrNotLeading: a Follower that does not lead (a serving replica, a
	// standby trainer) ingests, trains and posts nothing; the elected trainer does.
	ErrNotLeading = errors.New("scheduler: this process does not lead the fleet; the active trainer runs ingest, fine-tunes and posts")
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
	// Versions keeps the model versions; nil: files under Config.DataDir/models.
	Versions VersionStore
	// Fleet, when set, is what the processes sharing the store coordinate
	// through: locks (one ingest at a time, one writer per model), the slots of
	// scheduled posts, notifications of live moves, and the store's health for
	// /readyz. Nil: this process is alone.
	Fleet Fleet
	// Follower makes Start only load and follow the live versions: first
	// trainings, ingest, fine-tunes and posts run only while Lead runs (the
	// fleet's elected trainer). A serving replica never calls Lead.
	Follower bool
	// LockWait makes a training wait for another process's lock on the model
	// (the CLI) instead of failing with ErrBusy (the scheduler's own jobs).
	LockWait bool
}

// Fleet is what the processes sharing a store coordinate through; a
// store.Store is one.
type Fleet interface {
	Elector(name string, o leader.Options) leader.Elector
	ClaimSlot(ctx context.Context, post string, slot time.Time) (bool, error)
	WatchLive(ctx context.Context, fn func(model string)) error
	Ping(ctx context.Context) error
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
	watched  chan struct{} // closed when the WatchLive loop has returned
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
	leadCtx context.Context  // while Lead runs: the leadership's context
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
	if o.Versions == nil {
		o.Versions = store.NewModelDir(filepath.Join(o.Config.DataDir, "models"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		opts: o, store: o.Store, engine: o.Engine,
		repo:     NewRepo(o.Versions),
		watched:  make(chan struct{}),
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

// Repo is the model versions.
func (s *Scheduler) Repo() *Repo { return s.repo }

// Config returns the config in force.
func (s *Scheduler) Config() config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// Start loads the live version of every enabled model and follows the live
// versions other processes set (polling every 2 s, and at once when the store
// notifies). Unless Options.Follower, it also leads from now on (see Lead):
// it starts training, in the background, the models that have none, and the
// cron jobs. It returns without waiting for any training: models become
// available as they finish.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("scheduler: already started")
	}
	s.started = true
	s.mu.Unlock()
	s.apply(ctx, s.Config())
	s.cron.Start()
	go func() {
		defer close(s.watched)
		if s.opts.Fleet != nil {
			_ = s.opts.Fleet.WatchLive(s.ctx, func(string) { s.SyncLive(s.ctx) })
		}
	}()
	s.rescoreSoon()
	return nil
}

// Lead runs the leader's part — first trainings of models without a version,
// then ingest, fine-tunes and scheduled posts on their schedules — until ctx
// ends (the leadership was lost or given up; a leader.Elector's held context),
// then stops it: jobs in progress are cancelled (a fine-tune abandons its
// candidate, live stays), the cron entries go. It returns once they have
// stopped, with the context's cause. Writes that move a live pointer carry
// ctx's leaderships, which the store checks in their own transaction (a
// fence). Only a Follower needs Lead; Start was called before.
func (s *Scheduler) Lead(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || !s.opts.Follower || s.leadCtx != nil {
		s.mu.Unlock()
		return errors.New("scheduler: Lead needs a started Follower that is not leading yet")
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	s.leadCtx = lctx
	s.mu.Unlock()
	s.log.Info("leading: first trainings, ingest, fine-tunes and scheduled posts run in this process")
	s.apply(lctx, s.Config())
	<-lctx.Done()
	s.mu.Lock()
	s.leadCtx = nil
	s.mu.Unlock()
	s.rebuildCron(s.Config())
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	err := s.Wait(wctx)
	s.log.Info("no longer leading", "cause", context.Cause(ctx))
	if err != nil {
		return fmt.Errorf("scheduler: jobs still running after leading: %w", err)
	}
	return context.Cause(ctx)
}

// leadContext is the context leader's jobs run under, nil when this process
// does not lead.
func (s *Scheduler) leadContext() context.Context {
	if !s.opts.Follower {
		return s.ctx
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leadCtx
}

// Leading reports whether this process runs the leader's part now.
func (s *Scheduler) Leading() bool { return s.leadContext() != nil }

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
			if err := Check(mc, ld.Info, ld.Model); err != nil && !s.Training(mc.Name) && s.Leading() {
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
			case !s.Leading():
				if !errors.Is(err, ErrNoLive) {
					s.log.Warn("the live version cannot serve here; waiting for another", "model", mc.Name, "err", err)
				}
				continue // a follower never writes: the leader trains or sets aside
			case errors.As(err, &ue):
				_ = s.setAside(ctx, mc.Name, ue) // logged; the bootstrap reports what follows
			case !errors.Is(err, ErrNoLive):
				s.log.Warn("no loadable checkpoint; training a new one", "model", mc.Name, "err", err)
			}
			if !s.startPretrained(ctx, mc) {
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

// rebuildCron replaces every cron entry with the schedules of cfg: following
// the live versions always, ingest, fine-tunes and posts only while leading.
func (s *Scheduler) rebuildCron(cfg config.Config) {
	lctx := s.leadContext()
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
	// Other processes (the CLI, the fleet's trainer) move live pointers:
	// follow them (at once too when the store notifies, see Start).
	add("sync-live", fmt.Sprintf("@every %s", syncEvery), func() { s.SyncLive(s.ctx) })
	if lctx == nil {
		return
	}
	if s.opts.Ingester != nil {
		add("ingest", cfg.Schedule.Ingest, func() { _ = s.RunIngest(lctx) })
	}
	add("fine-tune", cfg.Schedule.FineTune, func() {
		for _, name := range s.live.Names() {
			if lctx.Err() != nil {
				return
			}
			_, _ = s.FineTune(lctx, name)
		}
	})
	for _, p := range cfg.Schedule.Posts {
		add("post", p.Cron, func() { _ = s.runScheduledPost(lctx, p) })
	}
}

// syncEvery is how often every process compares its live models with the
// store's live pointers (a PostgreSQL store also notifies at once).
const syncEvery = 2 * time.Second

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
	for _, done := range []<-chan struct{}{cronDone.Done(), s.watchDone()} {
		select {
		case <-done:
		case <-ctx.Done():
			return fmt.Errorf("scheduler: shutdown: %w", ctx.Err())
		}
	}
	if err := s.Wait(ctx); err != nil {
		return fmt.Errorf("scheduler: shutdown: %w", err)
	}
	return nil
}

// watchDone is closed once the follower's watch has returned (at once when the
// scheduler never started).
func (s *Scheduler) watchDone() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		done := make(chan struct{})
		close(done)
		return done
	}
	return s.watched
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
