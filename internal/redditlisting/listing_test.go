package redditlisting

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDecode: a listing in Reddit's full shape decodes into the comments it holds:
// fullnames, authors, raw bodies, fractional created times, the cursor.
func TestDecode(t *testing.T) {
	data, err := os.ReadFile("testdata/comments.json")
	if err != nil {
		t.Fatal(err)
	}
	var l Listing
	if err := json.Unmarshal(data, &l); err != nil {
		t.Fatalf("decode: %v", err)
	}
	type row struct {
		name, sub, author, body string
		score                   int
		created                 time.Time
	}
	var got []row
	for _, ch := range l.Data.Children {
		c := ch.Data
		got = append(got, row{c.Fullname(), c.Subreddit, c.Author, c.Body, c.Score, c.Created()})
	}
	want := []row{
		{"t1_cuaq5ab", "AskReddit", "coffee_person", "Fresh coffee & a quiet morning. Nothing <beats> it.", 12, time.Unix(1440288000, 0).UTC()},
		{"t1_cuaq4zz", "AskReddit", "edits_a_lot", "Edit: never mind, I was wrong.", -3, time.Unix(1440287999, 5e8).UTC()},
		{"t1_cuaq3xy", "AskReddit", "[deleted]", "[deleted]", 1, time.Unix(1440287990, 0).UTC()},
		{"t1_cuaq2kx", "AskReddit", "AutoModerator", "Please remember rule 1.", 1, time.Unix(1440287900, 0).UTC()},
	}
	if len(got) != len(want) {
		t.Fatalf("%d comments, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("comment %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if l.Kind != "Listing" || l.Data.After != "t1_cuaq2kx" {
		t.Errorf("kind %q after %q, want Listing t1_cuaq2kx", l.Kind, l.Data.After)
	}
}

// Tried: created_utc at the edges. Survives: negative fractions round down, and
// values no time can hold give the zero time instead of a wrapped one.
func TestCreated(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want time.Time
	}{
		{1.5, time.Unix(1, 5e8).UTC()},
		{-1.5, time.Unix(-2, 5e8).UTC()},
		{1e300, time.Time{}},
		{-1e300, time.Time{}},
	} {
		if got := (Comment{CreatedUTC: tc.in}).Created(); !got.Equal(tc.want) {
			t.Errorf("Created(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// FuzzListing: whatever JSON Reddit (or a broken proxy) sends, decoding and
// converting never panics, every comment gets a t1 fullname, and created times are
// either zero or within a second of created_utc.
//
// The seeds are small on purpose. Go minimizes every new interesting input, trying
// O(n²) cuts of it: from the 3 KB listing in testdata the minimizations took the
// whole of a 60 s run on two cores (both workers minimizing, 0 execs/s).
func FuzzListing(f *testing.F) {
	f.Add([]byte(`{"kind":"Listing","data":{"after":"t1_b","children":[{"kind":"t1","data":{"id":"a","name":"t1_a",` +
		`"author":"x","body":"Fish &amp; chips","subreddit":"food","score":-2,"created_utc":1440287999.5,"edited":false}},` +
		`{"kind":"more","data":{"count":3}}]}}`))
	f.Add([]byte(`{"kind":"Listing","data":{"after":null,"children":[{"kind":"t1","data":{"id":"x","created_utc":1e300}}]}}`))
	f.Add([]byte(`{"kind":"Listing","data":{"children":[{"kind":"more","data":{}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var l Listing
		if json.Unmarshal(data, &l) != nil {
			return
		}
		for _, ch := range l.Data.Children {
			c := ch.Data
			if c.Name == "" && !strings.HasPrefix(c.Fullname(), "t1_") {
				t.Errorf("id %q without name is not a t1 fullname", c.ID)
			}
			if at := c.Created(); !at.IsZero() && (float64(at.Unix()) > c.CreatedUTC || float64(at.Unix()) < c.CreatedUTC-1) {
				t.Errorf("created_utc %v became %v", c.CreatedUTC, at)
			}
		}
	})
}
