package scheduler

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	trainColor  = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	validColor  = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	reduceColor = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	stopColor   = color.RGBA{R: 80, G: 80, B: 80, A: 255}
)

// LossPlot draws a model's learning curve as a PNG: above, the training loss
// and the held-out loss (with ± one standard error over comments, and the best
// point marked) in nats per token against training tokens; below, the learning
// rate. Dashed lines mark the plateaus that lowered the rate, solid ones the
// ends of runs, labelled with why they stopped.
func LossPlot(title string, hist []LossPoint) ([]byte, error) {
	losses, rates := plot.New(), plot.New()
	losses.Title.Text = title
	losses.Y.Label.Text = "loss (nats/token)"
	losses.Legend.Top = true             // loss curves fall: the top right is empty …
	losses.Legend.XOffs = -vg.Points(16) // … but for the labels of the run ends
	rates.Y.Label.Text = "learning rate"
	rates.X.Label.Text = "training tokens"
	for _, p := range []*plot.Plot{losses, rates} {
		p.X.Tick.Marker = tokenTicks{}
		p.Add(plotter.NewGrid())
	}
	if err := addCurves(losses, rates, hist); err != nil {
		return nil, fmt.Errorf("scheduler: loss plot: %w", err)
	}
	markEvents(losses, rates, hist)
	// One x range for both panels, from the lineage's start.
	losses.X.Min, losses.X.Max = 0, max(losses.X.Max, rates.X.Max)
	rates.X.Min, rates.X.Max = losses.X.Min, losses.X.Max

	const w, h = 7 * vg.Inch, 6 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	// Three rows: the losses take the first two, the rate the third.
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8), PadY: vg.Points(6)}
	cs := plot.Align([][]*plot.Plot{{losses}, {nil}, {rates}}, tiles, dc)
	top := cs[0][0]
	top.Min.Y = cs[1][0].Min.Y
	losses.Draw(top)
	rates.Draw(cs[2][0])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("scheduler: loss plot: %w", err)
	}
	return buf.Bytes(), nil
}

// addCurves adds the training and held-out losses and the rate.
func addCurves(losses, rates *plot.Plot, hist []LossPoint) error {
	var train, valid, lr plotter.XYs
	var errs plotter.YErrors
	best := -1
	for i, h := range hist {
		x := float64(h.Tokens)
		if finite(h.Loss) {
			train = append(train, plotter.XY{X: x, Y: h.Loss})
		}
		if finite(h.ValidLoss) {
			valid = append(valid, plotter.XY{X: x, Y: h.ValidLoss})
			se := h.StdErr
			if !finite(se) {
				se = 0
			}
			errs = append(errs, struct{ Low, High float64 }{se, se})
			if best < 0 || h.ValidLoss < hist[best].ValidLoss {
				best = i
			}
		}
		if finite(h.LR) && h.LR > 0 {
			lr = append(lr, plotter.XY{X: x, Y: h.LR})
		}
	}
	if len(train) > 0 {
		l, err := plotter.NewLine(train)
		if err != nil {
			return err
		}
		l.Color = trainColor
		losses.Add(l)
		losses.Legend.Add("train", l)
	}
	if len(valid) > 0 {
		l, err := plotter.NewLine(valid)
		if err != nil {
			return err
		}
		l.Color, l.Width = validColor, vg.Points(1.5)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{valid, errs})
		if err != nil {
			return err
		}
		eb.Color = validColor
		b, err := plotter.NewScatter(plotter.XYs{{X: float64(hist[best].Tokens), Y: hist[best].ValidLoss}})
		if err != nil {
			return err
		}
		b.Shape, b.Color, b.Radius = draw.PyramidGlyph{}, validColor, vg.Points(5)
		losses.Add(l, eb, b)
		losses.Legend.Add("held-out ± s.e.", l)
		losses.Legend.Add(fmt.Sprintf("best %.4f", hist[best].ValidLoss), b)
	}
	if len(lr) > 0 {
		l, err := plotter.NewLine(lr)
		if err != nil {
			return err
		}
		l.Color = trainColor
		rates.Add(l)
	}
	return nil
}

// markEvents draws the rate reductions and run ends on both panels.
func markEvents(losses, rates *plot.Plot, hist []LossPoint) {
	var reduced, ended bool
	for _, h := range hist {
		x := float64(h.Tokens)
		switch h.Event {
		case "":
			continue
		case "lr-reduced":
			v := vline{x: x, style: draw.LineStyle{Color: reduceColor, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}}
			losses.Add(v)
			rates.Add(v)
			if !reduced {
				losses.Legend.Add("plateau: rate halved", v)
				reduced = true
			}
		default:
			v := vline{x: x, style: draw.LineStyle{Color: stopColor, Width: vg.Points(1)}, label: h.Event}
			losses.Add(v)
			rates.Add(vline{x: x, style: v.style})
			if !ended {
				losses.Legend.Add("run ended", v)
				ended = true
			}
		}
	}
}

// vline is a vertical line across a panel at data x, with an optional label
// at its top.
type vline struct {
	x     float64
	style draw.LineStyle
	label string
}

// Plot implements plot.Plotter.
func (v vline) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	x := trX(v.x)
	c.StrokeLine2(v.style, x, c.Min.Y, x, c.Max.Y)
	if v.label != "" {
		sty := draw.TextStyle{Color: v.style.Color, Font: p.X.Tick.Label.Font, XAlign: draw.XRight, YAlign: draw.YTop,
			Rotation: math.Pi / 2, Handler: p.X.Tick.Label.Handler}
		c.FillText(sty, vg.Point{X: x - vg.Points(2), Y: c.Max.Y - vg.Points(2)}, v.label)
	}
}

// DataRange implements plot.DataRanger, so that the line is inside the x range.
func (v vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	return v.x, v.x, math.Inf(1), math.Inf(-1)
}

// Thumbnail implements plot.Thumbnailer for the legend.
func (v vline) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(v.style, c.Min.X, y, c.Max.X, y)
}

// tokenTicks labels a token axis 0, 500k, 1.5M, …
type tokenTicks struct{}

func (tokenTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = siCount(int64(ticks[i].Value))
		}
	}
	return ticks
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
