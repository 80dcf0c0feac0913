package corpus

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestSplitOf(t *testing.T) {
	tests := []struct {
		frac      float64
		wantShare float64 // expected validation share over 20000 ids
	}{
		{0, 0}, {0.1, 0.1}, {0.25, 0.25}, {0.5, 0.5}, {1, 1},
	}
	const n = 20000
	for _, tt := range tests {
		valid := 0
		for i := range n {
			if SplitOf(fmt.Sprintf("t1_%x", i), tt.frac) == Validation {
				valid++
			}
		}
		got := float64(valid) / n
		// Binomial standard deviation is at most 0.0036 for n=20000; allow 4σ.
		if math.Abs(got-tt.wantShare) > 0.015 {
			t.Errorf("SplitOf at %.2f: validation share %.4f, want ≈ %.2f", tt.frac, got, tt.wantShare)
		}
	}
}

func TestSplitStableAndMonotone(t *testing.T) {
	for i := range 5000 {
		id := fmt.Sprintf("t1_%d", i)
		if u, v := SplitPoint(id), SplitPoint(strings.Clone(id)); u != v {
			t.Fatalf("SplitPoint(%q) not deterministic: %v then %v", id, u, v)
		}
		// Growing the fraction only moves comments into validation.
		if SplitOf(id, 0.1) == Validation && SplitOf(id, 0.2) != Validation {
			t.Errorf("%q is validation at 0.1 but train at 0.2", id)
		}
		if u := SplitPoint(id); u < 0 || u >= 1 {
			t.Errorf("SplitPoint(%q) = %v outside [0,1)", id, u)
		}
	}
	// Pinned values: the split must never change between versions, or a
	// model's validation set would leak into training after an upgrade.
	pins := []struct {
		id    string
		point float64 // SplitPoint, to 6 decimals
	}{{"t1_cuapmnd", 0.256694}, {"t1_k", 0.041036}, {"t1_h", 0.987272}, {"h1_0123456789abcdef", 0.273199}}
	for _, p := range pins {
		if got := SplitPoint(p.id); math.Abs(got-p.point) > 1e-6 {
			t.Errorf("SplitPoint(%q) = %.6f, want %.6f", p.id, got, p.point)
		}
	}
	if SplitOf("t1_k", 0.1) != Validation || SplitOf("t1_k", 0.04) != Train {
		t.Errorf("t1_k (point 0.041036) must be validation at 0.1 and train at 0.04")
	}
	for _, tt := range []struct {
		s    Split
		want string
	}{{All, "all"}, {Train, "train"}, {Validation, "validation"}, {Split(9), "Split(9)"}} {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("%d.String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

// TestSplitOfAtTheBoundary puts one id on both sides of its split point.
func TestSplitOfAtTheBoundary(t *testing.T) {
	// t1_k has split point 0.041036 (pinned above).
	tests := []struct {
		frac float64
		want Split
	}{
		{0.1, Validation}, {0.05, Validation}, {0.04, Train}, {0, Train}, {1, Validation},
	}
	for _, tt := range tests {
		if got := SplitOf("t1_k", tt.frac); got != tt.want {
			t.Errorf("SplitOf(t1_k, %v) = %v, want %v", tt.frac, got, tt.want)
		}
	}
}
