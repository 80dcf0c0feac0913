package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"commentbot/model"
	"commentbot/scheduler"
)

func trainCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("train", "--model NAME [--data FILE] [--minutes M] [--epochs E] [--steps N] [--full] [--seed S]",
		"Train a model and make the result its live version. Without --full the live version is\n"+
			"trained further (its vocabulary kept); a model with no version starts one. --full builds\n"+
			"a new vocabulary and a new lineage. Ctrl-C stops cleanly and saves the run: the same\n"+
			"command resumes it (same weights, optimizer state and data position). Data comes from\n"+
			"the store, or --data FILE (cleaned, split by id hash like the store).", env)
	c.register(fs, env)
	name := fs.String("model", "", "model name (required)")
	data := fs.String("data", "", "CSV or NDJSON file to train on instead of the store")
	minutes := fs.Float64("minutes", 0, "time budget in minutes")
	epochs := fs.Int("epochs", 0, "budget in passes over the training data")
	steps := fs.Int("steps", 0, "budget in optimizer steps")
	full := fs.Bool("full", false, "new vocabulary and lineage")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the initial weights and of dropout (0 picks one): the same seed, data, config and step budget train the same model")
	progress := newProgressView(env.Stderr, isTerminal(env.Stderr))
	o, err := parseModelCmd(ctx, fs, &c, args, env, name, progress.update)
	if err != nil {
		return err
	}
	if *minutes < 0 || *epochs < 0 || *steps < 0 {
		o.Close()
		fs.Usage()
		return errUsage
	}
	defer o.Close()
	mc, err := o.modelConfig(*name)
	if err != nil {
		return err
	}
	req := scheduler.TrainRequest{Full: *full, Epochs: *epochs, Steps: *steps,
		Duration: time.Duration(*minutes * float64(time.Minute))}
	if req.Duration == 0 && req.Epochs == 0 && req.Steps == 0 {
		req.Duration = time.Duration(mc.FirstTrainMinutes * float64(time.Minute))
	}
	if *data != "" {
		if req.Data, err = dataSource(*data, o.cfg); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stderr, "training %s (%s, hidden %v): budget %s\n", *name, mc.Kind, mc.Hidden, budget(req))
	rep, err := o.sched.Train(ctx, *name, req)
	progress.done()
	if errors.Is(err, scheduler.ErrInterrupted) {
		fmt.Fprintf(env.Stderr, "interrupted after %d steps; the run is saved: run the same command to resume it\n", rep.Result.Steps)
		return nil
	}
	if err != nil {
		return err
	}
	how := "new lineage"
	switch {
	case rep.Resumed:
		how = fmt.Sprintf("resumed the interrupted run on v%d", rep.From)
	case rep.From > 0:
		how = fmt.Sprintf("continued v%d", rep.From)
	}
	lm := rep.Info
	kind := model.Kind(mc.Kind)
	fmt.Fprintf(env.Stdout, "%s v%d is live (%s): %d steps, %d tokens in %v\n  %s\n  held-out %s\n",
		*name, lm.Version, how, rep.Result.Steps, rep.Result.Tokens, rep.Result.Elapsed.Round(time.Second),
		stopLine(kind, rep.Result), describeLoss(kind, lm.HeldOutLoss))
	return nil
}

// stopLine says why a run stopped and where its best held-out loss was reached, e.g.
// "stopped: budget; best held-out 1.8731 ± 0.0102 nats/char = 2.7024 bits/char at
// step 5960, 6.1M tokens, 19m32s into the run (weights restored)".
func stopLine(kind model.Kind, r scheduler.TrainResult) string {
	s := "stopped: " + r.Stopped
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	if r.Reductions > 0 {
		s += fmt.Sprintf(", after %d plateau rate reduction(s)", r.Reductions)
	}
	if math.IsNaN(r.Best) {
		return s + "; no held-out evaluation"
	}
	best := describeLoss(kind, r.Best)
	if r.BestStdErr > 0 {
		best = fmt.Sprintf("%.4f ± %.4f %s", r.Best, r.BestStdErr, strings.TrimPrefix(best, fmt.Sprintf("%.4f ", r.Best)))
	}
	s += fmt.Sprintf("; best held-out %s at step %d, %d tokens, %v into the run", best, r.BestStep, r.BestTokens, r.BestElapsed.Round(time.Second))
	if r.Restored {
		s += " (weights restored)"
	}
	return s
}

func budget(r scheduler.TrainRequest) string {
	var parts []string
	if r.Duration > 0 {
		parts = append(parts, r.Duration.Round(time.Second).String())
	}
	if r.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("%d epochs", r.Epochs))
	}
	if r.Steps > 0 {
		parts = append(parts, fmt.Sprintf("%d steps", r.Steps))
	}
	return fmt.Sprint(parts)
}
