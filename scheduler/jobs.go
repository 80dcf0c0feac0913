package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler/runs"
)

// Job names, as recorded in runs.
const (
	JobIngest     = "ingest"
	JobFineTune   = "fine-tune"
	JobPost       = "post"
	JobBootstrap  = "bootstrap"
	JobFullTrain  = "train-full" // commentbot train --full: a new vocabulary and lineage
	JobTrain      = "train"      // commentbot train: the lineage continued, or an interrupted run resumed
	JobSetAside   = "set-aside"  // a lineage none of whose checkpoints could serve was moved aside
	JobPretrained = "pretrained" // a shipped checkpoint installed as the first version of a lineage
)

// ElectionIngest is the store's lock every ingest takes (the trainer's and
// `commentbot ingest`), so that two never page one listing at once.
const ElectionIngest = "ingest"

// RunIngest runs one ingest and records it. Without an Ingester it does nothing.
// Concurrent calls are serialised.
func (s *Scheduler) RunIngest(ctx context.Context) error {
	if s.opts.Ingester == nil {
		return nil
	}
	if !s.Leading() {
		return ErrNotLeading
	}
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	s.ingestMu.Lock()
	defer s.ingestMu.Unlock()
	ctx, unlock, err := s.lockFleet(ctx, ElectionIngest)
	if err != nil {
		return fmt.Errorf("scheduler: ingest: %w", err)
	}
	defer unlock()
	r := runs.Run{Job: JobIngest, Started: s.now()}
	n, err := s.opts.Ingester.Ingest(ctx)
	r.Ended = s.now()
	r.Outcome = outcomeOf(err)
	r.Figures = map[string]float64{}
	for k, v := range n.Figures {
		r.Figures[k] = v
	}
	r.Figures["new"], r.Figures["updated"], r.Figures["skipped"] = float64(n.New), float64(n.Updated), float64(n.Skipped)
	s.met.ingested.WithLabelValues("new").Add(float64(n.New))
	s.met.ingested.WithLabelValues("updated").Add(float64(n.Updated))
	s.met.ingested.WithLabelValues("skipped").Add(float64(n.Skipped))
	if err != nil {
		s.met.ingestErrors.Inc()
		r.Detail = err.Error()
	}
	s.record(r)
	if err != nil {
		return fmt.Errorf("scheduler: ingest: %w", err)
	}
	if n.New > 0 {
		// A model whose first training failed (e.g. an empty store) tries
		// again now that there is data.
		for _, st := range s.live.Models() {
			if !st.Ready && !s.Training(st.Config.Name) {
				if _, err := s.repo.Live(ctx, st.Config.Name); errors.Is(err, ErrNoLive) {
					s.startBootstrap(st.Config.Name)
				}
			}
		}
	}
	return nil
}

// Generated is one comment from a live model.
type Generated struct {
	Text    string
	Model   string
	Version int
	Tokens  int
	Seed    uint64
	Elapsed time.Duration
}

// Generate samples one comment from the live version of name, in that
// version's continuous batch (bot.max_batch, bot.max_queued; model.ErrBusy
// when both are full), with the text the same options give alone. It holds no
// lock while sampling: a promotion or rollback during the call swaps the
// pointer for the next caller, this one finishes on the version it started
// with.
// o.MaxTokens 0 means the model config's max_tokens. The temperature is bounded by
// the model's configured max_temperature — the config in force, not the one the
// checkpoint was trained under.
func (s *Scheduler) Generate(ctx context.Context, name string, o SampleOptions) (Generated, error) {
	ld, err := s.live.Get(name)
	if err != nil {
		return Generated{}, err
	}
	if o.MaxTokens <= 0 || o.MaxTokens > ld.Config.MaxTokens {
		o.MaxTokens = ld.Config.MaxTokens
	}
	o.MaxTemperature = ld.Config.MaxTemperature
	bc := s.Config().Bot
	o.MaxBatch, o.MaxQueued = bc.MaxBatch, bc.MaxQueued
	t0 := time.Now()
	smp, err := ld.Model.Sample(ctx, o)
	el := time.Since(t0)
	if err != nil {
		return Generated{}, fmt.Errorf("scheduler: generate %s v%d: %w", name, ld.Version, err)
	}
	s.met.genTokens.WithLabelValues(name).Add(float64(smp.Tokens))
	s.met.genSeconds.WithLabelValues(name).Add(el.Seconds())
	if el > 0 {
		s.met.genTokensPerSec.WithLabelValues(name).Set(float64(smp.Tokens) / el.Seconds())
	}
	return Generated{Text: smp.Text, Model: name, Version: ld.Version, Tokens: smp.Tokens, Seed: o.Seed, Elapsed: el}, nil
}

// postAttempts bounds the samples one scheduled post draws when the poster
// refuses them as copies of training data.
const postAttempts = 5

// RunPost generates a comment for a scheduled post and sends it; a sample the
// poster refuses as unoriginal is drawn again (postAttempts at most). Recorded.
func (s *Scheduler) RunPost(ctx context.Context, p config.Post) error {
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	r := runs.Run{Job: JobPost, Model: p.Model, Started: s.now(), Figures: map[string]float64{"temperature": p.Temperature}}
	err = func() error {
		if s.opts.Poster == nil {
			return ErrNoPoster
		}
		cfg := s.Config()
		level := "word"
		if mc, ok := cfg.Model(p.Model); ok && mc.Kind == config.KindCharLSTM {
			level = "char"
		}
		for attempt := 1; ; attempt++ {
			g, err := s.Generate(ctx, p.Model, SampleOptions{Temperature: p.Temperature, Seed: s.nextSeed()})
			if err != nil {
				return err
			}
			r.Figures["version"] = float64(g.Version)
			r.Figures["tokens"] = float64(g.Tokens)
			r.Figures["attempts"] = float64(attempt)
			r.Detail = "channel " + p.Channel
			err = s.opts.Poster.Post(ctx, p.Channel, level, g.Text)
			if !errors.Is(err, ErrUnoriginal) || attempt == postAttempts {
				return err
			}
		}
	}()
	r.Ended = s.now()
	r.Outcome = outcomeOf(err)
	if err != nil {
		r.Detail = fmt.Sprintf("channel %s: %v", p.Channel, err)
	}
	s.record(r)
	if err != nil {
		return fmt.Errorf("scheduler: post to %s: %w", p.Channel, err)
	}
	return nil
}

// runScheduledPost sends the post of its cron slot unless some process has:
// the slot (the minute it fires for) is claimed in the store before sending,
// so that a trainer taking over after a failover never posts it twice.
func (s *Scheduler) runScheduledPost(ctx context.Context, p config.Post) error {
	if s.opts.Fleet != nil {
		slot := s.now().Truncate(time.Minute)
		key := fmt.Sprintf("%s|%s|%s", p.Channel, p.Model, p.Cron)
		ok, err := s.opts.Fleet.ClaimSlot(ctx, key, slot)
		if err != nil {
			s.log.Error("scheduled post not sent: its slot could not be claimed", "channel", p.Channel, "err", err)
			return fmt.Errorf("scheduler: claim post slot: %w", err)
		}
		if !ok {
			s.log.Info("scheduled post already sent for this slot", "channel", p.Channel, "slot", slot)
			return nil
		}
	}
	return s.RunPost(ctx, p)
}

// FineTuneReport is the outcome of one fine-tune.
type FineTuneReport struct {
	Model                string
	From                 int // live version the candidate started from
	Promoted             bool
	Version              int // new version when promoted
	Decision             Decision
	Fresh, Replay        int // comments trained on
	Train                TrainResult
	LiveFixed, CandFixed float64
	LiveFresh, CandFresh float64
	FreshTokens          int64
	// LiveBPC and CandBPC are bits per character on the fixed held-out set.
	LiveBPC, CandBPC float64
	// Learned is how much of the fresh comments' tokens the run trained on.
	Learned Coverage
	// Plan is the budget the run was given (see planFineTune).
	Plan    FineTunePlan
	Skipped string // non-empty when nothing was trained
}

// FineTune trains a copy of the live version of name on the comments ingested
// since its last fine-tune — every comment the store holds when the lineage has
// seen none of them yet (a pretrained version) — mixed with a replay sample of
// older ones (schedule.replay_ratio older per fresh one), for one pass over
// them within schedule.fine_tune_minutes (see planFineTune), then runs the
// promotion Gate on the fixed held-out set and on held-out fresh comments; a
// passing candidate becomes the next version and goes live, a failing one is
// dropped with its reason recorded. Either way the run records the share of
// the fresh tokens it trained on. The vocabulary stays the live one's (new
// words map to the unknown token). Cancelling ctx abandons the candidate;
// live is untouched.
func (s *Scheduler) FineTune(ctx context.Context, name string) (FineTuneReport, error) {
	rep := FineTuneReport{Model: name}
	if !s.Leading() {
		return rep, ErrNotLeading
	}
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return rep, err
	}
	defer done()
	r := runs.Run{Job: JobFineTune, Model: name, Started: s.now()}
	err = s.fineTune(ctx, name, &rep)
	r.Ended = s.now()
	r.Outcome = outcomeOf(err)
	switch {
	case err != nil:
		r.Detail = err.Error()
	case rep.Skipped != "":
		r.Outcome, r.Detail = runs.OutcomeSkipped, rep.Skipped
	case rep.Promoted:
		r.Outcome, r.Detail = runs.OutcomePromoted, fmt.Sprintf("v%d → v%d: %s; %s", rep.From, rep.Version, rep.Decision.Reason, rep.Train.Summary())
	default:
		r.Outcome, r.Detail = runs.OutcomeRejected, fmt.Sprintf("v%d kept: %s; %s", rep.From, rep.Decision.Reason, rep.Train.Summary())
	}
	if rep.Skipped == "" && err == nil {
		r.Detail += fmt.Sprintf("; learned %.0f%% of %d fresh tokens", 100*rep.Learned.Share(), rep.Learned.Tokens)
	}
	if rep.Skipped == "" {
		r.Figures = rep.figures()
	}
	s.record(r)
	if err != nil {
		return rep, fmt.Errorf("scheduler: fine-tune %s: %w", name, err)
	}
	return rep, nil
}

// figures are the run record's figures of a fine-tune that trained.
func (rep FineTuneReport) figures() map[string]float64 {
	f := map[string]float64{
		"from_version": float64(rep.From), "version": float64(rep.Version),
		"fresh_comments": float64(rep.Fresh), "replay_comments": float64(rep.Replay),
		"tokens_trained": float64(rep.Train.Tokens), "steps": float64(rep.Train.Steps),
		"train_seconds": rep.Train.Elapsed.Seconds(),
		"loss_before":   rep.LiveFixed, "loss_after": rep.CandFixed,
		"bits_per_char_before": rep.LiveBPC, "bits_per_char_after": rep.CandBPC,
		"fresh_loss_before": rep.LiveFresh, "fresh_loss_after": rep.CandFresh,
		"fresh_tokens":       float64(rep.FreshTokens),
		"fresh_train_tokens": float64(rep.Learned.Tokens), "fresh_learned_tokens": float64(rep.Learned.Trained),
		"fresh_learned_share": rep.Learned.Share(),
		"planned_steps":       float64(rep.Plan.Steps), "cap_minutes": rep.Plan.Cap.Minutes(),
		"replay_cut": float64(rep.Plan.ReplayCut),
	}
	rep.Train.addFigures(f)
	return f
}

func (s *Scheduler) fineTune(ctx context.Context, name string, rep *FineTuneReport) error {
	if !s.acquire(name) {
		return ErrBusy
	}
	defer s.release(name)
	ctx, unlock, err := s.lockModel(ctx, name)
	if err != nil {
		return err
	}
	defer unlock()
	ld, err := s.live.Get(name)
	if err != nil {
		return err
	}
	rep.From = ld.Version
	cfg := s.Config()
	mc, _ := cfg.Model(name)
	since := s.lastFineTune(ctx, name, ld)
	now := s.now()
	seed := s.nextSeed()
	d, err := s.fineTuneData(ctx, cfg, ld, since, now, rand.New(rand.NewPCG(seed, 0x5eed)), rep)
	if err != nil || d == nil {
		return err
	}
	cand := ld.Model.Clone()
	spec := d.spec
	spec.Seed, spec.LearningRate = seed, s.opts.FineTuneLearningRate
	spec.Plan, spec.Progress = PlanOf(mc), s.progress(name)
	rep.Train, err = cand.Train(ctx, spec)
	if err != nil && !errors.Is(err, ErrDiverged) {
		return fmt.Errorf("train: %w", err) // cancelled: the candidate is dropped
	}
	if err != nil {
		rep.Train.Diverged = true
	}
	rep.Learned = rep.Train.Tracked
	// The tracker counts the fresh comments the run read; a run stopped early
	// read only some of them: the share is of all of them.
	rep.Learned.Tokens = max(rep.Learned.Tokens, rep.Plan.FreshTokens)
	s.met.freshLearned.WithLabelValues(name).Set(rep.Learned.Share())
	if err := s.gate(ctx, ld, cand, d, cfg.Schedule.PromoteTolerance, rep); err != nil {
		return err
	}
	s.met.trainLoss.WithLabelValues(name).Set(rep.Train.Loss)
	if !rep.Decision.Promote {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	learned := rep.Learned
	info, err := s.repo.Save(ctx, name, cand, VersionInfo{
		Parent: ld.Version, Job: JobFineTune, Created: now, VocabHash: cand.VocabHash(),
		HeldOutLoss: rep.CandFixed, HeldOutTokens: 1, FreshLoss: rep.CandFresh, FreshTokens: rep.FreshTokens,
		HeldOutBPC: rep.CandBPC, HeldOutComments: d.fixedComments,
		TrainLoss: rep.Train.Loss, TokensTrained: ld.Info.TokensTrained + rep.Train.Tokens, Steps: rep.Train.Steps,
		DataUntil: now, Comments: rep.Fresh + rep.Replay, Learned: &learned,
	})
	if err != nil {
		return err
	}
	if err := s.promote(ctx, name, info, cand, ld.Version); err != nil {
		return err
	}
	rep.Promoted, rep.Version = true, info.Version
	return nil
}

// fineTuneSet is what one fine-tune trains and is judged on.
type fineTuneSet struct {
	spec          TrainSpec     // Train (the shuffled mix), Track (the fresh ones) and the budget
	fixed         corpus.Source // the fixed held-out set
	freshValid    corpus.Source // held-out comments ingested since the last fine-tune (nil: none)
	fixedComments int
}

// fineTuneData collects the fresh comments (ingested after since; all of the
// store when since is zero), the replay sample, the held-out sets and the
// budget of a fine-tune of ld. nil, nil: nothing fresh (rep.Skipped says so).
func (s *Scheduler) fineTuneData(ctx context.Context, cfg config.Config, ld *Loaded, since, now time.Time, rng *rand.Rand, rep *FineTuneReport) (*fineTuneSet, error) {
	frac := cfg.Corpus.ValidationFraction
	fresh, err := collect(ctx, s.store.Comments(corpus.Filter{Split: corpus.Train, ValidFraction: frac, IngestedAfter: since}))
	if err != nil {
		return nil, fmt.Errorf("fresh comments: %w", err)
	}
	if len(fresh) == 0 {
		rep.Skipped = fmt.Sprintf("no comments ingested since %s", since.Format(time.RFC3339))
		return nil, nil
	}
	k := int(math.Round(cfg.Schedule.ReplayRatio * float64(len(fresh))))
	replay, err := reservoir(ctx, s.store.Comments(corpus.Filter{Split: corpus.Train, ValidFraction: frac}), k, since, rng)
	if err != nil {
		return nil, fmt.Errorf("replay sample: %w", err)
	}
	plan, err := s.planFor(ctx, ld, fresh, replay, cfg.Schedule.FineTuneMinutes)
	if err != nil {
		return nil, err
	}
	if plan.ReplayCut > 0 { // the reservoir's order is not random: keep a random part
		rng.Shuffle(len(replay), func(i, j int) { replay[i], replay[j] = replay[j], replay[i] })
		replay = replay[:len(replay)-plan.ReplayCut]
	}
	rep.Plan = plan
	rep.Fresh, rep.Replay = len(fresh), len(replay)
	isFresh := make(map[string]bool, len(fresh))
	for _, c := range fresh {
		isFresh[c.ID] = true
	}
	mixed := append(append(make([]corpus.Comment, 0, len(fresh)+len(replay)), fresh...), replay...)
	rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })

	// The fixed held-out set: the first EvalLimit validation comments (stable
	// store order) ingested before the fresh ones, so it never overlaps them and
	// stops changing once the corpus has EvalLimit of them. A lineage that has
	// seen none of the store (since zero) is judged on all of them, and has no
	// separate fresh held-out set (it would be the same comments). The run
	// evaluates on it as the first training does on its held-out set.
	valid := corpus.Filter{Split: corpus.Validation, ValidFraction: frac}
	set := &fineTuneSet{spec: s.budget(cfg.Schedule.FineTuneMinutes)}
	if s.opts.TrainSteps == 0 {
		set.spec = TrainSpec{MaxSteps: plan.Steps, MaxEpochs: 1, MaxDuration: plan.Cap}
	}
	heldBy := since
	if since.IsZero() {
		heldBy = now
	} else {
		valid.IngestedAfter = since
		set.freshValid = s.store.Comments(valid)
		valid.IngestedAfter = time.Time{}
	}
	set.fixed = ingestedBy(s.store.Comments(valid), heldBy, s.opts.EvalLimit)
	set.spec.Train, set.spec.Valid = corpus.SliceSource(mixed), set.fixed
	set.spec.Track = func(c corpus.Comment) bool { return isFresh[c.ID] }
	return set, nil
}

// gate evaluates live and candidate on the held-out sets and decides.
func (s *Scheduler) gate(ctx context.Context, ld *Loaded, cand Model, d *fineTuneSet, tolerance float64, rep *FineTuneReport) error {
	// Live is evaluated on a clone so evaluation never shares scratch space with
	// the generations it is serving.
	liveCopy := ld.Model.Clone()
	lf, err := liveCopy.Evaluate(ctx, d.fixed)
	if err != nil {
		return fmt.Errorf("evaluate live: %w", err)
	}
	cf, err := cand.Evaluate(ctx, d.fixed)
	if err != nil {
		return fmt.Errorf("evaluate candidate: %w", err)
	}
	rep.LiveFixed, rep.CandFixed, rep.LiveBPC, rep.CandBPC = lf.Loss, cf.Loss, lf.BitsPerChar, cf.BitsPerChar
	d.fixedComments = cf.Comments
	if d.freshValid != nil {
		lr, err := liveCopy.Evaluate(ctx, d.freshValid)
		if err != nil {
			return fmt.Errorf("evaluate live on fresh: %w", err)
		}
		cr, err := cand.Evaluate(ctx, d.freshValid)
		if err != nil {
			return fmt.Errorf("evaluate candidate on fresh: %w", err)
		}
		rep.LiveFresh, rep.CandFresh, rep.FreshTokens = lr.Loss, cr.Loss, lr.Tokens
	}
	rep.Decision = Gate(GateInput{
		LiveFixed: rep.LiveFixed, CandFixed: rep.CandFixed,
		LiveFresh: rep.LiveFresh, CandFresh: rep.CandFresh, FreshTokens: rep.FreshTokens,
		Tolerance: tolerance, Diverged: rep.Train.Diverged,
	})
	return nil
}

// ErrDiverged is what a Model's Train may wrap to report NaN/Inf; a fine-tune
// candidate is then rejected (recorded as such), not treated as a crash.
var ErrDiverged = errors.New("scheduler: training diverged")

// promote makes a saved version live in the store, provided the live version
// is still expect (store.AnyLive: whatever it is), then in memory, prunes old
// versions and redraws the loss plot.
func (s *Scheduler) promote(ctx context.Context, name string, info VersionInfo, m Model, expect int) error {
	if err := s.repo.SetLive(ctx, name, info.Version, expect); err != nil {
		return err
	}
	info.Live = true
	s.publish(name, info.Version, info, m)
	if removed, err := s.repo.Prune(ctx, name, s.Config().Schedule.KeepVersions); err != nil {
		s.log.Warn("prune failed", "model", name, "err", err)
	} else if len(removed) > 0 {
		s.log.Info("pruned versions", "model", name, "removed", removed)
	}
	s.writePlot(ctx, name, info.Version, m)
	s.notify()
	return nil
}

func (s *Scheduler) writePlot(ctx context.Context, name string, v int, m Model) {
	png, err := LossPlot(fmt.Sprintf("%s v%d", name, v), m.History())
	if err == nil {
		err = s.repo.WriteFile(ctx, name, "loss.png", png)
	}
	if err != nil {
		s.log.Warn("loss plot not written", "model", name, "err", err)
	}
}

// LossPNG returns the loss-curve PNG of name (drawn after its last training).
func (s *Scheduler) LossPNG(ctx context.Context, name string) ([]byte, error) {
	b, err := s.repo.ReadFile(ctx, name, "loss.png")
	if err == nil {
		return b, nil
	}
	ld, gerr := s.live.Get(name)
	if gerr != nil {
		return nil, fmt.Errorf("scheduler: loss plot of %s: %w", name, err)
	}
	return LossPlot(fmt.Sprintf("%s v%d", name, ld.Version), ld.Model.History())
}

// lastFineTune is where fresh data starts for name: the start of its last
// fine-tune run that got as far as a decision since the live version was made,
// or the data horizon of the live version, whichever is later (zero for a
// pretrained version not yet fine-tuned: every stored comment is fresh).
func (s *Scheduler) lastFineTune(ctx context.Context, name string, ld *Loaded) time.Time {
	since := ld.Info.DataUntil
	rs, err := s.store.Runs(ctx, JobFineTune, 200)
	if err != nil {
		s.log.Warn("cannot read past runs", "err", err)
		return since
	}
	for _, r := range rs {
		if r.Model == name && r.Started.Before(ld.Info.Created) {
			break // runs of an earlier version (or lineage): its DataUntil covers them
		}
		if r.Model == name && (r.Outcome == runs.OutcomePromoted || r.Outcome == runs.OutcomeRejected) {
			if r.Started.After(since) {
				since = r.Started
			}
			break
		}
	}
	return since
}

// budget turns minutes (or Options.TrainSteps) into a TrainSpec bound.
func (s *Scheduler) budget(minutes float64) TrainSpec {
	if s.opts.TrainSteps > 0 {
		return TrainSpec{MaxSteps: s.opts.TrainSteps}
	}
	return TrainSpec{MaxDuration: time.Duration(minutes * float64(time.Minute))}
}

// progress returns a callback that updates the metrics, logs and forwards.
func (s *Scheduler) progress(name string) func(TrainProgress) {
	last := time.Time{}
	return func(p TrainProgress) {
		s.met.trainLoss.WithLabelValues(name).Set(p.Loss)
		s.met.trainTokensSec.WithLabelValues(name).Set(p.TokensPerSec)
		if time.Since(last) >= 10*time.Second {
			last = time.Now()
			s.log.Info("training", "model", name, "step", p.Step, "epoch", p.Epoch, "tokens", p.Tokens, "loss", p.Loss,
				"valid_loss", p.ValidLoss, "valid_stderr", p.ValidStdErr, "gain", p.Gain, "gain_stderr", p.GainStdErr, "lr", p.LR,
				"tokens_per_sec", p.TokensPerSec, "eta", p.ETA.Round(time.Second))
		}
		if s.opts.OnProgress != nil {
			s.opts.OnProgress(name, p)
		}
	}
}

// startBootstrap trains name from scratch in the background (first start, or a
// model enabled without a checkpoint); it is published when done.
func (s *Scheduler) startBootstrap(name string) {
	lctx := s.leadContext()
	if lctx == nil {
		return // a follower waits for the leader's version
	}
	ctx, done, err := s.begin(lctx)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.booting[name] = true
	s.mu.Unlock()
	go func() {
		defer done()
		defer func() {
			s.mu.Lock()
			delete(s.booting, name)
			s.mu.Unlock()
		}()
		if _, err := s.train(ctx, name, TrainRequest{}, JobBootstrap); err != nil && !errors.Is(err, ErrBusy) {
			s.log.Error("first training failed", "model", name, "err", err)
		}
	}()
}

// startFull trains a new lineage of name in the background (its kind or sizes
// changed in the config); it goes live when done, the old one serving until then.
func (s *Scheduler) startFull(name string) {
	lctx := s.leadContext()
	if lctx == nil {
		return
	}
	ctx, done, err := s.begin(lctx)
	if err != nil {
		return
	}
	go func() {
		defer done()
		if _, err := s.train(ctx, name, TrainRequest{Full: true}, JobFullTrain); err != nil && !errors.Is(err, ErrBusy) {
			s.log.Error("training a new lineage for the changed config failed", "model", name, "err", err)
		}
	}()
}

// Versions lists the versions of name on disk, oldest first, with their figures.
func (s *Scheduler) Versions(ctx context.Context, name string) ([]VersionInfo, error) {
	return s.repo.List(ctx, name)
}

// Rollback makes version to of name live again (to = 0: the newest version older
// than the live one). It works while serving: the checkpoint is loaded first,
// then the live file and the in-memory pointer are swapped.
func (s *Scheduler) Rollback(ctx context.Context, name string, to int) (int, error) {
	list, err := s.repo.List(ctx, name)
	if err != nil {
		return 0, err
	}
	live, err := s.repo.Live(ctx, name)
	if err != nil {
		return 0, err
	}
	if to == 0 {
		for _, v := range list {
			if v.Version < live {
				to = v.Version
			}
		}
		if to == 0 {
			return 0, fmt.Errorf("%w: %s has no version older than v%d", ErrNoVersion, name, live)
		}
	}
	var info VersionInfo
	found := false
	for _, v := range list {
		if v.Version == to {
			info, found = v, true
		}
	}
	if !found {
		return 0, fmt.Errorf("%w: %s v%d", ErrNoVersion, name, to)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	cfg := s.Config()
	mc, ok := cfg.Model(name)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownModel, name)
	}
	m, _, err := s.loadVersion(ctx, mc, to)
	if err != nil {
		return 0, err
	}
	if err := s.repo.SetLive(ctx, name, to, live); err != nil {
		return 0, err
	}
	info.Live = true
	s.publish(name, to, info, m)
	s.writePlot(ctx, name, to, m)
	s.record(runs.Run{Job: "rollback", Model: name, Started: s.now(), Ended: s.now(), Outcome: runs.OutcomeOK,
		Detail: fmt.Sprintf("v%d → v%d", live, to), Figures: map[string]float64{"from_version": float64(live), "version": float64(to)}})
	return to, nil
}

// SyncLive reloads every enabled model whose live pointer in the store names
// another version than the one serving — a promotion or rollback made by
// another process (the fleet's trainer, the CLI's `commentbot rollback`) — and
// loads the live version of a model that has none yet. Models being trained
// here are skipped (their promotion publishes itself). A version that does not
// load or does not match the config is refused: the serving one stays, the
// refusal is logged once (not at every pass) and shown by Trouble. The
// scheduler runs it every syncEvery and whenever the store notifies.
func (s *Scheduler) SyncLive(ctx context.Context) {
	for _, st := range s.live.Models() {
		s.syncModel(ctx, st.Config, st.Live)
	}
	s.notify()
}

func (s *Scheduler) syncModel(ctx context.Context, mc config.ModelConfig, serving *Loaded) {
	name := mc.Name
	v, err := s.repo.Live(ctx, name)
	if err != nil {
		return
	}
	t, troubled := s.Trouble(name)
	if serving != nil && serving.Version == v {
		if troubled && t.Refused > 0 {
			s.mu.Lock()
			delete(s.trouble, name) // the pointer names the serving version again
			s.mu.Unlock()
		}
		return
	}
	stamp := s.repo.Stamp(ctx, name, v)
	if troubled && t.Refused == v && t.stamp == stamp {
		return // refused already; the version has not changed since
	}
	if !s.acquire(name) {
		return
	}
	defer s.release(name)
	if cur, err := s.live.Get(name); err == nil && cur.Version == v {
		return
	}
	m, info, err := s.loadVersion(ctx, mc, v)
	if err != nil {
		s.mu.Lock()
		s.trouble[name] = Trouble{Refused: v, Reason: err.Error(), At: s.now(), stamp: stamp}
		s.mu.Unlock()
		s.log.Warn("the live file names a version that cannot serve; the current one serves on",
			"model", name, "version", v, "err", err)
		return
	}
	s.mu.Lock()
	delete(s.trouble, name)
	s.mu.Unlock()
	info.Live = true
	s.publish(name, v, info, m)
}

// collect reads all of src.
func collect(ctx context.Context, src corpus.Source) ([]corpus.Comment, error) {
	var out []corpus.Comment
	err := src(ctx, func(c corpus.Comment) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

// reservoir draws k comments uniformly (Algorithm R) among those of src ingested
// at or before since.
func reservoir(ctx context.Context, src corpus.Source, k int, since time.Time, rng *rand.Rand) ([]corpus.Comment, error) {
	if k <= 0 {
		return nil, nil
	}
	out := make([]corpus.Comment, 0, k)
	n := 0
	err := src(ctx, func(c corpus.Comment) error {
		if c.Ingested.After(since) {
			return nil
		}
		n++
		if len(out) < k {
			out = append(out, c)
		} else if j := rng.IntN(n); j < k {
			out[j] = c
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ingestedBy streams the first limit comments of src ingested at or before t.
func ingestedBy(src corpus.Source, t time.Time, limit int) corpus.Source {
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		n := 0
		stop := errors.New("limit")
		err := src(ctx, func(c corpus.Comment) error {
			if c.Ingested.After(t) {
				return nil
			}
			if n++; n > limit {
				return stop
			}
			return fn(c)
		})
		if errors.Is(err, stop) {
			return nil
		}
		return err
	}
}
