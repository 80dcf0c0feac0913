package corpus

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// A Run is the record of one scheduler job run (ingest, fine-tune, post).
type Run struct {
	ID      int64  // assigned by RecordRun
	Job     string // job name, e.g. "ingest", "finetune"
	Model   string // model the run concerned; "" when none
	Started time.Time
	Ended   time.Time
	Outcome string             // e.g. "ok", "promoted", "rolled-back", "failed"
	Figures map[string]float64 // measured numbers (loss, perplexity, comments…)
	Detail  string             // free text, e.g. an error message
}

// RecordRun stores r with its figures in one transaction and returns its id.
// Times are stored to the nanosecond in UTC; NaN figures are refused by
// SQLite's NOT NULL and fail the call.
func (s *Store) RecordRun(ctx context.Context, r Run) (int64, error) {
	if r.Job == "" {
		return 0, fmt.Errorf("corpus: record run: empty job name")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("corpus: record run: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	res, err := tx.ExecContext(ctx, `INSERT INTO runs(job, model, started, ended, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Job, r.Model, toNanos(r.Started), toNanos(r.Ended), r.Outcome, r.Detail)
	if err != nil {
		return 0, fmt.Errorf("corpus: record run %s: %w", r.Job, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("corpus: record run %s: %w", r.Job, err)
	}
	names := make([]string, 0, len(r.Figures))
	for name := range r.Figures {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_figures(run_id, name, value) VALUES (?, ?, ?)`, id, name, r.Figures[name]); err != nil {
			return 0, fmt.Errorf("corpus: record run %s: figure %q: %w", r.Job, name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("corpus: record run %s: commit: %w", r.Job, err)
	}
	return id, nil
}

// Runs returns the newest limit runs of job ("" = every job), newest first.
// limit ≤ 0 means no limit.
func (s *Store) Runs(ctx context.Context, job string, limit int) ([]Run, error) {
	q := `SELECT id, job, model, started, ended, outcome, detail FROM runs`
	var args []any
	if job != "" {
		q += ` WHERE job = ?`
		args = append(args, job)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	if limit <= 0 {
		limit = -1
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("corpus: runs: %w", err)
	}
	var runs []Run
	for rows.Next() {
		var r Run
		var started, ended int64
		if err := rows.Scan(&r.ID, &r.Job, &r.Model, &started, &ended, &r.Outcome, &r.Detail); err != nil {
			rows.Close()
			return nil, fmt.Errorf("corpus: runs: %w", err)
		}
		r.Started, r.Ended = fromNanos(started), fromNanos(ended)
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("corpus: runs: %w", err)
	}
	rows.Close()
	if len(runs) == 0 {
		return nil, nil
	}
	// Figures in one query over the id range read (runs are newest first).
	byID := make(map[int64]*Run, len(runs))
	for i := range runs {
		byID[runs[i].ID] = &runs[i]
	}
	frows, err := s.db.QueryContext(ctx, `SELECT run_id, name, value FROM run_figures WHERE run_id BETWEEN ? AND ?`,
		runs[len(runs)-1].ID, runs[0].ID)
	if err != nil {
		return nil, fmt.Errorf("corpus: run figures: %w", err)
	}
	defer frows.Close()
	for frows.Next() {
		var id int64
		var name string
		var v float64
		if err := frows.Scan(&id, &name, &v); err != nil {
			return nil, fmt.Errorf("corpus: run figures: %w", err)
		}
		r, ok := byID[id]
		if !ok {
			continue // a run of another job in the id range
		}
		if r.Figures == nil {
			r.Figures = make(map[string]float64)
		}
		r.Figures[name] = v
	}
	if err := frows.Err(); err != nil {
		return nil, fmt.Errorf("corpus: run figures: %w", err)
	}
	return runs, nil
}
