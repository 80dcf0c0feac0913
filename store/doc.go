// Package store keeps commentbot's corpus: comments, the ingester's cursors
// and the scheduler's run records (runs.Run), behind the Store interface.
//
// SQLite (OpenSQLite; sqlite*.go) is the implementation in one file: pure
// Go, WAL mode, versioned migrations, so that existing corpus.db files open
// in every later version. Re-inserting an id updates nothing but an edited
// body; comments with the same normalized text are streamed once;
// Comments(Filter) streams a split, a time window or a set of subreddits in
// a stable order, a page at a time, so nothing needs the whole corpus in
// memory. A second implementation sits beside it and keeps the contract
// written on each method of Store.
//
// Import and ImportFile load a file in one of corpus's formats into any
// Store in one transaction, refusing a malformed file with its name, line
// and reason and leaving the store as it was.
package store
