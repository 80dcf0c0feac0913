package text

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"testing"
)

// The samples the tests read. This package's tests cannot import package
// corpus (it imports text), so they read the files themselves: the seed's
// CSV has one body column, the embedded sample is one Reddit comment object
// per line, and both are read as corpus's importers read them.
const (
	// samplePath is the seed's Reddit sample, relative to this package.
	samplePath = "../../shared/data/reddit-comments-2015-08.sample.csv"
	// embeddedPath is the sample corpus package corpus embeds.
	embeddedPath = "../corpus/sample/comments.ndjson"
)

// sampleComment is what cleaning reads of a comment.
type sampleComment struct{ Author, Body string }

// embeddedComments returns the comments of the embedded sample in file order.
func embeddedComments(t testing.TB) []sampleComment {
	t.Helper()
	f, err := os.Open(embeddedPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var out []sampleComment
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var o struct{ Author, Body string }
		if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
			t.Fatalf("%s: %v", embeddedPath, err)
		}
		out = append(out, sampleComment(o))
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		t.Fatalf("%s: %d comments, %v", embeddedPath, len(out), err)
	}
	return out
}

// seedComments returns the comments of the seed's Reddit sample, or false
// when the file is absent (an error under CI=true, which must test it).
func seedComments(t testing.TB) ([]sampleComment, bool) {
	t.Helper()
	f, err := os.Open(samplePath)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("seed sample missing under CI=true: %v", err)
		}
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	var out []sampleComment
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if first {
			continue // header: one body column
		}
		out = append(out, sampleComment{Body: rec[0]})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rows", samplePath)
	}
	return out, true
}

// sampleBodies returns the bodies of the seed's Reddit sample. Without it
// the test runs on the embedded sample's bodies instead, and under CI=true
// the missing file is an error.
func sampleBodies(t testing.TB) []string {
	t.Helper()
	cs, ok := seedComments(t)
	if !ok {
		t.Logf("seed sample %s not present: checking the embedded sample instead", samplePath)
		cs = embeddedComments(t)
	}
	bodies := make([]string, len(cs))
	for i, c := range cs {
		bodies[i] = c.Body
	}
	return bodies
}

// cleaned returns the bodies DefaultCleanRules keeps, in order.
func cleaned(cs []sampleComment) []string {
	rules := DefaultCleanRules()
	var out []string
	for _, c := range cs {
		if body, why := rules.Clean(c.Author, c.Body); why == "" {
			out = append(out, body)
		}
	}
	return out
}
