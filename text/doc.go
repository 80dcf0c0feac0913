// Package text is commentbot's pure text processing: everything between a
// comment's raw body and the tokens a model's vocabulary numbers, and back.
// It does no I/O; its inputs are strings.
//
// # Cleaning
//
// CleanRules.Clean drops deleted and removed comments, AutoModerator and
// configured bot accounts, authors whose name marks a bot (BotNames, with
// exceptions), bodies that carry a bot's footer ("I am a bot", BotFooters),
// and comments that are empty, too short or too long after cleaning;
// CleanBody unescapes HTML entities (also double-escaped ones), removes
// quoted lines, code blocks and markdown syntax (keeping link text, however
// its brackets and parentheses nest, and the text of spoilers), replaces bare
// URLs by tokens.URLToken (or drops them) and collapses whitespace. Each
// drop has a SkipReason, an identifier.
//
// # Tokens
//
// WordTokens reproduces the seed's preprocessing exactly as NLTK 3.8 does it:
// lower-case, sentence splitting (Sentences, the Punkt algorithm) and
// Treebank word tokens ("i", "'m", "do", "n't"), each sentence wrapped in
// tokens.SentenceStart and tokens.SentenceEnd; only the URL placeholder
// stays one token. Golden files written by NLTK itself
// (tools/nltk-golden.py) check it on the embedded and the seed sample.
// Detokenize turns word tokens back into text a person would write ("I'm",
// "don't", "word."); its output is a fixed point of tokenize-then-detokenize.
// CharTokens yields one token per character plus tokens.CharEnd, so a char
// model learns where a comment ends. A Level ("word" or "char") bundles a
// tokenizer with its detokenizer and special tokens.
//
// # Vocabularies
//
// Counts counts tokens in order of first appearance; BuildVocab keeps the
// specials followed by the N most frequent tokens (ties by first appearance),
// BuildVocabMin also leaves out rare ones (how rare characters become
// tokens.CharUnknown). A Vocab maps tokens to ids and back, and its Hash
// (tokens.Hash) lets a model checkpoint refuse a different vocabulary.
package text
