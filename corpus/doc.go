// Package corpus turns Reddit comments into the token streams the language
// models train on, and keeps them: everything between a comment on Reddit and
// a batch of token ids. It knows nothing about LSTMs or Discord.
//
// # Comments and sources
//
// A Comment is one Reddit comment as stored: its fullname id ("t1_…", or a
// synthetic "h1_…" hash of the text when the source has none), subreddit,
// author, cleaned body, score and times. A Source streams comments to a
// callback and can be replayed; the store, the importers and the embedded
// sample are all Sources, and every later stage consumes one.
//
// # Store
//
// Store keeps comments, ingestion cursors and training-run records in one
// SQLite database (modernc.org/sqlite, pure Go, WAL mode, versioned
// migrations). Re-inserting an id updates nothing but an edited body;
// comments with the same normalized text are streamed once. Comments(Filter)
// streams a split, a time window or a set of subreddits in a stable order, a
// page at a time, so nothing needs the whole corpus in memory.
//
// # Importers and the embedded sample
//
// ReadCSV reads the seed's CSV (a "body" column) and ReadNDJSON reads Reddit
// comment objects as the API and public dumps write them; Store.Import loads
// either in one transaction, refusing a malformed file with its name, line
// and reason and leaving the store as it was. The package embeds a sample
// corpus written by the project, so the bot can train and talk offline.
//
// # Split and batches
//
// SplitOf puts a comment in the training or validation split by a hash of
// its id, so the split is stable as the corpus grows. A Batcher streams a
// Source as B parallel streams of token ids, T steps at a time, for truncated
// backpropagation through time; the recurrent state carries across batches
// and Position/Seek resume an epoch where a checkpoint left it.
//
// Cleaning, tokenizers and vocabularies are package text; the n-gram index
// that keeps samples original is package originality; the Reddit ingester
// is package reddit.
package corpus
