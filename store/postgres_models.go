package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"commentbot/internal/leader"
)

// lockModel creates the model's row when missing, locks it for the rest of tx
// and returns its live version and next version number.
func lockModel(ctx context.Context, tx pgx.Tx, model string) (live, next int, err error) {
	if _, err := tx.Exec(ctx, `INSERT INTO models(name) VALUES ($1) ON CONFLICT DO NOTHING`, model); err != nil {
		return 0, 0, err
	}
	err = tx.QueryRow(ctx, `SELECT live, next_version FROM models WHERE name = $1 FOR UPDATE`, model).Scan(&live, &next)
	return live, next, err
}

// fenceQuery finds the session that holds a bigint advisory lock in this
// database (pg_locks splits the key: classid its high 32 bits, objid its low).
const fenceQuery = `SELECT EXISTS (SELECT 1 FROM pg_locks
	WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND pid = $3
	  AND classid::bigint = $1 AND objid::bigint = $2
	  AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`

// fence checks, inside tx, that every leadership of ctx is still held: its
// session still holds its advisory lock (a file lock checks itself).
func fence(ctx context.Context, tx pgx.Tx) error {
	for _, t := range leader.Tokens(ctx) {
		if t.Session == 0 {
			if err := t.Check(); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrFenced, t.Name, err)
			}
			continue
		}
		u := uint64(t.Key)
		var held bool
		if err := tx.QueryRow(ctx, fenceQuery, int64(u>>32), int64(u&0xffffffff), int64(t.Session)).Scan(&held); err != nil {
			return fmt.Errorf("fence %s: %w", t.Name, err)
		}
		if !held {
			return fmt.Errorf("%w: %s is no longer held by session %d", ErrFenced, t.Name, t.Session)
		}
	}
	return nil
}

// moveLive sets the live pointer of model inside tx after the fence and the
// expected-version check, and tells the followers at commit.
func moveLive(ctx context.Context, tx pgx.Tx, model string, live, v, expect int) error {
	if err := fence(ctx, tx); err != nil {
		return err
	}
	if err := expectLive(model, live, expect); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE models SET live = $2 WHERE name = $1`, model, v); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, liveChannel, model)
	return err
}

// SaveVersion inserts the version, and with MakeLive moves the live pointer,
// in one transaction (see ModelStore). The checkpoint is encoded before the
// transaction begins, so that it stays short.
func (p *Postgres) SaveVersion(ctx context.Context, model string, nv NewVersion) (int, error) {
	if err := checkModel(model); err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	if err := nv.Checkpoint(&buf); err != nil {
		return 0, fmt.Errorf("store: save %s: checkpoint: %w", model, err)
	}
	var v int
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		live, next, err := lockModel(ctx, tx, model)
		if err != nil {
			return err
		}
		v = next
		meta, err := nv.Meta(v)
		if err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO model_versions(model, version, meta, checkpoint, size, created) VALUES ($1, $2, $3, $4, $5, $6)`,
			model, v, meta, buf.Bytes(), buf.Len(), time.Now().UnixNano()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE models SET next_version = $2 WHERE name = $1`, model, v+1); err != nil {
			return err
		}
		if nv.MakeLive {
			return moveLive(ctx, tx, model, live, v, nv.Expect)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: save %s: %w", model, err)
	}
	return v, nil
}

// ModelVersions lists the versions of model without their checkpoints.
func (p *Postgres) ModelVersions(ctx context.Context, model string) ([]ModelVersion, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT v.version, v.meta, v.size, v.created, v.version = m.live
		FROM model_versions v JOIN models m ON m.name = v.model WHERE v.model = $1 ORDER BY v.version`, model)
	if err != nil {
		return nil, fmt.Errorf("store: versions of %s: %w", model, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ModelVersion, error) {
		var mv ModelVersion
		var created int64
		err := row.Scan(&mv.Version, &mv.Meta, &mv.Size, &created, &mv.Live)
		mv.Stamp = fmt.Sprintf("%d@%d", mv.Size, created) // a row is never rewritten
		return mv, err
	})
	if err != nil {
		return nil, fmt.Errorf("store: versions of %s: %w", model, err)
	}
	return out, nil
}

// OpenVersion reads the checkpoint of version v into memory.
func (p *Postgres) OpenVersion(ctx context.Context, model string, v int) (io.ReadCloser, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	var b []byte
	err := p.pool.QueryRow(ctx, `SELECT checkpoint FROM model_versions WHERE model = $1 AND version = $2`, model, v).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s v%d", ErrNoVersion, model, v)
	}
	if err != nil {
		return nil, fmt.Errorf("store: load %s v%d: %w", model, v, err)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// LiveVersion returns the live version of model.
func (p *Postgres) LiveVersion(ctx context.Context, model string) (int, error) {
	if err := checkModel(model); err != nil {
		return 0, err
	}
	var v int
	err := p.pool.QueryRow(ctx, `SELECT live FROM models WHERE name = $1`, model).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && v == 0 {
		return 0, fmt.Errorf("%w: %s", ErrNoLive, model)
	}
	if err != nil {
		return 0, fmt.Errorf("store: live of %s: %w", model, err)
	}
	return v, nil
}

// SetLiveVersion moves the live pointer in one transaction with its checks
// (see ModelStore).
func (p *Postgres) SetLiveVersion(ctx context.Context, model string, v, expect int) error {
	if err := checkModel(model); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		live, _, err := lockModel(ctx, tx, model)
		if err != nil {
			return err
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM model_versions WHERE model = $1 AND version = $2)`, model, v).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: %s v%d", ErrNoVersion, model, v)
		}
		return moveLive(ctx, tx, model, live, v, expect)
	})
	if err != nil {
		return fmt.Errorf("store: set live %s v%d: %w", model, v, err)
	}
	return nil
}

// SetAsideModel renames the model's row, which its versions and files follow
// (see ModelStore).
func (p *Postgres) SetAsideModel(ctx context.Context, model string, at time.Time) (string, error) {
	if err := checkModel(model); err != nil {
		return "", err
	}
	base := setAsideName(model, at)
	dst := base
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, _, err := lockModel(ctx, tx, model); err != nil {
			return err
		}
		for i := 2; ; i++ {
			var taken bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM models WHERE name = $1)`, dst).Scan(&taken); err != nil {
				return err
			}
			if !taken {
				break
			}
			dst = fmt.Sprintf("%s-%d", base, i)
		}
		if _, err := tx.Exec(ctx, `UPDATE models SET name = $2 WHERE name = $1`, model, dst); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, liveChannel, model)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("store: set aside %s: %w", model, err)
	}
	return dst, nil
}

// SetAsideModels lists the lineages set aside from model, oldest first.
func (p *Postgres) SetAsideModels(ctx context.Context, model string) ([]string, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	rows, err := p.pool.Query(ctx, `SELECT name FROM models WHERE starts_with(name, $1) ORDER BY name`, model+".set-aside-")
	if err != nil {
		return nil, fmt.Errorf("store: set-aside lineages of %s: %w", model, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: set-aside lineages of %s: %w", model, err)
	}
	return out, nil
}

// PutModelFile stores a side file, replacing it whole.
func (p *Postgres) PutModelFile(ctx context.Context, model, file string, data []byte) error {
	if err := checkFile(model, file); err != nil {
		return err
	}
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO models(name) VALUES ($1) ON CONFLICT DO NOTHING`, model); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO model_files(model, file, data) VALUES ($1, $2, $3)
			ON CONFLICT (model, file) DO UPDATE SET data = excluded.data`, model, file, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: write %s/%s: %w", model, file, err)
	}
	return nil
}

// ModelFile reads a side file.
func (p *Postgres) ModelFile(ctx context.Context, model, file string) ([]byte, error) {
	if err := checkFile(model, file); err != nil {
		return nil, err
	}
	var b []byte
	err := p.pool.QueryRow(ctx, `SELECT data FROM model_files WHERE model = $1 AND file = $2`, model, file).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s/%s", ErrNoFile, model, file)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read %s/%s: %w", model, file, err)
	}
	return b, nil
}

// RemoveModelFile removes a side file.
func (p *Postgres) RemoveModelFile(ctx context.Context, model, file string) error {
	if err := checkFile(model, file); err != nil {
		return err
	}
	if _, err := p.pool.Exec(ctx, `DELETE FROM model_files WHERE model = $1 AND file = $2`, model, file); err != nil {
		return fmt.Errorf("store: remove %s/%s: %w", model, file, err)
	}
	return nil
}

// PruneVersions removes old versions in one transaction (see ModelStore).
func (p *Postgres) PruneVersions(ctx context.Context, model string, keep int) ([]int, error) {
	if err := checkModel(model); err != nil {
		return nil, err
	}
	var removed []int
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		live, _, err := lockModel(ctx, tx, model)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM model_versions WHERE model = $1 ORDER BY version`, model)
		if err != nil {
			return err
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			return err
		}
		for i, v := range vs {
			if i < len(vs)-keep && v != live {
				removed = append(removed, v)
			}
		}
		if len(removed) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `DELETE FROM model_versions WHERE model = $1 AND version = ANY($2)`, model, removed)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: prune %s: %w", model, err)
	}
	return removed, nil
}
