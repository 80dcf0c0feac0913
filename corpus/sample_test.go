package corpus

import (
	"context"
	"strings"
	"testing"
	"time"

	"commentbot/text"
)

func TestSample(t *testing.T) {
	ctx := context.Background()
	cs, err := SampleComments(ctx)
	if err != nil {
		t.Fatalf("the embedded sample does not parse: %v", err)
	}
	// The embedded file's non-blank lines, counted independently.
	lines := 0
	for _, l := range strings.Split(sampleNDJSON, "\n") {
		if strings.TrimSpace(l) != "" {
			lines++
		}
	}
	if len(cs) != lines || len(cs) < 3 {
		t.Fatalf("SampleComments = %d comments, file has %d objects", len(cs), lines)
	}
	seen := make(map[string]bool)
	for _, c := range cs {
		if seen[c.ID] {
			t.Errorf("sample id %s appears twice", c.ID)
		}
		seen[c.ID] = true
		if c.Body == "" {
			t.Errorf("sample comment %s has an empty body", c.ID)
		}
	}
	// Cleaning keeps most of it.
	kept := collect(t, CleanSource(Sample(), text.DefaultCleanRules()))
	if len(kept) < len(cs)/2 {
		t.Errorf("CleanSource(Sample()) kept %d of %d", len(kept), len(cs))
	}
	t.Logf("sample: %d comments, %d kept by the default rules", len(cs), len(kept))
}

func ts(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// collect drains a Source.
func collect(t *testing.T, src Source) []Comment {
	t.Helper()
	var out []Comment
	if err := src(context.Background(), func(c Comment) error { out = append(out, c); return nil }); err != nil {
		t.Fatalf("source: %v", err)
	}
	return out
}

func ids(cs []Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}
