package text

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"commentbot/tokens"
)

// words joins space-separated tokens for compact tables.
func words(s string) []string { return strings.Fields(s) }

func TestWordTokensGolden(t *testing.T) {
	// The seed's own example: its first comment's first sentence.
	in := "I joined a new league this year and they have different scoring rules than I'm used to."
	want := words("SENTENCE_START i joined a new league this year and they have different scoring rules than i 'm used to . SENTENCE_END")
	if got := WordTokens(in); !slices.Equal(got, want) {
		t.Errorf("WordTokens(%q)\n got %q\nwant %q", in, got, want)
	}
}

func TestWordTokens(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		// Contractions: Treebank splits clitics off the word before.
		{"n't", "I don't know", "i do n't know"},
		{"'m 're 've", "I'm sure you're right, we've seen it", "i 'm sure you 're right , we 've seen it"},
		{"'ll 'd 's", "He'll say she'd like it's fine", "he 'll say she 'd like it 's fine"},
		{"won't", "It won't work", "it wo n't work"},
		{"cannot", "I cannot go", "i can not go"},
		{"gonna wanna gotta", "gonna go, wanna eat, gotta run", "gon na go , wan na eat , got ta run"},
		{"gimme lemme", "gimme that, lemme see", "gim me that , lem me see"},
		{"cannot inside a word stays", "cannotx", "cannotx"},
		{"wanna is split (NLTK pads the text with spaces)", "wanna", "wan na"},
		{"wannabe stays", "wannabe", "wannabe"},
		{"possessive s'", "the players' union", "the players ' union"},
		// Punctuation.
		{"final period", "It ends here.", "it ends here ."},
		{"inner period stays", "Version 2.0 is out", "version 2.0 is out"},
		{"comma and colon", "first, second: third", "first , second : third"},
		{"exclamation inside a word splits it", "wow!ok", "wow ! ok"},
		{"semicolon and symbols", "a;b @c #d $5 50% R&D", "a ; b @ c # d $ 5 50 % r & d"},
		{"brackets", "(a) [b] {c} <d>", "( a ) [ b ] { c } < d >"},
		{"double dash", "wait--what", "wait -- what"},
		{"dashes stay (NLTK 3.8 has no dash rule)", "1990–2000 a—b", "1990–2000 a—b"},
		{"asterisk", "**bold**", "* * bold * *"},
		{"hyphen stays", "anti-gun league-", "anti-gun league-"},
		// Quotes.
		{"double quotes", `He said "hi there" loudly`, "he said `` hi there '' loudly"},
		{"opening quote at start", `"Quoted" first`, "`` quoted '' first"},
		// Opening single quotes, as NLTK 3.8: split only before one word
		// rune that is not a clitic letter (m, t, s, d, n).
		{"single quotes", "'quoted' text", "'quoted ' text"},
		{"quoted phrase keeps its opening quote", "making you fear 'looking bad'.", "making you fear 'looking bad ' ."},
		{"'90s stays", "the '90s were", "the '90s were"},
		{"'tis", "'tis the season", "'t is the season"},
		{"one-letter word splits", "'a' and 'b", "' a ' and ' b"},
		{"clitic letters do not split", "'n' 's 'm 'd 't", "'n ' 's 'm 'd 't"},
		{"long s is an s to Python", "'ſ", "'ſ"},
		{"rock'n'roll", "rock'n'roll", "rock'n'roll"},
		{"quote inside a word before one letter", "don'x y", "don ' x y"},
		// Whitespace other than a space: NLTK's clitic and quote rules want a
		// literal space, so a word before a line break keeps its clitic.
		{"clitic before a line break stays", "don't\n\njust go", "don't just go"},
		{"possessive before a line break stays", "the players'\nunion", "the players' union"},
		{"clitic before a tab stays", "it's\tok", "it's ok"},
		{"wanna before a line break", "wanna\ngo", "wan na go"},
		{"two single quotes", "''So das''", "'' so das ''"},
		{"curly quotes", "“hi” ‘there’", "“ hi ” ‘ there ’"},
		// Ellipses.
		{"ellipsis", "wait... what", "wait ... what"},
		{"long ellipsis", "so.......", "so ......."},
		// Abbreviations keep their period inside a sentence.
		{"e.g.", "Fruit e.g. apples.", "fruit e.g. apples ."},
		{"mr.", "Mr. Smith left.", "mr. smith left ."},
		// Numbers.
		{"thousands", "1,000 people", "1,000 people"},
		{"decimals", "pi is 3.14", "pi is 3.14"},
		{"leading decimal", ".2 points", ".2 points"},
		{"comma before non-digit splits", "1,a", "1 , a"},
		// URLs and the placeholder stay whole.
		{"url", "see http://example.com/a?b=c&d=e for more", "see http://example.com/a?b=c&d=e for more"},
		{"url before period", "go to https://x.org/wiki/A_(b).", "go to https://x.org/wiki/a_(b) ."},
		{"www", "www.reddit.com/r/nfl is fun", "www.reddit.com/r/nfl is fun"},
		{"url in parens", "(http://x.com)", "( http://x.com )"},
		{"placeholder", "see <url> now", "see <url> now"},
		{"placeholder before a quote (NLTK reads it after >)", `<url>" ok`, "<url> '' ok"},
		{"placeholder inside brackets", "(<url>)", "( <url> )"},
		// Emoji and other scripts pass through.
		{"emoji alone", "nice 😂 👍🏽", "nice 😂 👍🏽"},
		{"emoji attached", "lol😂", "lol😂"},
		{"zwj emoji", "family 👨‍👩‍👧", "family 👨‍👩‍👧"},
		{"accents", "Café Straße", "café straße"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WordTokens(tc.in)
			if len(got) < 2 || got[0] != tokens.SentenceStart || got[len(got)-1] != tokens.SentenceEnd {
				t.Fatalf("WordTokens(%q) = %q: not one wrapped sentence", tc.in, got)
			}
			want := words(tc.want)
			if inner := got[1 : len(got)-1]; !slices.Equal(inner, want) {
				t.Errorf("WordTokens(%q)\n got %q\nwant %q", tc.in, inner, want)
			}
		})
	}
}

func TestWordTokensSentences(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"two sentences", "Hi there. How are you?", "SENTENCE_START hi there . SENTENCE_END SENTENCE_START how are you ? SENTENCE_END"},
		{"abbreviation does not split", "Ask Mr. Smith now.", "SENTENCE_START ask mr. smith now . SENTENCE_END"},
		{"e.g. does not split", "Fruit, e.g. apples, is good.", "SENTENCE_START fruit , e.g. apples , is good . SENTENCE_END"},
		{"number then lower case does not split", "In 2015. the end", "SENTENCE_START in 2015. the end SENTENCE_END"},
		{"ellipsis does not split lower case", "wait... what now", "SENTENCE_START wait ... what now SENTENCE_END"},
		{"empty", "", ""},
		{"only space", " \n\t ", ""},
		{"only punctuation", "...", "SENTENCE_START ... SENTENCE_END"},
		{"final ?! run splits as NLTK splits it", "Really?!", "SENTENCE_START really ? SENTENCE_END SENTENCE_START ! SENTENCE_END"},
		{"inner ?! run does not", "Really?! Yes.", "SENTENCE_START really ? ! SENTENCE_END SENTENCE_START yes . SENTENCE_END"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := WordTokens(tc.in)
			if want := words(tc.want); !slices.Equal(got, want) {
				t.Errorf("WordTokens(%q)\n got %q\nwant %q", tc.in, got, want)
			}
		})
	}
}

func TestSentences(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		// NLTK's own docstring example.
		{"nltk doc", "Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\n\nThanks.",
			[]string{"Good muffins cost $3.88\nin New York.", "Please buy me\ntwo of them.", "Thanks."}},
		{"question and exclamation", "What? No! Yes.", []string{"What?", "No!", "Yes."}},
		{"closing quote realigned", `He said "stop." Then left.`, []string{`He said "stop."`, "Then left."}},
		{"closing paren realigned", "(How odd?)  Quite.", []string{"(How odd?)", "Quite."}},
		{"initial before a name", "Johann S. Bach wrote it.", []string{"Johann S. Bach wrote it."}},
		{"abbreviation before a common starter", "I like apples etc. The end.", []string{"I like apples etc.", "The end."}},
		{"no space no split", "end.start", []string{"end.start"}},
		{"final punctuation run splits (NLTK 3.8's FIXME)", "Wow?!", []string{"Wow?", "!"}},
		{"final !! splits before the last", "Wow!!!", []string{"Wow!!", "!"}},
		{"paragraph break is whitespace", "One.\n\nTwo.", []string{"One.", "Two."}},
		{"closing quote realigned across a line break", "He said \"stop.\"\nThen left.", []string{"He said \"stop.\"", "Then left."}},
		{"punctuation run inside splits after the run", "Wow?! Nice.", []string{"Wow?!", "Nice."}},
		{"trailing space trimmed", "One.  ", []string{"One."}},
		{"no text", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sentences(tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("Sentences(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestWords(t *testing.T) {
	got := Words("I'm here. You too!")
	want := words("i 'm here . you too !")
	if !slices.Equal(got, want) {
		t.Errorf("Words: got %q, want %q", got, want)
	}
}

// checkWordTokens checks the invariants WordTokens promises and returns a
// description of the first violation, or "".
func checkWordTokens(toks []string) string {
	inSentence, words := false, 0
	for i, tok := range toks {
		switch {
		case tok == "":
			return "empty token at " + itoa(i)
		case strings.IndexFunc(tok, unicode.IsSpace) >= 0:
			return "whitespace inside token " + itoa(i) + ": " + tok
		case tok == tokens.SentenceStart:
			if inSentence {
				return "nested SENTENCE_START at " + itoa(i)
			}
			inSentence, words = true, 0
		case tok == tokens.SentenceEnd:
			if !inSentence {
				return "SENTENCE_END without start at " + itoa(i)
			}
			if words == 0 {
				return "empty sentence ending at " + itoa(i)
			}
			inSentence = false
		case tok == tokens.UnknownToken:
			return "UNKNOWN_TOKEN from text at " + itoa(i)
		default:
			if !inSentence {
				return "word outside a sentence at " + itoa(i)
			}
			words++
		}
	}
	if inSentence {
		return "last sentence not closed"
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestWordTokensInvariantsOnSample(t *testing.T) {
	bodies := sampleBodies(t)
	sentences, toks := 0, 0
	for i, b := range bodies {
		got := WordTokens(b)
		if msg := checkWordTokens(got); msg != "" {
			t.Errorf("comment %d: %s", i, msg)
		}
		for _, tok := range got {
			if tok == tokens.SentenceStart {
				sentences++
			}
		}
		toks += len(got)
	}
	// The seed sample holds 211 comments of several sentences each: a
	// tokenizer that never splits, or splits at every period, is off by far.
	if sentences < len(bodies) || sentences > 20*len(bodies) {
		t.Errorf("%d sentences in %d comments: out of the plausible range", sentences, len(bodies))
	}
	t.Logf("%d comments → %d sentences, %d tokens", len(bodies), sentences, toks)
}

// benchComments returns n synthetic comments drawn with a seeded generator:
// words, contractions, numbers, URLs and punctuation in the proportions of
// casual English comments.
func benchComments(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	vocab := strings.Fields("i you the a to and of it that is in was for on this but they " +
		"don't I'm it's can't gonna really think game league player team time people " +
		"e.g. Mr. 1,000 3.14 http://example.com/x (maybe) \"quoted\" 😂")
	ends := []string{".", ".", ".", "?", "!", "...", "?!"}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 1 + rng.IntN(5) {
			for w := range 4 + rng.IntN(16) {
				if w > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(vocab[rng.IntN(len(vocab))])
				if rng.IntN(10) == 0 {
					b.WriteByte(',')
				}
			}
			b.WriteString(ends[rng.IntN(len(ends))])
			b.WriteByte(' ')
		}
		out[i] = b.String()
	}
	return out
}

// benchWordTokens tokenizes the comments b.N times round-robin and reports
// tokens and comments per second.
func benchWordTokens(b *testing.B, comments []string) {
	var toks, bytes int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := comments[i%len(comments)]
		toks += len(WordTokens(c))
		bytes += len(c)
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(toks)/s, "tokens/s")
	b.ReportMetric(float64(b.N)/s, "comments/s")
	b.ReportMetric(float64(bytes)/s/1e6, "MB/s")
}

func BenchmarkWordTokens(b *testing.B) { benchWordTokens(b, benchComments(1, 1000)) }

// benchDetokenize detokenizes pre-tokenized comments and reports tokens per
// second.
func benchDetokenize(b *testing.B, comments []string) {
	tokenized := make([][]string, len(comments))
	for i, c := range comments {
		tokenized[i] = WordTokens(c)
	}
	var toks int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t := tokenized[i%len(tokenized)]
		Detokenize(t)
		toks += len(t)
	}
	b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
}

func BenchmarkDetokenize(b *testing.B) { benchDetokenize(b, benchComments(2, 1000)) }

// benchCleanBody cleans comments and reports comments per second.
func benchCleanBody(b *testing.B, comments []string) {
	rules := DefaultCleanRules()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		rules.CleanBody(comments[i%len(comments)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "comments/s")
}

func BenchmarkCleanBody(b *testing.B) { benchCleanBody(b, benchComments(3, 1000)) }

// TestPySpaceClass checks that the regexp class standing for Python's \s
// accepts exactly the runes isPySpace accepts (all whitespace is below
// U+3001).
func TestPySpaceClass(t *testing.T) {
	re := regexp.MustCompile(`^` + pySpaceClass + `$`)
	for r := rune(0); r <= 0x3100; r++ {
		if got, want := re.MatchString(string(r)), isPySpace(r); got != want {
			t.Errorf("U+%04X: class %v, isPySpace %v", r, got, want)
		}
	}
}
