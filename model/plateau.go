package model

import (
	"fmt"
	"math"
)

// Schedule names how the learning rate moves over a Train call's budget.
type Schedule string

// The learning-rate schedules.
const (
	// ScheduleConstant keeps the rate at the run's peak (until a plateau
	// lowers it).
	ScheduleConstant Schedule = "constant"
	// ScheduleCosine lowers the rate from the peak to CosineFloor × peak at
	// the end of the budget: with p ∈ [0, 1] the share of the budget spent
	// (time, steps or epochs, whichever is furthest along),
	//
	//	lr(p) = peak · (f + (s − f) · (1 + cos πp)/2)
	//
	// where f = CosineFloor and s the schedule's factor when the call began
	// (1 for a new run; a resumed run goes on from where it was).
	ScheduleCosine Schedule = "cosine"
	// ScheduleAnneal keeps the peak for the first AnnealStart of the budget,
	// then follows the cosine over the rest: p above becomes
	// (p − AnnealStart)/(1 − AnnealStart).
	ScheduleAnneal Schedule = "anneal"
)

// CosineFloor is the share of the peak rate the decaying schedules end at;
// AnnealStart the share of the budget ScheduleAnneal spends at the peak.
const (
	CosineFloor = 0.1
	AnnealStart = 0.8
)

func (s Schedule) validate() error {
	switch s {
	case "", ScheduleConstant, ScheduleCosine, ScheduleAnneal:
		return nil
	}
	return fmt.Errorf("%w: learning-rate schedule %q is not %q, %q or %q", ErrConfig, s, ScheduleConstant, ScheduleCosine, ScheduleAnneal)
}

// factor is the schedule's multiplier of the peak at progress p ∈ [0, 1]
// (p < 0: unknown), starting from s0.
func (s Schedule) factor(s0, p float64) float64 {
	if s == ScheduleAnneal {
		p = (p - AnnealStart) / (1 - AnnealStart)
	}
	if (s != ScheduleCosine && s != ScheduleAnneal) || s0 <= CosineFloor || p <= 0 {
		return s0
	}
	return CosineFloor + (s0-CosineFloor)*(1+math.Cos(math.Pi*min(p, 1)))/2
}

// Plateau says when a flat held-out curve lowers the learning rate and when
// it ends the run. An evaluation improves significantly when its loss is
// below the last significant one (the reference) by more than Significance
// standard errors of their difference (at least MinDelta). Both read the same
// held-out comments, so the error is the paired one, Eval.DiffStdErr; when
// the per-comment losses are not at hand (a resumed run's reference, a
// HeldOut seam that keeps none) it is the evaluation's own standard error
// over comments, and a resumed run takes its first evaluation that does not
// improve as the new reference's comments. When Patience's share of the budget passes
// without one, the run is on a plateau: the best weights are restored and
// the rate is multiplied by ReduceFactor, up to Reductions times; the next
// plateau stops the run (StopEarly) on the best weights.
//
// A held-out loss that is not finite, or one above the best by more than
// max(DivergeRise, 10 standard errors) while the training loss (its moving
// average) rose by at least half as much since the best — both curves going
// up: a rate too high — stops the run at once (StopDiverged), also on the
// best weights. One that rises that far alone is weights whose start state
// locks (see Evaluate): no improvement, and no plateau decision either —
// the next ordinary evaluation makes it (overfitting rises by far less).
type Plateau struct {
	// Patience is the share of the budget, in training tokens, that may pass
	// without a significant improvement (0 means DefaultPatience). Without a
	// known budget — no limit, or epochs before the first one ends — it is
	// that share of the tokens trained so far in the call.
	Patience float64
	// MinEvals is the least patience in evaluation intervals (0 means
	// Config.Patience; both 0: flat curves never lower the rate or stop).
	MinEvals int
	// Reductions is how many plateaus lower the rate before one stops the
	// run (0 means DefaultReductions; negative: none, the first stops it).
	Reductions int
	// MinDelta is the least improvement that counts, in nats per token,
	// when the standard error is smaller or unknown (0 means 0.001).
	MinDelta float64
}

// Defaults of Plateau and the size of a reduction.
const (
	DefaultPatience   = 0.1
	DefaultReductions = 3
	// ReduceFactor multiplies the rate at each plateau (Mikolov's RNNLM
	// recipe: halve the rate when the held-out gain stalls, stop when
	// halving no longer helps).
	ReduceFactor = 0.5
	// DivergeRise is the least rise of the held-out loss above the best
	// (nats per token) that counts as divergence.
	DivergeRise = 0.5
	// Significance is how many paired standard errors an improvement must
	// exceed (one-sided, about 2% of chance improvements pass).
	Significance = 2.0
)

func (p Plateau) withDefaults(cfg Config) Plateau {
	if !(p.Patience > 0) {
		p.Patience = DefaultPatience
	}
	if p.MinEvals <= 0 {
		p.MinEvals = cfg.Patience
	}
	switch {
	case p.Reductions == 0:
		p.Reductions = DefaultReductions
	case p.Reductions < 0:
		p.Reductions = 0
	}
	if !(p.MinDelta > 0) {
		p.MinDelta = 0.001
	}
	return p
}

// rate is the learning rate of the next step: the peak, times the
// schedule's factor at the budget's progress, times ReduceFactor per
// plateau.
func (t *trainer) rate() float64 {
	st := &t.cp.State
	f := t.scale0
	if t.o.Schedule == ScheduleCosine || t.o.Schedule == ScheduleAnneal {
		f = t.o.Schedule.factor(f, t.progress())
	}
	return st.PeakLR * f * math.Pow(ReduceFactor, float64(st.Plateau.Reductions))
}

// startScale is the schedule's factor where the checkpoint's rate stands:
// 1 for a new run, less for a resumed one that had already decayed.
func (t *trainer) startScale() float64 {
	st := &t.cp.State
	base := st.PeakLR * math.Pow(ReduceFactor, float64(st.Plateau.Reductions))
	if !(base > 0) || !(st.LR > 0) {
		return 1
	}
	return min(st.LR/base, 1)
}

// progress is the share of this call's budget spent, in [0, 1]: the
// furthest along of time, steps and epochs; −1 when none is known.
func (t *trainer) progress() float64 {
	st, o := &t.cp.State, t.o
	p := -1.0
	if o.MaxDuration > 0 {
		p = max(p, float64(o.Now().Sub(t.start))/float64(o.MaxDuration))
	}
	if o.MaxSteps > t.step0 {
		p = max(p, float64(st.Step-t.step0)/float64(o.MaxSteps-t.step0))
	}
	if o.MaxEpochs > t.epoch0 {
		e := float64(st.Epoch - t.epoch0)
		if t.stepsEpoch > 0 {
			e += min(float64(t.epochSteps)/float64(t.stepsEpoch), 1)
		}
		p = max(p, e/float64(o.MaxEpochs-t.epoch0))
	}
	return min(p, 1)
}

// patience is how many training tokens may pass without a significant
// improvement: Plateau.Patience of the budget in tokens (estimated from the
// progress so far), and at least MinEvals evaluation intervals.
func (t *trainer) patience() int64 {
	run := float64(t.cp.State.Tokens - t.tokens0)
	budget := run
	if p := t.progress(); p > 0 {
		budget = run / p
	}
	perStep := float64(t.w.B * t.w.T)
	interval := float64(t.o.EvalEvery) * perStep
	if t.o.EvalEvery == 0 {
		interval = float64(t.stepsEpoch) * perStep
	}
	return int64(max(t.plateau.Patience*budget, float64(t.plateau.MinEvals)*interval))
}

// observe applies one held-out evaluation to the run and returns why the
// run must stop, or "". final (the budget's end) updates the best weights
// but lowers no rate.
func (t *trainer) observe(ev Eval, final bool) TrainStop {
	st := &t.cp.State
	pl := &st.Plateau
	if finite(ev.Loss) && (t.best == nil || ev.Loss < st.BestValid) {
		if t.best == nil {
			t.best = make([]float32, len(t.m.w))
		}
		copy(t.best, t.m.w)
		st.BestValid, pl.BestStdErr, t.emaAtBest, t.bestEval = ev.Loss, ev.StdErr, t.ema, ev
		pl.Best = Mark{Step: st.Step, Tokens: st.Tokens, Seconds: t.seconds()}
	}
	se := ev.StdErr
	if !finite(se) {
		se = 0
	}
	rise := ev.Loss - st.BestValid
	far := rise > max(DivergeRise, 10*se)
	if !finite(ev.Loss) || (far && t.ema-t.emaAtBest > rise/2) {
		t.detail = fmt.Sprintf("held-out loss %.4f against the best %.4f, training loss %.4f against %.4f there",
			ev.Loss, st.BestValid, t.ema, t.emaAtBest)
		t.restoreBest()
		return StopDiverged
	}
	t.gain, t.gainStdErr = math.NaN(), ev.DiffStdErr(t.ref)
	if finite(pl.Ref) {
		t.gain = ev.Loss - pl.Ref
	}
	if far {
		st.BadEvals++ // risen alone, far: a locked start state, not a plateau (no decision)
		return ""
	}
	if t.improves(ev, se) {
		pl.Ref, pl.RefTokens, st.BadEvals = ev.Loss, st.Tokens, 0
		t.ref = ev
	} else {
		st.BadEvals++
		if t.ref.comments == nil && ev.comments != nil && finite(pl.Ref) {
			pl.Ref, t.ref = ev.Loss, ev // a resumed run: pair from here on, patience running on
		}
	}
	if final || t.plateau.MinEvals <= 0 {
		return ""
	}
	waited, patience := st.Tokens-pl.RefTokens, t.patience()
	if waited < patience {
		return ""
	}
	t.restoreBest()
	if pl.Reductions >= t.plateau.Reductions {
		t.detail = fmt.Sprintf("no held-out improvement beyond %g standard errors in %d tokens (patience %d) after %d rate reductions",
			Significance, waited, patience, pl.Reductions)
		return StopEarly
	}
	pl.Reductions++
	pl.Ref, pl.RefTokens, st.BadEvals = st.BestValid, st.Tokens, 0
	t.ref = t.bestEval
	st.LR = t.rate()
	t.event = EventReduce
	return ""
}

// improves says whether ev is below the reference by more than Significance
// paired standard errors (se, ev's own, when they cannot be paired), and by
// at least MinDelta.
func (t *trainer) improves(ev Eval, se float64) bool {
	margin := se
	if d := ev.DiffStdErr(t.ref); finite(d) {
		margin = Significance * d
	}
	return ev.Loss < t.cp.State.Plateau.Ref-max(t.plateau.MinDelta, margin)
}

// restoreBest sets the weights back to the best evaluation's, if any.
func (t *trainer) restoreBest() {
	if t.best == nil {
		return
	}
	copy(t.m.w, t.best)
	copy(t.good, t.best)
	if st := &t.cp.State; st.Plateau.Best.Step != st.Step {
		t.restored = true
	}
}
