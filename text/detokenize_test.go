package text

import (
	"strings"
	"testing"
)

func TestDetokenize(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"golden", "SENTENCE_START i joined a league than i 'm used to . SENTENCE_END", "I joined a league than I'm used to."},
		{"clitics", "SENTENCE_START do n't you think it 's ok , we 've they 're he 'll she 'd i 'm SENTENCE_END", "Don't you think it's ok, we've they're he'll she'd I'm"},
		{"a clitic with no word to join is spelled out", "SENTENCE_START i did n't 'm n't sure . 're you ? SENTENCE_END", "I didn't am not sure. Are you?"},
		{"treebank's double clitic", "SENTENCE_START you should n't 've SENTENCE_END", "You shouldn't have"},
		{"macintyre rejoined", "SENTENCE_START i can not , gon na , wan na , got ta , gim me , lem me SENTENCE_END", "I cannot, gonna, wanna, gotta, gimme, lemme"},
		{"punctuation joins the word before", "SENTENCE_START wait ... then go ? ! yes ; no : maybe , 50 % SENTENCE_END", "Wait... then go?! Yes; no: maybe, 50%"},
		{"openers join the word after", "SENTENCE_START costs $ 5 ( or # 1 ) [ a ] { b } @ me SENTENCE_END", "Costs $5 (or #1) [a] {b} @me"},
		{"double quotes", "SENTENCE_START he said `` stop now '' and left . SENTENCE_END", `He said "stop now" and left.`},
		{"quote opens a sentence", "SENTENCE_START `` hi '' , she said . SENTENCE_END", `"Hi", she said.`},
		{"single quotes", "SENTENCE_START ' quoted ' text SENTENCE_END", "'Quoted' text"},
		{"possessive", "SENTENCE_START the players ' union SENTENCE_END", "The players' union"},
		{"closing single quote before punctuation", "SENTENCE_START thank you ' . SENTENCE_END", "Thank you'."},
		{"every sentence capitalised", "SENTENCE_START one . SENTENCE_END SENTENCE_START two ? SENTENCE_END SENTENCE_START three SENTENCE_END", "One. Two? Three"},
		{"capital after . even without markers", "one . two ? three ! four", "One. Two? Three! Four"},
		{"capital passes brackets", "SENTENCE_START ( what ? ) ok SENTENCE_END", "(What?) Ok"},
		{"capital stopped by ellipsis", "SENTENCE_START ... then what SENTENCE_END", "... then what"},
		{"standalone i", "SENTENCE_START you and i and i 'd SENTENCE_END", "You and I and I'd"},
		{"i inside a word stays", "SENTENCE_START hi ii SENTENCE_END", "Hi ii"},
		{"url never capitalised", "SENTENCE_START http://x.org is <url> SENTENCE_END", "http://x.org is <url>"},
		{"specials dropped", "SENTENCE_START UNKNOWN_TOKEN word UNKNOWN_TOKEN . SENTENCE_END", "Word."},
		{"period after period keeps its space", "SENTENCE_START and . . . coke SENTENCE_END", "And. . . Coke"},
		{"sentence-initial punctuation keeps its space", "SENTENCE_START hi . SENTENCE_END SENTENCE_START ... ok SENTENCE_END", "Hi. ... ok"},
		{"double dash spaced", "SENTENCE_START a -- b SENTENCE_END", "A -- b"},
		// Settling: NLTK's sentence splitter reads "a." as an initial, so "b"
		// does not start a sentence once the text is tokenized again.
		{"settled after an initial", "a . b ? c", "A. b? C"},
		{"nothing", "", ""},
		{"only specials", "SENTENCE_START SENTENCE_END UNKNOWN_TOKEN", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detokenize(strings.Fields(tc.in)); got != tc.want {
				t.Errorf("Detokenize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestDetokenizeRoundTrip checks that tokenizing what a person would write
// and detokenizing gives the text back where the text is already in the
// detokenizer's normal form.
func TestDetokenizeRoundTrip(t *testing.T) {
	for _, in := range []string{
		"I'm sure you're right. Don't worry!",
		`He said "stop" and left. Then what?`,
		"It costs $5 (or 10%), I think.",
		"The players' union said 'no' again.",
		"I cannot believe it... wait, what?!",
		"See <url> for more, e.g. the FAQ.",
	} {
		want := in
		// Only case is normalised: everything after the first letter of a
		// sentence comes back lower-cased.
		want = strings.ReplaceAll(want, "FAQ", "faq")
		if got := Detokenize(WordTokens(in)); got != want {
			t.Errorf("Detokenize(WordTokens(%q))\n got %q\nwant %q", in, got, want)
		}
	}
}

// TestDetokenizeFixedPointOnSample checks the promised fixed point on every
// comment of the seed sample, raw and cleaned.
func TestDetokenizeFixedPointOnSample(t *testing.T) {
	rules := DefaultCleanRules()
	for i, body := range sampleBodies(t) {
		for _, in := range []string{body, rules.CleanBody(body)} {
			once := Detokenize(WordTokens(in))
			if twice := Detokenize(WordTokens(once)); twice != once {
				t.Errorf("comment %d: not a fixed point\n once  %q\n twice %q", i, clip(once), clip(twice))
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
