package scheduler

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The learning curve shows training and held-out loss against tokens, the
// rate below, the plateaus (orange, dashed) and the end of the run (grey):
// the PNG decodes and each of those colours is drawn. Set
// COMMENTBOT_PLOT_DIR to keep the image for a look.
func TestLossPlotMarksRateChangesAndStop(t *testing.T) {
	var hist []LossPoint
	lr := 0.001
	for i := range 60 {
		p := LossPoint{Step: int64(10 * i), Tokens: int64(10_240 * i), Loss: 3 - 1.2*(1-math.Exp(-float64(i)/10)),
			ValidLoss: math.NaN(), StdErr: math.NaN(), LR: lr}
		if i%3 == 0 {
			p.ValidLoss, p.StdErr = p.Loss+0.1+0.02*math.Sin(float64(i)), 0.015
		}
		switch i {
		case 30, 45:
			p.Event, lr = "lr-reduced", lr/2
			p.LR = lr
		case 59:
			p.Event = "early-stop"
		}
		hist = append(hist, p)
	}
	data, err := LossPlot("char v3", hist)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if dir := os.Getenv("COMMENTBOT_PLOT_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "loss.png"), data, 0o644)
	}
	for name, c := range map[string]color.RGBA{"training loss": trainColor, "held-out loss": validColor,
		"rate reduction": reduceColor, "stop": stopColor} {
		if n := countColor(img, c); n < 50 {
			t.Errorf("%s: %d pixels of its colour, want a drawn line", name, n)
		}
	}
	// An empty history still draws (a model that has not trained yet).
	if _, err := LossPlot("empty", nil); err != nil {
		t.Errorf("empty history: %v", err)
	}
}

// near allows for anti-aliasing.
func near(got uint32, want uint8) bool { return max(got, uint32(want))-min(got, uint32(want)) <= 24 }

func countColor(img image.Image, want color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, want.R) && near(g>>8, want.G) && near(bl>>8, want.B) {
				n++
			}
		}
	}
	return n
}
