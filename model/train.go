package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"commentbot/tokens"
)

// Batches streams training or held-out batches; *corpus.Batcher satisfies
// it. Next returns io.EOF at the end of each epoch, after which the next
// epoch starts.
type Batches interface {
	Next(ctx context.Context, dst *tokens.Batch) error
	Position() tokens.Position
	Seek(ctx context.Context, p tokens.Position) error
}

// TrainState is where training stands; it is saved in checkpoints so that
// training resumes with the same data position, optimizer, rate, held-out
// bookkeeping and random state.
type TrainState struct {
	Epoch    int             `json:"epoch"`    // completed epochs
	Step     int64           `json:"step"`     // optimizer steps taken
	Tokens   int64           `json:"tokens"`   // training targets seen
	Position tokens.Position `json:"position"` // of the training batches after the last step
	LR       float64         `json:"lr"`       // learning rate of the last step
	// PeakLR is the rate a run starts from, before its schedule and its
	// plateau reductions; LRDecay multiplies it after every epoch.
	PeakLR    float64 `json:"peak_lr"`
	BestValid float64 `json:"best_valid"` // best held-out loss of the run (+Inf: none)
	BadEvals  int     `json:"bad_evals"`  // evaluations since the last significant improvement
	// Plateau is the run's reduce-on-plateau bookkeeping.
	Plateau PlateauState `json:"plateau"`
	RNG     []byte       `json:"rng"` // PCG state of the dropout generator
	// Carry is the hidden state carried into the next batch (h then c per
	// layer, Streams × Hidden each); empty at an epoch start.
	Carry []float32 `json:"-"`
}

// PlateauState is where a run stands on its held-out curve.
type PlateauState struct {
	// Reductions counts the plateaus on which the rate was lowered.
	Reductions int `json:"reductions"`
	// Ref is the held-out loss of the last significant improvement (one that
	// beat the previous Ref by Significance paired standard errors of their
	// difference, see Plateau); +Inf before
	// the first evaluation. RefTokens is State.Tokens at that improvement or
	// at the last reduction, where the patience starts counting.
	Ref       float64 `json:"ref"`
	RefTokens int64   `json:"ref_tokens"`
	// Best is where BestValid was reached, BestStdErr its standard error.
	Best       Mark    `json:"best"`
	BestStdErr float64 `json:"best_stderr"`
}

// Mark is a point of a lineage's training.
type Mark struct {
	Step    int64   `json:"step"`    // optimizer steps
	Tokens  int64   `json:"tokens"`  // training targets seen
	Seconds float64 `json:"seconds"` // training time
}

// Metric is one point of the training history (for plots and reports).
type Metric struct {
	Step      int64   `json:"step"`
	Epoch     int     `json:"epoch"`
	Tokens    int64   `json:"tokens"`
	Loss      float64 `json:"loss"`       // mean training loss since the previous metric (nats/token)
	ValidLoss float64 `json:"valid_loss"` // held-out loss (nats/token), NaN if not evaluated
	StdErr    float64 `json:"stderr"`     // standard error of ValidLoss over comments, NaN if unknown
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"` // training time so far
	// Event marks what happened at this point: "" (an evaluation or the
	// end), EventReduce (the rate was lowered and the best weights
	// restored), or the TrainStop that ended the run.
	Event string `json:"event,omitempty"`
}

// EventReduce is the Metric.Event of a plateau's rate reduction.
const EventReduce = "lr-reduced"

// Checkpoint is a model with everything needed to resume training it.
type Checkpoint struct {
	Model     *LM
	Optimizer *Adam
	State     TrainState
	Metrics   []Metric
}

// NewCheckpoint starts training state for m: fresh Adam moments, the
// configured learning rate and a dropout generator seeded with seed.
func NewCheckpoint(m *LM, seed uint64) *Checkpoint {
	cfg := m.cfg
	pcg := rand.NewPCG(seed, seed^0x5851f42d4c957f2d)
	st, _ := pcg.MarshalBinary() // cannot fail
	c := &Checkpoint{
		Model:     m,
		Optimizer: NewAdam(m.lo.size, cfg.Beta1, cfg.Beta2, cfg.Epsilon),
		State:     TrainState{LR: cfg.LearningRate, PeakLR: cfg.LearningRate, RNG: st},
	}
	c.StartRun(0)
	return c
}

// StartRun begins a new training run — a new budget, such as an operator's
// train or a fine-tune — on c: the best held-out loss and the plateau
// bookkeeping are forgotten and the rate returns to the peak (peakLR when
// > 0, which then becomes the lineage's peak). Train itself continues the
// run c holds, which is how an interrupted run resumes.
func (c *Checkpoint) StartRun(peakLR float64) {
	st := &c.State
	if peakLR > 0 {
		st.PeakLR = peakLR
	}
	st.LR = st.PeakLR
	st.BestValid, st.BadEvals = math.Inf(1), 0
	st.Plateau = PlateauState{Ref: math.Inf(1), RefTokens: st.Tokens, BestStdErr: math.NaN()}
}

// TrainOptions bound and observe one Train call. Zero values mean no limit.
type TrainOptions struct {
	MaxEpochs   int           // stop after this many completed epochs (counting resumed ones)
	MaxSteps    int64         // stop after this many optimizer steps (counting resumed ones)
	MaxDuration time.Duration // stop after this much time in this call
	// EvalEvery is the number of steps between held-out evaluations; 0
	// evaluates at the end of every epoch only.
	EvalEvery int64
	// EvalBatches caps the held-out batches per evaluation (0 = a full pass).
	EvalBatches int
	// Schedule shapes the learning rate over the budget ("" = constant).
	Schedule Schedule
	// Plateau says when a flat held-out curve lowers the rate and stops the
	// run; the zero value takes the defaults.
	Plateau Plateau
	// HeldOut, if set, measures the held-out loss in place of m.Evaluate on
	// valid (which may then be nil): a caller's own held-out measure.
	HeldOut func(ctx context.Context, m *LM) (Eval, error)
	// Progress, if set, receives a report at most every ProgressEvery
	// (default 1s) and at every evaluation and at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// OnEval, if set, is called after every held-out evaluation, e.g. to
	// save the checkpoint. An error stops training.
	OnEval func(ctx context.Context, cp *Checkpoint) error
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// TrainStop says why Train returned.
type TrainStop string

// The reasons Train stops.
const (
	StopBudget    TrainStop = "budget"     // MaxEpochs, MaxSteps or MaxDuration reached
	StopEarly     TrainStop = "early-stop" // the held-out loss stayed flat through every allowed rate reduction
	StopDiverged  TrainStop = "diverged"   // non-finite loss or gradient, or an exploding held-out loss
	StopCancelled TrainStop = "cancelled"  // ctx done
)

// TrainResult summarises a Train call.
type TrainResult struct {
	Stop TrainStop
	// Detail says why in words, e.g. "no significant held-out improvement in
	// 1.2M tokens (10% of the budget) after 3 rate reductions".
	Detail    string
	Steps     int64   // steps taken in this call
	Loss      float64 // mean training loss of this call (nats/token)
	ValidLoss float64 // last held-out loss (NaN if none)
	BestValid float64 // best held-out loss of the run (+Inf if none)
	// BestStdErr is the standard error of BestValid over comments (NaN if
	// unknown) and Best where it was reached, counted from this call's start
	// (Step is the lineage's step).
	BestStdErr float64
	Best       Mark
	// Restored reports that the weights were set back to those of BestValid.
	Restored   bool
	Reductions int // plateau rate reductions of the run
}

// Train trains cp.Model on train with Adam, global-norm clipping, dropout
// and the learning-rate schedule of o, evaluating on valid (which may be nil)
// every o.EvalEvery steps, until a budget in o is reached, ctx is done, the
// held-out loss has flattened (see Plateau) or the loss diverges. It updates
// cp in place — weights, optimizer, state, metrics — and cp is consistent
// (resumable) whenever Train returns or calls o.OnEval.
//
// Batches must have the config's Streams × Steps shape. The carried hidden
// state restarts at zero at every epoch; it is kept in cp.State for resume.
// Whenever a run with held-out evaluations ends other than by cancellation,
// the budget's end included (after one last evaluation), the weights of the
// best evaluation are restored. On divergence without an evaluation to go
// back to, the last weights with a finite loss are kept and the error wraps
// ErrDiverged. When ctx is done the error wraps ctx.Err() and cp holds the
// last completed step.
func Train(ctx context.Context, cp *Checkpoint, train, valid Batches, o TrainOptions) (TrainResult, error) {
	t, err := newTrainer(ctx, cp, train, valid, o)
	if err == nil {
		defer cp.Model.start.Store(nil) // new weights, new start state
	}
	if err != nil {
		return TrainResult{Stop: StopBudget, ValidLoss: math.NaN(), BestValid: cp.State.BestValid, BestStdErr: math.NaN()}, err
	}
	return t.run(ctx)
}

type trainer struct {
	cp           *Checkpoint
	m            *LM
	cfg          Config
	o            TrainOptions
	plateau      Plateau // o.Plateau with the defaults filled in
	train, valid Batches
	validStart   tokens.Position
	w            *work[float32]
	grad         params[float32]
	good         []float32 // weights before the last update
	best         []float32 // weights at the best held-out loss (nil: none this call)
	pcg          *rand.PCG
	rng          *rand.Rand
	batch        tokens.Batch
	start        time.Time
	lastReport   time.Time
	step0        int64   // State.Step when this call began
	epoch0       int     // State.Epoch when this call began
	tokens0      int64   // State.Tokens when this call began
	scale0       float64 // schedule factor at this call's start (1 for a new run)
	stepsEpoch   int64   // steps in the last complete epoch (ETA for MaxEpochs)
	epochSteps   int64
	sumLoss      float64 // since last metric
	sumCount     int64
	callLoss     float64
	callCount    int64
	steps        int64
	lastValid    float64
	lastStdErr   float64
	gain         float64 // last evaluation against the plateau reference (Progress.Gain)
	gainStdErr   float64
	evalStep     int64  // State.Step of the last evaluation (-1: none in this call)
	event        string // Metric.Event of the next metric
	detail       string // TrainResult.Detail
	restored     bool
	ema          float64 // moving average of the per-step training loss
	emaAtBest    float64 // ema at the best evaluation
	bestEval     Eval    // the best evaluation of this call
	ref          Eval    // the evaluation at Plateau.Ref (zero after a resume: not kept in checkpoints)
	baseSeconds  float64 // training time of earlier calls (from the metrics)
	rateTokens   int64
	rateStart    time.Time
}

func newTrainer(ctx context.Context, cp *Checkpoint, train, valid Batches, o TrainOptions) (*trainer, error) {
	if cp == nil || cp.Model == nil || cp.Optimizer == nil || train == nil {
		return nil, fmt.Errorf("%w: nil checkpoint, model, optimizer or training batches", ErrConfig)
	}
	m := cp.Model
	if len(cp.Optimizer.M) != m.lo.size || len(cp.Optimizer.V) != m.lo.size {
		return nil, fmt.Errorf("%w: optimizer state for %d parameters, model has %d", ErrConfig, len(cp.Optimizer.M), m.lo.size)
	}
	if err := o.Schedule.validate(); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	pcg := rand.NewPCG(0, 0)
	if err := pcg.UnmarshalBinary(cp.State.RNG); len(cp.State.RNG) > 0 && err != nil {
		return nil, fmt.Errorf("%w: training random state: %w", ErrCorrupt, err)
	}
	if cp.State.Step > 0 || cp.State.Position != (tokens.Position{}) {
		if err := train.Seek(ctx, cp.State.Position); err != nil {
			return nil, fmt.Errorf("model: resume training data at %+v: %w", cp.State.Position, err)
		}
	}
	st := &cp.State
	if !(st.PeakLR > 0) {
		st.PeakLR = st.LR
	}
	t := &trainer{
		cp: cp, m: m, cfg: m.cfg, o: o, plateau: o.Plateau.withDefaults(m.cfg), train: train, valid: valid,
		w:         newWork[float32](m.lo, m.cfg.Streams, m.cfg.Steps, m.cfg.Dropout > 0),
		grad:      view(m.lo, make([]float32, m.lo.size)),
		good:      make([]float32, m.lo.size),
		pcg:       pcg,
		rng:       rand.New(pcg),
		lastValid: math.NaN(), lastStdErr: math.NaN(), gain: math.NaN(), gainStdErr: math.NaN(), evalStep: -1,
		step0: st.Step, epoch0: st.Epoch, tokens0: st.Tokens,
	}
	t.scale0 = t.startScale()
	if valid != nil {
		t.validStart = valid.Position()
	}
	copy(t.good, m.w)
	if len(cp.State.Carry) > 0 && !t.w.importState(cp.State.Carry) {
		return nil, fmt.Errorf("%w: carried state of %d values, model needs %d", ErrCorrupt, len(cp.State.Carry), t.w.stateSize())
	}
	return t, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (t *trainer) run(ctx context.Context) (TrainResult, error) {
	t.start = t.o.Now()
	t.rateStart = t.start
	if n := len(t.cp.Metrics); n > 0 {
		t.baseSeconds = t.cp.Metrics[n-1].Seconds
	}
	st := &t.cp.State
	defer t.w.close()
	stop, err := t.loop(ctx)
	switch {
	case stop == StopBudget && err == nil:
		stop, err = t.finish(ctx)
	case stop == StopDiverged && t.best != nil:
		// A non-finite training loss: the best evaluated weights are a result.
		t.restoreBest()
		t.detail = fmt.Sprintf("%v; restored the weights of the best held-out loss", err)
		err = nil
	}
	if stop != StopCancelled && t.event == "" {
		t.event = string(stop)
	}
	t.saveState()
	t.metric()
	res := TrainResult{Stop: stop, Detail: t.detail, Steps: t.steps, ValidLoss: t.lastValid, BestValid: st.BestValid,
		BestStdErr: st.Plateau.BestStdErr, Restored: t.restored, Reductions: st.Plateau.Reductions}
	if t.best != nil {
		b := st.Plateau.Best
		res.Best = Mark{Step: b.Step, Tokens: b.Tokens - t.tokens0, Seconds: b.Seconds - t.baseSeconds}
	}
	if t.callCount > 0 {
		res.Loss = t.callLoss / float64(t.callCount)
	}
	t.report("done", true)
	return res, err
}

// finish ends a run whose budget is spent: one last held-out evaluation
// unless the last step was just evaluated, then the best weights.
func (t *trainer) finish(ctx context.Context) (TrainStop, error) {
	if t.evalStep != t.cp.State.Step && t.steps > 0 {
		if stop, err := t.evaluate(ctx, true); stop != "" || err != nil {
			return stop, err
		}
	}
	if t.best != nil && t.cp.State.BestValid < t.lastValid {
		t.restoreBest()
	}
	return StopBudget, nil
}

func (t *trainer) budgetDone() bool {
	st := &t.cp.State
	o := t.o
	return (o.MaxEpochs > 0 && st.Epoch >= o.MaxEpochs) ||
		(o.MaxSteps > 0 && st.Step >= o.MaxSteps) ||
		(o.MaxDuration > 0 && t.o.Now().Sub(t.start) >= o.MaxDuration)
}

func (t *trainer) loop(ctx context.Context) (TrainStop, error) {
	st := &t.cp.State
	for {
		if err := ctx.Err(); err != nil {
			return StopCancelled, fmt.Errorf("model: train: %w", err)
		}
		if t.budgetDone() {
			return StopBudget, nil
		}
		err := t.train.Next(ctx, &t.batch)
		if errors.Is(err, io.EOF) {
			st.Epoch++
			st.Position = t.train.Position()
			st.PeakLR *= t.cfg.LRDecay
			st.LR = t.rate()
			t.w.resetState()
			st.Carry = st.Carry[:0]
			t.stepsEpoch, t.epochSteps = t.epochSteps, 0
			if t.o.EvalEvery == 0 {
				if stop, err := t.evaluate(ctx, false); stop != "" || err != nil {
					return stop, err
				}
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return StopCancelled, fmt.Errorf("model: train: %w", err)
			}
			return StopBudget, fmt.Errorf("model: train: next batch: %w", err)
		}
		loss, count, err := t.step(&t.batch)
		if errors.Is(err, ErrDiverged) {
			return StopDiverged, err
		}
		if err != nil {
			return StopBudget, err
		}
		st.Tokens += int64(count)
		st.Position = t.train.Position()
		t.steps++
		t.epochSteps++
		t.sumLoss += loss
		t.sumCount += int64(count)
		t.callLoss += loss
		t.callCount += int64(count)
		t.rateTokens += int64(count)
		if bl := loss / float64(max(count, 1)); t.steps == 1 {
			t.ema = bl
		} else {
			t.ema = 0.95*t.ema + 0.05*bl
		}
		if t.o.EvalEvery > 0 && st.Step%t.o.EvalEvery == 0 {
			if stop, err := t.evaluate(ctx, false); stop != "" || err != nil {
				return stop, err
			}
		}
		t.report("step", false)
	}
}

// saveState records the random and carried state in the checkpoint.
func (t *trainer) saveState() {
	st := &t.cp.State
	st.RNG, _ = t.pcg.MarshalBinary()
	st.Carry = t.w.exportState(st.Carry[:0])
}

// step trains on one batch: forward, backward, clipping, the divergence
// check and the Adam update at the scheduled rate, then carries the hidden
// state.
func (t *trainer) step(b *tokens.Batch) (loss float64, count int, err error) {
	m, st := t.m, &t.cp.State
	if err := t.load(b); err != nil {
		return 0, 0, err
	}
	loss, count = t.w.forward(m.be, m.p, true, t.cfg.Dropout, t.rng)
	if !finite(loss) {
		copy(m.w, t.good) // the weights of the previous step gave a finite loss
		return 0, 0, fmt.Errorf("%w: loss %v at step %d", ErrDiverged, loss, st.Step)
	}
	t.w.backward(m.be, m.p, t.grad)
	norm := clipGlobalNorm(t.grad.all, t.cfg.Clip)
	if !finite(norm) {
		return 0, 0, fmt.Errorf("%w: gradient norm %v at step %d", ErrDiverged, norm, st.Step)
	}
	copy(t.good, m.w)
	st.LR = t.rate()
	t.cp.Optimizer.Update(m.w, t.grad.all, st.LR)
	t.w.carry()
	st.Step++
	return loss, count, nil
}

func (t *trainer) load(b *tokens.Batch) error {
	if b.Streams != t.w.B || b.Steps != t.w.T || len(b.Inputs) != b.Streams*b.Steps || len(b.Targets) != len(b.Inputs) {
		return fmt.Errorf("%w: %d×%d batch with %d inputs and %d targets, model trains on %d streams × %d steps",
			ErrBatch, b.Streams, b.Steps, len(b.Inputs), len(b.Targets), t.w.B, t.w.T)
	}
	if !t.w.load(b.Inputs, b.Targets) {
		return fmt.Errorf("%w: token id outside the vocabulary of %d", ErrBatch, t.m.lo.vocab)
	}
	return nil
}

// evaluate measures the held-out loss, applies it to the run (observe:
// best weights, reduce-on-plateau, early stopping, divergence), records a
// metric and calls OnEval. final marks the evaluation at the budget's end,
// which no longer lowers the rate.
func (t *trainer) evaluate(ctx context.Context, final bool) (TrainStop, error) {
	ev, ok, err := t.heldOut(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return StopCancelled, fmt.Errorf("model: train: %w", err)
		}
		return StopBudget, err
	}
	var stop TrainStop
	if ok {
		t.evalStep = t.cp.State.Step
		t.lastValid, t.lastStdErr = ev.Loss, ev.StdErr
		stop = t.observe(ev, final)
		if stop != "" {
			t.event = string(stop)
		}
	}
	t.metric()
	t.report("eval", true)
	if t.o.OnEval != nil {
		t.saveState()
		if err := t.o.OnEval(ctx, t.cp); err != nil {
			return StopBudget, fmt.Errorf("model: train: on eval: %w", err)
		}
	}
	if stop == StopDiverged && t.best == nil {
		return stop, fmt.Errorf("%w: held-out loss %v at step %d", ErrDiverged, ev.Loss, t.cp.State.Step)
	}
	return stop, nil
}

// heldOut measures the held-out loss: o.HeldOut, or the model on valid from
// its start position. ok is false when there is nothing to measure.
func (t *trainer) heldOut(ctx context.Context) (ev Eval, ok bool, err error) {
	if t.o.HeldOut != nil {
		ev, err = t.o.HeldOut(ctx, t.m)
		if err != nil {
			return ev, false, fmt.Errorf("model: train: held-out: %w", err)
		}
		return ev, ev.Tokens > 0, nil
	}
	if t.valid == nil {
		return ev, false, nil
	}
	if err := t.valid.Seek(ctx, t.validStart); err != nil {
		return ev, false, fmt.Errorf("model: train: rewind held-out data: %w", err)
	}
	t.m.start.Store(nil) // the start state of these weights, not of the last evaluation's
	defer t.m.start.Store(nil)
	ev, err = t.m.Evaluate(ctx, t.valid, t.o.EvalBatches)
	return ev, err == nil && ev.Tokens > 0, err
}

// metric appends a point to the history, or marks the last one when
// nothing was trained since.
func (t *trainer) metric() {
	st := &t.cp.State
	if n := len(t.cp.Metrics); n > 0 && t.cp.Metrics[n-1].Step == st.Step {
		if last := &t.cp.Metrics[n-1]; last.Event == "" {
			last.Event = t.event
		}
		t.event = ""
		return
	}
	mt := Metric{Step: st.Step, Epoch: st.Epoch, Tokens: st.Tokens, Loss: math.NaN(), ValidLoss: t.lastValid,
		StdErr: t.lastStdErr, LR: st.LR, Seconds: t.seconds(), Event: t.event}
	if t.evalStep != st.Step {
		mt.ValidLoss, mt.StdErr = math.NaN(), math.NaN()
	}
	t.event = ""
	if t.sumCount > 0 {
		mt.Loss = t.sumLoss / float64(t.sumCount)
	}
	t.sumLoss, t.sumCount = 0, 0
	t.cp.Metrics = append(t.cp.Metrics, mt)
}

// seconds is the lineage's training time so far.
func (t *trainer) seconds() float64 { return t.baseSeconds + t.o.Now().Sub(t.start).Seconds() }

// Clone returns a deep copy of c — model weights, optimizer moments, state
// and metrics — so that a copy can be trained while c keeps serving.
func (c *Checkpoint) Clone() *Checkpoint {
	d := &Checkpoint{State: c.State, Metrics: append([]Metric(nil), c.Metrics...)}
	if c.Model != nil {
		d.Model = c.Model.Clone()
	}
	if a := c.Optimizer; a != nil {
		d.Optimizer = &Adam{Beta1: a.Beta1, Beta2: a.Beta2, Epsilon: a.Epsilon, Step: a.Step,
			M: append([]float32(nil), a.M...), V: append([]float32(nil), a.V...)}
	}
	d.State.RNG = append([]byte(nil), c.State.RNG...)
	d.State.Carry = append([]float32(nil), c.State.Carry...)
	return d
}
