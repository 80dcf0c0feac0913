package corpus

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"commentbot/text"
	"commentbot/tokens"
)

// Stats describes a corpus the way the seed's scripts did before training:
// the word-level figures of its RNN tutorial and the char-level figures of
// its TFLearn generator.
type Stats struct {
	Comments  int   // comments read
	Sentences int   // sentences, as Sentences splits them
	Words     int64 // word tokens (WordTokens), SENTENCE_START/END not counted
	// UniqueWords is the number of distinct word tokens, specials not
	// counted. (The seed's figure counted its two sentence markers as words,
	// so it reads 2 higher on the same text.)
	UniqueWords int
	// VocabRequested is the N asked for; VocabSize the size of the word
	// vocabulary BuildVocab makes with it: min(N, UniqueWords) + 3 specials.
	VocabRequested, VocabSize int
	// LeastFrequent is the least frequent word in that vocabulary (the last
	// one, ties broken by first appearance) and LeastFrequentCount its count.
	LeastFrequent      string
	LeastFrequentCount int
	Characters         int64 // characters (runes) of the bodies
	UniqueChars        int   // distinct characters
	// CharVocabSize is the size of the char vocabulary: characters seen at
	// least DefaultCharMinCount times, plus CharUnknown and CharEnd.
	CharVocabSize int
}

// ComputeStats reads src once and returns its Stats with a word vocabulary
// of vocabSize most frequent words (0 = every word). It holds one count per
// distinct word and character, never the comments. Bodies are taken as
// given: wrap src in CleanSource to describe what training would see.
func ComputeStats(ctx context.Context, src Source, vocabSize int) (Stats, error) {
	if vocabSize < 0 {
		return Stats{}, fmt.Errorf("corpus: stats: negative vocabulary size %d", vocabSize)
	}
	st := Stats{VocabRequested: vocabSize}
	words, chars := text.NewCounts(), text.NewCounts()
	var buf [utf8.UTFMax]byte
	err := src(ctx, func(c Comment) error {
		st.Comments++
		for _, tok := range text.WordTokens(c.Body) {
			switch tok {
			case tokens.SentenceStart:
				st.Sentences++
			case tokens.SentenceEnd:
			default:
				words.Add(tok)
				st.Words++
			}
		}
		for _, r := range c.Body {
			n := utf8.EncodeRune(buf[:], r)
			chars.Add(string(buf[:n]))
			st.Characters++
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("corpus: stats: %w", err)
	}
	st.UniqueWords = words.Len()
	specials := text.LevelWord.Specials()
	v := text.BuildVocab(words, vocabSize, specials)
	st.VocabSize = v.Len()
	if v.Len() > len(specials) {
		st.LeastFrequent = v.Token(v.Len() - 1)
		st.LeastFrequentCount = words.Count(st.LeastFrequent)
	}
	st.UniqueChars = chars.Len()
	st.CharVocabSize = text.BuildVocabMin(chars, 0, text.DefaultCharMinCount, text.LevelChar.Specials()).Len()
	return st, nil
}

// WriteTo writes st as a two-column table, one figure per line.
func (st Stats) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	tw := tabwriter.NewWriter(cw, 0, 4, 2, ' ', 0)
	least := "-"
	if st.LeastFrequent != "" {
		least = fmt.Sprintf("%q (%d times)", st.LeastFrequent, st.LeastFrequentCount)
	}
	nspec := len(text.LevelWord.Specials())
	requested := fmt.Sprintf("all %d words", st.VocabSize-nspec)
	if st.VocabRequested > 0 {
		requested = fmt.Sprintf("N=%d: %d most frequent words", st.VocabRequested, st.VocabSize-nspec)
	}
	fmt.Fprintf(tw, "comments\t%d\n", st.Comments)
	fmt.Fprintf(tw, "sentences\t%d\n", st.Sentences)
	fmt.Fprintf(tw, "word tokens\t%d\n", st.Words)
	fmt.Fprintf(tw, "unique word tokens\t%d\n", st.UniqueWords)
	fmt.Fprintf(tw, "vocabulary size\t%d (%s + %d specials)\n", st.VocabSize, requested, nspec)
	fmt.Fprintf(tw, "least frequent word in vocabulary\t%s\n", least)
	fmt.Fprintf(tw, "characters\t%d\n", st.Characters)
	fmt.Fprintf(tw, "distinct characters\t%d\n", st.UniqueChars)
	fmt.Fprintf(tw, "char vocabulary size\t%d (seen ≥ %d times + %d specials)\n", st.CharVocabSize, text.DefaultCharMinCount, len(text.LevelChar.Specials()))
	if err := tw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

// String returns the table WriteTo writes.
func (st Stats) String() string {
	var b strings.Builder
	st.WriteTo(&b)
	return b.String()
}

// countWriter counts bytes written and keeps the first error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
