package corpus

import (
	"context"
	_ "embed" // the sample corpus
	"strings"
)

// sampleNDJSON is the embedded sample corpus: comments the project wrote
// itself (no third-party text), one Reddit comment object per line. A string,
// so that it cannot be modified.
//
//go:embed sample/comments.ndjson
var sampleNDJSON string

// SampleName is the name the sample corpus has in import errors and stats.
const SampleName = "sample/comments.ndjson"

// Sample returns a Source of the embedded sample corpus, parsed with
// ReadNDJSON on every call, as written: it deliberately holds comments the
// cleaning rules drop (AutoModerator, [removed], quotes, links), so wrap it
// in CleanSource before training on it.
func Sample() Source {
	return func(ctx context.Context, fn func(Comment) error) error {
		return ReadNDJSON(ctx, strings.NewReader(sampleNDJSON), SampleName, fn)
	}
}

// SampleComments returns every comment of the embedded sample, uncleaned.
func SampleComments(ctx context.Context) ([]Comment, error) {
	var out []Comment
	err := Sample()(ctx, func(c Comment) error {
		out = append(out, c)
		return nil
	})
	return out, err
}
