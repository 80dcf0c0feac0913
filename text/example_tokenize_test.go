package text_test

import (
	"fmt"
	"strings"

	"commentbot/text"
)

func ExampleWordTokens() {
	toks := text.WordTokens("I joined a new league this year and they have different scoring rules than I'm used to. Don't you think?")
	fmt.Println(strings.Join(toks, " "))
	// Output:
	// SENTENCE_START i joined a new league this year and they have different scoring rules than i 'm used to . SENTENCE_END SENTENCE_START do n't you think ? SENTENCE_END
}

func ExampleSentences() {
	for _, s := range text.Sentences("Ask Mr. Smith, e.g. at 3 p.m. today. He said \"no.\" Really?! Sure.") {
		fmt.Println(s)
	}
	// Output:
	// Ask Mr. Smith, e.g. at 3 p.m. today.
	// He said "no."
	// Really?!
	// Sure.
}

func ExampleDetokenize() {
	toks := text.WordTokens(`i cannot believe he said "gonna" ... wait, what?!`)
	fmt.Println(text.Detokenize(toks))
	// Output:
	// I cannot believe he said "gonna"... wait, what?!
}

func ExampleCharTokens() {
	fmt.Printf("%q\n", text.CharTokens("Hi!"))
	// Output:
	// ["H" "i" "!" "\x03"]
}

func ExampleLevel() {
	for _, l := range []text.Level{text.LevelWord, text.LevelChar} {
		toks := l.Tokens("I'm here.")
		fmt.Printf("%s: %d tokens, unknown %+q, back: %s\n", l, len(toks), l.Unknown(), l.Text(toks))
	}
	// Output:
	// word: 6 tokens, unknown "UNKNOWN_TOKEN", back: I'm here.
	// char: 10 tokens, unknown "\ufffd", back: I'm here.
}

func ExampleBuildVocab() {
	counts := text.NewCounts()
	counts.Add(text.Words("the cat saw the dog and the cat ran")...)
	v := text.BuildVocab(counts, 3, text.LevelWord.Specials())
	fmt.Println(v.Tokens())
	fmt.Println(v.Encode(text.Words("the dog ran"), nil))
	// Output:
	// [UNKNOWN_TOKEN SENTENCE_START SENTENCE_END the cat saw]
	// [3 0 0]
}

func ExampleCleanRules_Clean() {
	rules := text.DefaultCleanRules()
	body := "&gt; quoted text\n\nI **really** agree, see [the wiki](http://example.com/wiki) and https://example.com/x &amp;amp; more."
	cleaned, skip := rules.Clean("someone", body)
	fmt.Printf("%q %q\n", cleaned, skip)
	_, skip = rules.Clean("AutoModerator", "Your post was removed.")
	fmt.Printf("%q\n", skip)
	// Output:
	// "I really agree, see the wiki and <url> & more." ""
	// "bot"
}
