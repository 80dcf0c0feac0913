// Package redditlisting decodes a Reddit comment listing (/r/{sub}/comments), the
// JSON that go-reddit v2.0.1 has no type for. Only what a stored comment needs is
// decoded; Reddit's many other fields are ignored.
//
// It imports only the standard library on purpose: its fuzz target is then
// instrumented alone, and runs some ten times faster than from inside package
// corpus, whose dependencies (SQLite transpiled to Go, go-reddit) would be
// instrumented with it.
package redditlisting

import (
	"math"
	"time"
)

// Listing is one page of comments.
type Listing struct {
	Kind string `json:"kind"`
	Data struct {
		After    string  `json:"after"` // null → ""
		Children []Child `json:"children"`
	} `json:"data"`
}

// Child is one entry of a listing: kind "t1" for a comment ("more" and others carry
// no comment).
type Child struct {
	Kind string  `json:"kind"`
	Data Comment `json:"data"`
}

// Comment is a comment as Reddit sends it. Body is raw (not cleaned).
type Comment struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Author     string  `json:"author"`
	Body       string  `json:"body"`
	Subreddit  string  `json:"subreddit"`
	Score      int     `json:"score"`
	CreatedUTC float64 `json:"created_utc"`
}

// Fullname is the comment's "t1_…" name: Name, or "t1_" + ID when Name is missing.
func (c Comment) Fullname() string {
	if c.Name != "" {
		return c.Name
	}
	return "t1_" + c.ID
}

// Created is CreatedUTC (seconds since 1970, fractions kept to the nanosecond) as a
// UTC time; a value that is not finite or beyond ±2^62 seconds gives the zero time.
func (c Comment) Created() time.Time {
	s := c.CreatedUTC
	if math.IsNaN(s) || math.Abs(s) >= 1<<62 {
		return time.Time{}
	}
	sec := math.Floor(s)
	return time.Unix(int64(sec), int64((s-sec)*1e9)).UTC()
}
