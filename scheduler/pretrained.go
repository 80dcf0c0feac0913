package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"commentbot/config"
)

// Pretrained is a checkpoint shipped with the binary (package pretrained)
// that a model of the same kind and shape starts its lineage from, instead
// of training from scratch.
type Pretrained struct {
	Kind   string
	Embed  int // 0: one-hot input
	Hidden []int
	// VocabHash is the vocabulary the manifest records; the decoded
	// checkpoint must have it.
	VocabHash string
	// Summary says what it was trained on ("pretrained on … (N steps)").
	Summary       string
	Steps         int
	TokensTrained int64
	Data          []byte // the checkpoint (Model.Encode)
}

// pretrainedFor returns the shipped checkpoint mc starts from, or nil and
// why none does.
func (s *Scheduler) pretrainedFor(mc config.ModelConfig) (*Pretrained, string) {
	if !mc.Pretrained {
		return nil, "pretrained: false in its config"
	}
	if len(s.opts.Pretrained) == 0 {
		return nil, "this build ships no pretrained models"
	}
	want := ModelConfig(mc)
	for i := range s.opts.Pretrained {
		p := &s.opts.Pretrained[i]
		if p.Kind != mc.Kind {
			continue
		}
		if p.Embed != want.Embed || !slices.Equal(p.Hidden, want.Hidden) {
			return nil, fmt.Sprintf("the shipped %s has embedding %d and hidden layers %v, the config says embedding %d and hidden %v",
				p.Kind, p.Embed, p.Hidden, want.Embed, want.Hidden)
		}
		return p, ""
	}
	return nil, fmt.Sprintf("this build ships no %s model", mc.Kind)
}

// installPretrained makes a shipped checkpoint the first version of mc's
// lineage: decoded and checked like any checkpoint (kind, level, sizes, the
// manifest's vocabulary hash), given mc's training hyper-parameters
// (Engine.Adopt: dropout, learning rate, batch shape… are the config's, not the
// pretraining run's), saved as the next version with job "pretrained" and made
// live. It has seen none of the store's comments (DataUntil zero), so the next
// fine-tune trains on all of them.
func (s *Scheduler) installPretrained(ctx context.Context, mc config.ModelConfig, p *Pretrained) (Model, VersionInfo, error) {
	m, err := s.engine.Decode(bytes.NewReader(p.Data))
	if err != nil {
		return nil, VersionInfo{}, fmt.Errorf("shipped %s checkpoint: %w", p.Kind, err)
	}
	if err := Check(mc, VersionInfo{VocabHash: p.VocabHash}, m); err != nil {
		return nil, VersionInfo{}, fmt.Errorf("shipped %s checkpoint: %w", p.Kind, err)
	}
	if m, err = s.engine.Adopt(mc, m, s.nextSeed()); err != nil {
		return nil, VersionInfo{}, fmt.Errorf("shipped %s checkpoint: %w", p.Kind, err)
	}
	info, err := s.repo.Save(ctx, mc.Name, m, VersionInfo{Job: JobPretrained, Created: s.now(), VocabHash: m.VocabHash(),
		TokensTrained: p.TokensTrained, Steps: p.Steps, Pretrained: p.Summary})
	if err != nil {
		return nil, VersionInfo{}, err
	}
	if err := s.repo.SetLive(ctx, mc.Name, info.Version, 0); err != nil {
		return nil, VersionInfo{}, err
	}
	info.Live = true
	return m, info, nil
}

// startPretrained serves mc from its shipped checkpoint at once — installed as
// the first version of its lineage — and fine-tunes it on the store's comments
// in the background, through the usual gate. It returns false (and logs why)
// when no shipped checkpoint fits mc or it cannot be installed: the caller
// then trains from scratch.
func (s *Scheduler) startPretrained(ctx context.Context, mc config.ModelConfig) bool {
	p, why := s.pretrainedFor(mc)
	if p == nil {
		s.log.Info("no pretrained checkpoint for this model; training it from scratch", "model", mc.Name, "kind", mc.Kind, "why", why)
		return false
	}
	m, info, err := s.installPretrained(ctx, mc, p)
	if err != nil {
		s.log.Warn("the shipped checkpoint cannot be installed; training from scratch", "model", mc.Name, "err", err)
		return false
	}
	s.log.Info("installed the pretrained model; fine-tuning it on the stored comments in the background",
		"model", mc.Name, "version", info.Version, "origin", p.Summary)
	s.publish(mc.Name, info.Version, info, m)
	s.writePlot(ctx, mc.Name, info.Version, m)
	ctx, done, err := s.begin(s.ctx)
	if err != nil {
		return true
	}
	go func() {
		defer done()
		if _, err := s.FineTune(ctx, mc.Name); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
			s.log.Error("the first fine-tune of the pretrained model failed; it serves as shipped", "model", mc.Name, "err", err)
		}
	}()
	return true
}
