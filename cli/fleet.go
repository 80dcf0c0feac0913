package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"commentbot/bot"
	"commentbot/config"
	"commentbot/internal/leader"
	"commentbot/store"
)

// storeURL is the store a process uses: the whole URL in COMMENTBOT_STORE_URL
// (which may hold a password), else the config's store.url; "" is the embedded
// SQLite store under data_dir. A password otherwise comes from PGPASSWORD,
// which the PostgreSQL driver reads itself.
func storeURL(cfg config.Config, getenv func(string) string) string {
	if u := getenv("COMMENTBOT_STORE_URL"); u != "" {
		return u
	}
	return cfg.Store.URL
}

// openStore opens the store the config and the environment name (creating the
// embedded one under the data directory if needed).
func openStore(ctx context.Context, cfg config.Config, getenv func(string) string) (store.Store, error) {
	url := storeURL(cfg, getenv)
	if url != "" {
		if err := config.CheckStoreURL(url); err != nil {
			return nil, fmt.Errorf("store URL %s: %w", store.RedactURL(url), err)
		}
	}
	return store.Open(ctx, url, cfg.DataDir)
}

// Backoff of `run` while the shared store cannot be reached at start.
const (
	storeRetryFirst = time.Second
	storeRetryMax   = 30 * time.Second
)

// openStoreRetrying is openStore for `run`: a PostgreSQL store that cannot be
// reached is tried again with backoff (each failure logged, the password
// never) until ctx ends; the embedded store and a schema too new fail at once.
func openStoreRetrying(ctx context.Context, cfg config.Config, getenv func(string) string, log *slog.Logger) (store.Store, error) {
	url := storeURL(cfg, getenv)
	wait := storeRetryFirst
	for {
		st, err := openStore(ctx, cfg, getenv)
		if err == nil || url == "" || errors.Is(err, store.ErrSchemaTooNew) {
			return st, err
		}
		log.Warn("the store cannot be reached; retrying", "store", store.RedactURL(url), "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("store %s: gave up: %w (last error: %w)", store.RedactURL(url), ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, storeRetryMax)
	}
}

// resolveRole is the role of `run`: the --role flag, else COMMENTBOT_ROLE, else
// the config's role.
func resolveRole(flag string, getenv func(string) string, cfg config.Config) (string, error) {
	role := cfg.Role
	if r := getenv("COMMENTBOT_ROLE"); r != "" {
		role = r
	}
	if flag != "" {
		role = flag
	}
	if !config.ValidRole(role) {
		return "", fmt.Errorf("%w: role %q is not one of %v", errUsage, role, config.Roles())
	}
	return role, nil
}

// settingCommands is the store's setting holding the command set last
// registered with Discord, so that a trainer taking over registers only a change.
const settingCommands = "discord.commands"

// ElectionTrainer is the election among `run --role train` processes: the
// holder runs ingest, fine-tunes and scheduled posts.
const ElectionTrainer = "trainer"

// leadLoop is what a trainer does until ctx ends: stand by for the trainer
// election, and while elected run the leader's part (first trainings, ingest,
// fine-tunes, posts) and register the commands; when the leadership is lost,
// stand by again.
func (rt *app) leadLoop(ctx context.Context) error {
	el := rt.store.Elector(ElectionTrainer, leader.Options{Log: rt.log.With("component", "leader")})
	register := sync.OnceFunc(func() {
		s := rt.secrets
		if s.DiscordToken != "" && s.DiscordAppID != "" {
			last, err := rt.store.Setting(ctx, settingCommands)
			if err != nil {
				rt.log.Warn("the registered command set is unknown; registering it", "err", err)
			}
			saved := func(key string) {
				if err := rt.store.SetSetting(context.WithoutCancel(ctx), settingCommands, key); err != nil {
					rt.log.Warn("the registered command set was not recorded", "err", err)
				}
			}
			if err := rt.bot.RegisterCommands(ctx, s.DiscordToken, s.DiscordAppID, last, saved); err != nil {
				rt.log.Warn("commands not registered", "err", err)
			}
		}
	})
	rt.log.Info("standing by for the trainer election", "store", store.RedactURL(storeURL(rt.cfg, rt.env.Getenv)))
	for ctx.Err() == nil {
		held, release, err := el.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("trainer election: %w", err)
		}
		rt.log.Info("elected the active trainer")
		register()
		go rt.ingestOnce(held)
		err = rt.sched.Lead(held)
		release()
		if ctx.Err() == nil {
			rt.log.Warn("no longer the active trainer; standing by", "cause", err)
		}
	}
	return nil
}

// ingestOnce runs an ingest at once when elected (bounded like the first
// ingest of `run`), through the scheduler, so that it takes the store's ingest
// lock and is recorded. The scheduler starts leading in Lead, which runs
// beside it: the ingest waits for that, or the scheduler would refuse it.
func (rt *app) ingestOnce(ctx context.Context) {
	if rt.o.firstIngestTimeout <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, rt.o.firstIngestTimeout)
	defer cancel()
	for !rt.sched.Leading() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := rt.sched.RunIngest(ctx); err != nil {
		rt.log.Warn("the first ingest as the active trainer failed; the schedule tries again", "err", err)
	}
}

// sharedLimits is the store as the bot's shared limits when other processes
// may answer interactions from it (PostgreSQL), nil (this process's own
// limits) for the embedded store.
func sharedLimits(st store.Store) bot.SharedLimits {
	if !st.Shared() {
		return nil
	}
	return st
}
