// Package originality answers one question about a generated comment: does
// it copy the corpus? An Index holds 64-bit hashes of every 8-word and
// 50-character run of the stored comments (Build over a corpus.Source, Add
// for each comment ingested later), and Copies reports whether a text
// repeats one of them, so that the bot never posts a training comment back.
package originality
