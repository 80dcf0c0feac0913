package text

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"commentbot/tokens"
)

// Detokenize turns word tokens back into the text a person would write. It
// undoes what WordTokens does, as far as that can be undone:
//
//   - tokens.SentenceStart, tokens.SentenceEnd and tokens.UnknownToken are dropped (a sentence
//     start still capitalises the next word);
//   - clitics join the word before: "i 'm" → "I'm", "do n't" → "don't",
//     "it 's" → "it's" — or, with no word to join (after another clitic or
//     punctuation, as a model may write), are spelled out: "i 'm n't" →
//     "I'm not"; and the MacIntyre splits are rejoined: "can not" →
//     "cannot", "gon na" → "gonna", "wan na" → "wanna", "got ta" → "gotta",
//     "gim me" → "gimme", "lem me" → "lemme";
//   - closing punctuation joins the word before (". , ; : ? ! ... ) ] } %"),
//     opening brackets and "$ # @" join the word after;
//   - the Treebank quote tokens (two backquotes for an opening quote, two
//     apostrophes for a closing one) become a straight double quote; it is
//     rendered opening (joined to the word after) where the tokenizer would
//     read it back as opening (at the start, after a space or an opening
//     bracket) and closing (joined to the word before) elsewhere; a lone '
//     closes an open single quote, joins the word before as a possessive
//     (players') or a closing quote when that word ends in "s" or when
//     punctuation or nothing follows, and otherwise opens a quote;
//   - a sentence's first token (unless a quote or bracket) and a "." after
//     a "." keep their space, since joining them would move a sentence
//     boundary;
//   - a word that keeps its opening quote ('looking, as NLTK 3.8 leaves it)
//     opens a single quote that the next lone ' closes;
//   - a sentence of "!" or "?" after a sentence ending in "?" or "!" joins
//     it: NLTK splits "what?!" at the end of a text into "what?" and "!";
//   - the first word of a sentence (after tokens.SentenceStart or a "." "?" "!"
//     token, past quotes and brackets, and past a quote it starts with)
//     gets an upper-case first letter, and so does the word "i"; other
//     punctuation in between ("...", "--") cancels the capital, and URLs
//     are never capitalised.
//
// Everything else is joined by single spaces. Tokens are not otherwise
// changed, so an unknown word never turns into something else.
//
// Fixed point: t = Detokenize(x) satisfies Detokenize(WordTokens(t)) == t
// whenever settling converges (below), so Detokenize(WordTokens(·)) is
// idempotent on text. The rules alone almost always give that; for the rest
// Detokenize re-tokenizes its own output and renders again until it stops
// changing, at most maxSettle rounds. FuzzDetokenize checks the property for
// x = WordTokens(s) with arbitrary s, and the tests for every comment of the
// seed sample, raw and cleaned. It does not give back the original text:
// case, spacing and quote style are normalised.
func Detokenize(toks []string) string {
	out := render(toks)
	// Settle: the rules above are local, and a few token sequences render to
	// text that tokenizes differently (a period that stops ending a
	// sentence, say). Re-rendering until nothing changes makes the result a
	// fixed point; in practice one round settles it. A few punctuation runs
	// alternate between two renderings (",,.!" and ", ,.!"): the smallest
	// text of such a cycle is returned, whichever member the cycle was
	// entered at, so it is a fixed point too.
	seen := []string{out}
	for range maxSettle {
		next := render(WordTokens(out))
		if next == out {
			break
		}
		if i := slices.Index(seen, next); i >= 0 {
			return slices.Min(seen[i:])
		}
		seen = append(seen, next)
		out = next
	}
	return out
}

// maxSettle bounds the settling rounds of Detokenize.
const maxSettle = 4

// render applies the detokenization rules once.
func render(toks []string) string {
	var b strings.Builder
	d := detok{capNext: true, glueNext: true}
	for i, tok := range toks {
		switch tok {
		case tokens.SentenceStart:
			d.capNext, d.sentenceStart = true, true
			continue
		case tokens.SentenceEnd, tokens.UnknownToken, "":
			continue
		}
		next := ""
		for _, t := range toks[i+1:] {
			if t != tokens.SentenceStart && t != tokens.SentenceEnd && t != tokens.UnknownToken && t != "" {
				next = t
				break
			}
		}
		d.write(&b, tok, next)
	}
	return b.String()
}

// detok is the state of one Detokenize call.
type detok struct {
	prev       string // the previous emitted token (as tokenized)
	capNext    bool   // capitalise the next word
	glueNext   bool   // no space before the next token
	singleOpen bool   // a ' quote is open
	// sentenceStart is set between tokens.SentenceStart and the sentence's first
	// token.
	sentenceStart bool
}

func (d *detok) write(b *strings.Builder, tok, next string) {
	out := tok
	gluePrev, glueNext := false, false
	switch {
	case tok == "``":
		out, glueNext = `"`, true
	case tok == "''":
		out, gluePrev = `"`, true
	case tok == "“" || tok == "«" || tok == "„" || tok == "‘":
		glueNext = true
	case tok == "”" || tok == "»":
		gluePrev = true
	case tok == "’":
		gluePrev = true
		glueNext = isClitic("'" + next)
	case tok == "'":
		switch {
		case d.singleOpen:
			gluePrev, d.singleOpen = true, false
		case d.prev != "" && (next == "" || isClosingPunct(next) || strings.HasSuffix(d.prev, "s")):
			// A closing quote without an opening one, or a possessive.
			gluePrev = true
		default:
			glueNext, d.singleOpen = true, true
		}
	case isClosingPunct(tok):
		gluePrev = true
	case tok == "(" || tok == "[" || tok == "{" || tok == "$" || tok == "#" || tok == "@":
		glueNext = true
	case isClitic(tok):
		if takesClitic(d.prev) {
			gluePrev = true
		} else if w := cliticWord(tok); w != "" {
			out = w // "i 'm n't" (a model's slip) reads "I'm not", not "I'mn't"
		} else {
			gluePrev = true
		}
	case rejoins(d.prev, tok):
		gluePrev = true
	case len(tok) > 1 && tok[0] == '\'':
		// A word the tokenizer left its opening quote on ('looking, 'no):
		// the next lone ' closes it.
		d.singleOpen = true
	}

	switch {
	case isURLToken(tok):
		d.capNext = false
	case d.capNext && startsWithLetterOrDigit(out):
		out = upperFirst(out)
		d.capNext = false
	case d.capNext && len(out) > 1 && out[0] == '\'' && startsWithLetterOrDigit(out[1:]):
		out = "'" + upperFirst(out[1:])
		d.capNext = false
	case tok == "i":
		out = "I"
	case d.capNext && !isQuoteOrBracket(tok):
		// "...", "--", "," and the like end the chance of a capital: after
		// re-tokenizing they may no longer start a sentence.
		d.capNext = false
	}
	if tok == "." || tok == "?" || tok == "!" {
		d.capNext = true
	}

	if (d.sentenceStart && !isQuoteOrBracket(tok) && !endsRun(d.prev, tok)) || (tok == "." && strings.HasSuffix(d.prev, ".")) {
		// Punctuation that opens a sentence, and a period after a period
		// (". . ."), keep their space: joined to the word before they would
		// change where the text splits into sentences when tokenized again.
		gluePrev = false
	}
	space := b.Len() > 0 && !gluePrev && !d.glueNext
	if tok == "``" || tok == "''" {
		// The tokenizer reads a straight double quote as opening at the
		// start, after a space or after an opening bracket, and as closing
		// anywhere else; so that the quote reads back the same, its role
		// here follows the same rule.
		text := b.String()
		glueNext = text == "" || space || strings.ContainsRune("([{<", rune(text[len(text)-1]))
	}
	if space {
		b.WriteByte(' ')
	}
	b.WriteString(out)
	d.glueNext = glueNext
	d.prev = tok
	d.sentenceStart = false
}

// endsRun reports whether tok, opening a sentence, is the rest of a "?!"
// run that prev began: NLTK splits "what?!" at the end of a text into the
// sentences "what?" and "!", and the text reads back the same way.
func endsRun(prev, tok string) bool {
	return (tok == "!" || tok == "?") && prev != "" && strings.Trim(prev, "?!") == ""
}

// isURLToken reports tokens that WordTokens keeps whole as URLs; they are
// never capitalised.
func isURLToken(tok string) bool {
	return tok == tokens.URLToken || len(findURLs(tok)) > 0
}

// isQuoteOrBracket reports the tokens a capital passes over: "(What?) Ok".
func isQuoteOrBracket(tok string) bool {
	switch tok {
	case "``", "''", "'", "(", ")", "[", "]", "{", "}", "“", "”", "‘", "’", "«", "»", "„":
		return true
	}
	return false
}

// isClosingPunct reports tokens that attach to the word before them.
func isClosingPunct(tok string) bool {
	switch tok {
	case ",", ";", ":", ")", "]", "}", "%":
		return true
	}
	// ".", "?", "!", "...", "?!": runs of sentence punctuation.
	return strings.Trim(tok, ".?!") == ""
}

// cliticWord spells out a clitic that has no word to join (after another
// clitic, after punctuation or at the start); "" for the rare ones kept as is.
func cliticWord(tok string) string {
	switch tok {
	case "n't":
		return "not"
	case "'m":
		return "am"
	case "'re":
		return "are"
	case "'ve":
		return "have"
	case "'ll":
		return "will"
	case "'d":
		return "would"
	case "'s":
		return "is"
	}
	return ""
}

// takesClitic reports whether a clitic can join prev: a word that is not a
// clitic itself.
func takesClitic(prev string) bool {
	return prev != "" && !isClitic(prev) && startsWithLetterOrDigit(prev)
}

// isClitic reports the clitics the Treebank rules split off a word.
func isClitic(tok string) bool {
	switch tok {
	case "n't", "'s", "'m", "'re", "'ve", "'ll", "'d", "'n", "'ye":
		return true
	}
	return false
}

// rejoins reports whether tok is the second half of a MacIntyre contraction
// whose first half was prev.
func rejoins(prev, tok string) bool {
	switch tok {
	case "not":
		return prev == "can"
	case "na":
		return prev == "gon" || prev == "wan"
	case "ta":
		return prev == "got"
	case "me":
		return prev == "gim" || prev == "lem"
	case "is", "was":
		return prev == "'t"
	}
	return false
}

func startsWithLetterOrDigit(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// upperFirst upper-cases the first rune of s.
func upperFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	u := unicode.ToUpper(r)
	if u == r {
		return s
	}
	return string(u) + s[size:]
}
