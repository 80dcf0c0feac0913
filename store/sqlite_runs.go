package store

import (
	"context"
	"fmt"
	"math"
	"sort"

	"commentbot/scheduler/runs"
)

// runFigureNames checks r as both stores record it — a job name, finite
// figures — and returns its figure names in order.
func runFigureNames(r runs.Run) ([]string, error) {
	if r.Job == "" {
		return nil, fmt.Errorf("store: record run: empty job name")
	}
	names := make([]string, 0, len(r.Figures))
	for name, v := range r.Figures {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("store: record run %s: figure %q is %v", r.Job, name, v)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}

// RecordRun stores r with its figures in one transaction (see
// Store.RecordRun). Times are stored to the nanosecond in UTC.
func (s *SQLite) RecordRun(ctx context.Context, r runs.Run) error {
	names, err := runFigureNames(r)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: record run: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit
	res, err := tx.ExecContext(ctx, `INSERT INTO runs(job, model, started, ended, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		r.Job, r.Model, toNanos(r.Started), toNanos(r.Ended), r.Outcome, r.Detail)
	if err != nil {
		return fmt.Errorf("store: record run %s: %w", r.Job, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("store: record run %s: %w", r.Job, err)
	}
	for _, name := range names {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_figures(run_id, name, value) VALUES (?, ?, ?)`, id, name, r.Figures[name]); err != nil {
			return fmt.Errorf("store: record run %s: figure %q: %w", r.Job, name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record run %s: commit: %w", r.Job, err)
	}
	return nil
}

// Runs returns the newest limit runs of job ("" = every job), newest first
// (see Store.Runs).
func (s *SQLite) Runs(ctx context.Context, job string, limit int) ([]runs.Run, error) {
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
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	var list []runs.Run
	for rows.Next() {
		var r runs.Run
		var started, ended int64
		if err := rows.Scan(&r.ID, &r.Job, &r.Model, &started, &ended, &r.Outcome, &r.Detail); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: runs: %w", err)
		}
		r.Started, r.Ended = fromNanos(started), fromNanos(ended)
		list = append(list, r)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	rows.Close()
	if len(list) == 0 {
		return nil, nil
	}
	// Figures in one query over the id range read (runs are newest first).
	byID := make(map[int64]*runs.Run, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
	}
	frows, err := s.db.QueryContext(ctx, `SELECT run_id, name, value FROM run_figures WHERE run_id BETWEEN ? AND ?`,
		list[len(list)-1].ID, list[0].ID)
	if err != nil {
		return nil, fmt.Errorf("store: run figures: %w", err)
	}
	defer frows.Close()
	if err := readFigures(frows, byID); err != nil {
		return nil, err
	}
	return list, nil
}

// figureRows are rows of (run_id, name, value): *sql.Rows and pgx.Rows.
type figureRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// readFigures adds each row's figure to its run in byID; rows of runs not
// in byID (another job's, in an id range) are skipped.
func readFigures(rows figureRows, byID map[int64]*runs.Run) error {
	for rows.Next() {
		var id int64
		var name string
		var v float64
		if err := rows.Scan(&id, &name, &v); err != nil {
			return fmt.Errorf("store: run figures: %w", err)
		}
		r, ok := byID[id]
		if !ok {
			continue
		}
		if r.Figures == nil {
			r.Figures = make(map[string]float64)
		}
		r.Figures[name] = v
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: run figures: %w", err)
	}
	return nil
}
