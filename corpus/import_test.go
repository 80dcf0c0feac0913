package corpus

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"commentbot/text"
)

// sampleCSVPath is the seed's real Reddit sample, shared between engineers
// and never copied into the repository.
const sampleCSVPath = "../../shared/data/reddit-comments-2015-08.sample.csv"

func readAll(t *testing.T, f Format, data string) ([]Comment, error) {
	t.Helper()
	var out []Comment
	err := ReadComments(context.Background(), strings.NewReader(data), "test."+string(f), f, func(c Comment) error {
		out = append(out, c)
		return nil
	})
	return out, err
}

func TestReadCSV(t *testing.T) {
	data, err := os.ReadFile("testdata/import/comments.csv")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, FormatCSV, string(data))
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	want := []Comment{
		{ID: "t1_cuapmnd", Subreddit: "golang", Author: "gopher", Body: "Plain comment about channels.", Score: 12, Created: ts(1438387200)},
		{ID: SyntheticID(`A body with "doubled quotes" and an entity: &amp; &gt;quote`), Subreddit: "cooking", Author: "chef",
			Body: `A body with "doubled quotes" and an entity: &amp; &gt;quote`, Score: 3, Created: time.Unix(1438387201, 5e8).UTC()},
		{ID: "t1_cu9l8bi", Subreddit: "AskReddit", Author: "someone", Body: "Two lines:\n\nsecond paragraph with **markdown** and [a link](http://example.com).", Score: -4},
		{ID: SyntheticID("No id, no subreddit."), Body: "No id, no subreddit."},
		{ID: "t1_deleted", Subreddit: "AskReddit", Author: "[deleted]", Body: "[deleted]", Score: 1, Created: ts(1438387300)},
	}
	if len(got) != len(want) {
		t.Fatalf("ReadCSV read %d comments, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadNDJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/import/comments.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, FormatNDJSON, string(data))
	if err != nil {
		t.Fatalf("ReadNDJSON: %v", err)
	}
	want := []Comment{
		{ID: "t1_cuapmnd", Subreddit: "golang", Author: "gopher", Body: "Plain comment about channels.", Score: 12, Created: ts(1438387200)},
		{ID: "t1_cu9l8bi", Subreddit: "AskReddit", Author: "someone", Body: "Two lines:\n\nsecond paragraph.", Score: -4, Created: ts(1438387201)},
		{ID: SyntheticID("No id here &amp; an entity."), Subreddit: "cooking", Author: "chef", Body: "No id here &amp; an entity.", Score: 3, Created: time.Unix(1438387202, 25e7).UTC()},
		{ID: "t1_removed", Subreddit: "AskReddit", Author: "mod", Body: "[removed]", Score: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("ReadNDJSON read %d comments, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("object %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestSyntheticID(t *testing.T) {
	// sha256("hello") = 2cf24dba5fb0a30e26e83b2ac5b9e29e…
	if got, want := SyntheticID("hello"), "h1_2cf24dba5fb0a30e"; got != want {
		t.Errorf("SyntheticID(hello) = %q, want %q", got, want)
	}
	for _, tt := range []struct{ name, id, want string }{
		{"t1_abc", "abc", "t1_abc"}, {"", "abc", "t1_abc"}, {"", "t1_abc", "t1_abc"}, {"", "", ""}, {"", "t3_x", "t3_x"}, {"", "tx_1", "t1_tx_1"}, {"", "h1_0123456789abcdef", "h1_0123456789abcdef"},
	} {
		if got := fullname(tt.name, tt.id); got != tt.want {
			t.Errorf("fullname(%q, %q) = %q, want %q", tt.name, tt.id, got, tt.want)
		}
	}
}

// countingReader counts the bytes handed out, to show that a huge field is
// refused without reading (and holding) all of it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

type badInput struct {
	name       string
	format     Format
	data       string
	wantErr    error
	wantLine   int
	wantReason string // a substring of the reason
}

func badInputs() []badInput {
	huge := strings.Repeat("x", 10<<20) // 10 MB in one field or line
	return []badInput{
		{"csv empty file", FormatCSV, "", ErrEmptyFile, 1, "empty file"},
		{"csv missing body column", FormatCSV, "id,text\n1,hello\n", ErrNoBodyColumn, 1, `no body column in header "id,text"`},
		{"csv unterminated quote", FormatCSV, "body\n\"fine\"\n\"never closed\nstill going\n", ErrMalformed, 3, "not closed properly (extraneous or missing \" in quoted-field, at line 4"},
		{"csv stray quote", FormatCSV, "body\nok\nbro\"ken\n", ErrMalformed, 3, "bare \" in non-quoted-field"},
		{"csv wrong field count", FormatCSV, "id,body\n1,a\n2,b,c\n", ErrMalformed, 3, "wrong number of fields"},
		{"csv invalid UTF-8", FormatCSV, "id,body\n1,good\n2,\"multi\nline \xff bad\"\n", ErrInvalidUTF8, 3, `field "body" (column 3) is not valid UTF-8`},
		{"csv invalid UTF-8 header", FormatCSV, "bo\xffdy\nx\n", ErrInvalidUTF8, 1, "header column 1"},
		{"csv 10 MB field", FormatCSV, "id,body\n1,ok\n2,\"" + huge + "\"\n", ErrRecordTooLarge, 3, "record larger than"},
		{"csv bad score", FormatCSV, "body,score\nhi,12\nho,many\n", ErrMalformed, 3, `score "many" is not an integer`},
		{"csv bad time", FormatCSV, "body,created_utc\nhi,yesterday\n", ErrMalformed, 2, `created_utc "yesterday"`},
		{"ndjson empty file", FormatNDJSON, "", ErrEmptyFile, 1, "empty file"},
		{"ndjson blank lines only", FormatNDJSON, "\n\n  \n", ErrEmptyFile, 3, "empty file"},
		{"ndjson broken line", FormatNDJSON, `{"id":"a","body":"x"}` + "\n" + `{"id":"b","body":"unterminated}` + "\n", ErrMalformed, 2, "broken JSON"},
		{"ndjson not an object", FormatNDJSON, `{"id":"a","body":"x"}` + "\n[1,2]\n", ErrMalformed, 2, "not a JSON object"},
		{"ndjson no body", FormatNDJSON, `{"id":"a","body":"x"}` + "\n\n" + `{"id":"b","score":1}` + "\n", ErrMalformed, 3, "no body field"},
		{"ndjson invalid UTF-8", FormatNDJSON, `{"id":"a","body":"x"}` + "\n" + "{\"id\":\"b\",\"body\":\"\xfe\"}\n", ErrInvalidUTF8, 2, "not valid UTF-8"},
		{"ndjson 10 MB line", FormatNDJSON, `{"id":"a","body":"x"}` + "\n" + `{"id":"b","body":"` + huge + `"}` + "\n", ErrRecordTooLarge, 2, "line longer than"},
		{"ndjson fractional score", FormatNDJSON, `{"id":"a","body":"x","score":1.5}`, ErrMalformed, 1, "score 1.5 is not an integer"},
		{"ndjson score not a number", FormatNDJSON, `{"id":"a","body":"x","score":"lots"}`, ErrMalformed, 1, "not a number"},
		{"ndjson negative time", FormatNDJSON, `{"id":"a","body":"x","created_utc":-5}`, ErrMalformed, 1, "created_utc"},
	}
}

func TestReadBadInput(t *testing.T) {
	for _, tt := range badInputs() {
		cr := &countingReader{r: strings.NewReader(tt.data)}
		err := ReadComments(context.Background(), cr, "bad."+string(tt.format), tt.format, func(Comment) error { return nil })
		var ie *ImportError
		if !errors.As(err, &ie) {
			t.Errorf("%s: err = %v, want an *ImportError", tt.name, err)
			continue
		}
		if !errors.Is(err, tt.wantErr) || ie.Line != tt.wantLine || !strings.Contains(ie.Reason, tt.wantReason) || ie.File != "bad."+string(tt.format) {
			t.Errorf("%s: got %v (line %d, reason %q, wraps %v), want line %d, reason containing %q, wrapping %v",
				tt.name, err, ie.Line, ie.Reason, ie.Err, tt.wantLine, tt.wantReason, tt.wantErr)
		}
		if errors.Is(tt.wantErr, ErrRecordTooLarge) && cr.n > MaxRecordBytes+(128<<10) {
			t.Errorf("%s: read %d bytes before refusing, want at most about MaxRecordBytes (%d)", tt.name, cr.n, MaxRecordBytes)
		}
	}
}

func TestReadLimitsAndCallbackError(t *testing.T) {
	// A record just under the limit is accepted, in both formats.
	body := strings.Repeat("y", MaxRecordBytes-64)
	if got, err := readAll(t, FormatCSV, "id,body\n1,\""+body+"\"\n2,after\n"); err != nil || len(got) != 2 || got[0].Body != body {
		t.Errorf("CSV record under the limit: %d comments, %v", len(got), err)
	}
	if got, err := readAll(t, FormatNDJSON, `{"id":"a","body":"`+body+`"}`+"\n"); err != nil || len(got) != 1 || got[0].Body != body {
		t.Errorf("NDJSON line under the limit: %d comments, %v", len(got), err)
	}
	// A header-only CSV is a valid file with no comments.
	if got, err := readAll(t, FormatCSV, "body\n"); err != nil || len(got) != 0 {
		t.Errorf("header-only CSV: %d comments, %v; want 0, nil", len(got), err)
	}
	stop := errors.New("stop")
	for _, f := range []Format{FormatCSV, FormatNDJSON} {
		data := "body\na\nb\n"
		if f == FormatNDJSON {
			data = `{"body":"a"}` + "\n" + `{"body":"b"}` + "\n"
		}
		n := 0
		err := ReadComments(context.Background(), strings.NewReader(data), "x", f, func(Comment) error { n++; return stop })
		if err != stop || n != 1 {
			t.Errorf("%s: callback error came back as %v after %d calls, want it unchanged after 1", f, err, n)
		}
	}
	if err := ReadComments(context.Background(), strings.NewReader("x"), "x", "xml", nil); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: err = %v", err)
	}
	for _, tt := range []struct {
		path string
		want Format
	}{{"a.csv", FormatCSV}, {"a.CSV", FormatCSV}, {"x/a.ndjson", FormatNDJSON}, {"a.jsonl", FormatNDJSON}, {"a.json", FormatNDJSON}, {"a.txt", ""}} {
		got, err := FormatOf(tt.path)
		if got != tt.want || (tt.want == "") != (err != nil) {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

func TestSources(t *testing.T) {
	ctx := context.Background()
	src, err := FileSource("testdata/import/comments.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	a, b := collect(t, src), collect(t, src) // a Source can be read twice
	if len(a) != 4 || !slices.Equal(ids(a), ids(b)) {
		t.Errorf("FileSource twice: %v then %v", ids(a), ids(b))
	}
	if got := collect(t, SliceSource(a[1:3])); !slices.Equal(ids(got), ids(a[1:3])) {
		t.Errorf("SliceSource = %v", ids(got))
	}
	kept := collect(t, CleanSource(SliceSource(a), text.DefaultCleanRules()))
	if len(kept) != 3 || slices.Contains(ids(kept), "t1_removed") {
		t.Errorf("CleanSource kept %v, want all but t1_removed", ids(kept))
	}
	if _, err := FileSource("x.txt"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("FileSource(x.txt) err = %v", err)
	}
	missing, _ := FileSource("testdata/import/none.csv")
	if err := missing(ctx, func(Comment) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FileSource of a missing file: %v", err)
	}
}

// fuzzCheck asserts what must hold for any input: no panic, errors are
// *ImportError with a line ≥ 1, comments have an id and valid UTF-8.
func fuzzCheck(t *testing.T, f Format, data []byte) []Comment {
	var got []Comment
	err := ReadComments(context.Background(), bytes.NewReader(data), "fuzz", f, func(c Comment) error {
		got = append(got, c)
		return nil
	})
	if err != nil {
		var ie *ImportError
		if !errors.As(err, &ie) || ie.Line < 1 || ie.Reason == "" {
			t.Fatalf("error is not a located *ImportError: %#v", err)
		}
		return nil
	}
	for _, c := range got {
		if c.ID == "" || !utf8.ValidString(c.Body) || !utf8.ValidString(c.ID) {
			t.Fatalf("bad comment from accepted input: %+v", c)
		}
	}
	return got
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("body\nhello\n"))
	f.Add([]byte("id,body,score\n1,\"a \"\"q\"\"\nb\",3\n"))
	f.Add([]byte("\xef\xbb\xbfbody,created_utc\r\nx,1438387200.5\r\n"))
	if data, err := os.ReadFile("testdata/import/comments.csv"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := fuzzCheck(t, FormatCSV, data)
		if got == nil {
			return
		}
		// Written back as CSV, the bodies read the same.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write([]string{"id", "body"})
		for _, c := range got {
			w.Write([]string{c.ID, c.Body})
		}
		w.Flush()
		again, err := readAll(t, FormatCSV, buf.String())
		if err != nil {
			t.Fatalf("re-reading written CSV: %v", err)
		}
		for i := range got {
			// encoding/csv turns \r\n inside quoted fields into \n.
			if i >= len(again) || again[i].Body != strings.ReplaceAll(got[i].Body, "\r\n", "\n") || again[i].ID != got[i].ID {
				t.Fatalf("round trip changed row %d: %+v vs %+v", i, got[i], again)
			}
		}
	})
}

func FuzzReadNDJSON(f *testing.F) {
	f.Add([]byte(`{"id":"a","body":"x"}` + "\n"))
	f.Add([]byte(`{"name":"t1_b","body":"y","score":"3","created_utc":"1438387200"}`))
	f.Add([]byte("\n\n{\"body\":\"\\u00e9\"}\n"))
	if data, err := os.ReadFile("testdata/import/comments.ndjson"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzCheck(t, FormatNDJSON, data)
	})
}
