package cli

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"commentbot/scheduler"
)

// TestProgressLine: the terminal line shows each model (sorted) with a bar of
// the elapsed share of its budget and the figures TrainProgress.String writes,
// and nothing is drawn off a terminal.
func TestProgressLine(t *testing.T) {
	var out bytes.Buffer
	p := newProgressView(&out, true)
	p.models["word"] = scheduler.TrainProgress{Step: 120, Epoch: 1, Loss: 2.3141, ValidLoss: 2.4, ValidStdErr: 0.0123,
		Gain: -0.0104, GainStdErr: 0.0038, TokensPerSec: 12345, Elapsed: time.Minute, ETA: 3 * time.Minute}
	p.models["char"] = scheduler.TrainProgress{Step: 7, Loss: 3.5, ValidLoss: math.NaN(), TokensPerSec: 900,
		Elapsed: 3 * time.Minute, ETA: time.Minute}
	got := p.line(100)
	want := "char [#########---]  75% step 7 epoch 0 loss 3.500 900 tok/s ETA 1m0s | " +
		"word [###---------]  25% step 120 epoch 1 loss 2.314 held-out 2.400±0.012 (-0.0104±0.0038) 12345 tok/s ETA 3m0s"
	if got != want {
		t.Errorf("line =\n %q\nwant\n %q", got, want)
	}
	off := newProgressView(&out, false)
	off.update("word", p.models["word"])
	if out.Len() != 0 || strings.Contains(out.String(), "word") {
		t.Errorf("off a terminal the view drew %q", out.String())
	}
}
