package store

import (
	"context"
	"fmt"

	"commentbot/corpus"
)

// pageFunc reads the next page of at most n comments after seq into dst and
// returns it with the seq of its last row.
type pageFunc func(ctx context.Context, after int64, n int, dst []corpus.Comment) ([]corpus.Comment, int64, error)

// pagedComments streams what next reads, pageSize rows at a time (keyset
// paging on seq), stopping after limit comments when limit > 0. Both stores
// read Comments through it.
func pagedComments(ctx context.Context, limit int, next pageFunc, fn func(corpus.Comment) error) error {
	page := make([]corpus.Comment, 0, pageSize)
	var last int64
	left := limit
	for {
		n := pageSize
		if limit > 0 && left < n {
			n = left
		}
		if n == 0 {
			return nil
		}
		var err error
		page, last, err = next(ctx, last, n, page[:0])
		if err != nil {
			return fmt.Errorf("store: read comments: %w", err)
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(page) < n {
			return nil
		}
		left -= len(page)
	}
}
