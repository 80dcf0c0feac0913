package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"commentbot/config"
	"commentbot/corpus"
)

// cleanRules maps the config's corpus section to the corpus cleaning rules.
func cleanRules(cfg config.Config) corpus.CleanRules {
	r := corpus.DefaultCleanRules()
	r.BotAccounts = cfg.Corpus.BotAccounts
	r.URLs = corpus.URLMode(cfg.Corpus.URLs)
	r.MinChars, r.MaxChars = cfg.Corpus.MinChars, cfg.Corpus.MaxChars
	return r
}

// openStore opens (creating if needed) the store under the data directory.
func openStore(ctx context.Context, cfg config.Config) (*corpus.Store, error) {
	if err := ensureDataDir(cfg); err != nil {
		return nil, err
	}
	return corpus.OpenStore(ctx, storePath(cfg))
}

func importCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("import", "[flags] FILE...",
		"Import comments from the seed's CSV (a body column) or NDJSON of Reddit comment objects\n"+
			"(.csv, .ndjson/.jsonl/.json). Each file is one transaction: a malformed file is refused\n"+
			"with its line and reason and the store is left as it was. Re-importing adds nothing.", env)
	c.register(fs, env)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rules := cleanRules(cfg)
	var failed []error
	for _, path := range fs.Args() {
		start := time.Now()
		s, err := st.ImportFile(ctx, path, rules)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%v\n", err)
			failed = append(failed, err)
			continue
		}
		el := time.Since(start)
		fmt.Fprintf(env.Stdout, "%s: read %d, stored %d (new %d, updated %d, unchanged %d, duplicates %d), skipped %d %v in %v (%.0f comments/s)\n",
			path, s.Read, s.Stored, s.New, s.Updated, s.Unchanged, s.Duplicates, sum(s.Skipped), s.Skipped,
			el.Round(time.Millisecond), float64(s.Read)/el.Seconds())
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files refused: %w", len(failed), fs.NArg(), errors.Join(failed...))
	}
	return nil
}

func sum[K comparable](m map[K]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func corpusStats(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("corpus stats", "[flags]",
		"Print what the seed printed about its corpus: comments, sentences, unique word tokens,\n"+
			"vocabulary size, the least frequent word in the vocabulary and its count, characters\n"+
			"and the char-vocabulary size. Reads the store, or --file (cleaned with the config's rules).", env)
	c.register(fs, env)
	file := fs.String("file", "", "a CSV or NDJSON file to read instead of the store")
	vocab := fs.Int("vocab", 0, "vocabulary size (default: the config's word model vocab_size, 4000)")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if *vocab <= 0 {
		*vocab = 4000
		for _, m := range cfg.Models {
			if m.Kind != config.KindCharLSTM {
				*vocab = m.VocabSize
				break
			}
		}
	}
	var src corpus.Source
	if *file != "" {
		if src, err = dataSource(*file, cfg); err != nil {
			return err
		}
	} else {
		st, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer st.Close()
		src = st.Comments(corpus.Filter{})
	}
	stats, err := corpus.ComputeStats(ctx, src, *vocab)
	if err != nil {
		return err
	}
	_, err = stats.WriteTo(env.Stdout)
	return err
}
