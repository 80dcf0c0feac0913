package model

import (
	"context"
	"fmt"
	"math"

	"commentbot/text"
)

// Quality compares a model's held-out loss with the unigram baseline.
type Quality struct {
	Kind Kind
	// Valid is the model's held-out loss.
	Valid Eval
	// Unigram is the loss of the training unigram distribution on the same
	// held-out tokens (see UnigramLoss): a model must beat it.
	Unigram Eval
}

// String renders q on one line: nats per token, and perplexity for word
// models or bits per character for char models.
func (q Quality) String() string {
	if q.Kind.Level() == text.LevelChar {
		return fmt.Sprintf("%s: held-out %.4f nats/char (%.3f bits/char) over %d chars; unigram baseline %.4f nats/char (%.3f bits/char)",
			q.Kind, q.Valid.Loss, q.Valid.BitsPerToken(), q.Valid.Tokens, q.Unigram.Loss, q.Unigram.BitsPerToken())
	}
	return fmt.Sprintf("%s: held-out %.4f nats/word (perplexity %.1f) over %d words; unigram baseline %.4f nats/word (perplexity %.1f)",
		q.Kind, q.Valid.Loss, q.Valid.Perplexity(), q.Valid.Tokens, q.Unigram.Loss, q.Unigram.Perplexity())
}

// MeasureQuality evaluates m on valid and computes the unigram baseline from
// train, both from their current positions to the end of their epochs (or
// maxBatches each when > 0). valid is rewound to where it started between the
// two passes.
func MeasureQuality(ctx context.Context, m *LM, train, valid Batches, maxBatches int) (Quality, error) {
	start := valid.Position()
	q := Quality{Kind: m.cfg.Kind}
	var err error
	if q.Unigram, err = UnigramLoss(ctx, train, valid, m.VocabSize(), maxBatches); err != nil {
		return Quality{}, err
	}
	if err := valid.Seek(ctx, start); err != nil {
		return Quality{}, fmt.Errorf("model: quality: rewind held-out data: %w", err)
	}
	if q.Valid, err = m.Evaluate(ctx, valid, maxBatches); err != nil {
		return Quality{}, err
	}
	if math.IsNaN(q.Valid.Loss) {
		return q, fmt.Errorf("%w: no held-out targets", ErrBatch)
	}
	return q, nil
}
