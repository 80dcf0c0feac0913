package model

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"commentbot/model/kernel"
)

// ArgmaxTemperature is the temperature below which sampling becomes argmax
// (greedy) decoding.
const ArgmaxTemperature = 1e-3

// SampleOptions control one generated comment.
type SampleOptions struct {
	// Temperature divides the logits before the softmax: p ∝ exp(z/T).
	// 0 < T < ArgmaxTemperature is greedy; T must be finite, positive and at
	// most MaxTemperature.
	Temperature float64
	// MaxTemperature is the largest Temperature accepted: the caller's current
	// limit (the configured one). 0 means the limit recorded in the model's
	// Config when it was created.
	MaxTemperature float64
	// TopP, when in (0, 1), samples only from the smallest set of most likely
	// tokens whose probability adds up to at least TopP (nucleus sampling).
	// 0 or 1 means off.
	TopP float64
	// Prompt holds the token ids to continue, fed after the start of a
	// comment (see Sample). The caller encodes its text: text.Level.Prompt
	// gives the tokens (a word prompt opens with SENTENCE_START; one that
	// does not gets it first), the vocabulary their ids.
	Prompt []int
	// MinTokens is the fewest tokens to generate before the end token may
	// stop the comment; MaxTokens caps the generated tokens (0 = 60 words or
	// 300 characters).
	MinTokens, MaxTokens int
	// Seed makes the sample reproducible: same model, options and seed, same text.
	Seed uint64
}

// StopReason says why sampling stopped.
type StopReason string

// The stop reasons.
const (
	StopEnd       StopReason = "end"        // the end token was sampled
	StopMaxTokens StopReason = "max-tokens" // MaxTokens were generated
)

// Sample is one generated comment, as token ids: the caller decodes them
// (the vocabulary's tokens, then text.Level.Text of the prompt's tokens
// followed by these).
type Sample struct {
	// Tokens are the generated ids (without the prompt), specials included.
	Tokens []int
	// LogProb is Σ log p of the generated tokens under the tempered
	// distribution they were drawn from (0 for greedy decoding).
	LogProb float64
	// Stop says why generation ended.
	Stop StopReason
}

// sampler is per-call scratch for batch-1 decoding: states, gates, logits
// and the draw's scratch. Samplers are pooled per model so steady-state
// sampling allocates only its output.
type sampler struct {
	h, c, g [][]float32
	x       []float32
	logits  []float32
	draw    drawScratch
}

func newSampler(lo *layout) *sampler {
	s := &sampler{logits: make([]float32, lo.vocab), draw: newDrawScratch(lo.vocab)}
	for l, h := range lo.hidden {
		s.h = append(s.h, make([]float32, h))
		s.c = append(s.c, make([]float32, h))
		s.g = append(s.g, make([]float32, lo.gate[l]))
	}
	s.x = make([]float32, max(lo.embed, 1))
	return s
}

// drawScratch is what a draw from the logits needs besides them: the
// tempered probabilities and the candidate ids.
type drawScratch struct {
	prob  []float64
	order []int32
}

func newDrawScratch(vocab int) drawScratch {
	return drawScratch{prob: make([]float64, vocab), order: make([]int32, vocab)}
}

func (s *sampler) reset() {
	for l := range s.h {
		clear(s.h[l])
		clear(s.c[l])
	}
	clear(s.logits)
}

// step feeds token id and leaves the next-token logits in s.logits. It is the
// batch-1 form of forward (no dropout), layer by layer with GEMVs:
//
//	g_l = b_l + x_l·Wx_l + h_l·Wh_l   (x_0: the id's embedding, or for
//	                                   one-hot input the id's row of Wx_0)
//	h_l, c_l ← the cell of g_l        (lstmCell in place; RNN h_l = tanh(g_l))
//	logits = by + h_top·Wy
func step[F kernel.Float](be kernel.Backend, lo *layout, p params[F], h, c, g [][]F, x, logits []F, id int) {
	var in []F
	for l := range lo.hidden {
		H, G := lo.hidden[l], lo.gate[l]
		gl := g[l]
		copy(gl, p.b[l])
		switch {
		case l > 0:
			kernel.GemvT(be, gl, mat(p.wx[l], lo.in[l], G), in)
		case lo.embed > 0:
			E, sE := lo.embed, stride(lo.embed)
			copy(x[:E], p.emb[id*sE:id*sE+E])
			kernel.GemvT(be, gl, mat(p.wx[0], E, G), x[:E])
		default:
			sG := stride(G)
			for j, v := range p.wx[0][id*sG : id*sG+G] {
				gl[j] += v
			}
		}
		kernel.GemvT(be, gl, mat(p.wh[l], H, G), h[l])
		hl, cl := h[l], c[l]
		if lo.cell == CellRNN {
			copy(hl, gl[:H])
			kernel.Tanh(hl)
		} else {
			lstmCell(gl, cl, cl, hl, hl)
		}
		in = hl
	}
	copy(logits, p.by)
	kernel.GemvT(be, logits, mat(p.wy, lo.top(), lo.vocab), in)
}

func (m *LM) step(s *sampler, id int) {
	step(m.be, m.lo, m.p, s.h, s.c, s.g, s.x, s.logits, id)
}

// checkSampleOptions validates o against the model's config and returns the
// effective MaxTokens.
func (m *LM) checkSampleOptions(o SampleOptions) (int, error) {
	t, limit := o.Temperature, o.MaxTemperature
	if limit == 0 {
		limit = m.cfg.MaxTemperature
	}
	if math.IsNaN(limit) || limit < 0 {
		return 0, fmt.Errorf("%w: max temperature %v", ErrSampleOptions, limit)
	}
	if math.IsNaN(t) || math.IsInf(t, 0) || t <= 0 || t > limit {
		return 0, fmt.Errorf("%w: %v (want 0 < T ≤ %v; T < %v is greedy)", ErrTemperature, t, limit, ArgmaxTemperature)
	}
	if math.IsNaN(o.TopP) || o.TopP < 0 || o.TopP > 1 {
		return 0, fmt.Errorf("%w: top-p %v outside [0, 1]", ErrSampleOptions, o.TopP)
	}
	for _, id := range o.Prompt {
		if id < 0 || id >= len(m.voc.tokens) {
			return 0, fmt.Errorf("%w: prompt id %d outside the vocabulary of %d", ErrSampleOptions, id, len(m.voc.tokens))
		}
	}
	maxTok := o.MaxTokens
	if maxTok == 0 {
		maxTok = 60
		if m.cfg.Kind == CharLSTM {
			maxTok = 300
		}
	}
	if o.MinTokens < 0 || maxTok < 1 || o.MinTokens > maxTok || maxTok > 1<<16 {
		return 0, fmt.Errorf("%w: min tokens %d, max tokens %d (want 0 ≤ min ≤ max ≤ 65536)", ErrSampleOptions, o.MinTokens, o.MaxTokens)
	}
	return maxTok, nil
}

// Sample generates one comment. It is safe for concurrent use; it checks ctx
// between tokens. It steps the one sequence alone (batch 1, GEMVs); a
// BatchSampler steps concurrent calls together and gives each the same
// text.
//
// The model first writes a short burn-in to itself (burnIn), is then fed its
// end token — a comment (word models: a sentence) starts after the previous
// one ended — then the prompt's ids (SENTENCE_START first for word models),
// then its own draws, which make the sample. It
// never draws the unknown token or SENTENCE_START; the word model's
// SENTENCE_END closes a sentence, and the comment when MinTokens are reached
// (else SENTENCE_START is fed and a new sentence begins); the char model's
// end character is masked until MinTokens are reached and then ends the
// comment.
func (m *LM) Sample(ctx context.Context, o SampleOptions) (Sample, error) {
	q, err := m.newSeq(o)
	if err != nil {
		return Sample{}, err
	}
	s := m.pool.Get().(*sampler)
	defer m.pool.Put(s)
	st := m.warm(s)
	id, done := q.begin(m, st, &s.draw)
	for !done {
		if err := ctx.Err(); err != nil {
			return Sample{}, fmt.Errorf("model: sample: %w", err)
		}
		m.step(s, id)
		id, done = q.next(m, s.logits, &s.draw)
	}
	return q.out, nil
}

// seq is one comment being sampled, whichever path steps it: its options,
// its random stream, the ids still to feed before the next draw, and what it
// has drawn. The stepping code feeds it the logits of each id it asked for
// (next); a seq never sees its neighbours.
type seq struct {
	o      SampleOptions
	maxTok int
	char   bool
	feed   []int // ids to feed before the next draw, in order
	prev   int   // the last id fed that was not a comment's opening end token
	rng    *rand.Rand
	out    Sample
}

// newSeq validates o and lays out what the sequence is fed before its first
// draw: its end token (when the vocabulary has one), then the prompt.
func (m *LM) newSeq(o SampleOptions) (*seq, error) {
	maxTok, err := m.checkSampleOptions(o)
	if err != nil {
		return nil, err
	}
	voc := m.voc
	q := &seq{o: o, maxTok: maxTok, char: m.cfg.Kind == CharLSTM, prev: -1, out: Sample{Stop: StopMaxTokens},
		rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))}
	if voc.end >= 0 {
		q.feed = append(q.feed, voc.end) // a comment (word: a sentence) starts after the previous one ended
	}
	if !q.char && voc.start >= 0 && (len(o.Prompt) == 0 || o.Prompt[0] != voc.start) {
		q.feed = append(q.feed, voc.start)
	}
	q.feed = append(q.feed, o.Prompt...)
	if n := len(q.feed); n > 0 && (n > 1 || voc.end < 0) {
		q.prev = q.feed[n-1]
	}
	return q, nil
}

// begin is the sequence's first move from the model's start state st: the
// first id to feed, or, when there is nothing to feed, a draw from the start
// state's logits.
func (q *seq) begin(m *LM, st *startState, sc *drawScratch) (id int, done bool) {
	return q.next(m, st.logits, sc)
}

// next is the sequence's move once logits, the next-token logits after what
// it was fed last, are ready: the id to feed next (the prompt's, or a draw's
// — a word model's SENTENCE_END below MinTokens feeds SENTENCE_START after
// it), or done when the comment is over (its end token, or MaxTokens).
func (q *seq) next(m *LM, logits []float32, sc *drawScratch) (id int, done bool) {
	if len(q.feed) > 0 {
		id, q.feed = q.feed[0], q.feed[1:]
		return id, false
	}
	voc := m.voc
	allowEnd := voc.end >= 0
	if q.char {
		allowEnd = allowEnd && len(q.out.Tokens) >= q.o.MinTokens
	} else {
		allowEnd = allowEnd && q.prev != voc.start // no empty sentence
	}
	id, lp := m.pick(logits, sc, q.o, q.rng, allowEnd)
	q.out.LogProb += lp
	q.out.Tokens = append(q.out.Tokens, id)
	if id == voc.end && len(q.out.Tokens) >= q.o.MinTokens {
		q.out.Stop = StopEnd
		return 0, true
	}
	if len(q.out.Tokens) >= q.maxTok {
		return 0, true
	}
	if id == voc.end {
		q.prev = voc.start
		if q.prev < 0 {
			q.prev = voc.end
		}
		q.feed = append(q.feed[:0], q.prev)
		return id, false
	}
	q.prev = id
	return id, false
}

// Burn-in lengths: the model writes at least this many tokens to itself, then
// on to the end of what it is writing (at most 16 times as many).
const (
	burnInChars = 64
	burnInWords = 16
)

// startState is the hidden state every sample starts from (per layer), and
// the logits there (the first draw of a sequence fed nothing before it).
type startState struct {
	h, c   [][]float32
	logits []float32
}

// warm puts s in the model's start state and returns it: the state in which
// the model, left
// to write to itself (temperature 1, a fixed seed) for a short burn-in, next
// draws its end token — where one comment (word models: one sentence) is
// over. Sample then feeds that end token, so a sample starts where comments
// start in training. Training carries the state across comments, so the model
// has (almost) never seen the zero state: started from it, the first tokens
// came from a nearly uniform distribution (a char model trained 10 minutes on
// the seed sample gave 1.5% to its likeliest first character). And an end
// token fed in mid-sentence is ignored: a memorized sentence carried on after
// it. The state is computed once per set of weights and cached; the fixed
// seed keeps greedy decoding independent of the sample's seed.
func (m *LM) warm(s *sampler) *startState {
	if st := m.start.Load(); st != nil {
		for l := range s.h {
			copy(s.h[l], st.h[l])
			copy(s.c[l], st.c[l])
		}
		return st
	}
	s.reset()
	n := burnInWords
	if m.cfg.Kind == CharLSTM {
		n = burnInChars
	}
	id := m.voc.end
	if m.voc.start >= 0 {
		id = m.voc.start
	}
	if id >= 0 && m.voc.end >= 0 {
		rng := rand.New(rand.NewPCG(0x5eed, 0xb0a7))
		m.step(s, id)
		for i := 0; i < 16*n; i++ {
			id, _ = m.pick(s.logits, &s.draw, SampleOptions{Temperature: 1}, rng, true)
			if id == m.voc.end {
				if i >= n {
					break // Sample feeds the end token
				}
				if m.voc.start >= 0 {
					m.step(s, id)
					id = m.voc.start
				}
			}
			m.step(s, id)
		}
	}
	st := &startState{logits: slices.Clone(s.logits)}
	for l := range s.h {
		st.h = append(st.h, slices.Clone(s.h[l]))
		st.c = append(st.c, slices.Clone(s.c[l]))
	}
	m.start.Store(st) // concurrent first samples compute the same state
	return st
}

// pick draws the next id from logits at o.Temperature, never the unknown
// id, SENTENCE_START or the URL placeholder (a "<url>" in a comment reads as
// debris), and the end id only when allowEnd. It returns the id
// and its log-probability under the distribution drawn from.
func (m *LM) pick(logits []float32, sc *drawScratch, o SampleOptions, rng *rand.Rand, allowEnd bool) (int, float64) {
	voc := m.voc
	banned := func(j int) bool {
		return j == voc.unk || j == voc.start || j == voc.url || (j == voc.end && !allowEnd)
	}
	best, zmax := -1, math.Inf(-1)
	for j, z := range logits {
		if !banned(j) && float64(z) > zmax {
			best, zmax = j, float64(z)
		}
	}
	if o.Temperature < ArgmaxTemperature || best < 0 {
		return max(best, 0), 0
	}
	inv := 1 / o.Temperature
	sum := 0.0
	n := 0
	for j, z := range logits {
		p := 0.0
		if !banned(j) {
			p = math.Exp((float64(z) - zmax) * inv)
			sc.order[n] = int32(j)
			n++
		}
		sc.prob[j] = p
		sum += p
	}
	cands := sc.order[:n]
	if o.TopP > 0 && o.TopP < 1 {
		slices.SortFunc(cands, func(a, b int32) int {
			pa, pb := sc.prob[a], sc.prob[b]
			switch {
			case pa > pb:
				return -1
			case pa < pb:
				return 1
			}
			return int(a - b)
		})
		acc := 0.0
		for k, j := range cands {
			acc += sc.prob[j]
			if acc >= o.TopP*sum {
				cands = cands[:k+1]
				break
			}
		}
		sum = acc
	}
	u := rng.Float64() * sum
	pick := cands[len(cands)-1]
	for _, j := range cands {
		u -= sc.prob[j]
		if u < 0 {
			pick = j
			break
		}
	}
	return int(pick), math.Log(sc.prob[pick] / sum)
}
