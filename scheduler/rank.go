package scheduler

import (
	"context"
	"math"
	"time"

	"commentbot/corpus"
)

// Score is a live version on the scale every model shares: bits per
// character (Eval) on the comparison set — the first EvalLimit comments of
// the store's validation split, the same comments for every model.
type Score struct {
	Version     int
	BitsPerChar float64
	Comments    int   // held-out comments measured
	Chars       int64 // their characters
	At          time.Time
}

// Scores returns the latest score of every model measured since start-up
// (all are measured again whenever a version goes live); a score is for the
// version it names, which may be older than the live one for a moment.
func (s *Scheduler) Scores() map[string]Score {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]Score, len(s.scores))
	for k, v := range s.scores {
		out[k] = v
	}
	return out
}

// DefaultModel is the model /comment uses when none is named, and why: the
// configured bot.default_model when it is ready, else the ready model with
// the lowest bits per character on the comparison set (every ready model
// scored for its live version), else the first ready model of the config.
// "" when no model is ready.
func (s *Scheduler) DefaultModel() (name, why string) {
	cfg := s.Config()
	ready := s.live.Names()
	isReady := map[string]bool{}
	for _, n := range ready {
		isReady[n] = true
	}
	if d := cfg.Bot.DefaultModel; d != "" && isReady[d] {
		return d, "bot.default_model"
	}
	scores := s.Scores()
	best, bestBPC := "", math.Inf(1)
	for _, n := range ready {
		// Right after a promotion a score may be the previous version's for a
		// moment: it stands until the rescore that promotion started ends.
		sc, ok := scores[n]
		if !ok || !finite(sc.BitsPerChar) {
			best = ""
			break // not every ready model is measured yet: no ranking
		}
		if sc.BitsPerChar < bestBPC {
			best, bestBPC = n, sc.BitsPerChar
		}
	}
	if best != "" {
		return best, "lowest held-out bits per character"
	}
	for _, mc := range cfg.Models {
		if isReady[mc.Name] {
			return mc.Name, "first ready model of the config (not every model is measured yet)"
		}
	}
	return "", ""
}

// rescoreSoon measures every live model on the comparison set in the
// background, once the scheduler runs: now, and again after a pass that
// another publication overtook.
func (s *Scheduler) rescoreSoon() {
	s.mu.Lock()
	if !s.started || s.rescoring {
		s.rescoreAgain = s.rescoring
		s.mu.Unlock()
		return
	}
	s.rescoring = true
	s.mu.Unlock()
	ctx, done, err := s.begin(s.ctx)
	if err != nil {
		s.mu.Lock()
		s.rescoring = false
		s.mu.Unlock()
		return
	}
	go func() {
		defer done()
		for {
			s.rescore(ctx)
			s.mu.Lock()
			again := s.rescoreAgain && ctx.Err() == nil
			s.rescoreAgain, s.rescoring = false, again
			s.mu.Unlock()
			if !again {
				return
			}
		}
	}()
}

// rescore measures every ready model's live version on the comparison set.
func (s *Scheduler) rescore(ctx context.Context) {
	cfg := s.Config()
	set := s.store.Comments(corpus.Filter{Split: corpus.Validation, ValidFraction: cfg.Corpus.ValidationFraction, Limit: s.opts.EvalLimit})
	for _, st := range s.live.Models() {
		if st.Live == nil || ctx.Err() != nil {
			continue
		}
		// A clone: evaluation never shares scratch space with generations.
		ev, err := st.Live.Model.Clone().Evaluate(ctx, set)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("cannot measure the model on the held-out comments", "model", st.Config.Name, "err", err)
			}
			continue
		}
		sc := Score{Version: st.Live.Version, BitsPerChar: ev.BitsPerChar, Comments: ev.Comments, Chars: ev.Chars, At: s.now()}
		s.mu.Lock()
		s.scores[st.Config.Name] = sc
		s.mu.Unlock()
		if finite(ev.BitsPerChar) {
			s.met.bitsPerChar.WithLabelValues(st.Config.Name).Set(ev.BitsPerChar)
		}
		s.log.Info("measured on the held-out comments", "model", st.Config.Name, "version", sc.Version,
			"bits_per_char", ev.BitsPerChar, "comments", ev.Comments)
	}
}
