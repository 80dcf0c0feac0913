package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// Batches streams training or held-out batches; *corpus.Batcher satisfies
// it. Next returns io.EOF at the end of each epoch, after which the next
// epoch starts.
type Batches interface {
	Next(ctx context.Context, dst *Batch) error
	Position() Position
	Seek(ctx context.Context, p Position) error
}

// TrainState is where training stands; it is saved in checkpoints so that
// training resumes with the same data position, optimizer and random state.
type TrainState struct {
	Epoch     int      `json:"epoch"`      // completed epochs
	Step      int64    `json:"step"`       // optimizer steps taken
	Tokens    int64    `json:"tokens"`     // training targets seen
	Position  Position `json:"position"`   // of the training batches after the last step
	LR        float64  `json:"lr"`         // current learning rate
	BestValid float64  `json:"best_valid"` // best held-out loss so far (+Inf: none)
	BadEvals  int      `json:"bad_evals"`  // evaluations since the best one
	RNG       []byte   `json:"rng"`        // PCG state of the dropout generator
	// Carry is the hidden state carried into the next batch (h then c per
	// layer, Streams × Hidden each); empty at an epoch start.
	Carry []float32 `json:"-"`
}

// Metric is one point of the training history (for plots and reports).
type Metric struct {
	Step      int64   `json:"step"`
	Epoch     int     `json:"epoch"`
	Tokens    int64   `json:"tokens"`
	Loss      float64 `json:"loss"`       // mean training loss since the previous metric (nats/token)
	ValidLoss float64 `json:"valid_loss"` // held-out loss (nats/token), NaN if not evaluated
	LR        float64 `json:"lr"`
	Seconds   float64 `json:"seconds"` // training time so far
}

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
	return &Checkpoint{
		Model:     m,
		Optimizer: NewAdam(m.lo.size, cfg.Beta1, cfg.Beta2, cfg.Epsilon),
		State:     TrainState{LR: cfg.LearningRate, BestValid: math.Inf(1), RNG: st},
	}
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
	StopEarly     TrainStop = "early-stop" // held-out loss did not improve for Patience evaluations
	StopDiverged  TrainStop = "diverged"   // non-finite loss or gradient
	StopCancelled TrainStop = "cancelled"  // ctx done
)

// TrainResult summarises a Train call.
type TrainResult struct {
	Stop      TrainStop
	Steps     int64   // steps taken in this call
	Loss      float64 // mean training loss of this call (nats/token)
	ValidLoss float64 // last held-out loss (NaN if none)
	BestValid float64 // best held-out loss (+Inf if none)
}

// Train trains cp.Model on train with Adam, global-norm clipping, dropout
// and learning-rate decay, evaluating on valid (which may be nil) for early
// stopping, until a budget in o is reached, ctx is done, the held-out loss
// stops improving or the loss diverges. It updates cp in place — weights,
// optimizer, state, metrics — and cp is consistent (resumable) whenever
// Train returns or calls o.OnEval.
//
// Batches must have the config's Streams × Steps shape. The carried hidden
// state restarts at zero at every epoch; it is kept in cp.State for resume. On early stopping the
// weights of the best evaluation are restored. On divergence the last
// weights with a finite loss are kept and the error wraps ErrDiverged. When
// ctx is done the error wraps ctx.Err() and cp holds the last completed step.
func Train(ctx context.Context, cp *Checkpoint, train, valid Batches, o TrainOptions) (TrainResult, error) {
	t, err := newTrainer(ctx, cp, train, valid, o)
	if err == nil {
		defer cp.Model.start.Store(nil) // new weights, new start state
	}
	if err != nil {
		return TrainResult{Stop: StopBudget, ValidLoss: math.NaN(), BestValid: cp.State.BestValid}, err
	}
	return t.run(ctx)
}

type trainer struct {
	cp           *Checkpoint
	m            *LM
	cfg          Config
	o            TrainOptions
	train, valid Batches
	validStart   Position
	w            *work[float32]
	grad         params[float32]
	good         []float32 // weights before the last update
	best         []float32 // weights at the best held-out loss (nil: none this call)
	pcg          *rand.PCG
	rng          *rand.Rand
	batch        Batch
	start        time.Time
	lastReport   time.Time
	stepsEpoch   int64 // steps in the last complete epoch (ETA for MaxEpochs)
	epochSteps   int64
	sumLoss      float64 // since last metric
	sumCount     int64
	callLoss     float64
	callCount    int64
	steps        int64
	lastValid    float64
	ema          float64 // moving average of the per-step training loss
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
	if cp.State.Step > 0 || cp.State.Position != (Position{}) {
		if err := train.Seek(ctx, cp.State.Position); err != nil {
			return nil, fmt.Errorf("model: resume training data at %+v: %w", cp.State.Position, err)
		}
	}
	t := &trainer{
		cp: cp, m: m, cfg: m.cfg, o: o, train: train, valid: valid,
		w:         newWork[float32](m.lo, m.cfg.Streams, m.cfg.Steps, m.cfg.Dropout > 0),
		grad:      view(m.lo, make([]float32, m.lo.size)),
		good:      make([]float32, m.lo.size),
		pcg:       pcg,
		rng:       rand.New(pcg),
		lastValid: math.NaN(),
	}
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
	t.saveState()
	t.metric()
	res := TrainResult{Stop: stop, Steps: t.steps, ValidLoss: t.lastValid, BestValid: st.BestValid}
	if t.callCount > 0 {
		res.Loss = t.callLoss / float64(t.callCount)
	}
	t.report("done", true)
	return res, err
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
			st.LR *= t.cfg.LRDecay
			t.w.resetState()
			st.Carry = st.Carry[:0]
			t.stepsEpoch, t.epochSteps = t.epochSteps, 0
			if t.o.EvalEvery == 0 {
				if stop, err := t.evaluate(ctx); stop != "" || err != nil {
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
			if stop, err := t.evaluate(ctx); stop != "" || err != nil {
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
// check and the Adam update, then carries the hidden state.
func (t *trainer) step(b *Batch) (loss float64, count int, err error) {
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
	t.cp.Optimizer.Update(m.w, t.grad.all, st.LR)
	t.w.carry()
	st.Step++
	return loss, count, nil
}

func (t *trainer) load(b *Batch) error {
	if b.Streams != t.w.B || b.Steps != t.w.T || len(b.Inputs) != b.Streams*b.Steps || len(b.Targets) != len(b.Inputs) {
		return fmt.Errorf("%w: %d×%d batch with %d inputs and %d targets, model trains on %d streams × %d steps",
			ErrBatch, b.Streams, b.Steps, len(b.Inputs), len(b.Targets), t.w.B, t.w.T)
	}
	if !t.w.load(b.Inputs, b.Targets) {
		return fmt.Errorf("%w: token id outside the vocabulary of %d", ErrBatch, t.m.lo.vocab)
	}
	return nil
}

// evaluate measures the held-out loss from the held-out start position,
// records a metric, applies early stopping and calls OnEval.
func (t *trainer) evaluate(ctx context.Context) (TrainStop, error) {
	st := &t.cp.State
	if t.valid != nil {
		if err := t.valid.Seek(ctx, t.validStart); err != nil {
			return StopBudget, fmt.Errorf("model: train: rewind held-out data: %w", err)
		}
		ev, err := t.m.Evaluate(ctx, t.valid, t.o.EvalBatches)
		if err != nil {
			if ctx.Err() != nil {
				return StopCancelled, fmt.Errorf("model: train: %w", err)
			}
			return StopBudget, err
		}
		if ev.Tokens > 0 {
			t.lastValid = ev.Loss
			if ev.Loss < st.BestValid {
				st.BestValid, st.BadEvals = ev.Loss, 0
				if t.best == nil {
					t.best = make([]float32, len(t.m.w))
				}
				copy(t.best, t.m.w)
			} else {
				st.BadEvals++
			}
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
	if p := t.cfg.Patience; p > 0 && st.BadEvals >= p {
		if t.best != nil {
			copy(t.m.w, t.best)
		}
		return StopEarly, nil
	}
	return "", nil
}

func (t *trainer) metric() {
	st := &t.cp.State
	mt := Metric{Step: st.Step, Epoch: st.Epoch, Tokens: st.Tokens, Loss: math.NaN(), ValidLoss: t.lastValid, LR: st.LR,
		Seconds: t.baseSeconds + t.o.Now().Sub(t.start).Seconds()}
	if n := len(t.cp.Metrics); n > 0 {
		if t.cp.Metrics[n-1].Step == st.Step {
			return // nothing new since the last metric
		}
	}
	if t.sumCount > 0 {
		mt.Loss = t.sumLoss / float64(t.sumCount)
	}
	t.sumLoss, t.sumCount = 0, 0
	t.cp.Metrics = append(t.cp.Metrics, mt)
}

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
