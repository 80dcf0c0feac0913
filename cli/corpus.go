package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/store"
	"commentbot/text"
	"commentbot/tokens"
)

// cleanRules maps the config's corpus section to the corpus cleaning rules.
// A validated config always compiles; the error is for one that was not.
func cleanRules(cfg config.Config) (text.CleanRules, error) {
	r := text.DefaultCleanRules()
	cc := cfg.Corpus
	r.BotAccounts = cc.BotAccounts
	var errs [3]error
	r.BotNames, errs[0] = text.CompilePatterns("corpus.bot_names", cc.BotNames)
	r.BotNameExceptions, errs[1] = text.CompilePatterns("corpus.bot_name_exceptions", cc.BotNameExceptions)
	r.BotFooters, errs[2] = text.CompilePatterns("corpus.bot_footers", cc.BotFooters)
	r.URLs = text.URLMode(cc.URLs)
	r.MinChars, r.MaxChars = cc.MinChars, cc.MaxChars
	return r, errors.Join(errs[:]...)
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
	st, err := openStore(ctx, cfg, env.Getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	rules, err := cleanRules(cfg)
	if err != nil {
		return err
	}
	var failed []error
	for _, path := range fs.Args() {
		start := time.Now()
		s, err := store.ImportFile(ctx, st, path, rules)
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
		st, err := openStore(ctx, cfg, env.Getenv)
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

func corpusTokens(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("corpus tokens", "[flags]",
		"Print what the models learn from: the cleaned comments of the store (or of --file, cleaned\n"+
			"with the config's rules), one line per unit, tab-separated: the text, then each token.\n"+
			"--level word: one line per sentence (lower-cased, split as the word model splits it),\n"+
			"its tokens wrapped in SENTENCE_START … SENTENCE_END. --level char: one line per comment,\n"+
			"one token per character, ending in the end-of-comment token. Backslashes, tabs, newlines\n"+
			`and other control characters are written as \\, \t, \n and \xNN.`, env)
	c.register(fs, env)
	file := fs.String("file", "", "a CSV or NDJSON file to read instead of the store")
	levelName := fs.String("level", string(text.LevelWord), "word or char")
	n := fs.Int("n", 0, "print the first N comments only (0: all)")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	level, err := text.ParseLevel(*levelName)
	if err != nil {
		fmt.Fprintln(env.Stderr, err)
		fs.Usage()
		return errUsage
	}
	if *n < 0 {
		fmt.Fprintf(env.Stderr, "-n %d: must not be negative\n", *n)
		fs.Usage()
		return errUsage
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	var src corpus.Source
	if *file != "" {
		if src, err = dataSource(*file, cfg); err != nil {
			return err
		}
	} else {
		st, err := openStore(ctx, cfg, env.Getenv)
		if err != nil {
			return err
		}
		defer st.Close()
		src = st.Comments(corpus.Filter{})
	}
	w := bufio.NewWriter(env.Stdout)
	seen := 0
	err = src(ctx, func(cm corpus.Comment) error {
		if *n > 0 && seen == *n {
			return errEnough
		}
		seen++
		if level == text.LevelChar {
			writeTokenLine(w, cm.Body, text.CharTokens(cm.Body))
			return nil
		}
		for _, s := range text.WordSentences(cm.Body) {
			toks := append(append([]string{tokens.SentenceStart}, s.Words...), tokens.SentenceEnd)
			writeTokenLine(w, s.Text, toks)
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	return w.Flush()
}

// errEnough stops a Source once -n comments were printed.
var errEnough = errors.New("enough comments")

// writeTokenLine writes text and its tokens as one tab-separated line, each
// field escaped by escapeField.
func writeTokenLine(w *bufio.Writer, text string, toks []string) {
	w.WriteString(escapeField(text))
	for _, t := range toks {
		w.WriteByte('\t')
		w.WriteString(escapeField(t))
	}
	w.WriteByte('\n')
}

// escapeField keeps a field on its line and free of tabs: a backslash becomes
// \\, a tab \t, a newline \n, and any other control character \xNN (below
// U+0080) or \uNNNN.
func escapeField(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
