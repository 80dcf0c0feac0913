package text

import (
	"errors"
	"fmt"
	"sort"

	"commentbot/tokens"
)

// ErrVocab reports a token list that cannot be a vocabulary.
var ErrVocab = errors.New("text: invalid vocabulary")

// Counts counts token frequencies and remembers the order in which tokens
// first appeared, which breaks ties deterministically. The zero value is not
// usable; call NewCounts. A Counts is not safe for concurrent use.
type Counts struct {
	index  map[string]int // token → position in toks
	toks   []string       // first-appearance order
	counts []int
}

// A TokenCount is a token and how often it was seen.
type TokenCount struct {
	Token string
	Count int
}

// NewCounts returns empty counts.
func NewCounts() *Counts {
	return &Counts{index: make(map[string]int)}
}

// Add counts each of tokens once.
func (c *Counts) Add(tokens ...string) {
	for _, t := range tokens {
		i, ok := c.index[t]
		if !ok {
			i = len(c.toks)
			c.index[t] = i
			c.toks = append(c.toks, t)
			c.counts = append(c.counts, 0)
		}
		c.counts[i]++
	}
}

// Count returns how often tok was added (0 if never).
func (c *Counts) Count(tok string) int {
	if i, ok := c.index[tok]; ok {
		return c.counts[i]
	}
	return 0
}

// Len returns the number of distinct tokens.
func (c *Counts) Len() int { return len(c.toks) }

// Tokens returns the distinct tokens in order of first appearance.
func (c *Counts) Tokens() []string { return append([]string(nil), c.toks...) }

// Ranked returns every distinct token with its count, most frequent first;
// tokens seen equally often keep their order of first appearance.
func (c *Counts) Ranked() []TokenCount {
	out := make([]TokenCount, len(c.toks))
	for i, t := range c.toks {
		out[i] = TokenCount{Token: t, Count: c.counts[i]}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// A Vocab is a fixed, ordered list of tokens: a token's id is its position.
// Special tokens come first, in the order given when the vocabulary was
// built, so their ids are stable. A Vocab is immutable and safe for
// concurrent use.
type Vocab struct {
	tokens  []string
	index   map[string]int
	unknown int
	hash    string
}

// BuildVocab returns the vocabulary made of specials, in order, followed by
// the size most frequent other tokens of counts, most frequent first (ties by
// first appearance). size 0 means every token. Equivalent to
// BuildVocabMin(counts, size, 1, specials).
func BuildVocab(counts *Counts, size int, specials []string) *Vocab {
	return BuildVocabMin(counts, size, 1, specials)
}

// BuildVocabMin is BuildVocab leaving out tokens seen fewer than minCount
// times, so that they read as the unknown token. The char vocabulary uses it
// (with DefaultCharMinCount) to map rare characters to tokens.CharUnknown. It panics
// if size is negative or specials hold duplicates or empty strings
// (programmer errors).
func BuildVocabMin(counts *Counts, size, minCount int, specials []string) *Vocab {
	if size < 0 {
		panic(fmt.Sprintf("text: BuildVocab with negative size %d", size))
	}
	toks := make([]string, 0, len(specials)+size)
	seen := make(map[string]bool, len(specials))
	for _, s := range specials {
		if s == "" || seen[s] {
			panic(fmt.Sprintf("text: BuildVocab with empty or repeated special %q", s))
		}
		seen[s] = true
		toks = append(toks, s)
	}
	n := 0
	for _, tc := range counts.Ranked() {
		if size > 0 && n == size {
			break
		}
		if tc.Count < minCount || seen[tc.Token] || tc.Token == "" {
			continue
		}
		toks = append(toks, tc.Token)
		n++
	}
	v, err := NewVocab(toks)
	if err != nil {
		panic(fmt.Sprintf("text: BuildVocab: %v", err)) // unreachable: duplicates were skipped
	}
	return v
}

// NewVocab restores a vocabulary from its ordered token list (as stored in a
// checkpoint). The unknown token is tokens.UnknownToken if present, else
// tokens.CharUnknown if present; a list with neither has no unknown id. It returns
// an error wrapping ErrVocab for an empty list, an empty token or a repeated
// token.
func NewVocab(toks []string) (*Vocab, error) {
	if len(toks) == 0 {
		return nil, fmt.Errorf("%w: no tokens", ErrVocab)
	}
	v := &Vocab{
		tokens:  append([]string(nil), toks...),
		index:   make(map[string]int, len(toks)),
		unknown: -1,
	}
	for i, t := range v.tokens {
		if t == "" {
			return nil, fmt.Errorf("%w: empty token at id %d", ErrVocab, i)
		}
		if j, dup := v.index[t]; dup {
			return nil, fmt.Errorf("%w: token %q at ids %d and %d", ErrVocab, t, j, i)
		}
		v.index[t] = i
	}
	if i, ok := v.index[tokens.UnknownToken]; ok {
		v.unknown = i
	} else if i, ok := v.index[tokens.CharUnknown]; ok {
		v.unknown = i
	}
	v.hash = tokens.Hash(v.tokens)
	return v, nil
}

// Len returns the number of tokens, specials included.
func (v *Vocab) Len() int { return len(v.tokens) }

// ID returns tok's id, or Unknown() if tok is not in the vocabulary.
func (v *Vocab) ID(tok string) int {
	if i, ok := v.index[tok]; ok {
		return i
	}
	return v.unknown
}

// Contains reports whether tok is in the vocabulary.
func (v *Vocab) Contains(tok string) bool {
	_, ok := v.index[tok]
	return ok
}

// Token returns the token with the given id. It panics if id is out of range.
func (v *Vocab) Token(id int) string { return v.tokens[id] }

// Tokens returns a copy of the ordered token list (what NewVocab restores).
func (v *Vocab) Tokens() []string { return append([]string(nil), v.tokens...) }

// Unknown returns the id of the unknown token, or -1 if the vocabulary has
// none.
func (v *Vocab) Unknown() int { return v.unknown }

// Hash returns the hex SHA-256 of the ordered token list (see NewVocab); two
// vocabularies with the same hash give every token the same id.
func (v *Vocab) Hash() string { return v.hash }

// Encode writes the ids of tokens into dst, reusing its storage, and returns
// it: dst[:0] with one id per token (Unknown() for tokens outside the
// vocabulary).
func (v *Vocab) Encode(toks []string, dst []int) []int {
	dst = dst[:0]
	for _, t := range toks {
		dst = append(dst, v.ID(t))
	}
	return dst
}

// Decode writes the tokens of ids into dst, reusing its storage, and returns
// it. It panics if an id is out of range.
func (v *Vocab) Decode(ids []int, dst []string) []string {
	dst = dst[:0]
	for _, id := range ids {
		dst = append(dst, v.tokens[id])
	}
	return dst
}
