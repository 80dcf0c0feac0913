package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"commentbot/tokens"
)

// Eval is the result of evaluating a model on held-out batches.
type Eval struct {
	// Loss is the mean cross-entropy per target token, in nats.
	Loss float64
	// Tokens is the number of targets the loss is averaged over.
	Tokens int64
	// Comments is the number of comments those targets belong to (stream
	// segments, one per stream and batch, when the batches do not number
	// their comments).
	Comments int
	// StdErr is the standard error of Loss over the comments: with S_c the
	// summed loss and n_c the targets of comment c, C comments and N = Σ n_c,
	//
	//	StdErr² = C/(C−1) · Σ_c (S_c − Loss·n_c)² / N²
	//
	// (the delta-method error of a ratio of sums: comments are the sampled
	// units, tokens within one are not independent). NaN below two comments.
	StdErr float64

	// comments holds every comment's summed loss and target count, in the
	// order read, for DiffStdErr (nil when the evaluation did not keep them).
	comments *commentSums
}

// DiffStdErr is the standard error of the difference e.Loss − ref.Loss when
// both evaluations read the same comments (the same held-out batches from
// the same position): with d_c the difference of comment c's summed losses,
// n_c its targets, C comments, N = Σ n_c and D = e.Loss − ref.Loss,
//
//	DiffStdErr² = C/(C−1) · Σ_c (d_c − D·n_c)² / N²
//
// the paired form of StdErr. How hard a comment is weighs on both losses
// alike and cancels in d_c, so this is far smaller than StdErr, which is the
// error of one evaluation against another sample of comments. NaN when
// either evaluation kept no per-comment losses or they read different
// comments.
func (e Eval) DiffStdErr(ref Eval) float64 {
	a, b := e.comments, ref.comments
	if a == nil || b == nil || len(a.sum) != len(b.sum) || len(a.sum) < 2 {
		return math.NaN()
	}
	d := commentSums{sum: make([]float64, len(a.sum)), count: a.count}
	for j := range a.sum {
		if a.count[j] != b.count[j] {
			return math.NaN()
		}
		d.sum[j] = a.sum[j] - b.sum[j]
	}
	return d.stdErr(e.Loss - ref.Loss)
}

// Evaluate returns the mean loss per target token of m over the batches from
// b's current position up to the end of the epoch (io.EOF), or over at most
// maxBatches batches when maxBatches > 0, with its standard error over
// comments (Batch.Comments). Dropout is off; every stream starts from the
// state a sample starts from (the model's start state, see warm: where the
// model, writing on its own, has just ended a comment) and is carried from
// batch to batch, as in training. Not from zero: training carries its state
// across comments and almost never sees it, and from zero a stream can lock
// into a state it never leaves — one cell's c growing by the same amount at
// every step, every prediction confidently wrong for the rest of the stream
// (5 of 16 streams of a char model 1,000 steps into training on Debian's
// fortunes: a held-out loss of 4.85 nats/char where 2.39 was right). Any
// batch shape works.
func (m *LM) Evaluate(ctx context.Context, b Batches, maxBatches int) (Eval, error) {
	var (
		w     *work[float32]
		batch tokens.Batch
		sum   float64
		n     int64
		units commentSums
	)
	start := m.startState()
	for i := 0; maxBatches <= 0 || i < maxBatches; i++ {
		if err := ctx.Err(); err != nil {
			return Eval{}, fmt.Errorf("model: evaluate: %w", err)
		}
		err := b.Next(ctx, &batch)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Eval{}, fmt.Errorf("model: evaluate: %w", err)
		}
		if batch.Streams < 1 || batch.Steps < 1 || len(batch.Inputs) != batch.Streams*batch.Steps || len(batch.Targets) != len(batch.Inputs) {
			return Eval{}, fmt.Errorf("%w: %d×%d batch with %d inputs and %d targets", ErrBatch, batch.Streams, batch.Steps, len(batch.Inputs), len(batch.Targets))
		}
		if w == nil || w.B != batch.Streams || w.T != batch.Steps {
			if w != nil {
				w.close()
			}
			w = newWork[float32](m.lo, batch.Streams, batch.Steps, false)
			w.rowLoss = make([]float64, batch.Streams*batch.Steps)
			w.setState(start)
			defer w.close()
		}
		if !w.load(batch.Inputs, batch.Targets) {
			return Eval{}, fmt.Errorf("%w: token id outside the vocabulary of %d", ErrBatch, m.lo.vocab)
		}
		loss, count := w.forward(m.be, m.p, false, 0, nil)
		w.carry()
		units.add(&batch, w.rowLoss, i)
		sum += loss
		n += int64(count)
	}
	if n == 0 {
		return Eval{Loss: math.NaN(), StdErr: math.NaN()}, nil
	}
	mean := sum / float64(n)
	units.index = nil // only the order matters from here on
	return Eval{Loss: mean, Tokens: n, Comments: len(units.sum), StdErr: units.stdErr(mean), comments: &units}, nil
}

// commentSums accumulates the loss and target count of every comment.
type commentSums struct {
	index      map[int]int // comment key → position in sum and count
	sum        []float64
	count      []float64
	last, slot int // the previous target's key and slot (consecutive targets share one)
}

// add adds one batch's per-row losses (time-major rows, as forward writes
// them). Comments are keyed by Batch.Comments, or by stream and batch
// number i when the batch has none.
func (u *commentSums) add(b *tokens.Batch, rowLoss []float64, i int) {
	if u.index == nil {
		u.index, u.last = map[int]int{}, math.MinInt
	}
	numbered := len(b.Comments) == len(b.Targets)
	for s := range b.Streams {
		for t := range b.Steps {
			k := s*b.Steps + t
			if b.Targets[k] < 0 {
				continue
			}
			key := -1 - (i*b.Streams + s) // a stream segment
			if numbered {
				key = b.Comments[k]
			}
			if key != u.last {
				slot, ok := u.index[key]
				if !ok {
					slot = len(u.sum)
					u.index[key] = slot
					u.sum, u.count = append(u.sum, 0), append(u.count, 0)
				}
				u.last, u.slot = key, slot
			}
			u.sum[u.slot] += rowLoss[t*b.Streams+s]
			u.count[u.slot]++
		}
	}
}

// stdErr is the standard error of the ratio mean = Σ sum / Σ count over the
// comments (see Eval.StdErr).
func (u *commentSums) stdErr(mean float64) float64 {
	c := len(u.sum)
	if c < 2 {
		return math.NaN()
	}
	var dev, total float64
	for j, s := range u.sum {
		d := s - mean*u.count[j]
		dev += d * d
		total += u.count[j]
	}
	return math.Sqrt(float64(c)/float64(c-1)*dev) / total
}

// UnigramLoss is the baseline a language model must beat: the cross-entropy
// (nats per token) on valid's targets of the unigram distribution of train's
// targets, p(w) = (count(w)+1)/(N+V) (add-one smoothing, so unseen held-out
// tokens cost log(N+V) instead of infinity). Both are read from their current
// position to the end of the epoch (or maxBatches each, when > 0).
func UnigramLoss(ctx context.Context, train, valid Batches, vocabSize, maxBatches int) (Eval, error) {
	if vocabSize < 1 {
		return Eval{}, fmt.Errorf("%w: vocabulary size %d", ErrConfig, vocabSize)
	}
	counts := make([]int64, vocabSize)
	var total int64
	each := func(b Batches, fn func(y int)) error {
		var batch tokens.Batch
		for i := 0; maxBatches <= 0 || i < maxBatches; i++ {
			err := b.Next(ctx, &batch)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("model: unigram loss: %w", err)
			}
			for _, y := range batch.Targets {
				if y >= vocabSize {
					return fmt.Errorf("%w: token id %d outside the vocabulary of %d", ErrBatch, y, vocabSize)
				}
				if y >= 0 {
					fn(y)
				}
			}
		}
		return nil
	}
	if err := each(train, func(y int) { counts[y]++; total++ }); err != nil {
		return Eval{}, err
	}
	var sum float64
	var n int64
	denom := math.Log(float64(total + int64(vocabSize)))
	if err := each(valid, func(y int) { sum += denom - math.Log(float64(counts[y]+1)); n++ }); err != nil {
		return Eval{}, err
	}
	if n == 0 {
		return Eval{Loss: math.NaN(), StdErr: math.NaN()}, nil
	}
	return Eval{Loss: sum / float64(n), Tokens: n, StdErr: math.NaN()}, nil
}
