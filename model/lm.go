package model

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"commentbot/model/kernel"
	"commentbot/tokens"
)

// Vocab is what the model needs of a vocabulary; *text.Vocab satisfies it.
// Ids run from 0 to Len()−1; Unknown is the id unknown tokens map to.
type Vocab interface {
	Len() int
	Token(id int) string
	Unknown() int
	Hash() string
}

// LM is a recurrent language model over token ids: an input lookup
// (embedding, or one-hot rows of the first layer's input weights), a stack of
// LSTM or tanh-RNN layers and a softmax over the vocabulary.
//
// An LM's weights are only read by Sample, Evaluate and Clone, so any number
// of goroutines may sample from one LM at once. Training mutates the weights:
// train a Clone and swap it in when done.
type LM struct {
	cfg  Config
	lo   *layout
	w    []float32
	p    params[float32]
	voc  *vocabTable
	be   kernel.Backend
	pool *sync.Pool // *sampler scratch, shared by clones of equal shape
	// start caches the sampler's start state for the current weights (see
	// warm); Train clears it.
	start atomic.Pointer[startState]
}

// vocabTable is the model's immutable copy of the vocabulary: the ordered
// tokens, an index, the unknown id, the special ids the sampler needs, and
// the vocabulary's hash as its owner computed it.
type vocabTable struct {
	tokens []string
	index  map[string]int
	unk    int
	hash   string
	start  int // SENTENCE_START id or −1
	end    int // SENTENCE_END (word) or CharEnd (char) id, or −1
	url    int // the cleaner's URL placeholder (word level) or −1: never sampled
}

func newVocabTable(kind Kind, toks []string, unk int, hash string) (*vocabTable, error) {
	if len(toks) < 2 {
		return nil, fmt.Errorf("%w: vocabulary of %d tokens", ErrConfig, len(toks))
	}
	if unk < 0 || unk >= len(toks) {
		return nil, fmt.Errorf("%w: unknown id %d outside vocabulary of %d", ErrConfig, unk, len(toks))
	}
	v := &vocabTable{tokens: toks, index: make(map[string]int, len(toks)), unk: unk, hash: hash, start: -1, end: -1, url: -1}
	for i, t := range toks {
		if t == "" {
			return nil, fmt.Errorf("%w: empty token at id %d in vocabulary", ErrConfig, i)
		}
		if _, dup := v.index[t]; dup {
			return nil, fmt.Errorf("%w: duplicate token %q in vocabulary", ErrConfig, t)
		}
		v.index[t] = i
	}
	look := func(tok string) int {
		if id, ok := v.index[tok]; ok {
			return id
		}
		return -1
	}
	if kind == CharLSTM {
		v.end = look(tokens.CharEnd)
	} else {
		v.start, v.end, v.url = look(tokens.SentenceStart), look(tokens.SentenceEnd), look(tokens.URLToken)
	}
	return v, nil
}

// New builds a model of cfg over vocab, initialised from src (uniform
// weights, see Config.InitScale and Config.ForgetBias). The same src state
// gives the same model.
func New(cfg Config, vocab Vocab, src rand.Source) (*LM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if vocab == nil || src == nil {
		return nil, fmt.Errorf("%w: nil vocabulary or random source", ErrConfig)
	}
	tokens := make([]string, vocab.Len())
	for i := range tokens {
		tokens[i] = vocab.Token(i)
	}
	voc, err := newVocabTable(cfg.Kind, tokens, vocab.Unknown(), vocab.Hash())
	if err != nil {
		return nil, err
	}
	m := newLM(cfg.clone(), voc)
	initParams(m.lo, m.p, rand.New(src), cfg.InitScale, cfg.ForgetBias)
	return m, nil
}

func newLM(cfg Config, voc *vocabTable) *LM {
	lo := newLayout(cfg, len(voc.tokens))
	w := make([]float32, lo.size)
	m := &LM{cfg: cfg, lo: lo, w: w, p: view(lo, w), voc: voc, be: kernel.Default()}
	m.pool = &sync.Pool{New: func() any { return newSampler(m.lo) }}
	return m
}

// Config returns a copy of the model's configuration.
func (m *LM) Config() Config { return m.cfg.clone() }

// Kind returns the model kind.
func (m *LM) Kind() Kind { return m.cfg.Kind }

// VocabSize returns the number of token ids.
func (m *LM) VocabSize() int { return len(m.voc.tokens) }

// VocabTokens returns a copy of the vocabulary, ordered by id.
func (m *LM) VocabTokens() []string { return append([]string(nil), m.voc.tokens...) }

// VocabHash returns the hash of the vocabulary the model was built with, as
// its Vocab reported it.
func (m *LM) VocabHash() string { return m.voc.hash }

// CheckVocab returns an error wrapping ErrVocabMismatch unless v has the
// model's vocabulary hash and size, i.e. the ids v produces mean what the
// model learned.
func (m *LM) CheckVocab(v Vocab) error {
	if v == nil {
		return fmt.Errorf("%w: nil vocabulary", ErrVocabMismatch)
	}
	if v.Hash() != m.voc.hash || v.Len() != len(m.voc.tokens) {
		return fmt.Errorf("%w: model has %d tokens hashed %.12s, data has %d hashed %.12s",
			ErrVocabMismatch, len(m.voc.tokens), m.voc.hash, v.Len(), v.Hash())
	}
	return nil
}

// Clone returns a deep copy of the weights that shares the immutable
// vocabulary: train the clone while others sample from m.
func (m *LM) Clone() *LM {
	c := newLM(m.cfg.clone(), m.voc)
	copy(c.w, m.w)
	return c
}
