package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"commentbot/config"
	"commentbot/reddit"
	"commentbot/scheduler"
)

// restartKeys are the config keys read only at start: a reload keeps their running
// values and says that they need a restart.
var restartKeys = map[string]string{
	"role":            "the role is chosen at start",
	"store.url":       "the store is opened at start",
	"data_dir":        "the store and the checkpoints are opened at start",
	"bot.guild_id":    "commands are registered where the bot started",
	"bot.global":      "commands are registered where the bot started",
	"bot.http_listen": "the interactions listener is opened at start",
	"bot.api_url":     "Discord's API address is set at start",
	"bot.shard_id":    "the gateway shard is chosen at start",
	"bot.shard_count": "the gateway shard is chosen at start",
	"metrics.listen":  "the metrics listener is opened at start",
}

// ingesterKey reports whether a change of key rebuilds the Reddit ingester.
func ingesterKey(key string) bool {
	if strings.HasPrefix(key, "reddit.") {
		return true
	}
	// Every corpus key is a cleaning rule but the held-out share.
	return strings.HasPrefix(key, "corpus.") && key != "corpus.validation_fraction"
}

// lineageKey reports whether key is a model's kind or size: a new lineage trains.
func lineageKey(key string) bool {
	if !strings.HasPrefix(key, "models[") {
		return false
	}
	for _, k := range []string{"].kind", "].vocab_size", "].embed", "].hidden"} {
		if strings.HasSuffix(key, k) {
			return true
		}
	}
	return false
}

// trainingKey reports whether key is a training hyper-parameter that a lineage
// keeps from its creation (it is stored in the checkpoint).
func trainingKey(key string) bool {
	if !strings.HasPrefix(key, "models[") {
		return false
	}
	for _, k := range []string{"].dropout", "].learning_rate", "].lr_decay", "].clip", "].streams", "].steps", "].patience"} {
		if strings.HasSuffix(key, k) {
			return true
		}
	}
	return false
}

// watchConfig reloads the config file when it changes and on SIGHUP, until ctx ends.
func (rt *app) watchConfig(ctx context.Context) {
	if rt.c.configPath == "" {
		return
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	context.AfterFunc(ctx, func() { signal.Stop(hup) })
	w := &config.Watcher{Path: rt.c.configPath, Reload: hup,
		Apply:   func(nc config.Config) { rt.reload(ctx, nc) },
		OnError: func(err error) { rt.log.Error("config reload refused", "err", err) }}
	go func() {
		if err := w.Watch(ctx); err != nil {
			rt.log.Error("config watch stopped", "err", err)
		}
	}()
}

// reload puts a new valid config in force: every key applies at once (bot limits and
// bounds, the word filter, log level, Reddit and cleaning settings, models enabled,
// their limits and schedules; a model's kind or sizes start a new lineage), except
// restartKeys, which keep their running values, and the training hyper-parameters a
// lineage keeps. The log names every change and says plainly which do not apply now
// and why; the commands are registered again when their bounds or choices changed.
func (rt *app) reload(ctx context.Context, nc config.Config) {
	if rt.c.dataDir != "" {
		nc.DataDir = rt.c.dataDir // the flag overrides the file, now as at start
	}
	if role, err := resolveRole(rt.o.role, rt.env.Getenv, nc); err == nil {
		nc.Role = role // --role and COMMENTBOT_ROLE override the file, now as at start
	}
	changes := config.Diff(rt.cfg, nc)
	if len(changes) == 0 {
		rt.log.Info("config reloaded: nothing changed", "path", rt.c.configPath)
		return
	}
	nc = keepRestartKeys(rt.cfg, nc)
	if err := rt.bot.Apply(botConfig(nc)); err != nil {
		rt.log.Error("config reload refused; the running config stays", "path", rt.c.configPath, "err", err)
		return
	}
	refused := false
	if slices.ContainsFunc(changes, func(ch config.Change) bool { return ingesterKey(ch.Key) }) {
		in, err := newIngester(nc, rt.store, rt.env, rt.log)
		if err != nil {
			rt.log.Error("Reddit and cleaning settings refused; the running ones stay", "err", err)
			nc.Reddit, nc.Corpus = rt.cfg.Reddit, keepCleaning(rt.cfg.Corpus, nc.Corpus)
			refused = true
		} else {
			rt.ing.replace(in)
		}
	}
	var applied, later []string
	for _, ch := range changes {
		switch why, ok := restartKeys[ch.Key]; {
		case ok:
			later = append(later, ch.String()+" (needs a restart: "+why+")")
		case refused && ingesterKey(ch.Key):
		case lineageKey(ch.Key):
			applied = append(applied, ch.String()+" (a new lineage trains; the current one serves until it is live)")
		case trainingKey(ch.Key):
			later = append(later, ch.String()+" (the current lineage keeps the value it was created with; a new lineage, `commentbot train --full`, uses it)")
		default:
			applied = append(applied, ch.String())
		}
	}
	rt.level.Set(logLevel(nc.LogLevel))
	rt.sched.Apply(nc)
	rt.cfg = nc
	if len(applied) > 0 {
		rt.log.Info("config reloaded", "path", rt.c.configPath, "applied", strings.Join(applied, "; "))
	}
	if len(later) > 0 {
		rt.log.Warn("config changes that do not apply now", "path", rt.c.configPath, "changes", strings.Join(later, "; "))
	}
	_ = rt.bot.Refresh(ctx) // a failure is logged and retried by the bot
}

// keepCleaning returns next with the cleaning rules of running (the split stays next's).
func keepCleaning(running, next config.CorpusConfig) config.CorpusConfig {
	running.ValidationFraction = next.ValidationFraction
	return running
}

// keepRestartKeys returns nc with the running values of the keys read only at start.
func keepRestartKeys(running, nc config.Config) config.Config {
	nc.DataDir, nc.Role, nc.Store.URL = running.DataDir, running.Role, running.Store.URL
	nc.Bot.GuildID, nc.Bot.Global, nc.Bot.HTTPListen, nc.Bot.APIURL = running.Bot.GuildID, running.Bot.Global, running.Bot.HTTPListen, running.Bot.APIURL
	nc.Bot.ShardID, nc.Bot.ShardCount = running.Bot.ShardID, running.Bot.ShardCount
	nc.Metrics.Listen = running.Metrics.Listen
	return nc
}

// liveIngester is the Reddit ingester in force; a config reload replaces it, and a
// run in progress finishes with the one it started with.
type liveIngester struct {
	cur atomic.Pointer[reddit.Ingester]
}

// Ingest runs the ingester once over its configured subreddits; the run
// record gets the report's figures.
func (l *liveIngester) Ingest(ctx context.Context) (scheduler.IngestCounts, error) {
	r, err := l.cur.Load().Run(ctx)
	return scheduler.IngestCounts{New: r.New, Updated: r.Updated, Skipped: r.Skipped, Figures: r.Figures()}, err
}

func (l *liveIngester) replace(in *reddit.Ingester) {
	if old := l.cur.Swap(in); old != nil {
		old.CloseIdleConnections()
	}
}

func (l *liveIngester) close() {
	if in := l.cur.Load(); in != nil {
		in.CloseIdleConnections()
	}
}

// logLevel parses a validated log level.
func logLevel(s string) slog.Level {
	var level slog.Level
	_ = level.UnmarshalText([]byte(s))
	return level
}
