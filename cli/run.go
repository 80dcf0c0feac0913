package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"commentbot/bot"
	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler"
)

// runOptions are the parts of `run` that tests replace.
type runOptions struct {
	// trainSteps, when > 0, replaces the minute budgets with steps (tests).
	trainSteps int
	// firstIngestTimeout bounds the first attempt to reach Reddit.
	firstIngestTimeout time.Duration
	// ready, when set, is called once every enabled model is ready to serve.
	ready func()
	// waitReady makes the console wait for every enabled model before reading stdin.
	waitReady bool
}

func runBot(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("run", "[flags]",
		"Run the bot: open the store (loading the embedded sample corpus on a fresh machine),\n"+
			"try Reddit, train the models that have no checkpoint, run the schedules (ingest,\n"+
			"fine-tune, posts) and serve /comment — on Discord when DISCORD_TOKEN and DISCORD_APP_ID\n"+
			"are set (or DISCORD_PUBLIC_KEY with bot.http_listen), else on this console.\n"+
			"The config file is reloaded when it changes or on SIGHUP.", env)
	c.register(fs, env)
	wait := fs.Bool("wait", true, "console: wait until every enabled model is trained before reading commands")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	return serve(ctx, c, env, runOptions{firstIngestTimeout: 20 * time.Second, waitReady: *wait})
}

// serve is `run` after flag parsing.
func serve(ctx context.Context, c common, env Env, o runOptions) (err error) {
	env = env.synced()
	cfg, err := c.load()
	if err != nil {
		return err
	}
	secrets := config.SecretsFromEnv(env.Getenv)
	log := logger(cfg, env)
	log.Info("starting", "data_dir", cfg.DataDir, "config", orDefault(c.configPath, "built-in defaults"), "secrets", secrets)

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	if err := seedStore(ctx, st, cfg, env, log); err != nil {
		return err
	}

	index, err := corpus.BuildNGramIndex(ctx, st.Comments(corpus.Filter{}), corpus.DefaultWordNGram, corpus.DefaultCharNGram)
	if err != nil {
		return fmt.Errorf("n-gram index: %w", err)
	}
	ingester, err := newIngester(cfg, st, env, log)
	if err != nil {
		return err
	}
	defer ingester.CloseIdleConnections()
	ing := indexingIngester{in: scheduler.CorpusIngester{I: ingester}, store: st, index: index}

	readyCh := make(chan struct{})
	markReady := sync.OnceFunc(func() {
		close(readyCh)
		if o.ready != nil {
			o.ready()
		}
	})
	progress := newProgressView(env.Stderr, isTerminal(env.Stderr))
	var b *bot.Bot         // set before sched.Start, the first time OnModelsChanged can run
	var poster *bot.Poster // likewise; nil without a bot token: scheduled posts are recorded as errors
	var sched *scheduler.Scheduler
	sched, err = scheduler.New(scheduler.Options{
		Config: cfg, Store: scheduler.CorpusStore{S: st}, Engine: scheduler.ModelEngine{},
		Ingester: ing, Registry: prometheus.NewRegistry(), Logger: log, Seed: uint64(time.Now().UnixNano()),
		TrainSteps: o.trainSteps,
		OnProgress: progress.update,
		Poster: scheduler.PostFunc(func(ctx context.Context, channelID, level, text string) error {
			if poster == nil {
				return fmt.Errorf("%w: scheduled posts need DISCORD_TOKEN", scheduler.ErrNoPoster)
			}
			err := poster.PostOriginal(ctx, channelID, level, text)
			if errors.Is(err, bot.ErrUnoriginal) {
				return fmt.Errorf("%w: %w", scheduler.ErrUnoriginal, err)
			}
			return err
		}),
		OnModelsChanged: func(ready []string) {
			progress.ready(ready)
			if err := b.Refresh(ctx); err != nil {
				log.Warn("re-registering commands failed", "err", err)
			}
			if allReady(sched) {
				markReady()
			}
		},
	})
	if err != nil {
		return err
	}
	b, err = bot.New(botConfig(cfg), generator{sched, st}, bot.Options{
		Logger: log.With("component", "bot"), Originality: originality(index),
		Metrics: bot.MetricsFunc(func(command, outcome string, _, total time.Duration) {
			var err error
			if outcome != "ok" {
				err = errors.New(outcome)
			}
			sched.ObserveCommand(command, total, err)
		}),
	})
	if err != nil {
		return err
	}

	if secrets.DiscordToken != "" {
		if poster, err = b.Poster(secrets.DiscordToken); err != nil {
			return err
		}
	}

	// Try Reddit once at start, in the background: offline is a normal state.
	go firstIngest(ctx, ing, o.firstIngestTimeout, log)

	if err := sched.Start(ctx); err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, b.Shutdown(sctx), sched.Shutdown(sctx))
	}()
	if allReady(sched) {
		markReady()
	}

	// Config hot reload: file changes and SIGHUP.
	if c.configPath != "" {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		w := &config.Watcher{Path: c.configPath, Reload: hup,
			Apply: func(nc config.Config) {
				log.Info("config reloaded", "path", c.configPath)
				if nc.DataDir != cfg.DataDir {
					log.Warn("data_dir changes take effect at the next start", "running", cfg.DataDir, "file", nc.DataDir)
					nc.DataDir = cfg.DataDir
				}
				sched.Apply(nc)
				if err := b.Refresh(ctx); err != nil {
					log.Warn("re-registering commands failed", "err", err)
				}
			},
			OnError: func(err error) { log.Error("config reload refused", "err", err) }}
		go func() {
			if err := w.Watch(ctx); err != nil {
				log.Error("config watch stopped", "err", err)
			}
		}()
	}

	// Metrics and /healthz.
	if cfg.Metrics.Listen != "" {
		stop, err := listenAndServe(cfg.Metrics.Listen, sched.Handler(), log, "metrics")
		if err != nil {
			log.Warn("metrics endpoint not started", "listen", cfg.Metrics.Listen, "err", err)
		} else {
			defer stop()
		}
	}

	// Transports. With an interactions endpoint URL set in the Discord application,
	// Discord sends interactions there and not over the gateway: HTTP mode then
	// replaces the gateway (stateless replicas behind a load balancer scale out).
	switch {
	case secrets.DiscordPublicKey != "" && cfg.Bot.HTTPListen != "":
		if secrets.DiscordToken == "" || secrets.DiscordAppID == "" {
			return errors.New("HTTP interactions need DISCORD_TOKEN and DISCORD_APP_ID too (to register commands and send answers)")
		}
		if err := serveHTTPInteractions(ctx, b, cfg, secrets, log); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	case secrets.DiscordToken != "":
		gw, err := b.Connect(ctx, secrets.DiscordToken, secrets.DiscordAppID)
		if err != nil {
			return fmt.Errorf("discord gateway: %w", err)
		}
		defer gw.Close()
		log.Info("serving Discord through the gateway")
		<-ctx.Done()
		return nil
	default:
		fmt.Fprintln(env.Stderr, "No DISCORD_TOKEN set: serving the console. Type /help; end with EOF (Ctrl-D).")
		if o.waitReady && !allReady(sched) {
			fmt.Fprintln(env.Stderr, "Training the models that have no checkpoint yet; commands are read once they are ready.")
			select {
			case <-readyCh:
			case <-ctx.Done():
				return nil
			}
		}
		progress.done()
		err := b.ServeConsole(ctx, env.Stdin, env.Stdout)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
}

func serveHTTPInteractions(ctx context.Context, b *bot.Bot, cfg config.Config, s config.Secrets, log *slog.Logger) error {
	key, err := bot.ParsePublicKey(s.DiscordPublicKey)
	if err != nil {
		return err
	}
	h, err := b.HTTPInteractions(ctx, s.DiscordToken, s.DiscordAppID, key)
	if err != nil {
		return fmt.Errorf("http interactions: %w", err)
	}
	stop, err := listenAndServe(cfg.Bot.HTTPListen, h, log, "interactions")
	if err != nil {
		return fmt.Errorf("http interactions: %w", err)
	}
	context.AfterFunc(ctx, stop)
	log.Info("serving Discord HTTP interactions", "listen", cfg.Bot.HTTPListen)
	return nil
}

// listenAndServe serves h on addr until the returned stop is called.
func listenAndServe(addr string, h http.Handler, log *slog.Logger, what string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what+" server stopped", "err", err)
		}
	}()
	log.Info(what+" listening", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// seedStore loads the embedded sample corpus into an empty store, so that a fresh
// machine has something to train on.
func seedStore(ctx context.Context, st *corpus.Store, cfg config.Config, env Env, log *slog.Logger) error {
	n, err := st.Count(ctx, corpus.Filter{})
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("store opened", "comments", n)
		return nil
	}
	cs, err := corpus.SampleComments(ctx)
	if err != nil {
		return fmt.Errorf("embedded sample: %w", err)
	}
	rules, err := cleanRules(cfg)
	if err != nil {
		return err
	}
	kept := cs[:0]
	for _, c := range cs {
		if k, why := rules.Clean(c); why == "" {
			kept = append(kept, k)
		}
	}
	up, err := st.Upsert(ctx, kept)
	if err != nil {
		return fmt.Errorf("embedded sample: %w", err)
	}
	fmt.Fprintf(env.Stderr, "New store: loaded the embedded sample corpus (%d comments written by the project).\n", up.New)
	return nil
}

// firstIngest tries Reddit once; when it cannot be reached the bot says so and goes on.
func firstIngest(ctx context.Context, in scheduler.Ingester, timeout time.Duration, log *slog.Logger) {
	if timeout <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	n, err := in.Ingest(ctx)
	if err != nil {
		log.Warn("Reddit cannot be reached; going on offline with the comments already stored", "err", err)
		return
	}
	log.Info("fetched fresh comments from Reddit", "new", n.New, "updated", n.Updated, "skipped", n.Skipped)
}

func allReady(s *scheduler.Scheduler) bool {
	if s == nil {
		return false
	}
	for _, m := range s.Live().Models() {
		if !m.Ready {
			return false
		}
	}
	return true
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func isTerminal(w io.Writer) bool {
	if s, ok := w.(*syncWriter); ok {
		w = s.w
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
