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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/term"

	"commentbot/bot"
	"commentbot/config"
	"commentbot/corpus"
	"commentbot/model/kernel"
	"commentbot/originality"
	"commentbot/scheduler"
	"commentbot/store"
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
	// role is --role ("" = COMMENTBOT_ROLE, else the config's).
	role string
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
	role := fs.String("role", "", "all (one process does everything), serve (answer interactions from the live models in the\n"+
		"store) or train (ingest, fine-tune, post while elected); default: COMMENTBOT_ROLE, else the config's role")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	return serve(ctx, c, env, runOptions{firstIngestTimeout: 20 * time.Second, waitReady: *wait, role: *role})
}

// serve is `run` after flag parsing: it wires the bot one named step at a
// time — config and logger, the store (seeded on a fresh machine), then
// index → ingester → scheduler → bot → poster — starts it and serves Discord
// or the console until ctx ends, then shuts down in the reverse order.
func serve(ctx context.Context, c common, env Env, o runOptions) (err error) {
	rt, err := newApp(c, env, o)
	if err != nil {
		return err
	}
	if err := rt.openStore(ctx); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rt.store.Close()) }()
	if err := rt.wire(ctx); err != nil {
		return err
	}
	defer rt.ing.close()
	if err := rt.start(ctx); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rt.shutdown(ctx)) }()
	defer rt.serveMetrics()()
	return rt.serveTransports(ctx)
}

// app is what `run` wires together: the parts a config reload reaches and the
// transports use.
type app struct {
	c         common
	env       Env
	o         runOptions
	log       *slog.Logger
	level     *slog.LevelVar
	secrets   config.Secrets
	cfg       config.Config
	store     store.Store
	index     *originality.Index
	ing       *liveIngester
	indexed   indexingIngester
	sched     *scheduler.Scheduler
	bot       *bot.Bot
	poster    *bot.Poster // nil without a bot token: scheduled posts are recorded as errors
	progress  *progressView
	readyCh   chan struct{}
	markReady func()
}

// newApp reads the config and the secrets, builds the logger and points
// discordgo at the configured API.
func newApp(c common, env Env, o runOptions) (*app, error) {
	env = env.synced()
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	if cfg.Role, err = resolveRole(o.role, env.Getenv, cfg); err != nil {
		return nil, err
	}
	rt := &app{c: c, env: env, o: o, cfg: cfg, secrets: config.SecretsFromEnv(env.Getenv), ing: &liveIngester{},
		progress: newProgressView(env.Stderr, isTerminal(env.Stderr)), readyCh: make(chan struct{})}
	rt.log, rt.level = newLogger(cfg, env)
	rt.log.Info("starting", "role", cfg.Role, "store", store.RedactURL(storeURL(cfg, env.Getenv)), "data_dir", cfg.DataDir, "config", orDefault(c.configPath, "built-in defaults"), "blas", kernel.Name(), "secrets", rt.secrets)
	if cfg.Bot.APIURL != "" {
		if err := bot.UseAPI(cfg.Bot.APIURL); err != nil {
			return nil, err
		}
	}
	rt.markReady = sync.OnceFunc(func() {
		close(rt.readyCh)
		if o.ready != nil {
			o.ready()
		}
	})
	return rt, nil
}

// openStore opens the store and, on a fresh machine, loads the embedded sample.
func (rt *app) openStore(ctx context.Context) error {
	st, err := openStoreRetrying(ctx, rt.cfg, rt.env.Getenv, rt.log)
	if err != nil {
		return err
	}
	rt.store = st
	if rt.cfg.Role == config.RoleServe {
		return nil // a serving replica writes no comments
	}
	if err := seedStore(ctx, st, rt.cfg, rt.env, rt.log); err != nil {
		return errors.Join(err, st.Close())
	}
	return nil
}

// wire builds, in order, the n-gram index over the stored comments, the
// ingester (which keeps the index current), the scheduler, the bot and its
// poster.
func (rt *app) wire(ctx context.Context) (err error) {
	if rt.index, err = originality.Build(ctx, rt.store.Comments(corpus.Filter{}), originality.DefaultWordN, originality.DefaultCharN); err != nil {
		return fmt.Errorf("n-gram index: %w", err)
	}
	in, err := newIngester(rt.cfg, rt.store, rt.env, rt.log)
	if err != nil {
		return err
	}
	rt.ing.cur.Store(in)
	rt.indexed = indexingIngester{in: rt.ing, store: rt.store, index: rt.index}
	if err := rt.newScheduler(ctx); err != nil {
		return err
	}
	if err := rt.newBot(); err != nil {
		return err
	}
	if rt.secrets.DiscordToken != "" && rt.cfg.Role != config.RoleServe {
		if rt.poster, err = rt.bot.Poster(rt.secrets.DiscordToken); err != nil {
			return err
		}
	}
	return nil
}

// newScheduler builds the scheduler over the store, the model engine and the
// indexing ingester; it reports progress, posts and ready models to the app.
func (rt *app) newScheduler(ctx context.Context) (err error) {
	var in scheduler.Ingester = rt.indexed
	if rt.cfg.Role == config.RoleServe {
		in = nil
	}
	rt.sched, err = scheduler.New(scheduler.Options{
		Config: rt.cfg, Store: rt.store, Engine: scheduler.ModelEngine{}, Versions: rt.store, Fleet: rt.store,
		Follower: rt.cfg.Role != config.RoleAll, Ingester: in, Registry: prometheus.NewRegistry(), Logger: rt.log, Seed: uint64(time.Now().UnixNano()),
		TrainSteps: rt.o.trainSteps, OnProgress: rt.progress.update, Poster: scheduler.PostFunc(rt.post),
		Pretrained:      shippedModels(rt.env, rt.log),
		OnModelsChanged: func(ready []string) { rt.modelsChanged(ctx, ready) },
		Health:          func() map[string]any { return map[string]any{"discord": rt.bot.Health()} },
	})
	return err
}

// newBot builds the bot over the scheduler's live models, with the
// originality check and the scheduler's command metrics.
func (rt *app) newBot() (err error) {
	rt.bot, err = bot.New(botConfig(rt.cfg), generator{rt.sched, rt.store}, bot.Options{
		Logger: rt.log.With("component", "bot"), Originality: originalityCheck(rt.index),
		Shared: sharedLimits(rt.store), NoRegistration: rt.cfg.Role != config.RoleAll,
		Metrics: bot.MetricsFunc(func(command, outcome string, _, total time.Duration) {
			var err error
			if outcome != "ok" {
				err = errors.New(outcome)
			}
			rt.sched.ObserveCommand(command, total, err)
		}),
	})
	return err
}

// start tries Reddit once in the background (offline is a normal state),
// starts the scheduler (first trainings, cron jobs) and the config watcher.
func (rt *app) start(ctx context.Context) error {
	if rt.cfg.Role == config.RoleAll {
		go firstIngest(ctx, rt.indexed, rt.o.firstIngestTimeout, rt.log)
	}
	if err := rt.sched.Start(ctx); err != nil {
		return err
	}
	if allReady(rt.sched) {
		rt.markReady()
	}
	rt.watchConfig(ctx)
	return nil
}

// shutdown stops the bot and the scheduler, waiting up to 30 s for them.
func (rt *app) shutdown(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return errors.Join(rt.bot.Shutdown(sctx), rt.sched.Shutdown(sctx))
}

// serveMetrics serves /metrics and /healthz when configured; a port that
// cannot be opened is logged, not fatal. It returns the listener's stop.
func (rt *app) serveMetrics() (stop func()) {
	if rt.cfg.Metrics.Listen == "" {
		return func() {}
	}
	stop, err := listenAndServe(rt.cfg.Metrics.Listen, rt.sched.Handler(), rt.log, "metrics")
	if err != nil {
		rt.log.Warn("metrics endpoint not started", "listen", rt.cfg.Metrics.Listen, "err", err)
		return func() {}
	}
	return stop
}

// post sends a scheduled post through the bot's Poster.
func (rt *app) post(ctx context.Context, channelID, level, text string) error {
	if rt.poster == nil {
		return fmt.Errorf("%w: scheduled posts need DISCORD_TOKEN", scheduler.ErrNoPoster)
	}
	err := rt.poster.PostOriginal(ctx, channelID, level, text)
	if errors.Is(err, bot.ErrUnoriginal) {
		return fmt.Errorf("%w: %w", scheduler.ErrUnoriginal, err)
	}
	return err
}

// modelsChanged follows the scheduler's ready set: progress, commands, readiness.
// The bot exists before the scheduler starts, the first time this can run.
func (rt *app) modelsChanged(ctx context.Context, ready []string) {
	rt.progress.ready(ready)
	_ = rt.bot.Refresh(ctx) // a failure is logged and retried by the bot
	if allReady(rt.sched) {
		rt.markReady()
	}
}

// serveTransports serves Discord (HTTP interactions or the gateway) or the console
// until ctx ends (or the console's input does). With an interactions endpoint URL
// set in the Discord application, Discord sends interactions there and not over the
// gateway: HTTP mode then replaces the gateway (stateless replicas behind a load
// balancer scale out). Discord failing at start delays the link, never the bot.
func (rt *app) serveTransports(ctx context.Context) error {
	s, cfg := rt.secrets, rt.cfg
	switch {
	case cfg.Role == config.RoleTrain:
		return rt.leadLoop(ctx)
	case s.DiscordPublicKey != "" && cfg.Bot.HTTPListen != "":
		if s.DiscordToken == "" || s.DiscordAppID == "" {
			return errors.New("HTTP interactions need DISCORD_TOKEN and DISCORD_APP_ID too (to register commands and send answers)")
		}
		if err := serveHTTPInteractions(ctx, rt.bot, cfg, s, rt.log); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	case s.DiscordToken != "":
		rt.log.Info("connecting to the Discord gateway")
		if _, err := rt.bot.ConnectRetrying(ctx, s.DiscordToken, s.DiscordAppID); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("discord gateway: %w", err)
		}
		rt.log.Info("serving Discord through the gateway")
		<-ctx.Done()
		return nil
	default:
		return rt.serveConsole(ctx)
	}
}

// serveConsole serves the console; with waitReady it first waits until start-up is
// over for every enabled model (trained, or its first training failed).
func (rt *app) serveConsole(ctx context.Context) error {
	fmt.Fprintln(rt.env.Stderr, "No DISCORD_TOKEN set: serving the console. Type /help; end with EOF (Ctrl-D).")
	if rt.o.waitReady && !allReady(rt.sched) {
		fmt.Fprintln(rt.env.Stderr, "Training the models that have no checkpoint yet; commands are read once they are ready.")
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for !allReady(rt.sched) && !rt.sched.Settled() {
			select {
			case <-rt.readyCh:
			case <-tick.C:
			case <-ctx.Done():
				return nil
			}
		}
		if !allReady(rt.sched) {
			fmt.Fprintln(rt.env.Stderr, "Some models could not be trained (the log says why); serving the others.")
		}
	}
	rt.progress.done()
	err := rt.bot.ServeConsole(ctx, rt.env.Stdin, rt.env.Stdout)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
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

// Timeouts of the HTTP listeners (the public interactions endpoint and metrics). A
// Discord request is small and sent at once, and answered within 3 s: a client that
// trickles its headers or body, or holds an idle connection, is cut off.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second // headers and body
	writeTimeout      = 10 * time.Second // from the end of the headers to the end of the answer
	idleTimeout       = 30 * time.Second // between requests on a kept-alive connection
	maxHeaderBytes    = 16 << 10
)

// newServer is the http.Server of a listener open to the network.
func newServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout,
		WriteTimeout: writeTimeout, IdleTimeout: idleTimeout, MaxHeaderBytes: maxHeaderBytes}
}

// listenAndServe serves h on addr until the returned stop is called.
func listenAndServe(addr string, h http.Handler, log *slog.Logger, what string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := newServer(h)
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
func seedStore(ctx context.Context, st store.Store, cfg config.Config, env Env, log *slog.Logger) error {
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
		if k, why := corpus.Clean(c, rules); why == "" {
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
