package corpus

import (
	"fmt"
	"hash/fnv"
)

// Split selects a part of the corpus: everything, the training part or the
// held-out validation part.
type Split int

const (
	// All selects every comment.
	All Split = iota
	// Train selects the comments whose id hashes at or above the validation
	// fraction.
	Train
	// Validation selects the comments whose id hashes below the validation
	// fraction.
	Validation
)

// DefaultValidFraction is the share of comments held out for validation when
// a Filter leaves ValidFraction at zero.
const DefaultValidFraction = 0.1

// String returns "all", "train" or "validation".
func (s Split) String() string {
	switch s {
	case All:
		return "all"
	case Train:
		return "train"
	case Validation:
		return "validation"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// SplitPoint maps a comment id to a point u in [0, 1) (a store keeps it
// beside the comment, so that a split is a comparison):
//
//	h = splitmix64(fnv1a64(id))
//	u = (h >> 11) / 2^53
//
// FNV-1a alone mixes the last bytes of similar ids (t1_abc, t1_abd) poorly
// into its high bits; the splitmix64 finaliser spreads every input bit over
// the whole word. u has 53 significant bits, so it is an exact float64 and
// compares the same in Go and in a database that stores it as a double.
func SplitPoint(id string) float64 {
	f := fnv.New64a()
	f.Write([]byte(id)) // a hash.Hash never returns an error
	h := f.Sum64()
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11) / (1 << 53)
}

// SplitOf returns Validation when the id's split point u (see SplitPoint) is
// below validFraction and Train otherwise. The answer depends on the id alone,
// so a comment never changes sides as the corpus grows, and growing
// validFraction only moves comments from Train to Validation. validFraction
// ≤ 0 puts everything in Train, ≥ 1 everything in Validation.
func SplitOf(id string, validFraction float64) Split {
	if SplitPoint(id) < validFraction {
		return Validation
	}
	return Train
}
