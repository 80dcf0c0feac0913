package corpus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"commentbot/text"
)

func TestComputeStats(t *testing.T) {
	texts := []string{"I like cats. I like dogs.", "Cats are great!"}
	// Characters, counted independently of Counts.
	charCount := map[rune]int{}
	var chars int64
	for _, s := range texts {
		for _, r := range s {
			charCount[r]++
			chars++
		}
	}
	frequent := 0
	for _, n := range charCount {
		if n >= text.DefaultCharMinCount {
			frequent++
		}
	}
	// Words: "i like cats . / i like dogs . / cats are great !" — i, like,
	// cats and . twice, then dogs, are, great, ! once, in that order.
	tests := []struct {
		vocab     int
		wantSize  int
		wantLeast string
		wantCount int
	}{
		{5, 8, "dogs", 1},
		{4, 7, ".", 2},
		{2, 5, "like", 2},
		{0, 11, "!", 1},
		{100, 11, "!", 1},
	}
	for _, tt := range tests {
		got, err := ComputeStats(context.Background(), bodies(texts...), tt.vocab)
		if err != nil {
			t.Fatal(err)
		}
		want := Stats{
			Comments: 2, Sentences: 3, Words: 12, UniqueWords: 8,
			VocabRequested: tt.vocab, VocabSize: tt.wantSize, LeastFrequent: tt.wantLeast, LeastFrequentCount: tt.wantCount,
			Characters: chars, UniqueChars: len(charCount), CharVocabSize: frequent + 2,
		}
		if got != want {
			t.Errorf("ComputeStats(vocab %d):\n got %+v\nwant %+v", tt.vocab, got, want)
		}
	}
	all, _ := ComputeStats(context.Background(), bodies(texts...), 0)
	if !strings.Contains(all.String(), "11 (all 8 words + 3 specials)") {
		t.Errorf("vocabulary of every word:\n%s", all)
	}
	if _, err := ComputeStats(context.Background(), bodies("x"), -1); err == nil {
		t.Errorf("negative vocabulary size accepted")
	}
	boom := errors.New("boom")
	failing := func(context.Context, func(Comment) error) error { return boom }
	if _, err := ComputeStats(context.Background(), failing, 10); !errors.Is(err, boom) {
		t.Errorf("source error: %v", err)
	}
	empty, err := ComputeStats(context.Background(), bodies(), 10)
	if err != nil || empty.Comments != 0 || empty.LeastFrequent != "" || empty.VocabSize != 3 {
		t.Errorf("empty source: %+v, %v", empty, err)
	}
	if !strings.Contains(empty.String(), "least frequent word in vocabulary  -") || !strings.Contains(empty.String(), "3 (N=10: 0 most frequent words + 3 specials)") {
		t.Errorf("empty stats table:\n%s", empty)
	}
}

func TestStatsTable(t *testing.T) {
	st := Stats{Comments: 211, Sentences: 900, Words: 12000, UniqueWords: 3000, VocabRequested: 4000, VocabSize: 3003,
		LeastFrequent: "zebra", LeastFrequentCount: 1, Characters: 60000, UniqueChars: 90, CharVocabSize: 70}
	var b strings.Builder
	n, err := st.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo = %d, %v; wrote %d bytes", n, err, b.Len())
	}
	want := []string{
		"comments                           211",
		"sentences                          900",
		"word tokens                        12000",
		"unique word tokens                 3000",
		"vocabulary size                    3003 (N=4000: 3000 most frequent words + 3 specials)",
		`least frequent word in vocabulary  "zebra" (1 times)`,
		"characters                         60000",
		"distinct characters                90",
		"char vocabulary size               70 (seen ≥ 5 times + 2 specials)",
	}
	if got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), strings.Join(want, "\n"))
	}
	if st.String() != b.String() {
		t.Errorf("String differs from WriteTo")
	}
	if _, err := st.WriteTo(failWriter{}); err == nil {
		t.Errorf("WriteTo to a failing writer returned no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestStatsRealSample computes the stats of the seed's Reddit sample (211
// comments), or without it of the embedded sample (553); under CI=true the
// missing seed sample is an error.
func TestStatsRealSample(t *testing.T) {
	path, comments := sampleCSVPath, 211
	if _, err := os.Stat(sampleCSVPath); errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("seed sample missing under CI=true: %v", err)
		}
		t.Logf("seed sample %s not present: describing the embedded sample instead", sampleCSVPath)
		path, comments = SampleName, 553
	}
	src, err := FileSource(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ComputeStats(context.Background(), src, 4000)
	if err != nil {
		t.Fatal(err)
	}
	if st.Comments != comments || st.Sentences < st.Comments || st.UniqueWords < 1000 || st.VocabSize != min(4000, st.UniqueWords)+3 {
		t.Errorf("real sample stats look wrong:\n%s", st)
	}
	data, _ := os.ReadFile(path)
	if st.Characters >= int64(utf8.RuneCount(data)) {
		t.Errorf("bodies have %d characters, the whole file only %d", st.Characters, utf8.RuneCount(data))
	}
	t.Logf("\n%s", st)
}

// The figures, checked by hand: 20 word tokens ("." three times, "i"
// twice, 15 others once, 17 distinct); the 5-word vocabulary is ".", "i"
// and the first three words seen once (joined, a, new); 77 characters of
// which only " " and "e" appear 5 times or more.
func ExampleComputeStats() {
	src := SliceSource([]Comment{
		{ID: "t1_a", Body: "I joined a new league this year. I'm used to other rules."},
		{ID: "t1_b", Body: "Same here, honestly."},
	})
	st, err := ComputeStats(context.Background(), src, 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(st)
	// Output:
	// comments                           2
	// sentences                          3
	// word tokens                        20
	// unique word tokens                 17
	// vocabulary size                    8 (N=5: 5 most frequent words + 3 specials)
	// least frequent word in vocabulary  "new" (1 times)
	// characters                         77
	// distinct characters                23
	// char vocabulary size               4 (seen ≥ 5 times + 2 specials)
}
