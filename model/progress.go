package model

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"time"
)

// Progress is a training progress report.
type Progress struct {
	Event        string  // "step", "eval" or "done"
	Step         int64   // optimizer steps so far (counting resumed ones)
	Epoch        int     // completed epochs
	Tokens       int64   // training targets so far
	Loss         float64 // training loss, exponential moving average over steps (nats/token)
	ValidLoss    float64 // last held-out loss (NaN if none yet)
	ValidStdErr  float64 // its standard error over comments (NaN if unknown)
	BestValid    float64 // best held-out loss of the run (+Inf if none yet)
	LR           float64 // current learning rate
	TokensPerSec float64 // training throughput of this call
	Elapsed      time.Duration
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
		ValidLoss: t.lastValid, ValidStdErr: t.lastStdErr, BestValid: st.BestValid, LR: st.LR,
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

// NewProgressReporter returns a Progress callback for Train. When terminal
// is true it redraws one progress-bar line on w (carriage return, newline
// when done); otherwise it writes a structured log line per report through
// logger (a text handler on w when logger is nil). The CLI decides terminal,
// e.g. with golang.org/x/term.IsTerminal on the *os.File.
func NewProgressReporter(w io.Writer, terminal bool, logger *slog.Logger) func(Progress) {
	if !terminal {
		if logger == nil {
			logger = slog.New(slog.NewTextHandler(w, nil))
		}
		return func(p Progress) {
			attrs := []any{"event", p.Event, "step", p.Step, "epoch", p.Epoch, "tokens", p.Tokens,
				"loss", round4(p.Loss), "valid_loss", round4(p.ValidLoss), "valid_stderr", round4(p.ValidStdErr), "lr", p.LR,
				"tokens_per_s", math.Round(p.TokensPerSec), "elapsed", p.Elapsed.Round(time.Second)}
			if p.ETA >= 0 {
				attrs = append(attrs, "eta", p.ETA.Round(time.Second))
			}
			logger.Info("train", attrs...)
		}
	}
	return func(p Progress) {
		fmt.Fprint(w, "\r"+ProgressLine(p, 24))
		if p.Event == "done" {
			fmt.Fprintln(w)
		}
	}
}

// ProgressLine renders p as one line with a bar of width cells, e.g.
//
//	[#########---------]  50% step 120 ep 1 loss 2.314 val 2.401±0.012 12345 tok/s ETA 3m10s
func ProgressLine(p Progress, width int) string {
	var b strings.Builder
	if p.Fraction >= 0 {
		n := int(math.Round(p.Fraction * float64(width)))
		n = min(max(n, 0), width)
		fmt.Fprintf(&b, "[%s%s] %3.0f%% ", strings.Repeat("#", n), strings.Repeat("-", width-n), 100*p.Fraction)
	}
	fmt.Fprintf(&b, "step %d ep %d loss %.3f", p.Step, p.Epoch, p.Loss)
	if !math.IsNaN(p.ValidLoss) {
		fmt.Fprintf(&b, " val %.3f", p.ValidLoss)
		if p.ValidStdErr > 0 {
			fmt.Fprintf(&b, "±%.3f", p.ValidStdErr)
		}
	}
	fmt.Fprintf(&b, " %.0f tok/s", p.TokensPerSec)
	if p.ETA >= 0 {
		fmt.Fprintf(&b, " ETA %s", p.ETA.Round(time.Second))
	}
	b.WriteString("   ") // wipe the tail of a longer previous line
	return b.String()
}

func round4(x float64) float64 { return math.Round(x*1e4) / 1e4 }
