package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"commentbot/scheduler/runs"
)

// RecordRun stores r with its figures in one transaction (see Store.RecordRun).
func (p *Postgres) RecordRun(ctx context.Context, r runs.Run) error {
	names, err := runFigureNames(r)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO runs(job, model, started, ended, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			r.Job, r.Model, toNanos(r.Started), toNanos(r.Ended), r.Outcome, r.Detail).Scan(&id); err != nil {
			return err
		}
		for _, name := range names {
			if _, err := tx.Exec(ctx, `INSERT INTO run_figures(run_id, name, value) VALUES ($1, $2, $3)`, id, name, r.Figures[name]); err != nil {
				return fmt.Errorf("figure %q: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: record run %s: %w", r.Job, err)
	}
	return nil
}

// Runs returns the newest limit runs of job ("" = every job), newest first
// (see Store.Runs).
func (p *Postgres) Runs(ctx context.Context, job string, limit int) ([]runs.Run, error) {
	var lim any // NULL: no limit
	if limit > 0 {
		lim = limit
	}
	rows, err := p.pool.Query(ctx, `SELECT id, job, model, started, ended, outcome, detail FROM runs
		WHERE $1 = '' OR job = $1 ORDER BY id DESC LIMIT $2`, job, lim)
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (runs.Run, error) {
		var r runs.Run
		var started, ended int64
		err := row.Scan(&r.ID, &r.Job, &r.Model, &started, &ended, &r.Outcome, &r.Detail)
		r.Started, r.Ended = fromNanos(started), fromNanos(ended)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: runs: %w", err)
	}
	if len(list) == 0 {
		return nil, nil
	}
	byID := make(map[int64]*runs.Run, len(list))
	ids := make([]int64, len(list))
	for i := range list {
		byID[list[i].ID] = &list[i]
		ids[i] = list[i].ID
	}
	frows, err := p.pool.Query(ctx, `SELECT run_id, name, value FROM run_figures WHERE run_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("store: run figures: %w", err)
	}
	defer frows.Close()
	if err := readFigures(frows, byID); err != nil {
		return nil, err
	}
	return list, nil
}
