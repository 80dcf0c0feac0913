// Package reddit is commentbot's Reddit ingester: the newest comments of
// chosen subreddits, through the go-reddit client, cleaned and written to
// the store one page and its cursor per transaction, so that a restarted
// ingest resumes where it stopped.
//
// It authenticates with app-only or password OAuth from the environment
// (CredentialsFromEnv; read-only without credentials), retries with a
// backoff that honours Reddit's rate-limit headers, paces its requests, and
// keeps a cursor per subreddit. A comment stored by an earlier run and later
// deleted or removed on Reddit is seen again as "[deleted]"/"[removed]": the
// page's commit forgets it, so its text is no longer trained on.
//
// Wiring (the scheduler's ingest job, `commentbot ingest [--subreddit NAME…]`):
//
//	cfg.Credentials = reddit.CredentialsFromEnv(os.Getenv)
//	in, err := reddit.NewIngester(cfg, st, reddit.Deps{Logger: log})
//	rep, err := in.Run(ctx) // or in.RunSubreddits(ctx, names)
//
// and the run is recorded with rep.Figures(). Tests drive it against
// internal/fakereddit (BaseURL and TokenURL from the fake).
package reddit
