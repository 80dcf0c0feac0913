package originality

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"commentbot/corpus"
	"commentbot/text"
)

// numbered returns n distinct words "w0 w1 …" starting at from.
func numbered(from, n int) []string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = fmt.Sprintf("w%d", from+i)
	}
	return ws
}

func TestIndexWordBoundary(t *testing.T) {
	x := New(DefaultWordN, DefaultCharN)
	x.Add(strings.Join(numbered(0, 20), " "))
	for _, tc := range []struct {
		name string
		text string
		want bool
	}{
		{"7 consecutive words", "I say " + strings.Join(numbered(5, 7), " ") + " indeed", false},
		{"8 consecutive words", "I say " + strings.Join(numbered(5, 8), " ") + " indeed", true},
		{"8 words, case and punctuation differ", "I say " + strings.ToUpper(strings.Join(numbered(5, 8), " ")) + ".", true},
		{"8 words but one out of order", strings.Join(append(numbered(5, 4), numbered(10, 4)...), " "), false},
		{"7 and 7 around a gap", strings.Join(numbered(0, 7), " ") + " gap " + strings.Join(numbered(7, 7), " "), false},
		{"whole comment", strings.Join(numbered(0, 20), " "), true},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := x.Copies(text.LevelWord, tc.text); got != tc.want {
				t.Errorf("Copies(word, %q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestIndexCharBoundary(t *testing.T) {
	const body = "The quick brown fox jumps over the lazy dog while the cat watches from the fence."
	x := New(DefaultWordN, DefaultCharN)
	x.Add(body)
	for _, tc := range []struct {
		name string
		text string
		want bool
	}{
		{"49 characters", "xx" + body[10:59] + "yy", false},
		{"50 characters", "xx" + body[10:60] + "yy", true},
		{"50 characters, other case and spacing", strings.ToUpper(body[10:30]) + "  \n" + body[31:60], true},
		{"49 then 49 with a change between", body[:49] + "#" + body[50:], false},
		{"short text", "fox", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := x.Copies(text.LevelChar, tc.text); got != tc.want {
				t.Errorf("Copies(char, %q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestIndexOtherLengths(t *testing.T) {
	x := New(2, 3)
	x.Add("alpha beta gamma")
	for _, tc := range []struct {
		level text.Level
		text  string
		want  bool
	}{
		{text.LevelWord, "beta gamma", true},
		{text.LevelWord, "gamma beta", false},
		{text.LevelChar, "xpha", true},
		{text.LevelChar, "ahp", false},
	} {
		if got := x.Copies(tc.level, tc.text); got != tc.want {
			t.Errorf("Copies(%s, %q) = %v, want %v", tc.level, tc.text, got, tc.want)
		}
	}
	words, chars := x.Len()
	// 3 words → 2 bigrams; 16 runes → 14 trigrams, all distinct.
	if words != 2 || chars != 14 {
		t.Errorf("Len() = %d, %d; want 2, 14", words, chars)
	}
}

func TestIndexPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"zero word n", func() { New(0, 5) }},
		{"negative char n", func() { New(5, -1) }},
		{"bad level", func() { New(1, 1).Copies("bogus", "x") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		})
	}
}

func TestBuild(t *testing.T) {
	cs := make([]corpus.Comment, 0, 300)
	for i := range 300 {
		cs = append(cs, corpus.Comment{ID: fmt.Sprint(i), Body: strings.Join(numbered(i*100, 30), " ")})
	}
	src := func(ctx context.Context, fn func(corpus.Comment) error) error {
		for _, c := range cs {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	built, err := Build(context.Background(), src, DefaultWordN, DefaultCharN)
	if err != nil {
		t.Fatal(err)
	}
	added := New(DefaultWordN, DefaultCharN)
	for _, c := range cs {
		added.Add(c.Body) // goes through the map-merge path (more than 2¹⁵ char n-grams)
	}
	bw, bc := built.Len()
	aw, ac := added.Len()
	if bw != aw || bc != ac || bw != 300*(30-8+1) {
		t.Errorf("built Len %d, %d; added Len %d, %d; want %d word n-grams", bw, bc, aw, ac, 300*23)
	}
	for _, x := range []*Index{built, added} {
		if !x.Copies(text.LevelWord, strings.Join(numbered(29910, 8), " ")) {
			t.Error("last comment's n-gram not found")
		}
		if x.Copies(text.LevelWord, strings.Join(numbered(29925, 8), " ")) {
			t.Error("n-gram across comments found")
		}
	}

	// A failing source stops the build with its error.
	boom := errors.New("boom")
	_, err = Build(context.Background(), func(ctx context.Context, fn func(corpus.Comment) error) error { return boom }, 8, 50)
	if !errors.Is(err, boom) {
		t.Errorf("Build error %v does not wrap the source's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, src, 8, 50); !errors.Is(err, context.Canceled) {
		t.Errorf("Build on a cancelled context: %v", err)
	}
}

// TestIndexConcurrent runs readers alongside a writer; run with -race.
func TestIndexConcurrent(t *testing.T) {
	x := New(DefaultWordN, DefaultCharN)
	x.Add(strings.Join(numbered(0, 10), " "))
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if !x.Copies(text.LevelWord, strings.Join(numbered(0, 8), " ")) {
					t.Errorf("reader %d, round %d: indexed n-gram missing", r, i)
					return
				}
				x.Copies(text.LevelChar, "some text that is long enough to make at least one window")
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			x.Add(strings.Join(numbered(1000+i*20, 20), " "))
		}
	})
	wg.Wait()
	if !x.Copies(text.LevelWord, strings.Join(numbered(1000+199*20, 8), " ")) {
		t.Error("last added text not indexed")
	}
}

// TestIndexSample indexes the seed sample and checks each comment is
// found and a fresh sentence is not.
func TestIndexSample(t *testing.T) {
	rules := text.DefaultCleanRules()
	x := New(DefaultWordN, DefaultCharN)
	var kept []string
	for _, b := range sampleBodies(t) {
		if c, why := rules.Clean("a", b); why == "" {
			x.Add(c)
			kept = append(kept, c)
		}
	}
	for i, b := range kept {
		if len(text.Words(b)) >= DefaultWordN && !x.Copies(text.LevelWord, b) {
			t.Errorf("comment %d not found at word level", i)
		}
		if len([]rune(b)) >= DefaultCharN && !x.Copies(text.LevelChar, b) {
			t.Errorf("comment %d not found at char level", i)
		}
	}
	fresh := "Purple elephants rarely negotiate tax treaties with sentient umbrellas on Tuesdays."
	if x.Copies(text.LevelWord, fresh) || x.Copies(text.LevelChar, fresh) {
		t.Error("a sentence nobody wrote counts as a copy")
	}
	w, c := x.Len()
	t.Logf("%d comments: %d word 8-grams, %d char 50-grams", len(kept), w, c)
}

// benchNGramCopies indexes comments and reports Copies queries per second
// at the given level, querying texts that are mostly not copies.
func benchNGramCopies(b *testing.B, level text.Level, comments []string) {
	x := New(DefaultWordN, DefaultCharN)
	for _, c := range comments[:len(comments)/2] {
		x.Add(c)
	}
	queries := comments[len(comments)/2:]
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Copies(level, queries[i%len(queries)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

func BenchmarkNGramCopiesWord(b *testing.B) { benchNGramCopies(b, text.LevelWord, embeddedBodies(b)) }
func BenchmarkNGramCopiesChar(b *testing.B) { benchNGramCopies(b, text.LevelChar, embeddedBodies(b)) }

// seedPath is the seed's Reddit sample, relative to this package.
const seedPath = "../../shared/data/reddit-comments-2015-08.sample.csv"

// sampleBodies returns the bodies of the seed's Reddit sample. Without it
// the test runs on the embedded sample's bodies instead, and under CI=true
// the missing file is an error.
func sampleBodies(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(seedPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("seed sample missing under CI=true: %v", err)
		}
		t.Logf("seed sample %s not present: checking the embedded sample instead", seedPath)
		return embeddedBodies(t)
	}
	src, err := corpus.FileSource(seedPath)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	if err := src(context.Background(), func(c corpus.Comment) error {
		bodies = append(bodies, c.Body)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return bodies
}

// embeddedBodies returns the bodies of the embedded sample corpus, uncleaned.
func embeddedBodies(t testing.TB) []string {
	t.Helper()
	cs, err := corpus.SampleComments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bodies := make([]string, len(cs))
	for i, c := range cs {
		bodies[i] = c.Body
	}
	return bodies
}
