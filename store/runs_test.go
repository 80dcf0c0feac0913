package store

import (
	"context"
	"maps"
	"math"
	"testing"

	"commentbot/scheduler/runs"
)

func testRuns(t *testing.T, s Store) {
	ctx := context.Background()
	recs := []runs.Run{
		{Job: "ingest", Started: ts(10), Ended: ts(11), Outcome: "ok", Figures: map[string]float64{"comments": 120}},
		{Job: "finetune", Model: "word-lstm", Started: ts(20), Ended: ts(25), Outcome: "promoted", Figures: map[string]float64{"val_ppl": 88.5, "train_loss": 4.1}},
		{Job: "ingest", Started: ts(30), Ended: ts(31), Outcome: "failed", Detail: "reddit: 429"},
		{Job: "finetune", Model: "char-lstm", Started: ts(40), Ended: ts(49), Outcome: "rolled-back", Figures: map[string]float64{"val_ppl": 3.2}},
	}
	for i := range recs {
		if err := s.RecordRun(ctx, recs[i]); err != nil {
			t.Fatalf("RecordRun(%d): %v", i, err)
		}
	}
	all, err := s.Runs(ctx, "", 0)
	if err != nil || len(all) != len(recs) {
		t.Fatalf("Runs = %d runs, %v", len(all), err)
	}
	for i := range recs { // newest first: ids increase with each recorded run
		recs[i].ID = all[len(all)-1-i].ID
		if i > 0 && recs[i].ID <= recs[i-1].ID {
			t.Errorf("run %d has id %d after run %d's %d", i, recs[i].ID, i-1, recs[i-1].ID)
		}
	}
	tests := []struct {
		job   string
		limit int
		want  []int // indexes into recs, newest first
	}{
		{"", 0, []int{3, 2, 1, 0}},
		{"ingest", 0, []int{2, 0}},
		{"finetune", 1, []int{3}},
		{"finetune", 5, []int{3, 1}},
		{"post", 0, nil},
	}
	for _, tt := range tests {
		got, err := s.Runs(ctx, tt.job, tt.limit)
		if err != nil {
			t.Fatalf("Runs(%q, %d): %v", tt.job, tt.limit, err)
		}
		if len(got) != len(tt.want) {
			t.Errorf("Runs(%q, %d) = %d runs, want %d", tt.job, tt.limit, len(got), len(tt.want))
			continue
		}
		for i, w := range tt.want {
			g, r := got[i], recs[w]
			if g.ID != r.ID || g.Job != r.Job || g.Model != r.Model || !g.Started.Equal(r.Started) || !g.Ended.Equal(r.Ended) ||
				g.Outcome != r.Outcome || g.Detail != r.Detail || !maps.Equal(g.Figures, r.Figures) {
				t.Errorf("Runs(%q, %d)[%d] = %+v, want %+v", tt.job, tt.limit, i, g, r)
			}
		}
	}
	if err := s.RecordRun(ctx, runs.Run{}); err == nil {
		t.Errorf("RecordRun without a job name succeeded")
	}
	for _, bad := range []float64{math.NaN(), math.Inf(1)} {
		if err := s.RecordRun(ctx, runs.Run{Job: "x", Figures: map[string]float64{"loss": bad}}); err == nil {
			t.Errorf("RecordRun with a %v figure succeeded", bad)
		}
	}
	if got, _ := s.Runs(ctx, "x", 0); len(got) != 0 {
		t.Errorf("refused runs were stored: %+v", got)
	}
}
