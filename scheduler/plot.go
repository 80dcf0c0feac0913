package scheduler

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// LossPlot draws a model's training curve (training loss and, where measured,
// held-out loss, in nats per token against optimizer steps) as a PNG.
func LossPlot(title string, hist []LossPoint) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "step"
	p.Y.Label.Text = "loss (nats/token)"
	var train, valid plotter.XYs
	for _, h := range hist {
		if finite(h.Loss) {
			train = append(train, plotter.XY{X: float64(h.Step), Y: h.Loss})
		}
		if finite(h.ValidLoss) {
			valid = append(valid, plotter.XY{X: float64(h.Step), Y: h.ValidLoss})
		}
	}
	if len(train) > 0 {
		l, err := plotter.NewLine(train)
		if err != nil {
			return nil, fmt.Errorf("scheduler: loss plot: %w", err)
		}
		l.Color = color.RGBA{R: 31, G: 119, B: 180, A: 255}
		p.Add(l)
		p.Legend.Add("train", l)
	}
	if len(valid) > 0 {
		l, err := plotter.NewLine(valid)
		if err != nil {
			return nil, fmt.Errorf("scheduler: loss plot: %w", err)
		}
		l.Color = color.RGBA{R: 214, G: 39, B: 40, A: 255}
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add("held-out", l)
	}
	p.Add(plotter.NewGrid())
	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return nil, fmt.Errorf("scheduler: loss plot: %w", err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("scheduler: loss plot: %w", err)
	}
	return buf.Bytes(), nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
