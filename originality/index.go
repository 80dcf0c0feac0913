package originality

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"commentbot/corpus"
	"commentbot/text"
)

// Default n-gram lengths of the originality index: a generated comment that
// repeats 8 consecutive words, or 50 consecutive characters, of a training
// comment is taken to parrot it.
const (
	DefaultWordN = 8
	DefaultCharN = 50
)

// An Index remembers every word n-gram and char n-gram of the comments
// added to it, as 64-bit hashes, and answers whether a text repeats one of
// them (Copies). The bot uses it to reject samples that parrot training data.
//
// Word n-grams are taken over text.Words(body) (lower-cased Treebank tokens, no
// sentence markers, across sentence boundaries); char n-grams over the runes
// of the body lower-cased with each whitespace run turned into one space.
//
// Memory: about 8 bytes per distinct n-gram (a sorted []uint64, plus a small
// map for recent additions that is merged in as it grows). A hash collision
// can make Copies report a copy that is not one; with 64-bit hashes and a
// corpus of 10⁸ n-grams the chance per query window is below 10⁻¹¹.
//
// An Index is safe for concurrent use: many Copies may run alongside one
// Add.
type Index struct {
	wordN, charN int

	mu   sync.RWMutex
	word hashSet
	char hashSet
}

// New returns an empty index of word n-grams of wordN words and char
// n-grams of charN characters. It panics if either is below 1.
func New(wordN, charN int) *Index {
	if wordN < 1 || charN < 1 {
		panic(fmt.Sprintf("originality: New(%d, %d): n-gram lengths must be positive", wordN, charN))
	}
	return &Index{wordN: wordN, charN: charN}
}

// Build indexes every comment of src (Body as stored, i.e. cleaned). It
// builds the sorted tables in one pass, which is much faster than calling
// Add for each comment.
func Build(ctx context.Context, src corpus.Source, wordN, charN int) (*Index, error) {
	x := New(wordN, charN)
	var words, chars []uint64
	err := src(ctx, func(c corpus.Comment) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		words = wordNGrams(c.Body, wordN, words)
		chars = charNGrams(c.Body, charN, chars)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("originality: build the index: %w", err)
	}
	x.word.sorted = sortDedup(words)
	x.char.sorted = sortDedup(chars)
	return x, nil
}

// Add indexes the body of one more comment.
func (x *Index) Add(body string) {
	words := wordNGrams(body, x.wordN, nil)
	chars := charNGrams(body, x.charN, nil)
	x.mu.Lock()
	defer x.mu.Unlock()
	x.word.add(words)
	x.char.add(chars)
}

// Copies reports whether text contains a run of at least n consecutive
// words (LevelWord) or characters (LevelChar) of an indexed comment, with n
// the index's length for that level. It panics on an invalid level.
func (x *Index) Copies(level text.Level, s string) bool {
	var hs []uint64
	var set *hashSet
	switch level {
	case text.LevelWord:
		hs, set = wordNGrams(s, x.wordN, nil), &x.word
	case text.LevelChar:
		hs, set = charNGrams(s, x.charN, nil), &x.char
	default:
		panic(fmt.Sprintf("originality: Copies on invalid level %q", string(level)))
	}
	if len(hs) == 0 {
		return false
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, h := range hs {
		if set.has(h) {
			return true
		}
	}
	return false
}

// Len returns the number of distinct word and char n-grams indexed.
func (x *Index) Len() (words, chars int) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.word.len(), x.char.len()
}

// hashSet is a set of uint64: a sorted slice and a map of recent additions.
type hashSet struct {
	sorted []uint64
	fresh  map[uint64]struct{}
}

func (s *hashSet) has(h uint64) bool {
	if _, ok := s.fresh[h]; ok {
		return true
	}
	_, ok := slices.BinarySearch(s.sorted, h)
	return ok
}

func (s *hashSet) len() int { return len(s.sorted) + len(s.fresh) }

// add inserts hs; the map is merged into the sorted slice once it holds more
// than an eighth of it (at least 32768 entries), so that merging costs O(1)
// amortized per insertion.
func (s *hashSet) add(hs []uint64) {
	for _, h := range hs {
		if s.has(h) {
			continue
		}
		if s.fresh == nil {
			s.fresh = make(map[uint64]struct{})
		}
		s.fresh[h] = struct{}{}
	}
	if len(s.fresh) > max(1<<15, len(s.sorted)/8) {
		merged := make([]uint64, 0, len(s.sorted)+len(s.fresh))
		merged = append(merged, s.sorted...)
		for h := range s.fresh {
			merged = append(merged, h)
		}
		s.sorted = sortDedup(merged)
		s.fresh = nil
	}
}

func sortDedup(hs []uint64) []uint64 {
	slices.Sort(hs)
	return slices.Clip(slices.Compact(hs))
}

// ngramBase is the multiplier of the polynomial rolling hash; odd, so that
// multiplication by it is invertible modulo 2⁶⁴.
const ngramBase = 0x9E3779B97F4A7C15

// mix64 is SplitMix64's finalizer: it spreads the bits of x so that
// similar inputs (neighbouring runes) get unrelated values.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 27
	x *= 0x94D049BB133111EB
	x ^= x >> 31
	return x
}

// rolling appends to dst the hash of every window of n consecutive values
// of vs: H = Σ vᵢ·Bⁿ⁻¹⁻ⁱ mod 2⁶⁴, updated in O(1) per step.
func rolling(vs []uint64, n int, dst []uint64) []uint64 {
	if len(vs) < n {
		return dst
	}
	pow := uint64(1) // Bⁿ⁻¹
	for range n - 1 {
		pow *= ngramBase
	}
	var h uint64
	for i, v := range vs {
		if i >= n {
			h -= vs[i-n] * pow
		}
		h = h*ngramBase + v
		if i >= n-1 {
			dst = append(dst, mix64(h))
		}
	}
	return dst
}

// wordNGrams appends the hashes of the n-word windows of text to dst.
func wordNGrams(s string, n int, dst []uint64) []uint64 {
	words := text.Words(s)
	if len(words) < n {
		return dst
	}
	vs := make([]uint64, len(words))
	for i, w := range words {
		f := fnv.New64a()
		f.Write([]byte(w))
		vs[i] = mix64(f.Sum64())
	}
	return rolling(vs, n, dst)
}

// charNGrams appends the hashes of the n-rune windows of text, lower-cased
// and with whitespace runs collapsed, to dst.
func charNGrams(s string, n int, dst []uint64) []uint64 {
	norm := text.CollapseSpace(strings.ToLower(strings.ToValidUTF8(s, "\uFFFD")))
	vs := make([]uint64, 0, len(norm))
	for _, r := range norm {
		vs = append(vs, mix64(uint64(r)+1))
	}
	return rolling(vs, n, dst)
}
