package scheduler

import (
	"context"
	"math"

	"commentbot/corpus"
)

// CorpusStore adapts the SQLite store (*corpus.Store) to Store.
type CorpusStore struct{ S *corpus.Store }

// Comments streams the comments f selects.
func (c CorpusStore) Comments(f corpus.Filter) corpus.Source { return c.S.Comments(f) }

// RecordRun stores r. Figures that are NaN or ±Inf are left out (SQLite refuses
// them); the run's detail says what the gate saw.
func (c CorpusStore) RecordRun(ctx context.Context, r Run) error {
	figs := make(map[string]float64, len(r.Figures))
	for k, v := range r.Figures {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			figs[k] = v
		}
	}
	_, err := c.S.RecordRun(ctx, corpus.Run{Job: r.Job, Model: r.Model, Started: r.Started, Ended: r.Ended,
		Outcome: r.Outcome, Figures: figs, Detail: r.Detail})
	return err
}

// Runs returns the newest runs of job ("" = all), newest first.
func (c CorpusStore) Runs(ctx context.Context, job string, limit int) ([]Run, error) {
	rs, err := c.S.Runs(ctx, job, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Run, len(rs))
	for i, r := range rs {
		out[i] = Run{Job: r.Job, Model: r.Model, Started: r.Started, Ended: r.Ended, Outcome: r.Outcome, Figures: r.Figures, Detail: r.Detail}
	}
	return out, nil
}
