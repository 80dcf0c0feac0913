package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"text/tabwriter"

	"commentbot/corpus"
	"commentbot/model"
	"commentbot/scheduler"
	"commentbot/text"
)

func evalCmd(ctx context.Context, args []string, env Env) error {
	var c common
	fs := flags("eval", "[--model NAME] [--data FILE] [--version V] [--pretrained]",
		"Measure models on held-out comments — the store's (the first 2000 of its validation split,\n"+
			"the comments /models ranks on), or the held-out part of --data FILE (cleaned; the comments\n"+
			"`train --data FILE` holds out, by the same id hash) — in bits per character, the scale every\n"+
			"model shares (a word model's loss on a comment, with the spelling of its unknown words,\n"+
			"spread over the comment's characters), and in the model's own unit.\n"+
			"With --model: one model's live version (or --version) beside a unigram baseline counted on\n"+
			"the matching training part and the uniform distribution. Without: every enabled model's\n"+
			"live version on the same comments, best first. --pretrained measures the checkpoints shipped\n"+
			"in this binary instead of the versions on disk.", env)
	c.register(fs, env)
	name := fs.String("model", "", "model name (default: every enabled model)")
	data := fs.String("data", "", "CSV or NDJSON file to evaluate on (its held-out part) instead of the store")
	version := fs.Int("version", 0, "version to evaluate (with --model; default: live)")
	shipped := fs.Bool("pretrained", false, "measure the checkpoints shipped in the binary")
	if err := parse(fs, args, env); err != nil {
		return err
	}
	o, err := openOffline(ctx, c, env)
	if err != nil {
		return err
	}
	defer o.Close()
	h, err := heldOutOf(o, *data)
	if err != nil {
		return err
	}
	if *name != "" && !*shipped {
		return evalOne(ctx, o, env.Stdout, *name, *version, h)
	}
	cands, err := evalCandidates(ctx, o, env, *name, *shipped)
	if err != nil {
		return err
	}
	return evalRanked(ctx, env.Stdout, cands, h)
}

// heldOut is where eval measures: the held-out comments and the matching
// training part (for the unigram baseline), in words.
type heldOut struct {
	train, valid      corpus.Source
	where, trainWhere string
}

// heldOutOf is the store's held-out comments (the scheduler's fixed set) or the
// held-out part of a file.
func heldOutOf(o *offline, data string) (heldOut, error) {
	frac := o.cfg.Corpus.ValidationFraction
	h := heldOut{
		train: o.store.Comments(corpus.Filter{Split: corpus.Train, ValidFraction: frac}),
		valid: o.store.Comments(corpus.Filter{Split: corpus.Validation, ValidFraction: frac, Limit: scheduler.DefaultEvalLimit}),
		where: "the store's held-out comments", trainWhere: "the store's training split",
	}
	if data == "" {
		return h, nil
	}
	src, err := dataSource(data, o.cfg)
	if err != nil {
		return h, err
	}
	h.train, h.valid = splitPart(src, frac, corpus.Train), splitPart(src, frac, corpus.Validation)
	h.where = fmt.Sprintf("the held-out part of %s (%g of its comments, by id hash)", data, frac)
	h.trainWhere = "the rest of " + data
	return h, nil
}

// evalOne reports one model's version beside the baselines.
func evalOne(ctx context.Context, o *offline, w io.Writer, name string, version int, h heldOut) error {
	m, v, err := o.load(ctx, name, version)
	if err != nil {
		return err
	}
	ev, err := m.Evaluate(ctx, h.valid)
	if err != nil {
		return err
	}
	if ev.Tokens == 0 {
		return fmt.Errorf("no held-out tokens in %s", h.where)
	}
	lm := m.(interface{ LM() *model.LM }).LM()
	fmt.Fprintf(w, "%s v%d (%s) on %s: %d comments, %d characters, %d tokens\n", name, v, lm.Kind(), h.where, ev.Comments, ev.Chars, ev.Tokens)
	fmt.Fprintf(w, "  model    %s; %.4f bits/char\n", describeLoss(lm.Kind(), ev.Loss), ev.BitsPerChar)
	uni, err := unigram(ctx, lm, h.train, h.valid)
	if err != nil {
		return fmt.Errorf("unigram baseline counted on %s: %w", h.trainWhere, err)
	}
	fmt.Fprintf(w, "  unigram  %s (counted on %s)\n", describeLoss(lm.Kind(), uni), h.trainWhere)
	fmt.Fprintf(w, "  uniform  %s (log of the vocabulary size, %d)\n", describeLoss(lm.Kind(), math.Log(float64(lm.VocabSize()))), lm.VocabSize())
	return nil
}

// evalCandidate is one model eval ranks.
type evalCandidate struct {
	name, version, origin string
	model                 scheduler.Model
}

// evalCandidates are the live versions of the enabled models (only name's,
// when given), or the checkpoints shipped in the binary.
func evalCandidates(ctx context.Context, o *offline, env Env, name string, shipped bool) ([]evalCandidate, error) {
	var out []evalCandidate
	if shipped {
		ms, err := loadShipped(env)
		if err != nil {
			return nil, err
		}
		for _, p := range ms {
			if mc, ok := o.cfg.Model(name); name != "" && (!ok || mc.Kind != p.Kind) {
				continue
			}
			m, err := scheduler.ModelEngine{}.Decode(bytes.NewReader(p.Data))
			if err != nil {
				return nil, fmt.Errorf("shipped %s: %w", p.File, err)
			}
			out = append(out, evalCandidate{name: p.Kind, version: p.File, origin: p.Summary(), model: m})
		}
		return out, nil
	}
	for _, mc := range o.cfg.Models {
		if !mc.Enabled {
			continue
		}
		m, v, err := o.load(ctx, mc.Name, 0)
		if err != nil {
			return nil, err
		}
		vi, _ := o.sched.Repo().Info(ctx, mc.Name, v)
		out = append(out, evalCandidate{name: mc.Name, version: fmt.Sprintf("v%d", v), origin: vi.Origin(), model: m})
	}
	if len(out) == 0 {
		return nil, errors.New("no enabled model to evaluate")
	}
	return out, nil
}

// evalRanked measures every candidate on the same held-out comments and prints
// them best first by bits per character.
func evalRanked(ctx context.Context, w io.Writer, cands []evalCandidate, h heldOut) error {
	type row struct {
		c  evalCandidate
		ev scheduler.Eval
	}
	rows := make([]row, 0, len(cands))
	for _, c := range cands {
		ev, err := c.model.Evaluate(ctx, h.valid)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if ev.Tokens == 0 {
			return fmt.Errorf("no held-out tokens in %s", h.where)
		}
		rows = append(rows, row{c, ev})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ev.BitsPerChar < rows[j].ev.BitsPerChar })
	fmt.Fprintf(w, "on %s, best first:\n", h.where)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "model\tversion\tbits/char\tcomments\tcharacters\tin its own unit\torigin\n")
	for _, r := range rows {
		kind := model.Kind(r.c.model.Spec().Kind)
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%d\t%d\t%s\t%s\n", r.c.name, r.c.version, r.ev.BitsPerChar, r.ev.Comments, r.ev.Chars,
			describeLoss(kind, r.ev.Loss), r.c.origin)
	}
	return tw.Flush()
}

// splitPart keeps the comments of src in split want (by the hash of their ids, as the
// store and `train --data` split).
func splitPart(src corpus.Source, frac float64, want corpus.Split) corpus.Source {
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		return src(ctx, func(c corpus.Comment) error {
			if corpus.SplitOf(c.ID, frac) != want {
				return nil
			}
			return fn(c)
		})
	}
}

// describeLoss prints nats per token with perplexity (words) or bits per character.
func describeLoss(k model.Kind, nats float64) string {
	if k == model.CharLSTM {
		return fmt.Sprintf("%.4f nats/char = %.4f bits/char", nats, nats/math.Ln2)
	}
	return fmt.Sprintf("%.4f nats/word, perplexity %.1f", nats, math.Exp(nats))
}

// unigram is the held-out loss of the training split's add-one-smoothed unigram
// distribution over the model's vocabulary.
func unigram(ctx context.Context, lm *model.LM, train, valid corpus.Source) (float64, error) {
	v, err := text.NewVocab(lm.VocabTokens())
	if err != nil {
		return 0, err
	}
	// One short stream: every comment counts, however small the parts are.
	level := text.Level(lm.Kind().Level())
	tb := corpus.NewBatcher(train, level, v, 1, 16)
	defer tb.Close()
	vb := corpus.NewBatcher(valid, level, v, 1, 16)
	defer vb.Close()
	ev, err := model.UnigramLoss(ctx, tb, vb, v.Len(), 0)
	if errors.Is(err, corpus.ErrEmptyEpoch) {
		return 0, errors.New("no training comments to count")
	}
	return ev.Loss, err
}
