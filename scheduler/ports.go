package scheduler

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler/runs"
)

// The ports below are what the scheduler consumes. They are small on purpose: the
// model, the store, the ingester and the bot each adapt to them in a few lines
// (see engine.go and store.go for the adapters over the real packages).

// SampleOptions asks a model for one comment.
type SampleOptions struct {
	Temperature float64
	// MaxTemperature is the largest Temperature the model accepts: the configured
	// max_temperature, which Generate fills in (0 = the limit the model was
	// created with).
	MaxTemperature float64
	TopP           float64 // 0 = off
	Prompt         string
	MinTokens      int
	MaxTokens      int // 0 = the model config's max_tokens
	Seed           uint64
	// MaxBatch > 0 samples in the model's continuous batch (model.BatchSampler,
	// the same text as alone) with at most MaxBatch comments stepped together
	// and MaxQueued waiting; beyond them the call fails at once with
	// model.ErrBusy. 0 samples alone. Generate fills both in from the bot
	// section of the config.
	MaxBatch, MaxQueued int
}

// Sample is one generated comment.
type Sample struct {
	Text   string
	Tokens int // tokens generated (words or characters), for tokens/s
}

// LossPoint is one point of a model's training curve.
type LossPoint struct {
	Step      int64   // optimizer steps since the lineage began
	Tokens    int64   // training tokens since the lineage began
	Loss      float64 // training loss, mean nats per token
	ValidLoss float64 // held-out loss at that step, NaN when not measured
	StdErr    float64 // standard error of ValidLoss over comments, NaN when unknown
	LR        float64 // learning rate there
	// Event marks a point: "lr-reduced" (a plateau lowered the rate and the best
	// weights came back) or why a run stopped ("budget", "early-stop",
	// "diverged"); "" for an ordinary evaluation.
	Event string
}

// TrainPlan is how a run spends its budget, from the model's config: the
// learning-rate schedule and what a flat held-out curve does.
type TrainPlan struct {
	// Schedule is "anneal", "cosine" or "constant" ("" = constant).
	Schedule string
	// Patience is the share of the budget (in training tokens) without a
	// significant held-out improvement (model.Plateau) after which the rate is
	// lowered or the run stops; PatienceEvals the least patience in evaluations.
	Patience      float64
	PatienceEvals int
	// Reductions is how many plateaus lower the rate before one stops the run
	// (0 = the model package's default; negative: none).
	Reductions int
}

// PlanOf is the TrainPlan of a configured model.
func PlanOf(mc config.ModelConfig) TrainPlan {
	red := mc.LRReductions
	if red == 0 {
		red = -1 // configured 0: the first plateau stops
	}
	return TrainPlan{Schedule: mc.LRSchedule, Patience: mc.PatienceShare, PatienceEvals: mc.Patience, Reductions: red}
}

// TrainSpec says what to train on and for how long.
type TrainSpec struct {
	// Train is streamed epoch after epoch; Valid (may be nil) is evaluated during
	// the run for reduce-on-plateau, early stopping and the best weights.
	Train, Valid corpus.Source
	// Plan is the schedule and the plateau rules.
	Plan TrainPlan
	// MaxSteps, MaxEpochs and MaxDuration bound the run (0 = unbounded; at least
	// one must be set). Epochs count passes over Train.
	MaxSteps    int
	MaxEpochs   int
	MaxDuration time.Duration
	// Resume continues from the data position and carried state saved in the
	// model (an interrupted run on the same Train); otherwise Train is new data
	// and the position restarts.
	Resume bool
	// Seed makes dropout and data order reproducible.
	Seed uint64
	// LearningRate, when > 0, replaces the lineage's current learning rate for
	// this run (Options.FineTuneLearningRate).
	LearningRate float64
	// Progress, when set, is called now and then from the training goroutine.
	Progress func(TrainProgress)
	// Track, when set, picks the comments of Train whose coverage the run
	// reports in TrainResult.Tracked (a fine-tune's fresh comments).
	Track func(corpus.Comment) bool
}

// Coverage is how much of some comments a run trained on: Tokens is their
// tokens (the model's level), Trained how many of those were training
// targets at least once (per comment at most its tokens).
type Coverage struct {
	Tokens, Trained int64
}

// Share is Trained / Tokens (1 when there were none to learn).
func (c Coverage) Share() float64 {
	if c.Tokens <= 0 {
		return 1
	}
	return float64(c.Trained) / float64(c.Tokens)
}

// TrainProgress is a training run's state, reported while it runs.
type TrainProgress struct {
	Step        int
	Epoch       int
	Tokens      int64
	Loss        float64
	ValidLoss   float64 // NaN when not measured yet
	ValidStdErr float64 // standard error of ValidLoss over comments, NaN when unknown
	// Gain is ValidLoss minus the held-out loss of the run's last significant
	// improvement (negative: better), GainStdErr its paired standard error
	// (the same comments, so far below ValidStdErr); NaN when unknown.
	Gain, GainStdErr float64
	LR               float64
	TokensPerSec     float64
	Elapsed          time.Duration
	ETA              time.Duration // 0 when unknown
}

// String renders p on one line, e.g.
// "step 120 epoch 1 loss 2.314 held-out 2.401±0.012 (-0.0104±0.0038) 12345 tok/s ETA 1m10s",
// the bracket being the change since the last significant improvement.
func (p TrainProgress) String() string {
	s := fmt.Sprintf("step %d epoch %d loss %.3f", p.Step, p.Epoch, p.Loss)
	if !math.IsNaN(p.ValidLoss) && !math.IsInf(p.ValidLoss, 0) {
		s += fmt.Sprintf(" held-out %.3f", p.ValidLoss)
		if p.ValidStdErr > 0 {
			s += fmt.Sprintf("±%.3f", p.ValidStdErr)
		}
		if finite(p.Gain) && p.GainStdErr > 0 {
			s += fmt.Sprintf(" (%+.4f±%.4f)", p.Gain, p.GainStdErr)
		}
	}
	s += fmt.Sprintf(" %.0f tok/s", p.TokensPerSec)
	if p.ETA > 0 {
		s += " ETA " + p.ETA.Round(time.Second).String()
	}
	return s
}

// TrainResult summarises a finished (or stopped) training run.
type TrainResult struct {
	Steps  int
	Tokens int64
	Loss   float64 // last training loss
	// Diverged is true when training diverged with no evaluated weights to go
	// back to (a diverged candidate is never promoted). A run that diverged
	// after an evaluation stops on its best weights: Stopped is "diverged" but
	// Diverged is false.
	Diverged bool
	Stopped  string // why training stopped: "budget", "early-stop", "diverged", …
	Detail   string // the reason in words, when there is more to say
	Elapsed  time.Duration
	// Best is the run's best held-out loss (NaN without a held-out set), BestStdErr
	// its standard error, and BestStep (lineage), BestTokens and BestElapsed (into
	// the run) where it was reached. Restored says the final weights are those.
	Best, BestStdErr float64
	BestStep         int64
	BestTokens       int64
	BestElapsed      time.Duration
	Restored         bool
	Reductions       int // plateau rate reductions
	// Tracked is the coverage of the comments TrainSpec.Track picked.
	Tracked Coverage
}

// Eval is a model's loss on some comments, in its own unit (nats per token)
// and on the scale every model shares, bits per character:
//
//	BitsPerChar = (Σ_c nats_c + Σ_c spell_c) / (ln 2 · Σ_c chars_c)
//
// over the comments c whose tokens were predicted, with nats_c the model's
// loss on c's tokens, chars_c the runes of c's cleaned body, and spell_c
// (word models only) the cost of spelling out the words c's unknown tokens
// stand for under a character unigram of the model's vocabulary — without it
// a small vocabulary would look better than it writes. A comment partly
// predicted (a batch's dropped tail, a stream's first token) counts in
// proportion to its predicted tokens.
type Eval struct {
	Loss        float64 // mean nats per token; 0 with Tokens 0 (nothing measured)
	Tokens      int64
	BitsPerChar float64 // NaN when Chars is 0
	Chars       int64   // characters the comments held, as weighted above
	Comments    int     // comments with at least one predicted token
}

// Summary is one line on how a run ended, e.g. "stopped: budget; best held-out
// 1.8731 ± 0.0102 nats/token at step 5,960 (6.1M tokens, 19m32s into the run),
// restored".
func (r TrainResult) Summary() string {
	s := "stopped: " + r.Stopped
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	if r.Reductions > 0 {
		s += fmt.Sprintf(" after %d rate reduction(s)", r.Reductions)
	}
	if math.IsNaN(r.Best) || math.IsInf(r.Best, 0) {
		return s
	}
	s += fmt.Sprintf("; best held-out %.4f", r.Best)
	if r.BestStdErr > 0 {
		s += fmt.Sprintf(" ± %.4f", r.BestStdErr)
	}
	s += fmt.Sprintf(" nats/token at step %d (%s tokens, %s into the run)", r.BestStep, siCount(r.BestTokens), r.BestElapsed.Round(time.Second))
	if r.Restored {
		s += ", its weights restored"
	}
	return s
}

// addFigures adds the held-out figures of the run to a run record's figures.
func (r TrainResult) addFigures(f map[string]float64) {
	f["rate_reductions"] = float64(r.Reductions)
	if finite(r.Best) {
		f["best_loss"], f["best_tokens"], f["best_step"] = r.Best, float64(r.BestTokens), float64(r.BestStep)
		if finite(r.BestStdErr) {
			f["best_loss_stderr"] = r.BestStdErr
		}
	}
}

// siCount renders n with three significant digits: 950, 12.3k, 500k, 6.1M.
func siCount(n int64) string {
	switch x := float64(n); {
	case math.Abs(x) >= 1e6:
		return fmt.Sprintf("%.3gM", x/1e6)
	case math.Abs(x) >= 1e4:
		return fmt.Sprintf("%.3gk", x/1e3)
	}
	return fmt.Sprint(n)
}

// Model is one loaded language model. Sample must be safe for concurrent use;
// Train mutates the model and is never called on a model that serves (the
// scheduler trains a Clone).
type Model interface {
	Sample(ctx context.Context, o SampleOptions) (Sample, error)
	Clone() Model
	Train(ctx context.Context, spec TrainSpec) (TrainResult, error)
	// Evaluate measures the model on src: nats per token and bits per character.
	Evaluate(ctx context.Context, src corpus.Source) (Eval, error)
	// Tokens counts the tokens of src at the model's level (to size a budget).
	Tokens(ctx context.Context, src corpus.Source) (int64, error)
	Encode(w io.Writer) error
	// VocabHash identifies the vocabulary, hence the lineage.
	VocabHash() string
	// History is the lineage's training curve so far (for the loss plot).
	History() []LossPoint
	// Spec is what the checkpoint is (kind, level, sizes), for Check.
	Spec() Spec
}

// Spec describes a loaded model as its checkpoint records it.
type Spec struct {
	Kind string // "word-lstm", "char-lstm" or "rnn"
	// Level is the token level of the vocabulary, read from its special tokens:
	// "word", "char", or "" when they are neither.
	Level  string
	Vocab  int // tokens, specials included
	Embed  int // input embedding width; 0 = one-hot input
	Hidden []int
	// Streams × Steps is the training batch shape of the lineage.
	Streams, Steps int
}

// Engine builds and decodes models.
type Engine interface {
	// New returns an untrained model of mc whose vocabulary is counted on vocabFrom.
	New(ctx context.Context, mc config.ModelConfig, vocabFrom corpus.Source, seed uint64) (Model, error)
	// Decode reads a checkpoint written by Model.Encode; a corrupt or truncated one
	// is an error, never a half-loaded model.
	Decode(r io.Reader) (Model, error)
	// Adopt makes m (a shipped, pretrained checkpoint of mc's shape) the start
	// of a lineage of mc: the weights and vocabulary kept, mc's training
	// hyper-parameters, a fresh optimizer and training state.
	Adopt(mc config.ModelConfig, m Model, seed uint64) (Model, error)
}

// Store is the comment store as the scheduler uses it; a *store.SQLite is one.
type Store interface {
	Comments(f corpus.Filter) corpus.Source
	// RecordRun stores a run record; figures must be finite.
	RecordRun(ctx context.Context, r runs.Run) error
	// Runs returns the newest runs of job (all jobs for ""), newest first.
	Runs(ctx context.Context, job string, limit int) ([]runs.Run, error)
}

// IngestCounts are the figures of one ingest run.
type IngestCounts struct {
	New, Updated, Skipped int
	// Figures, when set, are recorded with the run besides the three counts.
	Figures map[string]float64
}

// Ingester fetches fresh comments into the store.
type Ingester interface {
	Ingest(ctx context.Context) (IngestCounts, error)
}

// IngestFunc adapts a function to Ingester.
type IngestFunc func(ctx context.Context) (IngestCounts, error)

// Ingest calls f.
func (f IngestFunc) Ingest(ctx context.Context) (IngestCounts, error) { return f(ctx) }

// Poster sends a scheduled comment to a channel. level is the model's level
// ("word" or "char") for the poster's originality check; a poster that refuses
// text because it copies training data returns an error wrapping ErrUnoriginal,
// and the scheduler samples again.
type Poster interface {
	Post(ctx context.Context, channelID, level, text string) error
}

// PostFunc adapts a function to Poster.
type PostFunc func(ctx context.Context, channelID, level, text string) error

// Post calls f.
func (f PostFunc) Post(ctx context.Context, channelID, level, text string) error {
	return f(ctx, channelID, level, text)
}
