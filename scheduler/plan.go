package scheduler

import (
	"context"
	"fmt"
	"math"
	"time"

	"commentbot/corpus"
	"commentbot/scheduler/runs"
)

// FineTunePlan is the budget of one fine-tune.
type FineTunePlan struct {
	// Steps is one pass over the fresh and replayed comments in batches of the
	// lineage's shape (the run also stops at the end of that pass: MaxEpochs 1).
	Steps int
	// Cap is schedule.fine_tune_minutes: the run stops there whatever is left.
	Cap time.Duration
	// Speed is the training speed measured on the model's last run (tokens/s;
	// 0 when it has none yet), FreshTokens and ReplayTokens the pass's tokens.
	Speed                     float64
	FreshTokens, ReplayTokens int64
	// ReplayCut is how many replayed comments were left out so that the fresh
	// ones fit in the cap at the measured speed.
	ReplayCut int
}

// fitShare is the share of the cap a pass is planned to fill: held-out
// evaluations during a run take some of its time (about 5% at the default
// cadence), and the measured speed varies with the machine's load.
const fitShare = 0.85

// planFineTune sizes a fine-tune from its tokens and the measured speed: one
// pass over every fresh and replayed token, in steps of batch tokens, within
// cap. When the pass would not fit (fresh + replay > fitShare · speed · cap),
// replayed comments are left out first — the fresh ones are what the run is
// for — in proportion to their tokens; when the fresh ones alone do not fit,
// the cap stops the run and its record says which share of them it learned.
// An unknown speed (0) plans the whole pass and lets the cap decide.
func planFineTune(freshTok, replayTok int64, replay int, speed float64, cap time.Duration, batch int) FineTunePlan {
	p := FineTunePlan{Cap: cap, Speed: speed, FreshTokens: freshTok, ReplayTokens: replayTok}
	if room := int64(fitShare * speed * cap.Seconds()); speed > 0 && freshTok+replayTok > room && replayTok > 0 {
		keep := float64(max(room-freshTok, 0)) / float64(replayTok)
		p.ReplayCut = replay - int(math.Floor(keep*float64(replay)))
		p.ReplayTokens = int64(keep * float64(replayTok))
	}
	p.Steps = int(max(1, (p.FreshTokens+p.ReplayTokens+int64(batch)-1)/int64(batch)))
	return p
}

// planFor plans a fine-tune of ld (planFineTune) with the model's own token
// counts and batch shape and the speed of its last training run.
func (s *Scheduler) planFor(ctx context.Context, ld *Loaded, fresh, replay []corpus.Comment, capMinutes float64) (FineTunePlan, error) {
	ft, err := ld.Model.Tokens(ctx, corpus.SliceSource(fresh))
	if err != nil {
		return FineTunePlan{}, fmt.Errorf("count fresh tokens: %w", err)
	}
	rt, err := ld.Model.Tokens(ctx, corpus.SliceSource(replay))
	if err != nil {
		return FineTunePlan{}, fmt.Errorf("count replay tokens: %w", err)
	}
	sp := ld.Model.Spec()
	batch := max(sp.Streams*sp.Steps, 1)
	return planFineTune(ft, rt, len(replay), s.trainSpeed(ctx, ld.Name), time.Duration(capMinutes*float64(time.Minute)), batch), nil
}

// trainSpeed is the training speed (tokens/s) of the newest run of name that
// trained and recorded its training time; 0 when there is none.
func (s *Scheduler) trainSpeed(ctx context.Context, name string) float64 {
	rs, err := s.store.Runs(ctx, "", 200)
	if err != nil {
		return 0
	}
	for _, r := range rs {
		if r.Model != name || r.Outcome == runs.OutcomeError || r.Outcome == runs.OutcomeCancelled {
			continue
		}
		if tok, sec := r.Figures["tokens_trained"], r.Figures["train_seconds"]; tok > 0 && sec > 0 {
			return tok / sec
		}
	}
	return 0
}
