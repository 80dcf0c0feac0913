package corpus

import (
	"context"
	"strings"
	"testing"

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
	// It imports into a store, and cleaning keeps most of it.
	s := openTestStore(t)
	st, err := s.Import(ctx, strings.NewReader(sampleNDJSON), SampleName, FormatNDJSON, text.DefaultCleanRules())
	if err != nil {
		t.Fatalf("importing the sample: %v", err)
	}
	if st.Read != len(cs) || st.Stored < len(cs)/2 {
		t.Errorf("sample import: %+v", st)
	}
	kept := collect(t, CleanSource(Sample(), text.DefaultCleanRules()))
	if len(kept) != st.Stored {
		t.Errorf("CleanSource(Sample()) kept %d, import stored %d", len(kept), st.Stored)
	}
	t.Logf("sample: %d comments, %d kept by the default rules, skipped %v", len(cs), st.Stored, st.Skipped)
}
