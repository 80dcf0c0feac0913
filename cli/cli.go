package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"commentbot/config"
)

// Env is what a command may touch of the process: its streams and environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Pretrained holds the shipped checkpoints (package pretrained's layout:
	// manifest.json and <kind>.ckpt at its root); nil: those embedded in the
	// binary.
	Pretrained fs.FS
}

// command is one subcommand.
type command struct {
	name    string // "corpus stats" for nested commands
	summary string
	run     func(ctx context.Context, args []string, env Env) error
}

func commands() []command {
	return []command{
		{"run", "run the bot (the default): scheduler, models and Discord or the console", runBot},
		{"import", "import comments from a seed CSV or NDJSON file into the store", importCmd},
		{"ingest", "fetch fresh comments from Reddit into the store, resuming where the last run stopped", ingestCmd},
		{"train", "train a model (continue, resume, or --full for a new vocabulary) and make it live", trainCmd},
		{"generate", "sample comments from a model (reproducible with --seed)", generateCmd},
		{"eval", "held-out loss, perplexity or bits per character, beside a unigram baseline", evalCmd},
		{"models", "list the models, their versions and metrics", modelsCmd},
		{"rollback", "make an earlier version of a model live again", rollbackCmd},
		{"corpus stats", "print corpus statistics of the store or of a file", corpusStats},
		{"corpus tokens", "print each sentence of the cleaned comments with its tokens", corpusTokens},
		{"probe", "exit 0 when an HTTP URL answers 2xx (container health checks: /healthz, /readyz)", probeCmd},
	}
}

// synced returns env with Stdout and Stderr safe for concurrent writes: logs,
// progress and answers come from several goroutines, which an *os.File takes and a
// buffer (tests, embedding) does not.
func (env Env) synced() Env {
	for _, w := range []*io.Writer{&env.Stdout, &env.Stderr} {
		if _, ok := (*w).(*syncWriter); !ok {
			*w = &syncWriter{w: *w}
		}
	}
	return env
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// errUsage means the arguments were wrong and the usage was printed.
var errUsage = errors.New("usage")

// Main runs the subcommand named by args and returns the process exit code: 0 on
// success, 2 on a usage error, 1 on any other error.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	env = env.synced()
	cmds := commands()
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help" && args[0] != "-help" {
		args = append([]string{"run"}, args...)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(env.Stdout, cmds)
		return 0
	}
	for _, c := range cmds {
		words := strings.Fields(c.name)
		if len(args) < len(words) || strings.Join(args[:len(words)], " ") != c.name {
			continue
		}
		err := c.run(ctx, args[len(words):], env)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(env.Stderr, "commentbot %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(env.Stderr, "commentbot: unknown command %q\n\n", strings.Join(args, " "))
	usage(env.Stderr, cmds)
	return 2
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "commentbot learns to write Reddit comments and posts them to Discord.")
	fmt.Fprintln(w, "\nUsage: commentbot [command] [flags]   (no command: run)")
	fmt.Fprintln(w, "\nCommands:")
	sort.SliceStable(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command answers --help. Configuration: --config FILE (or COMMENTBOT_CONFIG);")
	fmt.Fprintln(w, "secrets come from the environment: DISCORD_TOKEN, DISCORD_APP_ID, DISCORD_PUBLIC_KEY,")
	fmt.Fprintln(w, "REDDIT_CLIENT_ID, REDDIT_CLIENT_SECRET, REDDIT_USERNAME, REDDIT_PASSWORD.")
}

// flags makes a FlagSet whose --help prints the command's usage to env.Stdout.
func flags(name, args, summary string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: commentbot %s %s\n\n%s\n\nFlags:\n", name, args, summary)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; --help prints to stdout and returns flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, env Env) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(env.Stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}

// common holds the flags every command that reads the config takes.
type common struct {
	configPath string
	dataDir    string
	seed       uint64 // base of the scheduler's seeds; 0 picks one (train --seed)
}

func (c *common) register(fs *flag.FlagSet, env Env) {
	fs.StringVar(&c.configPath, "config", env.Getenv("COMMENTBOT_CONFIG"), "config file (YAML); default: built-in defaults")
	fs.StringVar(&c.dataDir, "data-dir", "", "data directory (store and checkpoints); overrides the config's data_dir")
}

// load reads the config and applies flag overrides.
func (c *common) load() (config.Config, error) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return cfg, err
	}
	if c.dataDir != "" {
		cfg.DataDir = c.dataDir
	}
	return cfg, nil
}

// logger builds the process logger: text lines on stderr at the configured level.
func logger(cfg config.Config, env Env) *slog.Logger {
	l, _ := newLogger(cfg, env)
	return l
}

// newLogger is logger with the level a config reload may change.
func newLogger(cfg config.Config, env Env) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(logLevel(cfg.LogLevel))
	return slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: level})), level
}
