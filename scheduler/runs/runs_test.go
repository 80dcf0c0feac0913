package runs

import (
	"maps"
	"math"
	"testing"
)

func TestFiniteFigures(t *testing.T) {
	r := Run{Job: "fine-tune", Figures: map[string]float64{"loss": 1.5, "gate": math.NaN(), "best": math.Inf(1), "low": math.Inf(-1), "zero": 0}}
	if got, want := r.FiniteFigures(), map[string]float64{"loss": 1.5, "zero": 0}; !maps.Equal(got, want) {
		t.Errorf("FiniteFigures = %v, want %v", got, want)
	}
	if len(r.Figures) != 5 {
		t.Errorf("FiniteFigures changed the run's own figures: %v", r.Figures)
	}
}
