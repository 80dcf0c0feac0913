package corpus

import (
	"context"
	"time"

	"commentbot/text"
)

// A Comment is one Reddit comment as stored. Body is already cleaned.
type Comment struct {
	// ID is the Reddit fullname "t1_…"; a synthetic "h1_<first 16 hex chars
	// of sha256(body)>" when the source has none (see SyntheticID).
	ID        string
	Subreddit string
	Author    string
	Body      string
	Score     int
	Created   time.Time
	Ingested  time.Time
}

// Source streams comments; fn returning an error stops the stream with that
// error, which the Source returns unchanged (so callers can use errors.Is).
// A Source may be called more than once; each call streams from the start.
type Source func(ctx context.Context, fn func(Comment) error) error

// Clean applies rules to c: c with its body cleaned, or c unchanged and the
// reason rules drop it (see text.CleanRules.Clean).
func Clean(c Comment, rules text.CleanRules) (Comment, text.SkipReason) {
	body, why := rules.Clean(c.Author, c.Body)
	if why != "" {
		return c, why
	}
	c.Body = body
	return c, ""
}
