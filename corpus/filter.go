package corpus

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidFilter means a Filter has an unknown split, a negative limit or
// a validation fraction outside [0, 1].
var ErrInvalidFilter = errors.New("corpus: invalid filter")

// A Filter selects comments of a stored corpus: a split, a time window, a
// set of subreddits, a number. Its zero value selects every comment. Stores
// (package store) yield each normalized text once, the first stored copy,
// and apply the filter after that deduplication, in store order.
type Filter struct {
	Split         Split     // All, Train or Validation
	ValidFraction float64   // validation share for Split; 0 means DefaultValidFraction
	IngestedAfter time.Time // only comments ingested (or edited) strictly after; zero = no bound
	Subreddits    []string  // only these subreddits (case-insensitive); empty = all
	Limit         int       // at most this many; 0 = no limit
}

// Validate returns an error wrapping ErrInvalidFilter when f cannot select.
func (f Filter) Validate() error {
	if f.Split < All || f.Split > Validation {
		return fmt.Errorf("%w: split %d", ErrInvalidFilter, int(f.Split))
	}
	if f.Limit < 0 {
		return fmt.Errorf("%w: negative limit %d", ErrInvalidFilter, f.Limit)
	}
	if f.ValidFraction < 0 || f.ValidFraction > 1 {
		return fmt.Errorf("%w: validation fraction %v outside [0, 1]", ErrInvalidFilter, f.ValidFraction)
	}
	return nil
}

// Fraction returns the validation fraction f splits at: ValidFraction, or
// DefaultValidFraction when that is 0.
func (f Filter) Fraction() float64 {
	if f.ValidFraction == 0 {
		return DefaultValidFraction
	}
	return f.ValidFraction
}
