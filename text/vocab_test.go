package text

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	c := NewCounts()
	c.Add("b", "a", "b", "c", "a", "b")
	c.Add()
	for _, tc := range []struct {
		tok  string
		want int
	}{{"a", 2}, {"b", 3}, {"c", 1}, {"z", 0}} {
		if got := c.Count(tc.tok); got != tc.want {
			t.Errorf("Count(%q) = %d, want %d", tc.tok, got, tc.want)
		}
	}
	if c.Len() != 3 {
		t.Errorf("Len = %d, want 3", c.Len())
	}
	if got, want := c.Tokens(), []string{"b", "a", "c"}; !slices.Equal(got, want) {
		t.Errorf("Tokens() = %q, want first-appearance order %q", got, want)
	}
	want := []TokenCount{{"b", 3}, {"a", 2}, {"c", 1}}
	if got := c.Ranked(); !slices.Equal(got, want) {
		t.Errorf("Ranked() = %v, want %v", got, want)
	}
}

func TestBuildVocab(t *testing.T) {
	c := NewCounts()
	// x and y tie at 2, z and w tie at 1; first appearance: y x w z.
	c.Add(strings.Fields("y x w z SENTENCE_START x y SENTENCE_START SENTENCE_START top top top")...)
	specials := LevelWord.Specials()
	for _, tc := range []struct {
		name     string
		size     int
		minCount int
		want     string
	}{
		{"top 1", 1, 1, "UNKNOWN_TOKEN SENTENCE_START SENTENCE_END top"},
		{"ties by first appearance", 3, 1, "UNKNOWN_TOKEN SENTENCE_START SENTENCE_END top y x"},
		{"all", 0, 1, "UNKNOWN_TOKEN SENTENCE_START SENTENCE_END top y x w z"},
		{"more than there are", 50, 1, "UNKNOWN_TOKEN SENTENCE_START SENTENCE_END top y x w z"},
		{"min count drops rare", 0, 2, "UNKNOWN_TOKEN SENTENCE_START SENTENCE_END top y x"},
		{"min count above all", 0, 10, "UNKNOWN_TOKEN SENTENCE_START SENTENCE_END"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := BuildVocabMin(c, tc.size, tc.minCount, specials)
			if got := strings.Join(v.Tokens(), " "); got != tc.want {
				t.Errorf("tokens %q, want %q", got, tc.want)
			}
			if v.Unknown() != 0 || v.ID("never seen") != 0 {
				t.Errorf("Unknown() = %d, ID(absent) = %d; want 0, 0", v.Unknown(), v.ID("never seen"))
			}
			for id, tok := range v.Tokens() {
				if v.ID(tok) != id || v.Token(id) != tok {
					t.Errorf("id %d ↔ %q does not round-trip", id, tok)
				}
			}
		})
	}
	if a, b := BuildVocab(c, 3, specials), BuildVocab(c, 3, specials); a.Hash() != b.Hash() {
		t.Error("same counts and size gave different hashes")
	}
}

func TestBuildVocabPanics(t *testing.T) {
	c := NewCounts()
	c.Add("a")
	for _, tc := range []struct {
		name     string
		size     int
		specials []string
	}{
		{"negative size", -1, nil},
		{"repeated special", 1, []string{"X", "X"}},
		{"empty special", 1, []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("BuildVocab(size %d, specials %q) did not panic", tc.size, tc.specials)
				}
			}()
			BuildVocab(c, tc.size, tc.specials)
		})
	}
}

func TestNewVocab(t *testing.T) {
	for _, tc := range []struct {
		name        string
		tokens      []string
		wantErr     bool
		wantUnknown int
	}{
		{"word specials", []string{"UNKNOWN_TOKEN", "SENTENCE_START", "a"}, false, 0},
		{"char specials", []string{"\u0003", "\uFFFD", "a"}, false, 1},
		{"no unknown", []string{"a", "b"}, false, -1},
		{"empty list", nil, true, 0},
		{"empty token", []string{"a", ""}, true, 0},
		{"duplicate", []string{"a", "b", "a"}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewVocab(tc.tokens)
			if tc.wantErr {
				if !errors.Is(err, ErrVocab) || v != nil {
					t.Fatalf("NewVocab(%q) = %v, %v; want nil, ErrVocab", tc.tokens, v, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Unknown() != tc.wantUnknown {
				t.Errorf("Unknown() = %d, want %d", v.Unknown(), tc.wantUnknown)
			}
			if v.ID("zzz") != tc.wantUnknown {
				t.Errorf("ID(absent) = %d, want %d", v.ID("zzz"), tc.wantUnknown)
			}
		})
	}
}

func TestVocabRestoreAndHash(t *testing.T) {
	orig, err := NewVocab([]string{"UNKNOWN_TOKEN", "a", "bc"})
	if err != nil {
		t.Fatal(err)
	}
	restored, err := NewVocab(orig.Tokens())
	if err != nil {
		t.Fatal(err)
	}
	if restored.Hash() != orig.Hash() || restored.Len() != 3 {
		t.Errorf("restored vocabulary differs: %q vs %q", restored.Hash(), orig.Hash())
	}
	if len(orig.Hash()) != 64 || strings.Trim(orig.Hash(), "0123456789abcdef") != "" {
		t.Errorf("Hash() = %q, want 64 hex digits", orig.Hash())
	}
	// Length prefixes: moving a byte between neighbours changes the hash,
	// and so does the order.
	for _, other := range [][]string{
		{"UNKNOWN_TOKEN", "ab", "c"},
		{"UNKNOWN_TOKEN", "bc", "a"},
		{"UNKNOWN_TOKEN", "a", "bc", "d"},
	} {
		v, err := NewVocab(other)
		if err != nil {
			t.Fatal(err)
		}
		if v.Hash() == orig.Hash() {
			t.Errorf("%q and %q share a hash", other, orig.Tokens())
		}
	}
	// Tokens returns a copy: changing it leaves the vocabulary alone.
	toks := orig.Tokens()
	toks[1] = "changed"
	if orig.Token(1) != "a" {
		t.Error("Tokens() exposed the vocabulary's storage")
	}
}

func TestVocabEncodeDecode(t *testing.T) {
	v, err := NewVocab([]string{"UNKNOWN_TOKEN", "the", "cat"})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int, 10)
	ids := v.Encode([]string{"the", "dog", "cat"}, buf)
	if want := []int{1, 0, 2}; !slices.Equal(ids, want) {
		t.Errorf("Encode = %v, want %v", ids, want)
	}
	if &ids[0] != &buf[0] {
		t.Error("Encode did not reuse dst")
	}
	if got, want := v.Decode(ids, nil), []string{"the", "UNKNOWN_TOKEN", "cat"}; !slices.Equal(got, want) {
		t.Errorf("Decode = %q, want %q", got, want)
	}
	if !v.Contains("cat") || v.Contains("dog") {
		t.Error("Contains is wrong")
	}
}

// TestWordVocabOnSample builds the seed's word vocabulary from the sample.
func TestWordVocabOnSample(t *testing.T) {
	c := NewCounts()
	for _, b := range sampleBodies(t) {
		c.Add(WordTokens(b)...)
	}
	v := BuildVocab(c, 4000, LevelWord.Specials())
	if v.Len() > 4003 || v.Len() < 100 {
		t.Errorf("vocabulary of %d tokens", v.Len())
	}
	for i, s := range LevelWord.Specials() {
		if v.ID(s) != i {
			t.Errorf("special %q has id %d, want %d", s, v.ID(s), i)
		}
	}
	// The most frequent words of English comments lead the list.
	if top := v.Token(3); top != "." && top != "the" && top != "," {
		t.Errorf("most frequent token %q: want . , or the", top)
	}
}

// benchEncode builds the seed-sized word vocabulary and reports tokens
// encoded per second.
func benchEncode(b *testing.B, comments []string) {
	c := NewCounts()
	tokenized := make([][]string, len(comments))
	for i, s := range comments {
		tokenized[i] = WordTokens(s)
		c.Add(tokenized[i]...)
	}
	v := BuildVocab(c, 4000, LevelWord.Specials())
	var ids []int
	var n int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ids = v.Encode(tokenized[i%len(tokenized)], ids)
		n += len(ids)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkVocabEncode(b *testing.B) { benchEncode(b, benchComments(5, 1000)) }
