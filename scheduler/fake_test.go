package scheduler

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"commentbot/config"
	"commentbot/corpus"
)

// uniEngine builds uniModels: a unigram language model with add-one smoothing
// over a vocabulary fixed at creation. It is the test double of the Model port
// used where the real model would make a test slow or could not force a state
// (NaN); see real_test.go for the same scenarios with the real model.
type uniEngine struct {
	nan       atomic.Bool  // Train poisons the counts with NaN
	diverge   atomic.Bool  // Train returns ErrDiverged
	stepDelay atomic.Int64 // nanoseconds slept per step (honouring ctx)
	decodes   atomic.Int64
}

type uniModel struct {
	eng    *uniEngine
	Kind   string // what the model stands in for (the config's kind and sizes)
	Embed  int
	Hidden []int
	Vocab  []string
	Counts []float64
	Total  float64
	Hist   []LossPoint
	Steps  int64
	index  map[string]int
}

const uniUnknown = "<unk>"

func (e *uniEngine) New(ctx context.Context, mc config.ModelConfig, src corpus.Source, seed uint64) (Model, error) {
	freq := map[string]int{}
	var order []string
	err := src(ctx, func(c corpus.Comment) error {
		for _, w := range strings.Fields(strings.ToLower(c.Body)) {
			if freq[w] == 0 {
				order = append(order, w)
			}
			freq[w]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(order, func(i, j int) bool { return freq[order[i]] > freq[order[j]] })
	if len(order) > mc.VocabSize {
		order = order[:mc.VocabSize]
	}
	sizes := ModelConfig(mc)
	m := &uniModel{eng: e, Kind: mc.Kind, Embed: sizes.Embed, Hidden: sizes.Hidden, Vocab: append([]string{uniUnknown}, order...)}
	m.Counts = make([]float64, len(m.Vocab))
	m.reindex()
	return m, nil
}

func (m *uniModel) reindex() {
	m.index = make(map[string]int, len(m.Vocab))
	for i, w := range m.Vocab {
		m.index[w] = i
	}
}

func (e *uniEngine) Decode(r io.Reader) (Model, error) {
	e.decodes.Add(1)
	m := &uniModel{eng: e}
	dec := gob.NewDecoder(r)
	if err := dec.Decode(m); err != nil {
		return nil, fmt.Errorf("uni: corrupt checkpoint: %w", err)
	}
	if len(m.Vocab) == 0 || len(m.Counts) != len(m.Vocab) {
		return nil, errors.New("uni: corrupt checkpoint: sizes")
	}
	m.reindex()
	return m, nil
}

func (m *uniModel) Encode(w io.Writer) error { return gob.NewEncoder(w).Encode(m) }

func (m *uniModel) VocabHash() string {
	return fmt.Sprintf("uni-%d-%s", len(m.Vocab), strings.Join(m.Vocab[:min(3, len(m.Vocab))], ","))
}

// Spec reports the kind and sizes recorded at New, at the kind's level.
func (m *uniModel) Spec() Spec {
	level := "word"
	if m.Kind == config.KindCharLSTM {
		level = "char"
	}
	return Spec{Kind: m.Kind, Level: level, Vocab: len(m.Vocab), Embed: m.Embed, Hidden: m.Hidden}
}

func (m *uniModel) History() []LossPoint { return append([]LossPoint(nil), m.Hist...) }

func (m *uniModel) Clone() Model {
	c := *m
	c.Counts = append([]float64(nil), m.Counts...)
	c.Hist = append([]LossPoint(nil), m.Hist...)
	return &c
}

func (m *uniModel) ids(text string) []int {
	var out []int
	for _, w := range strings.Fields(strings.ToLower(text)) {
		id, ok := m.index[w]
		if !ok {
			id = 0
		}
		out = append(out, id)
	}
	return out
}

func (m *uniModel) nll(id int) float64 {
	return -math.Log((m.Counts[id] + 1) / (m.Total + float64(len(m.Vocab))))
}

// Train adds one comment's counts per step, cycling over spec.Train (one
// pass is an epoch); the tracked comments of spec.Track count as trained
// once their step ran.
func (m *uniModel) Train(ctx context.Context, spec TrainSpec) (TrainResult, error) {
	var data [][]int
	var tracked []bool
	if err := spec.Train(ctx, func(c corpus.Comment) error {
		data = append(data, m.ids(c.Body))
		tracked = append(tracked, spec.Track != nil && spec.Track(c))
		return nil
	}); err != nil {
		return TrainResult{}, err
	}
	if len(data) == 0 {
		return TrainResult{}, errors.New("uni: no data")
	}
	start := time.Now()
	var res TrainResult
	for i, ids := range data {
		if tracked[i] {
			res.Tracked.Tokens += int64(len(ids))
		}
	}
	for step := 0; ; step++ {
		if spec.MaxSteps > 0 && step >= spec.MaxSteps || spec.MaxDuration > 0 && time.Since(start) >= spec.MaxDuration ||
			spec.MaxEpochs > 0 && step >= spec.MaxEpochs*len(data) {
			res.Stopped = "budget"
			break
		}
		if step < len(data) && tracked[step] {
			res.Tracked.Trained += int64(len(data[step]))
		}
		if d := time.Duration(m.eng.stepDelay.Load()); d > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(d):
			}
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		loss, n := 0.0, 0
		for _, id := range data[step%len(data)] {
			loss += m.nll(id)
			n++
			m.Counts[id]++
			m.Total++
		}
		if m.eng.nan.Load() {
			m.Counts[0] = math.NaN()
			m.Total = math.NaN()
		}
		res.Steps++
		res.Tokens += int64(n)
		m.Steps++
		if n > 0 {
			res.Loss = loss / float64(n)
		}
		m.Hist = append(m.Hist, LossPoint{Step: m.Steps, Loss: res.Loss, ValidLoss: math.NaN()})
		if spec.Progress != nil {
			spec.Progress(TrainProgress{Step: step + 1, Tokens: res.Tokens, Loss: res.Loss, ValidLoss: math.NaN()})
		}
	}
	res.Elapsed = time.Since(start)
	if m.eng.diverge.Load() {
		res.Diverged = true
		return res, fmt.Errorf("uni: %w", ErrDiverged)
	}
	return res, nil
}

// Evaluate is the unigram loss per word; bits per character spread it over
// the comments' runes (no unknown-word charge).
func (m *uniModel) Evaluate(ctx context.Context, src corpus.Source) (Eval, error) {
	sum, n, chars, comments := 0.0, int64(0), int64(0), 0
	err := src(ctx, func(c corpus.Comment) error {
		ids := m.ids(c.Body)
		for _, id := range ids {
			sum += m.nll(id)
			n++
		}
		if len(ids) > 0 {
			chars += int64(len([]rune(c.Body)))
			comments++
		}
		return nil
	})
	if err != nil {
		return Eval{}, err
	}
	if n == 0 {
		return Eval{BitsPerChar: math.NaN()}, nil
	}
	return Eval{Loss: sum / float64(n), Tokens: n, BitsPerChar: sum / (math.Ln2 * float64(chars)), Chars: chars, Comments: comments}, nil
}

// Tokens counts words.
func (m *uniModel) Tokens(ctx context.Context, src corpus.Source) (int64, error) {
	var n int64
	err := src(ctx, func(c corpus.Comment) error { n += int64(len(m.ids(c.Body))); return nil })
	return n, err
}

// Adopt stands the model in for mc with its counts kept and a new history.
func (e *uniEngine) Adopt(mc config.ModelConfig, m Model, seed uint64) (Model, error) {
	u, ok := m.(*uniModel)
	if !ok {
		return nil, fmt.Errorf("uni: adopt a %T", m)
	}
	c := u.Clone().(*uniModel)
	c.eng, c.Hist, c.Steps = e, nil, 0
	return c, nil
}

func (m *uniModel) Sample(ctx context.Context, o SampleOptions) (Sample, error) {
	if !(o.Temperature > 0) {
		return Sample{}, errors.New("uni: bad temperature")
	}
	rng := rand.New(rand.NewPCG(o.Seed, 1))
	var words []string
	for len(words) < max(o.MaxTokens, 1) {
		if err := ctx.Err(); err != nil {
			return Sample{}, err
		}
		x := rng.Float64() * m.Total
		for i, c := range m.Counts {
			if x < c && i > 0 {
				words = append(words, m.Vocab[i])
				break
			}
			x -= c
		}
		if m.Total <= 0 {
			words = append(words, m.Vocab[len(m.Vocab)-1])
		}
	}
	return Sample{Text: strings.Join(words, " "), Tokens: len(words)}, nil
}

// Synthetic comments: a small grammar, so that held-out text resembles training
// text (fine-tuning on more of it helps) while "junk" comments do not.
var (
	subjects = []string{"i", "my dad", "the team", "our cat", "this recipe", "my bike", "the game", "everyone"}
	verbs    = []string{"think", "love", "tried", "made", "found", "need", "like", "fixed"}
	objects  = []string{"the sauce", "a new chain", "the garden", "that movie", "the trail", "some tomatoes", "the board", "a budget"}
	endings  = []string{"today .", "last week !", "and it was great .", "but it broke .", "again .", "honestly ."}
)

func goodComment(rng *rand.Rand, id string, ingested time.Time) corpus.Comment {
	n := 1 + rng.IntN(3)
	var parts []string
	for range n {
		parts = append(parts, subjects[rng.IntN(len(subjects))], verbs[rng.IntN(len(verbs))],
			objects[rng.IntN(len(objects))], endings[rng.IntN(len(endings))])
	}
	return corpus.Comment{ID: id, Subreddit: "test", Author: "a", Body: strings.Join(parts, " "),
		Created: ingested, Ingested: ingested}
}

func junkComment(rng *rand.Rand, id string, ingested time.Time) corpus.Comment {
	var ws []string
	for range 12 {
		ws = append(ws, fmt.Sprintf("zq%dx", rng.IntN(50)))
	}
	return corpus.Comment{ID: id, Subreddit: "test", Author: "b", Body: strings.Join(ws, " "), Created: ingested, Ingested: ingested}
}
