package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/internal/leader"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// TrainRequest is a training run outside the fine-tune gate: the first training of a
// model (bootstrap) and an operator's `commentbot train`.
type TrainRequest struct {
	// Data, when set, replaces the store: its comments are split into training and
	// held-out parts by the hash of their ids, as the store's are.
	Data corpus.Source
	// Full starts a new vocabulary and lineage. Otherwise an interrupted run of the
	// model is resumed where it stopped, else the live version is trained further,
	// else (no version yet) a lineage starts.
	Full bool
	// Duration, Epochs and Steps bound the run; all zero means the model's
	// first_train_minutes (Options.TrainSteps, when set, wins over minutes).
	Duration time.Duration
	Epochs   int
	Steps    int
}

// TrainReport says what a Train did.
type TrainReport struct {
	Info    VersionInfo // the new live version
	Result  TrainResult
	From    int  // version continued (0: a new lineage)
	Resumed bool // an interrupted run was resumed
}

// ErrInterrupted wraps the context's error when a training run was stopped early and
// saved so that the same request resumes it.
var ErrInterrupted = errors.New("scheduler: training interrupted; run it again to resume")

// Train runs req for name, saves the result as the next version and makes it live
// (no gate: it is an operator's decision, and a new vocabulary makes losses of two
// lineages incomparable). When ctx ends mid-run the model, its optimizer state and its
// data position are saved beside the versions (interrupted.ckpt), and the error wraps
// ErrInterrupted and ctx.Err(); the next non-Full Train of name resumes from there.
// It blocks until done; the bot keeps serving the live version meanwhile.
func (s *Scheduler) Train(ctx context.Context, name string, req TrainRequest) (TrainReport, error) {
	ctx, done, err := s.begin(ctx)
	if err != nil {
		return TrainReport{}, err
	}
	defer done()
	job := JobTrain
	if req.Full {
		job = JobFullTrain
	}
	return s.train(ctx, name, req, job)
}

// interrupted is the metadata saved with an interrupted run.
type interrupted struct {
	Parent int       `json:"parent"` // version the run continued (0: a new lineage)
	Job    string    `json:"job"`
	Since  time.Time `json:"since"` // when the run began
}

const (
	interruptedCkpt = "interrupted.ckpt"
	interruptedMeta = "interrupted.json"
)

func (s *Scheduler) train(ctx context.Context, name string, req TrainRequest, job string) (TrainReport, error) {
	r := runs.Run{Job: job, Model: name, Started: s.now()}
	rep, err := s.trainRun(ctx, name, req, job)
	r.Ended = s.now()
	r.Outcome = outcomeOf(err)
	r.Figures = map[string]float64{"version": float64(rep.Info.Version), "from_version": float64(rep.From),
		"tokens_trained": float64(rep.Result.Tokens), "steps": float64(rep.Result.Steps),
		"loss_after": rep.Info.HeldOutLoss, "train_loss": rep.Result.Loss, "train_seconds": rep.Result.Elapsed.Seconds(),
		"bits_per_char_after": rep.Info.HeldOutBPC}
	rep.Result.addFigures(r.Figures)
	if err != nil {
		r.Detail = err.Error()
	} else {
		r.Detail = fmt.Sprintf("v%d live, %s", rep.Info.Version, rep.Result.Summary())
		if rep.Resumed {
			r.Detail += " (resumed an interrupted run)"
		}
	}
	s.record(r)
	if err != nil {
		return rep, fmt.Errorf("scheduler: %s %s: %w", job, name, err)
	}
	return rep, nil
}

func (s *Scheduler) trainRun(ctx context.Context, name string, req TrainRequest, job string) (TrainReport, error) {
	var rep TrainReport
	if !s.acquire(name) {
		return rep, ErrBusy
	}
	defer s.release(name)
	ctx, unlock, err := s.lockModel(ctx, name)
	if err != nil {
		return rep, err
	}
	defer unlock()
	cfg := s.Config()
	mc, ok := cfg.Model(name)
	if !ok {
		return rep, fmt.Errorf("%w: %q", ErrUnknownModel, name)
	}
	train, valid := s.splits(req.Data)
	seed := s.nextSeed()
	meta := interrupted{Job: job, Since: s.now()}

	m, resume, err := s.startingPoint(ctx, mc, req.Full, job == JobTrain, &meta)
	if err != nil {
		return rep, err
	}
	if m == nil {
		s.log.Info("training from scratch", "model", name, "job", job, "kind", mc.Kind)
		if m, err = s.engine.New(ctx, mc, train, seed); err != nil {
			return rep, fmt.Errorf("new model: %w", err)
		}
	}
	rep.From, rep.Resumed = meta.Parent, resume

	spec := TrainSpec{MaxDuration: req.Duration, MaxEpochs: req.Epochs, MaxSteps: req.Steps}
	if req.Duration == 0 && req.Epochs == 0 && req.Steps == 0 {
		spec = s.budget(mc.FirstTrainMinutes)
	}
	spec.Train, spec.Valid, spec.Seed, spec.Resume, spec.Progress = train, valid, seed, resume, s.progress(name)
	spec.Plan = PlanOf(mc)
	res, err := m.Train(ctx, spec)
	rep.Result = res
	if ctx.Err() != nil {
		if res.Steps > 0 || resume {
			if serr := s.saveInterrupted(context.WithoutCancel(ctx), name, m, meta); serr != nil {
				return rep, errors.Join(ctx.Err(), serr)
			}
			return rep, fmt.Errorf("%w (%w)", ErrInterrupted, ctx.Err())
		}
		return rep, ctx.Err()
	}
	if err != nil {
		return rep, fmt.Errorf("train: %w", err)
	}
	ev, err := m.Evaluate(ctx, valid)
	if err != nil {
		return rep, fmt.Errorf("evaluate: %w", err)
	}
	if res.Diverged || !finite(ev.Loss) {
		return rep, fmt.Errorf("%w: held-out loss %v", ErrDiverged, ev.Loss)
	}
	var prevTokens int64
	if meta.Parent > 0 {
		if pi, err := s.repo.Info(ctx, name, meta.Parent); err == nil {
			prevTokens = pi.TokensTrained
		}
	}
	now := s.now()
	info, err := s.repo.Save(ctx, name, m, VersionInfo{
		Parent: meta.Parent, Job: meta.Job, Created: now, VocabHash: m.VocabHash(), HeldOutLoss: ev.Loss, HeldOutTokens: ev.Tokens,
		HeldOutBPC: ev.BitsPerChar, HeldOutComments: ev.Comments,
		TrainLoss: res.Loss, TokensTrained: prevTokens + res.Tokens, Steps: res.Steps, DataUntil: now,
	})
	if err != nil {
		return rep, err
	}
	rep.Info = info
	s.removeInterrupted(ctx, name)
	if err := s.promote(ctx, name, info, m, store.AnyLive); err != nil {
		return rep, err
	}
	rep.Info.Live = true
	return rep, nil
}

// startingPoint is the model a training of mc continues: its interrupted run
// (resume true), else its live version (or the newest usable one), else — for
// an operator's train (pretrained true) — the shipped checkpoint of mc's kind
// and shape, installed as version 1, else nil for a new lineage — also when
// full, and when no version can serve, after setting the damaged lineage
// aside. meta.Parent and meta.Job follow what was chosen.
func (s *Scheduler) startingPoint(ctx context.Context, mc config.ModelConfig, full, pretrained bool, meta *interrupted) (Model, bool, error) {
	if full {
		return nil, false, nil
	}
	im, imeta, err := s.loadInterrupted(ctx, mc)
	if err == nil {
		*meta = imeta
		s.log.Info("resuming an interrupted training run", "model", mc.Name, "job", imeta.Job)
		return im, true, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("interrupted training run cannot be resumed; starting over", "model", mc.Name, "err", err)
	}
	m, info, err := s.loadBest(ctx, mc)
	var ue *UnloadableError
	switch {
	case err == nil:
		meta.Parent = info.Version
		return m, false, nil
	case errors.As(err, &ue):
		// Every version is damaged or foreign: keep them aside, start anew.
		return nil, false, s.setAside(ctx, mc.Name, ue)
	case errors.Is(err, ErrNoLive):
		return s.pretrainedStart(ctx, mc, pretrained, meta)
	default:
		return nil, false, err
	}
}

// pretrainedStart installs the shipped checkpoint of mc's kind and shape as
// the first version of its lineage and returns it to be trained further; nil
// (a lineage from scratch) when use is false or none fits.
func (s *Scheduler) pretrainedStart(ctx context.Context, mc config.ModelConfig, use bool, meta *interrupted) (Model, bool, error) {
	if !use {
		return nil, false, nil
	}
	p, why := s.pretrainedFor(mc)
	if p == nil {
		s.log.Info("no pretrained checkpoint for this model; training it from scratch", "model", mc.Name, "why", why)
		return nil, false, nil
	}
	m, info, err := s.installPretrained(ctx, mc, p)
	if err != nil {
		return nil, false, err
	}
	s.log.Info("installed the pretrained model as the start of the lineage", "model", mc.Name, "version", info.Version, "origin", p.Summary)
	meta.Parent = info.Version
	return m, false, nil
}

// splits returns the training and held-out parts of data (the store when nil).
func (s *Scheduler) splits(data corpus.Source) (train, valid corpus.Source) {
	cfg := s.Config()
	frac := cfg.Corpus.ValidationFraction
	if data == nil {
		return s.store.Comments(corpus.Filter{Split: corpus.Train, ValidFraction: frac}),
			s.store.Comments(corpus.Filter{Split: corpus.Validation, ValidFraction: frac, Limit: s.opts.EvalLimit})
	}
	part := func(want corpus.Split) corpus.Source {
		return func(ctx context.Context, fn func(corpus.Comment) error) error {
			return data(ctx, func(c corpus.Comment) error {
				if corpus.SplitOf(c.ID, frac) != want {
					return nil
				}
				return fn(c)
			})
		}
	}
	return part(corpus.Train), part(corpus.Validation)
}

func (s *Scheduler) saveInterrupted(ctx context.Context, name string, m Model, meta interrupted) error {
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		return err
	}
	js, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := s.repo.WriteFile(ctx, name, interruptedCkpt, buf.Bytes()); err != nil {
		return err
	}
	return s.repo.WriteFile(ctx, name, interruptedMeta, js)
}

// loadInterrupted loads the interrupted run of mc, checked against mc.
func (s *Scheduler) loadInterrupted(ctx context.Context, mc config.ModelConfig) (Model, interrupted, error) {
	var meta interrupted
	js, err := s.repo.ReadFile(ctx, mc.Name, interruptedMeta)
	if err != nil {
		return nil, meta, err
	}
	if err := json.Unmarshal(js, &meta); err != nil {
		return nil, meta, fmt.Errorf("%s: %w", interruptedMeta, err)
	}
	ckpt, err := s.repo.ReadFile(ctx, mc.Name, interruptedCkpt)
	if err != nil {
		return nil, meta, err
	}
	m, err := s.engine.Decode(bytes.NewReader(ckpt))
	if err != nil {
		return nil, meta, fmt.Errorf("%s: %w", interruptedCkpt, err)
	}
	if err := Check(mc, VersionInfo{}, m); err != nil {
		return nil, meta, err
	}
	return m, meta, nil
}

func (s *Scheduler) removeInterrupted(ctx context.Context, name string) {
	for _, f := range []string{interruptedCkpt, interruptedMeta} {
		if err := s.repo.RemoveFile(ctx, name, f); err != nil {
			s.log.Warn("cannot remove the interrupted run's file", "model", name, "file", f, "err", err)
		}
	}
}

// lockModel takes the store's lock on writing versions of name, so that no
// other process (a second `commentbot train`, the fleet's trainer) trains it
// meanwhile: two trainings never continue from the same version, and neither
// removes the other's interrupted run. It fails with ErrBusy when another
// holds it, or waits for it with Options.LockWait. The returned context ends
// when the lock is lost; writes made under it are fenced by it.
func (s *Scheduler) lockModel(ctx context.Context, name string) (context.Context, func(), error) {
	return s.lockFleet(ctx, "model-"+name)
}

// lockFleet takes the store's lock called election (see lockModel).
func (s *Scheduler) lockFleet(ctx context.Context, election string) (context.Context, func(), error) {
	if s.opts.Fleet == nil {
		return ctx, func() {}, nil
	}
	el := s.opts.Fleet.Elector(election, leader.Options{Log: s.log})
	acquire := el.TryAcquire
	if s.opts.LockWait {
		acquire = el.Acquire
	}
	held, release, err := acquire(ctx)
	if errors.Is(err, leader.ErrHeld) {
		return nil, nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", election, err)
	}
	return held, release, nil
}
