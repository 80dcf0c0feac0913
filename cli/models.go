package cli

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler"
	"commentbot/store"
)

// offline is what the model commands share: the config, the store and a scheduler
// that is never started (no cron, no training in the background) — it reads and
// writes the versions on disk exactly as the running bot does, and the running bot
// follows what it changes within seconds.
type offline struct {
	cfg   config.Config
	store store.Store
	sched *scheduler.Scheduler
	log   *slog.Logger
}

func openOffline(ctx context.Context, c common, env Env) (*offline, error) {
	return openOfflineWith(ctx, c, env, nil)
}

// openOfflineWith is openOffline with a receiver of training progress.
func openOfflineWith(ctx context.Context, c common, env Env, progress func(string, scheduler.TrainProgress)) (*offline, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg, env.Getenv)
	if err != nil {
		return nil, err
	}
	log := logger(cfg, env)
	seed := c.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	// Versions and locks are the store's: a `train` beside the running bot (or
	// a second `train`) waits for the model's lock instead of racing it.
	sched, err := scheduler.New(scheduler.Options{Config: cfg, Store: st, Versions: st, Fleet: st, LockWait: true,
		Engine: scheduler.ModelEngine{}, Registry: prometheus.NewRegistry(), Logger: log, OnProgress: progress,
		Seed: seed, Pretrained: shippedModels(env, log)})
	if err != nil {
		st.Close()
		return nil, err
	}
	return &offline{cfg: cfg, store: st, sched: sched, log: log}, nil
}

func (o *offline) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(o.sched.Shutdown(ctx), o.store.Close())
}

// parseModelCmd parses the flags of a command that needs --model (name) and opens the
// offline scheduler; progress, when set, receives training progress.
func parseModelCmd(ctx context.Context, fs *flag.FlagSet, c *common, args []string, env Env, name *string,
	progress func(string, scheduler.TrainProgress)) (*offline, error) {
	if err := parse(fs, args, env); err != nil {
		return nil, err
	}
	if *name == "" {
		fs.Usage()
		return nil, errUsage
	}
	return openOfflineWith(ctx, *c, env, progress)
}

// dataSource reads a CSV or NDJSON file, cleaned by the config's rules.
func dataSource(path string, cfg config.Config) (corpus.Source, error) {
	src, err := corpus.FileSource(path)
	if err != nil {
		return nil, err
	}
	rules, err := cleanRules(cfg)
	if err != nil {
		return nil, err
	}
	return corpus.CleanSource(src, rules), nil
}

// modelConfig returns the configured model name or an error listing the names.
func (o *offline) modelConfig(name string) (config.ModelConfig, error) {
	if mc, ok := o.cfg.Model(name); ok {
		return mc, nil
	}
	var names []string
	for _, m := range o.cfg.Models {
		names = append(names, m.Name)
	}
	return config.ModelConfig{}, fmt.Errorf("no model %q in the config (models: %v)", name, names)
}

// load returns version v of name (0: the live one) and its number, checked against
// the config (kind, level, sizes, lineage) like every load.
func (o *offline) load(ctx context.Context, name string, v int) (scheduler.Model, int, error) {
	if v == 0 {
		if _, err := o.sched.Repo().Live(ctx, name); err != nil {
			return nil, 0, fmt.Errorf("%s has no trained version yet (train it with `commentbot train --model %s`): %w", name, name, err)
		}
	}
	return o.sched.LoadVersion(ctx, name, v)
}

func modelsCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("models", "[flags]", "List the configured models and their versions on disk with their metrics.", env)
	c.register(fs, env)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	o, err := openOffline(ctx, c, env)
	if err != nil {
		return err
	}
	defer o.Close()
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	for _, mc := range o.cfg.Models {
		state := "enabled"
		if !mc.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s, %s, hidden %v\n", mc.Name, mc.Kind, state, mc.Hidden)
		list, err := o.sched.Versions(ctx, mc.Name)
		if err != nil {
			return err
		}
		asides, err := o.sched.Repo().SetAsides(ctx, mc.Name)
		if err != nil {
			return err
		}
		for _, a := range asides {
			fmt.Fprintf(tw, "\tset aside (unusable, kept for inspection): %s\n", a)
		}
		if len(list) == 0 {
			fmt.Fprintf(tw, "\tno versions yet\n")
			continue
		}
		if ft := lastFineTune(ctx, o.store, mc.Name); ft != "" {
			fmt.Fprintf(tw, "\tlast fine-tune: %s\n", ft)
		}
		fmt.Fprintf(tw, "\tversion\tcreated\theld-out loss\tbits/char\tfresh loss\ttrain loss\tfresh learned\ttokens trained\tsteps\torigin\n")
		for _, v := range list {
			mark := ""
			if v.Live {
				mark = " (live)"
			}
			fmt.Fprintf(tw, "\tv%d%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", v.Version, mark, v.Created.Local().Format("2006-01-02 15:04"),
				loss(v.HeldOutLoss, v.HeldOutTokens), bitsPerChar(v.HeldOutBPC, v.HeldOutComments), loss(v.FreshLoss, v.FreshTokens),
				loss(v.TrainLoss, trainedTokens(v.TrainLoss)), learned(v.Learned), v.TokensTrained, v.Steps, v.Origin())
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if d := o.cfg.Bot.DefaultModel; d != "" {
		fmt.Fprintf(env.Stdout, "/comment without a model uses %s (bot.default_model).\n", d)
	} else {
		fmt.Fprintln(env.Stdout, "/comment without a model uses the one with the lowest held-out bits per character (`commentbot eval` ranks them).")
	}
	return nil
}

// lastFineTune says in a line how the newest fine-tune of name that trained
// went and which share of the fresh comments' tokens it learned; "" when
// there is none.
func lastFineTune(ctx context.Context, st store.Store, name string) string {
	rs, err := st.Runs(ctx, scheduler.JobFineTune, 100)
	if err != nil {
		return ""
	}
	for _, r := range rs {
		f := r.Figures
		if r.Model != name || f == nil || f["fresh_train_tokens"] <= 0 {
			continue
		}
		return fmt.Sprintf("%s %s, learned %.0f%% of %s fresh tokens (%s fresh + %s replayed comments, %d steps)",
			r.Outcome, r.Ended.Local().Format("2006-01-02 15:04"), 100*f["fresh_learned_share"], count(int64(f["fresh_train_tokens"])),
			count(int64(f["fresh_comments"])), count(int64(f["replay_comments"])), int(f["steps"]))
	}
	return ""
}

// bitsPerChar shows a version's held-out bits per character and on how many
// comments it was measured.
func bitsPerChar(bpc float64, comments int) string {
	if comments <= 0 || math.IsNaN(bpc) || bpc <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f (%d)", bpc, comments)
}

// learned shows the share of the fresh tokens a fine-tune trained on.
func learned(c *scheduler.Coverage) string {
	if c == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f%% of %s", 100*c.Share(), count(c.Tokens))
}

// count renders n with thousands separators: 12,345.
func count(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func loss(l float64, tokens int64) string {
	if tokens <= 0 || math.IsNaN(l) {
		return "-"
	}
	return fmt.Sprintf("%.4f", l)
}

func rollbackCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("rollback", "--model NAME [--to VERSION]",
		"Make an earlier version of a model live again (default: the one before the live one).\n"+
			"A running bot follows within seconds.", env)
	c.register(fs, env)
	name := fs.String("model", "", "model name (required)")
	to := fs.Int("to", 0, "version to make live (default: the previous one)")
	o, err := parseModelCmd(ctx, fs, &c, args, env, name, nil)
	if err != nil {
		return err
	}
	defer o.Close()
	if _, err := o.modelConfig(*name); err != nil {
		return err
	}
	from, _ := o.sched.Repo().Live(ctx, *name)
	v, err := o.sched.Rollback(ctx, *name, *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: v%d is live (was v%d)\n", *name, v, from)
	return nil
}

func generateCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("generate", "--model NAME [--temperature T] [--prompt P] [-n N] [--seed S]",
		"Sample comments from a model's live version (or --version). The same model version,\n"+
			"temperature, prompt, length and seed give the same text: the footer of a Discord\n"+
			"answer names them, so `generate --seed S` reproduces it.", env)
	c.register(fs, env)
	name := fs.String("model", "", "model name (required)")
	temp := fs.Float64("temperature", 0.8, "sampling temperature: > 0 and at most the model's max_temperature; near 0 is greedy")
	topP := fs.Float64("top-p", 0, "nucleus sampling: keep the most likely tokens up to this probability (0 = off)")
	prompt := fs.String("prompt", "", "text to continue")
	n := fs.Int("n", 1, "number of comments")
	seed := fs.Uint64("seed", 0, "seed of the first comment (the others use seed+1, seed+2, …); 0 picks one")
	length := fs.Int("length", 0, "maximum tokens (words or characters); 0 = the model's max_tokens")
	version := fs.Int("version", 0, "version to sample from (default: live)")
	o, err := parseModelCmd(ctx, fs, &c, args, env, name, nil)
	if err != nil {
		return err
	}
	if *n < 1 {
		o.Close()
		fs.Usage()
		return errUsage
	}
	defer o.Close()
	mc, err := o.modelConfig(*name)
	if err != nil {
		return err
	}
	m, v, err := o.load(ctx, *name, *version)
	if err != nil {
		return err
	}
	if *seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		*seed = binary.LittleEndian.Uint64(b[:]) >> 11 // fits a float64 exactly, like the bot's seeds
	}
	maxTokens := mc.MaxTokens
	if *length > 0 && *length < maxTokens {
		maxTokens = *length
	}
	for i := range *n {
		s := *seed + uint64(i)
		out, err := m.Sample(ctx, scheduler.SampleOptions{Temperature: *temp, MaxTemperature: mc.MaxTemperature,
			TopP: *topP, Prompt: *prompt, MaxTokens: maxTokens, Seed: s})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%s\n-# %s v%d · temperature %g · seed %d\n\n", out.Text, *name, v, *temp, s)
	}
	return nil
}

// trainedTokens says whether a version records a training loss (a shipped
// version does not: 0 hides it).
func trainedTokens(trainLoss float64) int64 {
	if trainLoss > 0 {
		return 1
	}
	return 0
}
