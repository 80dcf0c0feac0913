package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"commentbot/internal/leader"
)

// pruneEvery is how many limit writes pass between two clean-ups of expired
// replay keys and idle users (each call cleans its own channel).
const pruneEvery = 256

// idleUser is how long a user's last command is kept: longer than any
// sensible cooldown.
const idleUser = 24 * time.Hour

// MarkSeen records the keys in one write transaction (see LimitStore).
func (s *SQLite) MarkSeen(ctx context.Context, keys []string, now, until time.Time) (bool, error) {
	fresh := true
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, k := range keys {
			var t int64
			err := tx.QueryRowContext(ctx, `SELECT until FROM seen WHERE key = ?`, k).Scan(&t)
			switch {
			case err == nil && t >= now.UnixNano():
				fresh = false
				continue
			case err != nil && !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO seen(key, until) VALUES (?, ?)
				ON CONFLICT(key) DO UPDATE SET until = excluded.until`, k, until.UnixNano()); err != nil {
				return err
			}
		}
		if s.writes.Add(1)%pruneEvery == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM seen WHERE until < ?`, now.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: mark seen: %w", err)
	}
	return fresh, nil
}

// AllowCommand applies the limits in one write transaction (see LimitStore).
func (s *SQLite) AllowCommand(ctx context.Context, user, channel string, now time.Time, cooldown time.Duration, perMinute int) (time.Duration, string, error) {
	var wait time.Duration
	var which string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if cooldown > 0 {
			var last int64
			err := tx.QueryRowContext(ctx, `SELECT last FROM limit_users WHERE user_id = ?`, user).Scan(&last)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err == nil {
				if w := time.Unix(0, last).Add(cooldown).Sub(now); w > 0 {
					wait, which = w, "user"
					return nil
				}
			}
		}
		if perMinute > 0 {
			window := now.Add(-time.Minute).UnixNano()
			if _, err := tx.ExecContext(ctx, `DELETE FROM limit_hits WHERE channel = ? AND at <= ?`, channel, window); err != nil {
				return err
			}
			var n int
			var oldest sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT count(*), min(at) FROM limit_hits WHERE channel = ?`, channel).Scan(&n, &oldest); err != nil {
				return err
			}
			if n >= perMinute {
				wait, which = time.Unix(0, oldest.Int64).Add(time.Minute).Sub(now), "channel"
				return nil
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO limit_hits(channel, at) VALUES (?, ?)`, channel, now.UnixNano()); err != nil {
				return err
			}
		}
		if cooldown > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO limit_users(user_id, last) VALUES (?, ?)
				ON CONFLICT(user_id) DO UPDATE SET last = excluded.last`, user, now.UnixNano()); err != nil {
				return err
			}
		}
		if s.writes.Add(1)%pruneEvery == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM limit_users WHERE last < ?`, now.Add(-idleUser).UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, "", fmt.Errorf("store: command limits: %w", err)
	}
	return wait, which, nil
}

// ClaimSlot records the slot unless it is recorded (see Store).
func (s *SQLite) ClaimSlot(ctx context.Context, post string, slot time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO post_slots(post, slot, claimed) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
		post, slot.UnixNano(), time.Now().UnixNano())
	if err != nil {
		return false, fmt.Errorf("store: claim slot of %s: %w", post, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim slot of %s: %w", post, err)
	}
	return n == 1, nil
}

// Setting returns the value under key, "" when none is stored.
func (s *SQLite) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %q: %w", key, err)
	}
	return v, nil
}

// SetSetting stores value under key.
func (s *SQLite) SetSetting(ctx context.Context, key, value string) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO settings(key, value) VALUES (?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set %q: %w", key, err)
	}
	return nil
}

// Elector is a lock file in the directory "locks" beside the database: an
// election among the processes of this machine.
func (s *SQLite) Elector(name string, o leader.Options) leader.Elector {
	dir := filepath.Join(s.dir, "locks")
	_ = os.MkdirAll(dir, 0o755) // a failure shows as the election's error
	return leader.NewFile(filepath.Join(dir, lockFileName(name)), o)
}

// lockFileName turns an election's name into a file name.
func lockFileName(name string) string {
	return strings.NewReplacer("/", "-", "\\", "-", ".", "-").Replace(name) + ".lock"
}

// WatchLive waits for ctx: files send no notification, followers poll.
func (s *SQLite) WatchLive(ctx context.Context, _ func(string)) error {
	<-ctx.Done()
	return nil
}

// Shared is false: the file is for the processes of one machine.
func (s *SQLite) Shared() bool { return false }

// Ping checks that the database answers.
func (s *SQLite) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE: writers queue),
// committed when fn returns nil.
func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
