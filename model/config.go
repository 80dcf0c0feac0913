package model

import (
	"errors"
	"fmt"
	"math"
)

// Kind names one of the three model configurations the product serves.
type Kind string

// The model kinds. They differ in the recurrent cell and in the token level;
// the math is shared.
const (
	// WordLSTM is embedding → LSTM → softmax over a word vocabulary.
	WordLSTM Kind = "word-lstm"
	// CharLSTM is one-hot characters → LSTM → dropout → LSTM → dropout → softmax.
	CharLSTM Kind = "char-lstm"
	// RNN is the seed's word-level tanh RNN, kept as a baseline.
	RNN Kind = "rnn"
)

// Cell is the recurrent cell of a layer.
type Cell string

// The recurrent cells.
const (
	// CellLSTM is a long short-term memory cell (gates i, f, o and candidate g).
	CellLSTM Cell = "lstm"
	// CellRNN is a plain tanh recurrent cell.
	CellRNN Cell = "rnn"
)

// Cell returns the recurrent cell of the kind: tanh RNN for RNN, LSTM otherwise.
func (k Kind) Cell() Cell {
	if k == RNN {
		return CellRNN
	}
	return CellLSTM
}

// Level names the token level of the kind as text.Level does: "char" for
// CharLSTM, "word" for the word kinds. Checkpoints record it.
func (k Kind) Level() string {
	if k == CharLSTM {
		return "char"
	}
	return "word"
}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool { return k == WordLSTM || k == CharLSTM || k == RNN }

// Sentinel errors of the package. Errors returned by the package wrap one of
// these when the caller may want to act on the cause.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("model: invalid config")
	// ErrTemperature reports a sampling temperature that is not finite,
	// not positive, or above Config.MaxTemperature.
	ErrTemperature = errors.New("model: invalid temperature")
	// ErrSampleOptions reports other invalid SampleOptions (top-p, lengths).
	ErrSampleOptions = errors.New("model: invalid sample options")
	// ErrCorrupt reports a truncated or corrupted checkpoint, or one that is
	// internally inconsistent.
	ErrCorrupt = errors.New("model: corrupt checkpoint")
	// ErrVersion reports a checkpoint written in an unsupported format version.
	ErrVersion = errors.New("model: unsupported checkpoint version")
	// ErrVocabMismatch reports a vocabulary whose hash does not match the one
	// the checkpoint (or the caller) expects.
	ErrVocabMismatch = errors.New("model: vocabulary mismatch")
	// ErrDiverged reports a non-finite loss or gradient during training; the
	// model keeps the last good weights.
	ErrDiverged = errors.New("model: training diverged (NaN or Inf)")
	// ErrBatch reports a batch whose shape or token ids do not fit the model.
	ErrBatch = errors.New("model: bad batch")
	// ErrBusy reports a BatchSampler whose batch and queue are full: the
	// request was refused at once, try again later.
	ErrBusy = errors.New("model: busy")
)

// Config holds every size and hyper-parameter of a language model and of its
// training. DefaultConfig gives the product's defaults per Kind.
type Config struct {
	// Kind selects the cell and the token level.
	Kind Kind `json:"kind"`
	// Embed is the width of the input embedding. 0 means one-hot input: the
	// first layer's input weights are then indexed by token id (a row
	// lookup), which is the same as multiplying a one-hot vector.
	Embed int `json:"embed"`
	// Hidden lists the width of each recurrent layer, bottom first.
	Hidden []int `json:"hidden"`
	// Dropout is the probability of zeroing a unit (inverted dropout, the
	// kept units are scaled by 1/(1-Dropout)) between layers and before the
	// softmax, in training only.
	Dropout float64 `json:"dropout"`
	// LearningRate is Adam's step size α.
	LearningRate float64 `json:"learning_rate"`
	// LRDecay multiplies the learning rate after every epoch (1 = none).
	LRDecay float64 `json:"lr_decay"`
	// Beta1, Beta2 and Epsilon are Adam's moment decays and denominator guard.
	Beta1   float64 `json:"beta1"`
	Beta2   float64 `json:"beta2"`
	Epsilon float64 `json:"epsilon"`
	// Clip is the global L2 norm the gradient is scaled down to when larger
	// (0 = no clipping).
	Clip float64 `json:"clip"`
	// Streams (B) and Steps (T) shape the truncated-BPTT batches.
	Streams int `json:"streams"`
	Steps   int `json:"steps"`
	// InitScale bounds the uniform initialisation of the embedding;
	// recurrent and output weights use U(-1/√fan_in, 1/√fan_in).
	InitScale float64 `json:"init_scale"`
	// ForgetBias initialises the LSTM forget-gate bias (1 helps gradients flow).
	ForgetBias float64 `json:"forget_bias"`
	// MaxTemperature is the largest sampling temperature accepted.
	MaxTemperature float64 `json:"max_temperature"`
	// Patience is the least number of held-out evaluations without a
	// significant improvement that make a plateau, when TrainOptions.Plateau
	// does not say (0 = plateaus never lower the rate or stop training; see
	// Plateau for the share of the budget that usually decides).
	Patience int `json:"patience"`
}

// DefaultConfig returns the product defaults for kind — what the bot runs
// unless its config file says otherwise (package config presents them as
// the defaults of each model entry, and nothing else defines them):
//
//	word-lstm: embedding 128 → LSTM 256 → softmax; dropout 0.2; Adam 0.001; 32 streams × 32 steps
//	char-lstm: one-hot → LSTM 128 → dropout → LSTM 512 → dropout → softmax; dropout 0.4
//	           (TFLearn's 0.6 is a keep probability); Adam 0.001; 16 streams × 64 steps
//	           (on the embedded sample, 2 minutes reached 1.83 nats/char held out with
//	           16 streams against 1.96 with 32 and 2.15 with 64: more updates per minute)
//	rnn:       embedding 64 → tanh RNN 128 → softmax (the seed's baseline); Adam 0.003; 32 × 32
//
// All clip the gradient at 5, decay the rate by nothing per epoch (LRDecay 1:
// on a small corpus epochs are short, and 0.97 per epoch cut the rate 20-fold
// within 100 epochs), use Adam's β₁ 0.9, β₂ 0.999, ε 1e-8, and allow
// temperatures up to 2. An unknown kind gets the word-lstm sizes with that
// Kind, which Validate refuses.
func DefaultConfig(kind Kind) Config {
	c := Config{
		Kind:           kind,
		Embed:          128,
		Hidden:         []int{256},
		Dropout:        0.2,
		LearningRate:   0.001,
		LRDecay:        1,
		Beta1:          0.9,
		Beta2:          0.999,
		Epsilon:        1e-8,
		Clip:           5,
		Streams:        32,
		Steps:          32,
		InitScale:      0.1,
		ForgetBias:     1,
		MaxTemperature: 2,
		Patience:       3,
	}
	switch kind {
	case CharLSTM:
		c.Embed = 0
		c.Hidden = []int{128, 512}
		c.Dropout = 0.4
		c.Streams, c.Steps = 16, 64
	case RNN:
		c.Embed = 64
		c.Hidden = []int{128}
		c.Dropout = 0
		c.LearningRate = 0.003
	}
	return c
}

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !c.Kind.Valid():
		return bad("kind %q is not one of %q, %q, %q", c.Kind, WordLSTM, CharLSTM, RNN)
	case c.Embed < 0 || c.Embed > 1<<16:
		return bad("embed %d out of [0, 65536]", c.Embed)
	case len(c.Hidden) == 0 || len(c.Hidden) > 8:
		return bad("hidden needs 1 to 8 layers, got %d", len(c.Hidden))
	case !finite(c.Dropout) || c.Dropout < 0 || c.Dropout >= 1:
		return bad("dropout %v out of [0, 1)", c.Dropout)
	case !finite(c.LearningRate) || c.LearningRate <= 0:
		return bad("learning rate %v must be positive", c.LearningRate)
	case !finite(c.LRDecay) || c.LRDecay <= 0 || c.LRDecay > 1:
		return bad("lr decay %v out of (0, 1]", c.LRDecay)
	case !finite(c.Beta1) || c.Beta1 < 0 || c.Beta1 >= 1:
		return bad("beta1 %v out of [0, 1)", c.Beta1)
	case !finite(c.Beta2) || c.Beta2 < 0 || c.Beta2 >= 1:
		return bad("beta2 %v out of [0, 1)", c.Beta2)
	case !finite(c.Epsilon) || c.Epsilon <= 0:
		return bad("epsilon %v must be positive", c.Epsilon)
	case !finite(c.Clip) || c.Clip < 0:
		return bad("clip %v must be ≥ 0", c.Clip)
	case c.Streams < 1 || c.Streams > 1<<12:
		return bad("streams %d out of [1, 4096]", c.Streams)
	case c.Steps < 1 || c.Steps > 1<<12:
		return bad("steps %d out of [1, 4096]", c.Steps)
	case !finite(c.InitScale) || c.InitScale <= 0:
		return bad("init scale %v must be positive", c.InitScale)
	case !finite(c.ForgetBias):
		return bad("forget bias %v must be finite", c.ForgetBias)
	case !finite(c.MaxTemperature) || c.MaxTemperature <= 0:
		return bad("max temperature %v must be positive", c.MaxTemperature)
	case c.Patience < 0:
		return bad("patience %d must be ≥ 0", c.Patience)
	}
	for i, h := range c.Hidden {
		if h < 1 || h > 1<<14 {
			return bad("hidden[%d] = %d out of [1, 16384]", i, h)
		}
	}
	return nil
}

// clone returns a deep copy of c (Hidden is not shared).
func (c Config) clone() Config {
	c.Hidden = append([]int(nil), c.Hidden...)
	return c
}
