package model

import (
	"fmt"
	"slices"

	"commentbot/tokens"
)

// Adopt starts a new lineage from trained weights: a Checkpoint whose model
// has m's weights and vocabulary but cfg's training hyper-parameters
// (dropout, learning rate and its decay, Adam's constants, clipping, the
// batch shape, patience, the temperature limit), with a fresh optimizer, a
// new training state and no metrics — what a shipped, pretrained
// checkpoint becomes when a model of the same shape starts from it. cfg must
// have m's kind, embedding width and layer widths (the weights' shape);
// otherwise the error wraps ErrConfig.
func Adopt(m *LM, cfg Config, seed uint64) (*Checkpoint, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: adopt a nil model", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Kind != m.cfg.Kind || cfg.Embed != m.cfg.Embed || !slices.Equal(cfg.Hidden, m.cfg.Hidden) {
		return nil, fmt.Errorf("%w: adopt a %s (embed %d, hidden %v) as a %s (embed %d, hidden %v)", ErrConfig,
			m.cfg.Kind, m.cfg.Embed, m.cfg.Hidden, cfg.Kind, cfg.Embed, cfg.Hidden)
	}
	a := newLM(cfg.clone(), m.voc)
	copy(a.w, m.w)
	return NewCheckpoint(a, seed), nil
}

// Serving returns the part of c that sampling and evaluation need: the
// weights and vocabulary, the training history (small) and the step and
// token counts, without the optimizer moments, the carried state and the
// data position — a third of the size of a training checkpoint, for
// shipping a model. It shares nothing with c.
func (c *Checkpoint) Serving() *Checkpoint {
	s := c.Clone()
	s.Optimizer = nil
	s.State.Carry = nil
	s.State.Position = tokens.Position{}
	return s
}
