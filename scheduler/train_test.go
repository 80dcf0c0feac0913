package scheduler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// TestRealTrainInterruptAndResume: an operator's training run of the real model is
// cancelled mid-run (as Ctrl-C does): it is saved beside the versions, live stays v1
// and loadable, and the next Train resumes it — same lineage, parent v1 — then saves
// v2, makes it live and removes the interrupted run.
func TestRealTrainInterruptAndResume(t *testing.T) {
	var cancelAt atomic.Int64 // step at which to cancel the run in progress; 0 = never
	var cancel atomic.Pointer[context.CancelFunc]
	e := newRealEnv(t, 80, 40, func(o *Options) {
		o.OnProgress = func(_ string, p TrainProgress) {
			if at := cancelAt.Load(); at > 0 && int64(p.Step) >= at {
				if c := cancel.Load(); c != nil {
					(*c)()
				}
			}
		}
	})
	e.start()
	v1, _ := e.s.Live().Get("word")

	ctx, stop := context.WithCancel(context.Background())
	cancel.Store(&stop)
	cancelAt.Store(45) // bootstrap took 40 steps; the lineage continues from there
	_, err := e.s.Train(ctx, "word", TrainRequest{Steps: 1_000_000})
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Train = %v, want ErrInterrupted wrapping context.Canceled", err)
	}
	dir := e.s.Repo().Dir("word")
	if _, err := os.Stat(filepath.Join(dir, interruptedCkpt)); err != nil {
		t.Fatalf("no interrupted checkpoint: %v", err)
	}
	if ld, _ := e.s.Live().Get("word"); ld.Version != 1 {
		t.Errorf("live = v%d after an interrupted run, want v1", ld.Version)
	}
	if live, _ := e.s.Repo().Live(context.Background(), "word"); live != 1 {
		t.Errorf("live file = v%d, want v1", live)
	}

	cancelAt.Store(0)
	rep, err := e.s.Train(context.Background(), "word", TrainRequest{Steps: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Resumed || rep.From != 1 || rep.Info.Version != 2 || rep.Info.Parent != 1 || rep.Info.Job != JobTrain {
		t.Errorf("resumed Train = %+v, want resumed from v1 into v2 (job %s)", rep, JobTrain)
	}
	hist := e.s.Repo()
	m2, err := hist.Load(context.Background(), e.s.engine, "word", 2)
	if err != nil {
		t.Fatal(err)
	}
	h := m2.History()
	if last := h[len(h)-1].Step; last < 45+5 {
		t.Errorf("v2's history ends at step %d: the resumed run did not continue the interrupted one (≥ 50)", last)
	}
	if m2.VocabHash() != v1.Model.VocabHash() {
		t.Error("resuming changed the vocabulary")
	}
	if _, err := os.Stat(filepath.Join(dir, interruptedCkpt)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("interrupted checkpoint still there after the resumed run finished: %v", err)
	}
	if ld, _ := e.s.Live().Get("word"); ld.Version != 2 {
		t.Errorf("live = v%d, want v2", ld.Version)
	}
	// A corrupted interrupted run is not resumed: training starts over from live, with a warning.
	os.WriteFile(filepath.Join(dir, interruptedMeta), []byte(`{"parent":2,"job":"train"}`), 0o644)
	os.WriteFile(filepath.Join(dir, interruptedCkpt), []byte("not a checkpoint"), 0o644)
	rep, err = e.s.Train(context.Background(), "word", TrainRequest{Steps: 2})
	if err != nil || rep.Resumed || rep.From != 2 || rep.Info.Version != 3 {
		t.Errorf("Train over a corrupt interrupted run = %+v, %v; want v3 from v2, not resumed", rep, err)
	}
}
