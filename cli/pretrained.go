package cli

import (
	"errors"
	"log/slog"

	"commentbot/pretrained"
	"commentbot/scheduler"
)

// shippedModels adapts the checkpoints embedded in the binary (package
// pretrained) to the scheduler. A build without any has none; a manifest that
// does not describe its files is logged and ignored (models then train from
// scratch).
func shippedModels(env Env, log *slog.Logger) []scheduler.Pretrained {
	ms, err := loadShipped(env)
	if errors.Is(err, pretrained.ErrNone) {
		return nil
	}
	if err != nil {
		log.Error("the pretrained models of this build cannot be used", "err", err)
		return nil
	}
	out := make([]scheduler.Pretrained, 0, len(ms))
	for _, m := range ms {
		out = append(out, scheduler.Pretrained{Kind: m.Kind, Embed: m.Embed, Hidden: m.Hidden, VocabHash: m.VocabHash,
			Summary: m.Summary(), Steps: int(m.Steps), TokensTrained: m.TokensTrained, Data: m.Data})
	}
	return out
}

// loadShipped loads env's shipped checkpoints: env.Pretrained, else the
// binary's own.
func loadShipped(env Env) ([]pretrained.Model, error) {
	if env.Pretrained != nil {
		return pretrained.LoadFS(env.Pretrained)
	}
	return pretrained.Load()
}
