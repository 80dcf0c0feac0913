// Package runs defines the record of one scheduled job run — an ingest, a
// fine-tune, a post, a first training — as the scheduler writes it, the
// store keeps it and the operator reads it. It is the scheduler's type in a
// leaf package of its own, so that the store can persist it without
// importing the scheduler.
package runs

import (
	"math"
	"time"
)

// A Run is the record of one job run.
type Run struct {
	// ID is assigned by the store when the run is recorded; Runs returns it
	// (0 in a run not yet recorded). Later runs have larger ids.
	ID      int64
	Job     string // "ingest", "fine-tune", "post", "bootstrap", "train-full", …
	Model   string // the model the run concerned; "" for ingest
	Started time.Time
	Ended   time.Time
	Outcome string             // one of the Outcome constants
	Figures map[string]float64 // measured numbers: losses, comments, tokens, …
	Detail  string             // free text, e.g. an error message
}

// The outcomes of runs.
const (
	OutcomeOK        = "ok"
	OutcomePromoted  = "promoted"
	OutcomeRejected  = "rejected"
	OutcomeSkipped   = "skipped"
	OutcomeError     = "error"
	OutcomeCancelled = "cancelled"
)

// FiniteFigures returns r's figures without those that are NaN or ±Inf,
// which a store refuses; r.Detail says in words what they were.
func (r Run) FiniteFigures() map[string]float64 {
	figs := make(map[string]float64, len(r.Figures))
	for k, v := range r.Figures {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			figs[k] = v
		}
	}
	return figs
}
