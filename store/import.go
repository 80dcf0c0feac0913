package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"commentbot/corpus"
	"commentbot/text"
)

// ImportStats counts what an import did. Read = Stored + the sum of Skipped;
// New + Updated + Unchanged = Stored (see UpsertStats).
type ImportStats struct {
	File    string
	Read    int                     // comments parsed from the file
	Stored  int                     // comments that passed cleaning and were written
	Skipped map[text.SkipReason]int // comments the cleaning rules dropped, by reason
	UpsertStats
}

// Import reads r (named name in errors) in format f, cleans every comment
// with rules and stores the ones kept in s, all in ONE transaction
// (Store.UpsertFrom): a file refused anywhere (a *corpus.ImportError saying
// where and why), a store error or a canceled ctx leaves the store exactly
// as it was. Synthetic ids come from the body as read, before cleaning, so a
// re-import with other rules updates the same comments rather than adding
// new ones.
//
// The file streams through (memory stays bounded by corpus.MaxRecordBytes
// and the store's cache), but the transaction holds the store's write lock
// until the file ends: import a large dump while nothing is ingesting.
func Import(ctx context.Context, s Store, r io.Reader, name string, f corpus.Format, rules text.CleanRules) (ImportStats, error) {
	st := ImportStats{File: name, Skipped: make(map[text.SkipReason]int)}
	read := func(ctx context.Context, fn func(corpus.Comment) error) error {
		return corpus.ReadComments(ctx, r, name, f, func(c corpus.Comment) error {
			st.Read++
			kept, why := corpus.Clean(c, rules)
			if why != "" {
				st.Skipped[why]++
				return nil
			}
			st.Stored++
			return fn(kept)
		})
	}
	up, err := s.UpsertFrom(ctx, read)
	if err != nil {
		var ie *corpus.ImportError
		if errors.As(err, &ie) {
			return ImportStats{File: name}, err
		}
		return ImportStats{File: name}, fmt.Errorf("store: import %s: %w", name, err)
	}
	st.UpsertStats = up
	return st, nil
}

// ImportFile imports the file at path into s, its format chosen by
// corpus.FormatOf.
func ImportFile(ctx context.Context, s Store, path string, rules text.CleanRules) (ImportStats, error) {
	f, err := corpus.FormatOf(path)
	if err != nil {
		return ImportStats{File: path}, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return ImportStats{File: path}, fmt.Errorf("store: import: %w", err)
	}
	defer fh.Close()
	return Import(ctx, s, bufio.NewReaderSize(fh, 64<<10), path, f, rules)
}
