package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
)

// Eval is the result of evaluating a model on held-out batches.
type Eval struct {
	// Loss is the mean cross-entropy per target token, in nats.
	Loss float64
	// Tokens is the number of targets the loss is averaged over.
	Tokens int64
}

// Perplexity returns exp(Loss), the usual figure for word models.
func (e Eval) Perplexity() float64 { return math.Exp(e.Loss) }

// BitsPerToken returns Loss/ln 2: bits per character for char models.
func (e Eval) BitsPerToken() float64 { return e.Loss / math.Ln2 }

// Evaluate returns the mean loss per target token of m over the batches from
// b's current position up to the end of the epoch (io.EOF), or over at most
// maxBatches batches when maxBatches > 0. Dropout is off; the hidden state
// starts at zero and is carried from batch to batch, as in training. Any
// batch shape works.
func (m *LM) Evaluate(ctx context.Context, b Batches, maxBatches int) (Eval, error) {
	var (
		w     *work[float32]
		batch Batch
		sum   float64
		n     int64
	)
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
			defer w.close()
		}
		if !w.load(batch.Inputs, batch.Targets) {
			return Eval{}, fmt.Errorf("%w: token id outside the vocabulary of %d", ErrBatch, m.lo.vocab)
		}
		loss, count := w.forward(m.be, m.p, false, 0, nil)
		w.carry()
		sum += loss
		n += int64(count)
	}
	if n == 0 {
		return Eval{Loss: math.NaN()}, nil
	}
	return Eval{Loss: sum / float64(n), Tokens: n}, nil
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
		var batch Batch
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
		return Eval{Loss: math.NaN()}, nil
	}
	return Eval{Loss: sum / float64(n), Tokens: n}, nil
}
