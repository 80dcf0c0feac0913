package scheduler

import (
	"context"
	"math"
	"unicode/utf8"

	"commentbot/corpus"
	"commentbot/model"
	"commentbot/text"
	"commentbot/tokens"
)

// charWeights turns an evaluation in nats per token into bits per character
// (see Eval). It reads the comments as the batcher does — source wraps the
// evaluated source — and records, per comment of the pass, its characters
// and spelling cost per token; batches wraps the batcher and adds those per
// predicted token, so a comment counts in proportion to its predicted
// tokens.
type charWeights struct {
	level   text.Level
	vocab   *text.Vocab
	spell   *speller // nil: no unknown-word charge (char level)
	perTok  []tokenWeight
	seen    []bool
	chars   float64 // Σ over predicted tokens of their comment's chars per token
	spelled float64 // Σ over predicted tokens of their comment's spelling nats per token
	count   int     // comments with a predicted token
}

// tokenWeight is one comment's characters and spelling cost, per token.
type tokenWeight struct{ chars, spell float64 }

func newCharWeights(level text.Level, vocab *text.Vocab) *charWeights {
	w := &charWeights{level: level, vocab: vocab}
	if level == text.LevelWord {
		w.spell = newSpeller(vocab, level.Specials())
	}
	return w
}

// source records the weights of every comment src yields, numbered from 0 on
// each pass as corpus.Batcher numbers them (tokens.Batch.Comments).
func (w *charWeights) source(src corpus.Source) corpus.Source {
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		w.perTok, w.seen = w.perTok[:0], w.seen[:0]
		return src(ctx, func(c corpus.Comment) error {
			toks := w.level.Tokens(c.Body)
			tw := tokenWeight{}
			if n := float64(len(toks)); n > 0 {
				tw.chars = float64(utf8.RuneCountInString(c.Body)) / n
				if w.spell != nil {
					tw.spell = w.spell.unknownCost(w.vocab, toks) / n
				}
			}
			w.perTok, w.seen = append(w.perTok, tw), append(w.seen, false)
			return fn(c)
		})
	}
}

// batches adds the weights of every predicted token of each batch b yields.
func (w *charWeights) batches(b model.Batches) model.Batches { return weighing{b, w} }

type weighing struct {
	model.Batches
	w *charWeights
}

func (x weighing) Next(ctx context.Context, dst *tokens.Batch) error {
	if err := x.Batches.Next(ctx, dst); err != nil {
		return err
	}
	w := x.w
	if len(dst.Comments) != len(dst.Targets) {
		return nil
	}
	for k, y := range dst.Targets {
		c := dst.Comments[k]
		if y < 0 || c < 0 || c >= len(w.perTok) {
			continue
		}
		w.chars += w.perTok[c].chars
		w.spelled += w.perTok[c].spell
		if !w.seen[c] {
			w.seen[c] = true
			w.count++
		}
	}
	return nil
}

// eval is the Eval of a pass whose model loss was loss nats per token over n tokens.
func (w *charWeights) eval(loss float64, n int64) Eval {
	ev := Eval{Loss: loss, Tokens: n, Chars: int64(math.Round(w.chars)), Comments: w.count, BitsPerChar: math.NaN()}
	if w.chars > 0 {
		ev.BitsPerChar = (loss*float64(n) + w.spelled) / (math.Ln2 * w.chars)
	}
	return ev
}

// speller prices the spelling of a word the vocabulary does not hold, in nats,
// under a character unigram counted on the vocabulary's own words (every
// token but the specials, once each) with an end-of-word symbol:
//
//	spell(w) = −Σ_{r ∈ w} ln p(r) − ln p(end),  p(x) = (n_x + 1) / (N + V + 1)
//
// with n_x the count of symbol x, N the symbols counted and V the distinct
// ones; the extra 1 is the share of every character never seen. It needs
// nothing but the checkpoint, so a model's figure depends on the comments
// evaluated and on the model alone.
type speller struct {
	cost   map[rune]float64
	unseen float64
	end    float64
}

func newSpeller(v *text.Vocab, specials []string) *speller {
	skip := map[string]bool{tokens.URLToken: true}
	for _, s := range specials {
		skip[s] = true
	}
	counts := map[rune]float64{}
	var total, words float64
	for _, t := range v.Tokens() {
		if skip[t] {
			continue
		}
		for _, r := range t {
			counts[r]++
			total++
		}
		words++
	}
	denom := math.Log(total + words + float64(len(counts)) + 2) // + the end symbol, + unseen
	sp := &speller{cost: make(map[rune]float64, len(counts)), unseen: denom, end: denom - math.Log(words+1)}
	for r, n := range counts {
		sp.cost[r] = denom - math.Log(n+1)
	}
	return sp
}

// unknownCost is the spelling cost of the tokens of toks the vocabulary maps
// to its unknown id (the unknown token itself, were it written, excepted).
func (sp *speller) unknownCost(v *text.Vocab, toks []string) float64 {
	var sum float64
	unk := v.Unknown()
	for _, t := range toks {
		if unk < 0 || v.ID(t) != unk || t == v.Token(unk) {
			continue
		}
		for _, r := range t {
			c, ok := sp.cost[r]
			if !ok {
				c = sp.unseen
			}
			sum += c
		}
		sum += sp.end
	}
	return sum
}

// tracker measures which share of some comments a training run trained on
// (TrainSpec.Track). Like charWeights it numbers the comments of each pass
// as the batcher does, and counts the predicted tokens of each tracked one.
type tracker struct {
	level   text.Level
	pick    func(corpus.Comment) bool
	ids     []string         // per comment of the pass: its id when tracked, else ""
	tokens  map[string]int64 // tracked comment → its tokens
	trained map[string]int64 // tracked comment → targets trained on
}

func newTracker(level text.Level, pick func(corpus.Comment) bool) *tracker {
	return &tracker{level: level, pick: pick, tokens: map[string]int64{}, trained: map[string]int64{}}
}

func (t *tracker) source(src corpus.Source) corpus.Source {
	return func(ctx context.Context, fn func(corpus.Comment) error) error {
		t.ids = t.ids[:0]
		return src(ctx, func(c corpus.Comment) error {
			id := ""
			if t.pick(c) {
				id = c.ID
				if _, ok := t.tokens[id]; !ok {
					t.tokens[id] = int64(len(t.level.Tokens(c.Body)))
				}
			}
			t.ids = append(t.ids, id)
			return fn(c)
		})
	}
}

func (t *tracker) batches(b model.Batches) model.Batches { return tracking{b, t} }

type tracking struct {
	model.Batches
	t *tracker
}

func (x tracking) Next(ctx context.Context, dst *tokens.Batch) error {
	if err := x.Batches.Next(ctx, dst); err != nil {
		return err
	}
	if len(dst.Comments) != len(dst.Targets) {
		return nil
	}
	for k, y := range dst.Targets {
		if c := dst.Comments[k]; y >= 0 && c >= 0 && c < len(x.t.ids) && x.t.ids[c] != "" {
			x.t.trained[x.t.ids[c]]++
		}
	}
	return nil
}

// coverage sums, over the tracked comments read, their tokens and the
// tokens trained on (at most a comment's own count: a second epoch adds
// nothing new).
func (t *tracker) coverage() Coverage {
	var c Coverage
	for id, n := range t.tokens {
		c.Tokens += n
		c.Trained += min(t.trained[id], n)
	}
	return c
}
