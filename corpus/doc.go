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
// # Ingester
//
// Ingester fetches new comments from chosen subreddits through Reddit's API
// (go-reddit), with app-only or password OAuth from the environment, retries
// with backoff that honours Reddit's rate-limit headers, and a per-subreddit
// cursor committed with each page of comments, so a restarted ingest resumes
// where it stopped.
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
// URLs by URLToken (or drops them) and collapses whitespace. Each drop has a
// SkipReason, an identifier.
//
// # Tokens
//
// WordTokens reproduces the seed's preprocessing exactly as NLTK 3.8 does it:
// lower-case, sentence splitting (Sentences, the Punkt algorithm) and
// Treebank word tokens ("i", "'m", "do", "n't"), each sentence wrapped in
// SentenceStart and SentenceEnd; only URLToken stays one token. Golden files
// written by NLTK itself (tools/nltk-golden.py) check it on the embedded and
// the seed sample. Detokenize turns word tokens back into text a person would
// write ("I'm", "don't", "word."); its output is a fixed point of
// tokenize-then-detokenize. CharTokens yields one token per character plus
// CharEnd, so a char model learns where a comment ends. A Level ("word" or
// "char") bundles a tokenizer with its detokenizer and special tokens.
//
// # Vocabularies
//
// Counts counts tokens in order of first appearance; BuildVocab keeps the
// specials followed by the N most frequent tokens (ties by first appearance),
// BuildVocabMin also leaves out rare ones (how rare characters become
// CharUnknown). A Vocab maps tokens to ids and back, and its Hash lets a model
// checkpoint refuse a different vocabulary.
//
// # Split and batches
//
// SplitOf puts a comment in the training or validation split by a hash of
// its id, so the split is stable as the corpus grows. A Batcher streams a
// Source as B parallel streams of token ids, T steps at a time, for truncated
// backpropagation through time; the recurrent state carries across batches
// and Position/Seek resume an epoch where a checkpoint left it.
//
// # Originality
//
// NGramIndex holds 64-bit hashes of every 8-word and 50-character run of the
// corpus and answers whether a generated comment copies one, so the bot never
// posts a training comment back.
package corpus
