package cli

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"commentbot/config"
	"commentbot/internal/leader"
	"commentbot/reddit"
	"commentbot/scheduler"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// newIngester builds the Reddit ingester from the config and the environment's credentials.
func newIngester(cfg config.Config, st store.Store, env Env, log *slog.Logger) (*reddit.Ingester, error) {
	rules, err := cleanRules(cfg)
	if err != nil {
		return nil, err
	}
	return reddit.NewIngester(reddit.Config{
		Subreddits:  cfg.Reddit.Subreddits,
		MaxPerRun:   cfg.Reddit.MaxPerRun,
		UserAgent:   cfg.Reddit.UserAgent,
		BaseURL:     cfg.Reddit.BaseURL,
		TokenURL:    cfg.Reddit.TokenURL,
		Timeout:     cfg.Reddit.Timeout,
		Credentials: reddit.CredentialsFromEnv(env.Getenv),
		Rules:       &rules,
	}, st, reddit.Deps{Logger: log})
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func ingestCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("ingest", "[flags]",
		"Fetch the newest comments of the configured subreddits (or --subreddit) from Reddit,\n"+
			"clean them and store them, page by page, resuming where the last run stopped.\n"+
			"Credentials come from REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USERNAME,\n"+
			"REDDIT_PASSWORD; with none, Reddit's read-only endpoints are used.", env)
	c.register(fs, env)
	var subs stringList
	fs.Var(&subs, "subreddit", "subreddit to fetch (repeatable; a+b fetches several in one listing); default: the config's")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	log := logger(cfg, env)
	st, err := openStore(ctx, cfg, env.Getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := newIngester(cfg, st, env, log)
	if err != nil {
		return err
	}
	defer in.CloseIdleConnections()
	// One ingest at a time across the processes sharing the store (the fleet's
	// trainer, another `ingest`): wait for the others.
	ctx, release, err := st.Elector(scheduler.ElectionIngest, leader.Options{Log: log}).Acquire(ctx)
	if err != nil {
		return fmt.Errorf("ingest lock: %w", err)
	}
	defer release()
	started := time.Now()
	var rep reddit.Report
	if len(subs) > 0 {
		rep, err = in.RunSubreddits(ctx, subs)
	} else {
		rep, err = in.Run(ctx)
	}
	outcome, detail := runs.OutcomeOK, ""
	if err != nil {
		outcome, detail = runs.OutcomeError, err.Error()
	}
	if rerr := st.RecordRun(context.WithoutCancel(ctx), runs.Run{Job: scheduler.JobIngest, Started: started, Ended: time.Now(),
		Outcome: outcome, Figures: rep.Figures(), Detail: detail}); rerr != nil {
		log.Warn("recording the ingest run failed", "err", rerr)
	}
	fmt.Fprintf(env.Stdout, "ingest: %d pages, %d requests, %d new, %d updated, %d unchanged, %d skipped %v, waited %v for rate limits\n",
		rep.Pages, rep.Requests, rep.New, rep.Updated, rep.Unchanged, rep.Skipped, rep.SkipReasons, rep.RateLimitWait.Round(time.Millisecond))
	return err
}
