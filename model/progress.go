package model

import (
	"math"
	"time"
)

// Progress is a training progress report.
type Progress struct {
	Event       string  // "step", "eval" or "done"
	Step        int64   // optimizer steps so far (counting resumed ones)
	Epoch       int     // completed epochs
	Tokens      int64   // training targets so far
	Loss        float64 // training loss, exponential moving average over steps (nats/token)
	ValidLoss   float64 // last held-out loss (NaN if none yet)
	ValidStdErr float64 // its standard error over comments (NaN if unknown)
	// Gain is ValidLoss minus the loss of the last significant improvement
	// (Plateau's reference; negative: better), GainStdErr its paired
	// standard error (Eval.DiffStdErr); NaN when unknown.
	Gain, GainStdErr float64
	BestValid        float64 // best held-out loss of the run (+Inf if none yet)
	LR               float64 // current learning rate
	TokensPerSec     float64 // training throughput of this call
	Elapsed          time.Duration
	// ETA is the time left until the first budget is reached; −1 when the
	// budget is unbounded or not yet estimable (MaxEpochs before one epoch).
	ETA time.Duration
	// Fraction of the budget done in [0, 1], or −1 when unknown.
	Fraction float64
}

func (t *trainer) report(event string, force bool) {
	if t.o.Progress == nil {
		return
	}
	now := t.o.Now()
	if !force && now.Sub(t.lastReport) < t.o.ProgressEvery {
		return
	}
	t.lastReport = now
	st := &t.cp.State
	el := now.Sub(t.start)
	p := Progress{Event: event, Step: st.Step, Epoch: st.Epoch, Tokens: st.Tokens, Loss: t.ema,
		ValidLoss: t.lastValid, ValidStdErr: t.lastStdErr, Gain: t.gain, GainStdErr: t.gainStdErr, BestValid: st.BestValid, LR: st.LR,
		Elapsed: el, ETA: -1, Fraction: -1}
	if t.steps == 0 {
		p.Loss = math.NaN()
	}
	if sec := now.Sub(t.rateStart).Seconds(); sec > 0 {
		p.TokensPerSec = float64(t.rateTokens) / sec
	}
	eta := time.Duration(-1)
	better := func(d time.Duration) {
		if d >= 0 && (eta < 0 || d < eta) {
			eta = d
		}
	}
	if t.o.MaxDuration > 0 {
		better(max(t.o.MaxDuration-el, 0))
	}
	if t.steps > 0 {
		perStep := el / time.Duration(t.steps)
		if t.o.MaxSteps > 0 {
			better(time.Duration(max(t.o.MaxSteps-st.Step, 0)) * perStep)
		}
		if t.o.MaxEpochs > 0 && t.stepsEpoch > 0 {
			left := int64(t.o.MaxEpochs-st.Epoch)*t.stepsEpoch - t.epochSteps
			better(time.Duration(max(left, 0)) * perStep)
		}
	}
	if event == "done" {
		eta = 0
	}
	if eta >= 0 {
		p.ETA = eta
		if tot := el + eta; tot > 0 {
			p.Fraction = float64(el) / float64(tot)
		} else {
			p.Fraction = 1
		}
	}
	t.o.Progress(p)
}
