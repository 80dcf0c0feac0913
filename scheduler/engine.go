package scheduler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/model"
	"commentbot/text"
	"commentbot/tokens"
)

// ModelEngine adapts package model to Engine: a ModelConfig becomes a
// model.Config, the vocabulary is built with the kind's level (words: the
// vocab_size most frequent plus specials; characters: the same, leaving out
// characters seen fewer than text.DefaultCharMinCount times), comments
// become batches through corpus.Batcher, and a checkpoint is model.Encode of
// the whole model.Checkpoint (weights, Adam moments, training state, metrics).
type ModelEngine struct {
	// EvalEvery is the number of steps between held-out evaluations during a
	// training that has a held-out set (0 means DefaultEvalEvery); EvalBatches
	// caps each one (0 means DefaultEvalBatches).
	EvalEvery   int64
	EvalBatches int
	// EvalStreams × EvalSteps is the batch shape of Evaluate (0 means 4 × 32):
	// small, so that little of a small held-out set falls in the dropped tail.
	EvalStreams, EvalSteps int
}

// The evaluation cadence of a training run with a held-out set.
const (
	// Every 200 steps, 200 batches of 4 × 32 (25,600 tokens): on the default
	// char model, an evaluation every ~40 s on 2 idle cores that costs ~2 s (a
	// forward pass runs at ~12,000 tokens/s, training at ~5,300), with a
	// standard error of ~0.02 nats/char on Debian's fortunes (measured at 1500
	// steps; a quarter of the tokens doubles it).
	DefaultEvalEvery   = 200
	DefaultEvalBatches = 200
)

// levelOf is the token level a model kind reads (model.Kind.Level names it).
func levelOf(k model.Kind) text.Level { return text.Level(k.Level()) }

// ModelConfig maps a configured model to the model package's Config.
func ModelConfig(mc config.ModelConfig) model.Config {
	kind := model.Kind(mc.Kind)
	c := model.DefaultConfig(kind)
	c.Embed = mc.Embed
	if kind == model.CharLSTM {
		c.Embed = 0 // one-hot characters
	}
	c.Hidden = append([]int(nil), mc.Hidden...)
	c.Dropout, c.LearningRate, c.LRDecay, c.Clip = mc.Dropout, mc.LearningRate, mc.LRDecay, mc.Clip
	c.Streams, c.Steps, c.Patience, c.MaxTemperature = mc.Streams, mc.Steps, mc.Patience, mc.MaxTemperature
	return c
}

// New counts vocabFrom with the kind's tokenizer, builds the vocabulary and an
// untrained model initialised from seed.
func (e ModelEngine) New(ctx context.Context, mc config.ModelConfig, vocabFrom corpus.Source, seed uint64) (Model, error) {
	cfg := ModelConfig(mc)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level := levelOf(cfg.Kind)
	counts := text.NewCounts()
	if err := vocabFrom(ctx, func(c corpus.Comment) error {
		counts.Add(level.Tokens(c.Body)...)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("vocabulary: %w", err)
	}
	minCount := 1
	if level == text.LevelChar {
		minCount = text.DefaultCharMinCount
	}
	v := text.BuildVocabMin(counts, mc.VocabSize, minCount, level.Specials())
	lm, err := model.New(cfg, v, rand.NewPCG(seed, 0x6c6d))
	if err != nil {
		return nil, err
	}
	return &lmModel{eng: e, cp: model.NewCheckpoint(lm, seed), vocab: v, level: level}, nil
}

// Decode reads a checkpoint and rebuilds its vocabulary (checked by hash).
func (e ModelEngine) Decode(r io.Reader) (Model, error) {
	cp, err := model.Decode(r)
	if err != nil {
		return nil, err
	}
	v, err := text.NewVocab(cp.Model.VocabTokens())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", model.ErrCorrupt, err)
	}
	if err := cp.Model.CheckVocab(v); err != nil {
		return nil, err
	}
	return &lmModel{eng: e, cp: cp, vocab: v, level: levelOf(cp.Model.Kind())}, nil
}

// Adopt rebuilds m (a model this engine decoded) with mc's training
// hyper-parameters, a fresh optimizer and training state (model.Adopt).
func (e ModelEngine) Adopt(mc config.ModelConfig, m Model, seed uint64) (Model, error) {
	lm, ok := m.(*lmModel)
	if !ok {
		return nil, fmt.Errorf("scheduler: adopt a %T", m)
	}
	cp, err := model.Adopt(lm.cp.Model, ModelConfig(mc), seed)
	if err != nil {
		return nil, err
	}
	return &lmModel{eng: e, cp: cp, vocab: lm.vocab, level: lm.level}, nil
}

// lmModel is a model.Checkpoint behind the Model port.
type lmModel struct {
	eng   ModelEngine
	cp    *model.Checkpoint
	vocab *text.Vocab
	level text.Level
	// batch steps the concurrent batched samples of these weights; created on
	// first use. A promotion publishes another lmModel, with its own batch:
	// a sequence finishes on the weights it started with.
	batchOnce sync.Once
	batch     *model.BatchSampler
}

// LM returns the underlying model (for callers that need the model package's
// own API, such as quality reports).
func (m *lmModel) LM() *model.LM { return m.cp.Model }

// Sample encodes the prompt's tokens (text.Level.Prompt) with the model's
// vocabulary, samples ids — alone, or with o.MaxBatch in the model's
// continuous batch, which gives the same ids — and decodes them: the text is
// the prompt as written followed by its continuation.
func (m *lmModel) Sample(ctx context.Context, o SampleOptions) (Sample, error) {
	prompt := m.level.Prompt(o.Prompt)
	mo := model.SampleOptions{Temperature: o.Temperature, MaxTemperature: o.MaxTemperature, TopP: o.TopP,
		Prompt: m.vocab.Encode(prompt, nil), MinTokens: o.MinTokens, MaxTokens: o.MaxTokens, Seed: o.Seed}
	var s model.Sample
	var err error
	if o.MaxBatch > 0 {
		m.batchOnce.Do(func() { m.batch = model.NewBatchSampler(m.cp.Model) })
		s, err = m.batch.Sample(ctx, mo, model.BatchLimits{MaxBatch: o.MaxBatch, MaxQueued: o.MaxQueued})
	} else {
		s, err = m.cp.Model.Sample(ctx, mo)
	}
	if err != nil {
		return Sample{}, err
	}
	return Sample{Text: m.level.Text(append(prompt, m.vocab.Decode(s.Tokens, nil)...)), Tokens: len(s.Tokens)}, nil
}

// Clone deep-copies the checkpoint: weights, optimizer moments, state, metrics.
func (m *lmModel) Clone() Model {
	return &lmModel{eng: m.eng, cp: m.cp.Clone(), vocab: m.vocab, level: m.level}
}

func (m *lmModel) Encode(w io.Writer) error { return model.Encode(w, m.cp) }

func (m *lmModel) VocabHash() string { return m.cp.Model.VocabHash() }

// Spec reads the kind and sizes from the model and the level from the special
// tokens that open its vocabulary.
func (m *lmModel) Spec() Spec {
	cfg := m.cp.Model.Config()
	sp := Spec{Kind: string(cfg.Kind), Vocab: m.vocab.Len(), Embed: cfg.Embed, Hidden: cfg.Hidden,
		Streams: cfg.Streams, Steps: cfg.Steps}
	toks := m.vocab.Tokens()
	for _, l := range []text.Level{text.LevelWord, text.LevelChar} {
		if want := l.Specials(); len(toks) >= len(want) && slices.Equal(toks[:len(want)], want) {
			sp.Level = string(l)
		}
	}
	return sp
}

func (m *lmModel) History() []LossPoint {
	out := make([]LossPoint, len(m.cp.Metrics))
	for i, x := range m.cp.Metrics {
		out[i] = LossPoint{Step: x.Step, Tokens: x.Tokens, Loss: x.Loss, ValidLoss: x.ValidLoss, StdErr: x.StdErr, LR: x.LR, Event: x.Event}
	}
	return out
}

// Train continues training the checkpoint on spec.Train (a new data source:
// the data position and carried state restart and a new run begins, unless
// spec.Resume; the optimizer moments and the lineage's step count and metrics
// continue). A source too small for a whole batch is repeated until it fills a
// few. Divergence with no evaluated weights to go back to is reported wrapping
// ErrDiverged; the model then holds its last finite weights.
func (m *lmModel) Train(ctx context.Context, spec TrainSpec) (TrainResult, error) {
	cfg := m.cp.Model.Config()
	st := &m.cp.State
	if !spec.Resume {
		st.Position, st.Carry = tokens.Position{}, nil
		m.cp.StartRun(spec.LearningRate)
	} else if spec.LearningRate > 0 {
		st.PeakLR = spec.LearningRate
	}
	src, err := m.fill(ctx, spec.Train, 4*cfg.Streams*(cfg.Steps+1))
	if err != nil {
		return TrainResult{}, err
	}
	var track *tracker
	if spec.Track != nil {
		track = newTracker(m.level, spec.Track)
		src = track.source(src)
	}
	var train model.Batches = corpus.NewBatcher(src, m.level, m.vocab, cfg.Streams, cfg.Steps)
	defer train.(*corpus.Batcher).Close()
	if track != nil {
		train = track.batches(train)
	}
	var valid model.Batches
	if spec.Valid != nil {
		eb, et := m.evalShape()
		vb := corpus.NewBatcher(spec.Valid, m.level, m.vocab, eb, et)
		defer vb.Close()
		valid = vb
	}
	o := m.options(spec)
	tokens0 := st.Tokens
	t0 := time.Now()
	res, err := model.Train(ctx, m.cp, train, valid, o)
	out := TrainResult{Steps: int(res.Steps), Tokens: st.Tokens - tokens0, Loss: res.Loss, Stopped: string(res.Stop),
		Detail: res.Detail, Elapsed: time.Since(t0), Best: math.NaN(), BestStdErr: res.BestStdErr, Restored: res.Restored,
		Reductions: res.Reductions}
	if track != nil {
		out.Tracked = track.coverage()
	}
	if finite(res.BestValid) {
		out.Best, out.BestStep, out.BestTokens = res.BestValid, res.Best.Step, res.Best.Tokens
		out.BestElapsed = time.Duration(res.Best.Seconds * float64(time.Second))
	}
	if errors.Is(err, model.ErrDiverged) {
		out.Diverged = true
		return out, fmt.Errorf("%w: %w", ErrDiverged, err)
	}
	return out, err
}

// options turns a TrainSpec into the model package's TrainOptions: budgets
// (steps and epochs counted from the checkpoint's), evaluation cadence, the
// plan's schedule and plateau rules, and progress.
func (m *lmModel) options(spec TrainSpec) model.TrainOptions {
	st := &m.cp.State
	o := model.TrainOptions{MaxDuration: spec.MaxDuration, EvalEvery: m.eng.EvalEvery, EvalBatches: m.eng.EvalBatches,
		Schedule: model.Schedule(spec.Plan.Schedule),
		Plateau:  model.Plateau{Patience: spec.Plan.Patience, MinEvals: spec.Plan.PatienceEvals, Reductions: spec.Plan.Reductions}}
	if o.EvalEvery <= 0 {
		o.EvalEvery = DefaultEvalEvery
	}
	if o.EvalBatches <= 0 {
		o.EvalBatches = DefaultEvalBatches
	}
	if spec.MaxSteps > 0 {
		o.MaxSteps = st.Step + int64(spec.MaxSteps) // the model counts resumed steps
	}
	if spec.MaxEpochs > 0 {
		o.MaxEpochs = st.Epoch + spec.MaxEpochs
	}
	if spec.Progress != nil {
		o.Progress = func(p model.Progress) {
			spec.Progress(TrainProgress{Step: int(p.Step), Epoch: p.Epoch, Tokens: p.Tokens, Loss: p.Loss,
				ValidLoss: p.ValidLoss, ValidStdErr: p.ValidStdErr, Gain: p.Gain, GainStdErr: p.GainStdErr, LR: p.LR, TokensPerSec: p.TokensPerSec,
				Elapsed: p.Elapsed, ETA: max(p.ETA, 0)})
		}
	}
	return o
}

func (m *lmModel) evalShape() (int, int) {
	b, t := m.eng.EvalStreams, m.eng.EvalSteps
	if b <= 0 {
		b = 4
	}
	if t <= 0 {
		t = 32
	}
	return b, t
}

// fill returns src, repeated as often as needed to hold at least need tokens.
func (m *lmModel) fill(ctx context.Context, src corpus.Source, need int) (corpus.Source, error) {
	// Count only as far as need: a large corpus is not tokenized twice per run.
	n := 0
	enough := errors.New("enough tokens")
	if err := src(ctx, func(c corpus.Comment) error {
		n += len(m.level.Tokens(c.Body))
		if n >= need {
			return enough
		}
		return nil
	}); err != nil && !errors.Is(err, enough) {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("scheduler: no training tokens")
	}
	times := (need + n - 1) / n
	if times <= 1 {
		return src, nil
	}
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		for range times {
			if err := src(ctx, fn); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// Evaluate measures the model on src with dropout off (batches of
// EvalStreams × EvalSteps; the tail that fills no batch is not counted): the
// mean loss per token and bits per character (see Eval). No tokens give a
// zero Eval with BitsPerChar NaN.
func (m *lmModel) Evaluate(ctx context.Context, src corpus.Source) (Eval, error) {
	eb, et := m.evalShape()
	w := newCharWeights(m.level, m.vocab)
	b := corpus.NewBatcher(w.source(src), m.level, m.vocab, eb, et)
	defer b.Close()
	ev, err := m.cp.Model.Evaluate(ctx, w.batches(b), 0)
	if errors.Is(err, corpus.ErrEmptyEpoch) || (err == nil && ev.Tokens == 0) {
		return Eval{BitsPerChar: math.NaN()}, nil
	}
	if err != nil {
		return Eval{}, err
	}
	return w.eval(ev.Loss, ev.Tokens), nil
}

// Tokens counts the tokens of src at the model's level.
func (m *lmModel) Tokens(ctx context.Context, src corpus.Source) (int64, error) {
	var n int64
	err := src(ctx, func(c corpus.Comment) error {
		n += int64(len(m.level.Tokens(c.Body)))
		return nil
	})
	return n, err
}
