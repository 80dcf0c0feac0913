package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"commentbot/corpus"
	"commentbot/text"
)

// sampleCSVPath is the seed's real Reddit sample, shared between engineers
// and never copied into the repository.
const sampleCSVPath = "../../shared/data/reddit-comments-2015-08.sample.csv"

// badFile is a file the importers refuse (package corpus's tests check the
// reason each gives): an import of it must leave the store as it was.
type badFile struct {
	name     string
	format   corpus.Format
	data     string
	wantErr  error
	wantLine int
}

// badFiles are the inputs corpus's importer tests refuse; most start with
// valid rows, which must not stay.
func badFiles() []badFile {
	huge := strings.Repeat("x", 10<<20) // 10 MB in one field or line
	return []badFile{
		{"csv empty file", corpus.FormatCSV, "", corpus.ErrEmptyFile, 1},
		{"csv missing body column", corpus.FormatCSV, "id,text\n1,hello\n", corpus.ErrNoBodyColumn, 1},
		{"csv unterminated quote", corpus.FormatCSV, "body\n\"fine\"\n\"never closed\nstill going\n", corpus.ErrMalformed, 3},
		{"csv stray quote", corpus.FormatCSV, "body\nok\nbro\"ken\n", corpus.ErrMalformed, 3},
		{"csv wrong field count", corpus.FormatCSV, "id,body\n1,a\n2,b,c\n", corpus.ErrMalformed, 3},
		{"csv invalid UTF-8", corpus.FormatCSV, "id,body\n1,good\n2,\"multi\nline \xff bad\"\n", corpus.ErrInvalidUTF8, 3},
		{"csv 10 MB field", corpus.FormatCSV, "id,body\n1,ok\n2,\"" + huge + "\"\n", corpus.ErrRecordTooLarge, 3},
		{"csv invalid UTF-8 header", corpus.FormatCSV, "bo\xffdy\nx\n", corpus.ErrInvalidUTF8, 1},
		{"csv bad score", corpus.FormatCSV, "body,score\nhi,12\nho,many\n", corpus.ErrMalformed, 3},
		{"csv bad time", corpus.FormatCSV, "body,created_utc\nhi,yesterday\n", corpus.ErrMalformed, 2},
		{"ndjson empty file", corpus.FormatNDJSON, "", corpus.ErrEmptyFile, 1},
		{"ndjson blank lines only", corpus.FormatNDJSON, "\n\n  \n", corpus.ErrEmptyFile, 3},
		{"ndjson broken line", corpus.FormatNDJSON, `{"id":"a","body":"x"}` + "\n" + `{"id":"b","body":"unterminated}` + "\n", corpus.ErrMalformed, 2},
		{"ndjson not an object", corpus.FormatNDJSON, `{"id":"a","body":"x"}` + "\n[1,2]\n", corpus.ErrMalformed, 2},
		{"ndjson no body", corpus.FormatNDJSON, `{"id":"a","body":"x"}` + "\n\n" + `{"id":"b","score":1}` + "\n", corpus.ErrMalformed, 3},
		{"ndjson invalid UTF-8", corpus.FormatNDJSON, `{"id":"a","body":"x"}` + "\n" + "{\"id\":\"b\",\"body\":\"\xfe\"}\n", corpus.ErrInvalidUTF8, 2},
		{"ndjson 10 MB line", corpus.FormatNDJSON, `{"id":"a","body":"x"}` + "\n" + `{"id":"b","body":"` + huge + `"}` + "\n", corpus.ErrRecordTooLarge, 2},
		{"ndjson fractional score", corpus.FormatNDJSON, `{"id":"a","body":"x","score":1.5}`, corpus.ErrMalformed, 1},
		{"ndjson score not a number", corpus.FormatNDJSON, `{"id":"a","body":"x","score":"lots"}`, corpus.ErrMalformed, 1},
		{"ndjson negative time", corpus.FormatNDJSON, `{"id":"a","body":"x","created_utc":-5}`, corpus.ErrMalformed, 1},
	}
}

// storeSnapshot is everything Comments yields plus every stored row count,
// to compare a store before and after a refused import.
func storeSnapshot(t *testing.T, s *SQLite) string {
	t.Helper()
	var b strings.Builder
	for _, c := range collect(t, s.Comments(corpus.Filter{})) {
		fmt.Fprintf(&b, "%+v\n", c)
	}
	var rows int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM comments").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "rows %d\n", rows)
	return b.String()
}

func TestImportRefusesBadFilesWhole(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	if _, err := ImportFile(ctx, s, "../corpus/testdata/import/comments.csv", text.DefaultCleanRules()); err != nil {
		t.Fatal(err)
	}
	before := storeSnapshot(t, s)
	for _, tt := range badFiles() {
		// Valid new rows come first in most inputs: they must not stay.
		_, err := Import(ctx, s, strings.NewReader(tt.data), "bad", tt.format, text.DefaultCleanRules())
		var ie *corpus.ImportError
		if !errors.As(err, &ie) || !errors.Is(err, tt.wantErr) || ie.Line != tt.wantLine {
			t.Errorf("%s: Import err = %v, want an *ImportError at line %d wrapping %v", tt.name, err, tt.wantLine, tt.wantErr)
		}
		if after := storeSnapshot(t, s); after != before {
			t.Errorf("%s: store changed by a refused import:\nbefore %s\nafter %s", tt.name, before, after)
		}
	}
	// A canceled context and a failing store write are refused whole too.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cctx, s, strings.NewReader("body\nnew one\n"), "c", corpus.FormatCSV, text.DefaultCleanRules()); err == nil {
		t.Errorf("Import on a canceled context succeeded")
	}
	if after := storeSnapshot(t, s); after != before {
		t.Errorf("store changed by a canceled import")
	}
}

func TestImportStatsAndReimport(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	rules := text.DefaultCleanRules()
	for _, path := range []string{"../corpus/testdata/import/comments.csv", "../corpus/testdata/import/comments.ndjson"} {
		first, err := ImportFile(ctx, s, path, rules)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		skipped := 0
		for _, n := range first.Skipped {
			skipped += n
		}
		if first.Read != first.Stored+skipped || first.Stored != first.New+first.Updated+first.Unchanged {
			t.Errorf("%s: stats do not add up: %+v", path, first)
		}
		if skipped != 1 {
			t.Errorf("%s: skipped %v, want the one deleted/removed comment", path, first.Skipped)
		}
		again, err := ImportFile(ctx, s, path, rules)
		if err != nil {
			t.Fatal(err)
		}
		if again.New != 0 || again.Updated != 0 || again.Unchanged != again.Stored || again.Read != first.Read {
			t.Errorf("%s: re-import added or changed comments: %+v", path, again)
		}
	}
	// Both files carry t1_cuapmnd with the same text and t1_cu9l8bi with
	// another, so the second import found one unchanged and one edit.
	n, err := s.Count(ctx, corpus.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	s.db.QueryRow("SELECT COUNT(*) FROM comments").Scan(&stored)
	if n != stored || n < 5 {
		t.Errorf("Count = %d, stored rows = %d", n, stored)
	}
}

func TestImportRealSample(t *testing.T) {
	name, format, data := seedOrEmbedded(t)
	// Count the records independently: encoding/csv for the seed's CSV,
	// non-blank lines for the embedded NDJSON.
	records := 0
	if format == corpus.FormatCSV {
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		records = len(recs) - 1 // the header
	} else {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				records++
			}
		}
	}
	ctx := context.Background()
	s := openTestStore(t)
	st, err := Import(ctx, s, bytes.NewReader(data), name, format, text.DefaultCleanRules())
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if st.Read != records || st.Stored == 0 {
		t.Errorf("Import read %d comments (stored %d), want %d records", st.Read, st.Stored, records)
	}
	again, err := Import(ctx, s, bytes.NewReader(data), "again", format, text.DefaultCleanRules())
	if err != nil || again.New != 0 || again.Updated != 0 {
		t.Errorf("re-import: %+v, %v; want nothing new", again, err)
	}
	t.Logf("%s: %+v", name, st)
}

// seedOrEmbedded returns the seed's real Reddit sample, or without it the
// embedded sample (an error under CI=true, which must test the real one).
func seedOrEmbedded(t testing.TB) (name string, f corpus.Format, data []byte) {
	t.Helper()
	data, err := os.ReadFile(sampleCSVPath)
	if errors.Is(err, os.ErrNotExist) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("seed sample missing under CI=true: %v", err)
		}
		t.Logf("seed sample %s not present: importing the embedded sample instead", sampleCSVPath)
		cs, err := corpus.SampleComments(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, c := range cs {
			line, err := json.Marshal(map[string]any{"name": c.ID, "subreddit": c.Subreddit, "author": c.Author, "body": c.Body, "score": c.Score})
			if err != nil {
				t.Fatal(err)
			}
			b.Write(append(line, '\n'))
		}
		return corpus.SampleName, corpus.FormatNDJSON, b.Bytes()
	}
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Base(sampleCSVPath), corpus.FormatCSV, data
}

// syntheticReader generates n NDJSON comment objects on the fly (never all
// in memory): ids t1_0…, bodies of 5–40 words drawn from a small word list
// by a seeded PCG, so every run imports the same bytes.
type syntheticReader struct {
	n, i  int
	rng   *rand.Rand
	words []string
	buf   bytes.Buffer
}

func newSyntheticReader(n int, seed uint64) *syntheticReader {
	words := strings.Fields(`the a i you it that this is was to of and in for on with not but
		just like think really people would game time good know get make one more can what
		year team play way much thing even because new first actually pretty love right`)
	return &syntheticReader{n: n, rng: rand.New(rand.NewPCG(seed, 0x5eed)), words: words}
}

func (s *syntheticReader) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && s.i < s.n {
		fmt.Fprintf(&s.buf, `{"id":"%s","subreddit":"sub%d","author":"user%d","score":%d,"created_utc":%d,"body":"`,
			strconv.FormatInt(int64(s.i), 36), s.rng.IntN(20), s.rng.IntN(5000), s.rng.IntN(200)-20, 1438387200+s.i)
		words := 5 + s.rng.IntN(36)
		for w := range words {
			if w > 0 {
				s.buf.WriteByte(' ')
			}
			s.buf.WriteString(s.words[s.rng.IntN(len(s.words))])
		}
		s.buf.WriteString(".\"}\n")
		s.i++
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

// peakRSSMiB returns the process's peak resident set (VmHWM) in MiB, or -1
// where /proc is not available.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return -1
}

// heapPeak samples the Go heap every few milliseconds until stop is called
// and returns the largest value seen, in MiB. SQLite's own memory (page
// cache, outside the Go heap) shows in peak-RSS instead.
func heapPeak() (stop func() float64) {
	done := make(chan struct{})
	result := make(chan float64)
	go func() {
		var peak uint64
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				result <- float64(peak) / (1 << 20)
				return
			case <-tick.C:
			}
		}
	}()
	return func() float64 { close(done); return <-result }
}

// benchmarkImport imports what open returns into a fresh file store per
// iteration and reports comments/s, the Go heap peak and the process's peak
// RSS.
func benchmarkImport(b *testing.B, name string, f corpus.Format, open func() io.Reader) {
	ctx := context.Background()
	rules := text.DefaultCleanRules()
	var read int
	stop := heapPeak()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), fmt.Sprintf("bench%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		r := open()
		b.StartTimer()
		st, err := Import(ctx, s, r, name, f, rules)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		read += st.Read
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "comments/s")
	b.ReportMetric(stop(), "heap-peak-MiB")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
}

// BenchmarkImportSampleCSV imports the seed's real sample (the embedded one
// when it is absent).
func BenchmarkImportSampleCSV(b *testing.B) {
	name, f, data := seedOrEmbedded(b)
	benchmarkImport(b, name, f, func() io.Reader { return bytes.NewReader(data) })
}

// BenchmarkImportSynthetic1M imports 1,000,000 generated NDJSON comments per
// iteration: run it alone with -benchtime=1x (about two minutes on a busy
// 2-core machine).
func BenchmarkImportSynthetic1M(b *testing.B) {
	benchmarkImport(b, "synthetic.ndjson", corpus.FormatNDJSON, func() io.Reader { return newSyntheticReader(1_000_000, 1) })
}

// BenchmarkImportSynthetic10k is the same at 10,000 comments, for quick
// comparisons.
func BenchmarkImportSynthetic10k(b *testing.B) {
	benchmarkImport(b, "synthetic.ndjson", corpus.FormatNDJSON, func() io.Reader { return newSyntheticReader(10_000, 1) })
}

func ExampleImport() {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, ":memory:")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	good := "id,author,body\n" +
		"a1,ann,\"Blooming the spices first makes the chili taste deeper.\"\n" +
		"a2,[deleted],[deleted]\n" +
		",bob,\"A row without an id gets a synthetic one.\"\n"
	st, err := Import(ctx, s, strings.NewReader(good), "good.csv", corpus.FormatCSV, text.DefaultCleanRules())
	fmt.Println(st.Read, st.Stored, st.New, st.Skipped, err)

	bad := "id,body\nb1,\"fine\"\nb2,\"never closed\n"
	_, err = Import(ctx, s, strings.NewReader(bad), "bad.csv", corpus.FormatCSV, text.DefaultCleanRules())
	fmt.Println(err)
	n, _ := s.Count(ctx, corpus.Filter{})
	fmt.Println(n, "comments stored")
	// Output:
	// 3 2 2 map[deleted:1] <nil>
	// corpus: import bad.csv:3: quoted field of the record starting here is not closed properly (extraneous or missing " in quoted-field, at line 3, column 18)
	// 2 comments stored
}

// TestImportSample: the embedded sample imports, and the store keeps what
// cleaning the sample as a Source keeps.
func TestImportSample(t *testing.T) {
	ctx := context.Background()
	cs, err := corpus.SampleComments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := openTestStore(t)
	st, err := ImportFile(ctx, s, "../corpus/"+corpus.SampleName, text.DefaultCleanRules())
	if err != nil {
		t.Fatalf("importing the sample: %v", err)
	}
	if st.Read != len(cs) || st.Stored < len(cs)/2 {
		t.Errorf("sample import: %+v", st)
	}
	kept := collect(t, corpus.CleanSource(corpus.Sample(), text.DefaultCleanRules()))
	if len(kept) != st.Stored {
		t.Errorf("CleanSource(Sample()) kept %d, import stored %d", len(kept), st.Stored)
	}
	t.Logf("sample: %d comments, %d kept by the default rules, skipped %v", len(cs), st.Stored, st.Skipped)
}
