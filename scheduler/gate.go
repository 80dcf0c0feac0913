package scheduler

import (
	"fmt"
	"math"
)

// GateInput is what the promotion gate looks at. Losses are mean nats per token.
type GateInput struct {
	// LiveFixed and CandFixed are measured on the fixed held-out set (validation split).
	LiveFixed, CandFixed float64
	// LiveFresh and CandFresh are measured on held-out comments ingested since the
	// last fine-tune; FreshTokens = 0 means there were none and the check is skipped.
	LiveFresh, CandFresh float64
	FreshTokens          int64
	// Tolerance is how much higher a candidate's loss may be and still pass.
	Tolerance float64
	// Diverged reports that training saw NaN/Inf or an exploding loss.
	Diverged bool
}

// Decision is the gate's verdict; Reason says why in words fit for a run record.
type Decision struct {
	Promote bool
	Reason  string
}

// Gate decides whether a fine-tuned candidate replaces the live model:
//
//	reject if training diverged, or a candidate loss is NaN/±Inf;
//	reject if CandFixed > LiveFixed + Tolerance;
//	reject if FreshTokens > 0 and CandFresh > LiveFresh + Tolerance;
//	otherwise promote.
//
// A live loss that is not finite (a broken live model) cannot block a finite
// candidate: that comparison is skipped.
func Gate(in GateInput) Decision {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case in.Diverged:
		return Decision{false, "training diverged (NaN/Inf or exploding loss)"}
	case !finite(in.CandFixed):
		return Decision{false, fmt.Sprintf("candidate held-out loss is %v", in.CandFixed)}
	case in.FreshTokens > 0 && !finite(in.CandFresh):
		return Decision{false, fmt.Sprintf("candidate fresh held-out loss is %v", in.CandFresh)}
	case finite(in.LiveFixed) && in.CandFixed > in.LiveFixed+in.Tolerance:
		return Decision{false, fmt.Sprintf("worse on the fixed held-out set: %.4f > live %.4f + tolerance %.4f",
			in.CandFixed, in.LiveFixed, in.Tolerance)}
	case in.FreshTokens > 0 && finite(in.LiveFresh) && in.CandFresh > in.LiveFresh+in.Tolerance:
		return Decision{false, fmt.Sprintf("worse on fresh held-out comments: %.4f > live %.4f + tolerance %.4f",
			in.CandFresh, in.LiveFresh, in.Tolerance)}
	}
	return Decision{true, fmt.Sprintf("held-out %.4f vs live %.4f (tolerance %.4f)", in.CandFixed, in.LiveFixed, in.Tolerance)}
}
