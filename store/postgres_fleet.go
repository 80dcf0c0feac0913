package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"commentbot/internal/leader"
)

// MarkSeen inserts the keys in one statement; a key already there counts as
// seen unless it expired, and an expired one takes the new time (see
// LimitStore). Two replicas marking the same key at once: the second waits
// for the first's commit and finds it.
func (p *Postgres) MarkSeen(ctx context.Context, keys []string, now, until time.Time) (bool, error) {
	rows, err := p.pool.Query(ctx, `INSERT INTO seen(key, until) SELECT unnest($1::text[]), $3
		ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE seen.until < $2 RETURNING key`,
		keys, now.UnixNano(), until.UnixNano())
	if err != nil {
		return false, fmt.Errorf("store: mark seen: %w", err)
	}
	marked, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return false, fmt.Errorf("store: mark seen: %w", err)
	}
	if p.writes.Add(1)%pruneEvery == 0 {
		if _, err := p.pool.Exec(ctx, `DELETE FROM seen WHERE until < $1`, now.UnixNano()); err != nil {
			return false, fmt.Errorf("store: forget expired replay keys: %w", err)
		}
	}
	return len(marked) == len(keys), nil
}

// AllowCommand applies the limits in one transaction that locks the user's
// row, then the channel's (always in that order), so that replicas deciding
// for the same user or channel at once take turns (see LimitStore).
func (p *Postgres) AllowCommand(ctx context.Context, user, channel string, now time.Time, cooldown time.Duration, perMinute int) (time.Duration, string, error) {
	var wait time.Duration
	var which string
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if cooldown > 0 {
			var last int64
			if err := lockRow(ctx, tx, `limit_users`, `user_id`, `last`, `0`, user, &last); err != nil {
				return err
			}
			if last != 0 {
				if w := time.Unix(0, last).Add(cooldown).Sub(now); w > 0 {
					wait, which = w, "user"
					return nil
				}
			}
		}
		if perMinute > 0 {
			var hits []int64
			if err := lockRow(ctx, tx, `limit_channels`, `channel`, `hits`, `'{}'`, channel, &hits); err != nil {
				return err
			}
			recent := hits[:0]
			for _, h := range hits {
				if now.Sub(time.Unix(0, h)) < time.Minute {
					recent = append(recent, h)
				}
			}
			if len(recent) >= perMinute {
				wait, which = time.Unix(0, recent[0]).Add(time.Minute).Sub(now), "channel"
				_, err := tx.Exec(ctx, `UPDATE limit_channels SET hits = $2 WHERE channel = $1`, channel, recent)
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE limit_channels SET hits = $2 WHERE channel = $1`, channel, append(recent, now.UnixNano())); err != nil {
				return err
			}
		}
		if cooldown > 0 {
			if _, err := tx.Exec(ctx, `UPDATE limit_users SET last = $2 WHERE user_id = $1`, user, now.UnixNano()); err != nil {
				return err
			}
		}
		if p.writes.Add(1)%pruneEvery == 0 {
			_, err := tx.Exec(ctx, `DELETE FROM limit_users WHERE last < $1`, now.Add(-idleUser).UnixNano())
			return err
		}
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("store: command limits: %w", err)
	}
	return wait, which, nil
}

// lockRow creates the row keyed id in table (with column col set to zero)
// when missing, locks it for the rest of tx and scans col into dst. The
// identifiers are this file's constants, never input.
func lockRow(ctx context.Context, tx pgx.Tx, table, key, col, zero, id string, dst any) error {
	if _, err := tx.Exec(ctx, `INSERT INTO `+table+`(`+key+`, `+col+`) VALUES ($1, `+zero+`) ON CONFLICT DO NOTHING`, id); err != nil {
		return err
	}
	return tx.QueryRow(ctx, `SELECT `+col+` FROM `+table+` WHERE `+key+` = $1 FOR UPDATE`, id).Scan(dst)
}

// ClaimSlot records the slot unless it is recorded (see Store).
func (p *Postgres) ClaimSlot(ctx context.Context, post string, slot time.Time) (bool, error) {
	tag, err := p.pool.Exec(ctx, `INSERT INTO post_slots(post, slot, claimed) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		post, slot.UnixNano(), time.Now().UnixNano())
	if err != nil {
		return false, fmt.Errorf("store: claim slot of %s: %w", post, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Setting returns the value under key, "" when none is stored.
func (p *Postgres) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := p.pool.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %q: %w", key, err)
	}
	return v, nil
}

// SetSetting stores value under key.
func (p *Postgres) SetSetting(ctx context.Context, key, value string) error {
	if _, err := p.pool.Exec(ctx, `INSERT INTO settings(key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set %q: %w", key, err)
	}
	return nil
}

// Elector is an advisory lock held on a connection of its own (leader.PG).
func (p *Postgres) Elector(name string, o leader.Options) leader.Elector {
	return leader.NewPGConfig(p.conn, name, o)
}

// Shared is true: any machine that reaches the database shares the store.
func (p *Postgres) Shared() bool { return true }

// Ping checks that the database answers.
func (p *Postgres) Ping(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: PostgreSQL: %w", err)
	}
	return nil
}

// Backoff of WatchLive's reconnections.
const (
	watchRetryFirst = 500 * time.Millisecond
	watchRetryMax   = 10 * time.Second
)

// WatchLive listens on the live channel on a connection of its own and calls
// fn for every notification; after each (re)connection it calls fn("")
// first, since notifications sent while it was away are lost. It reconnects
// with backoff until ctx ends (see Store).
func (p *Postgres) WatchLive(ctx context.Context, fn func(string)) error {
	wait := watchRetryFirst
	for ctx.Err() == nil {
		// A failure needs no report of its own: the store's Ping says it is
		// away, and fn("") after the reconnection makes up for what was missed.
		_ = p.listen(ctx, fn, func() { wait = watchRetryFirst })
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, watchRetryMax)
	}
	return nil
}

// listen runs one LISTEN session until it fails or ctx ends; connected is
// called once it listens.
func (p *Postgres) listen(ctx context.Context, fn func(string), connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, p.conn)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+liveChannel); err != nil {
		return err
	}
	connected()
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		fn(n.Payload)
	}
}
