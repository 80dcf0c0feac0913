package scheduler

import (
	"math"
	"strings"
	"testing"
)

func TestGate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name        string
		in          GateInput
		wantPromote bool
		wantReason  string // substring
	}{
		{"better on both", GateInput{LiveFixed: 3, CandFixed: 2.9, LiveFresh: 3.5, CandFresh: 3.1, FreshTokens: 100, Tolerance: 0.01}, true, "held-out 2.9000"},
		{"equal", GateInput{LiveFixed: 3, CandFixed: 3, Tolerance: 0}, true, ""},
		{"worse within tolerance", GateInput{LiveFixed: 3, CandFixed: 3.009, Tolerance: 0.01}, true, ""},
		{"worse beyond tolerance", GateInput{LiveFixed: 3, CandFixed: 3.02, Tolerance: 0.01}, false, "fixed held-out"},
		{"fixed ok fresh worse", GateInput{LiveFixed: 3, CandFixed: 2.9, LiveFresh: 3, CandFresh: 3.5, FreshTokens: 10, Tolerance: 0.01}, false, "fresh"},
		{"fresh worse but no fresh tokens", GateInput{LiveFixed: 3, CandFixed: 2.9, LiveFresh: 3, CandFresh: 3.5, Tolerance: 0.01}, true, ""},
		{"candidate NaN", GateInput{LiveFixed: 3, CandFixed: nan, Tolerance: 0.01}, false, "NaN"},
		{"candidate +Inf", GateInput{LiveFixed: 3, CandFixed: inf, Tolerance: 0.01}, false, "+Inf"},
		{"candidate fresh NaN", GateInput{LiveFixed: 3, CandFixed: 2, CandFresh: nan, FreshTokens: 5}, false, "fresh held-out loss is NaN"},
		{"diverged though losses fine", GateInput{LiveFixed: 3, CandFixed: 2, Diverged: true}, false, "diverged"},
		{"live NaN, candidate finite", GateInput{LiveFixed: nan, CandFixed: 4}, true, ""},
		{"huge tolerance lets anything finite pass", GateInput{LiveFixed: 1, CandFixed: 50, Tolerance: 100}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Gate(tt.in)
			if got.Promote != tt.wantPromote {
				t.Errorf("Gate(%+v).Promote = %v, want %v (reason %q)", tt.in, got.Promote, tt.wantPromote, got.Reason)
			}
			if !strings.Contains(got.Reason, tt.wantReason) || got.Reason == "" {
				t.Errorf("reason = %q, want it to contain %q", got.Reason, tt.wantReason)
			}
		})
	}
}
