// Package corpus is the body of comments the language models learn from, as
// data: the Comment record, Sources that stream comments, the file formats
// comments arrive in, the embedded sample, the held-out split, and the
// Batcher that cuts comments into batches of token ids. It does not store
// comments (package store), fetch them (package reddit) or know about
// LSTMs or Discord.
//
// # Comments and sources
//
// A Comment is one Reddit comment: its fullname id ("t1_…", or a synthetic
// "h1_…" hash of the text when the source has none), subreddit, author,
// cleaned body, score and times. A Source streams comments to a callback
// and can be replayed; a store, the file readers and the embedded sample are
// all Sources, and every later stage consumes one. Clean and CleanSource
// apply package text's cleaning rules to comments.
//
// # Files and the embedded sample
//
// ReadCSV reads the seed's CSV (a "body" column) and ReadNDJSON reads Reddit
// comment objects as the API and public dumps write them, refusing a
// malformed file with an *ImportError that names the file, the line and the
// reason. The package embeds a sample corpus written by the project, so the
// bot can train and talk offline; Stats describes a corpus as the seed did.
//
// # Split, filters and batches
//
// SplitOf puts a comment in the training or validation split by a hash of
// its id, so the split is stable as the corpus grows; a Filter selects a
// split, a time window or subreddits of a stored corpus. A Batcher streams a
// Source as B parallel streams of token ids (tokens.Batch), T steps at a
// time, for truncated backpropagation through time; the recurrent state
// carries across batches and Position/Seek resume an epoch where a
// checkpoint left it.
package corpus
