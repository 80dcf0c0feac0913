package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"commentbot/corpus"
	"commentbot/scheduler/runs"
)

func openTestStore(t *testing.T) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatalf("OpenSQLite(:memory:): %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ts(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// collect drains a Source.
func collect(t *testing.T, src corpus.Source) []corpus.Comment {
	t.Helper()
	var out []corpus.Comment
	if err := src(context.Background(), func(c corpus.Comment) error { out = append(out, c); return nil }); err != nil {
		t.Fatalf("source: %v", err)
	}
	return out
}

func ids(cs []corpus.Comment) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testUpsertSemantics(t *testing.T, s Store) {
	ctx := context.Background()
	first := []corpus.Comment{
		{ID: "t1_a", Subreddit: "go", Author: "ann", Body: "Hello  World", Score: 3, Created: ts(100), Ingested: ts(1000)},
		{ID: "t1_b", Subreddit: "go", Author: "bob", Body: "something else", Score: 1, Created: ts(101), Ingested: ts(1000)},
		{ID: "t1_c", Subreddit: "rust", Author: "cat", Body: "hello world", Score: 1, Created: ts(102), Ingested: ts(1000)}, // dup of a
	}
	tests := []struct {
		name  string
		batch []corpus.Comment
		want  UpsertStats
	}{
		{"fresh store", first, UpsertStats{New: 3, Duplicates: 1}},
		{"same again", first, UpsertStats{Unchanged: 3}},
		{"score and author change only", []corpus.Comment{{ID: "t1_a", Subreddit: "x", Author: "zed", Body: "Hello  World", Score: 99, Ingested: ts(2000)}}, UpsertStats{Unchanged: 1}},
		{"edited body", []corpus.Comment{{ID: "t1_b", Body: "something edited", Score: 5, Ingested: ts(3000)}}, UpsertStats{Updated: 1}},
		{"edit into a duplicate", []corpus.Comment{{ID: "t1_b", Body: "HELLO\tworld", Ingested: ts(4000)}}, UpsertStats{Updated: 1, Duplicates: 1}},
		{"same id twice in one batch", []corpus.Comment{{ID: "t1_d", Body: "one"}, {ID: "t1_d", Body: "two"}}, UpsertStats{New: 1, Updated: 1}},
	}
	for _, tt := range tests {
		got, err := s.Upsert(ctx, tt.batch)
		if err != nil {
			t.Fatalf("%s: Upsert: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: Upsert stats = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	// What is stored: a keeps its first score/author/subreddit; b holds the
	// edited body and the edit's ingestion time; c and b are duplicates of a,
	// so Comments yields a and d only.
	got := collect(t, s.Comments(corpus.Filter{}))
	want := []corpus.Comment{
		{ID: "t1_a", Subreddit: "go", Author: "ann", Body: "Hello  World", Score: 3, Created: ts(100), Ingested: ts(1000)},
		{ID: "t1_d", Body: "two", Ingested: got[len(got)-1].Ingested},
	}
	if !slices.EqualFunc(got, want, func(a, b corpus.Comment) bool { return a == b }) {
		t.Errorf("Comments = %+v\nwant %+v", got, want)
	}
	if got[len(got)-1].Ingested.IsZero() {
		t.Errorf("comment without Ingested was stored with a zero ingestion time")
	}
	n, err := s.Count(ctx, corpus.Filter{})
	if err != nil || n != 2 {
		t.Errorf("Count = %d, %v; want 2", n, err)
	}
	// Editing a's text away makes the next copy (b, then c) the one trained on.
	if _, err := s.Upsert(ctx, []corpus.Comment{{ID: "t1_a", Body: "now unique", Ingested: ts(5000)}}); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(collect(t, s.Comments(corpus.Filter{}))), []string{"t1_a", "t1_b", "t1_d"}; !slices.Equal(got, want) {
		t.Errorf("after editing the first copy, Comments ids = %v, want %v", got, want)
	}
}

func testUpsertRefusesWholeBatch(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.Upsert(ctx, []corpus.Comment{{ID: "t1_ok", Body: "fine"}, {ID: "", Body: "no id"}})
	if !errors.Is(err, ErrInvalidComment) {
		t.Fatalf("Upsert with an empty id: err = %v, want ErrInvalidComment", err)
	}
	if n, err := s.Count(ctx, corpus.Filter{}); err != nil || n != 0 {
		t.Errorf("after a refused batch Count = %d, %v; want 0 (nothing half-written)", n, err)
	}
}

func testFilter(t *testing.T, s Store) {
	ctx := context.Background()
	var cs []corpus.Comment
	for i := range 200 {
		sub := []string{"golang", "Rust", "cooking"}[i%3]
		cs = append(cs, corpus.Comment{ID: fmt.Sprintf("t1_%d", i), Subreddit: sub, Body: fmt.Sprintf("comment number %d", i), Ingested: ts(int64(1000 + i))})
	}
	if _, err := s.Upsert(ctx, cs); err != nil {
		t.Fatal(err)
	}
	want := func(keep func(i int, c corpus.Comment) bool, limit int) []string {
		var out []string
		for i, c := range cs {
			if keep(i, c) && (limit == 0 || len(out) < limit) {
				out = append(out, c.ID)
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    corpus.Filter
		want []string
	}{
		{"all", corpus.Filter{}, want(func(int, corpus.Comment) bool { return true }, 0)},
		{"limit", corpus.Filter{Limit: 7}, want(func(int, corpus.Comment) bool { return true }, 7)},
		{"limit above one page", corpus.Filter{Limit: pageSize + 3}, want(func(int, corpus.Comment) bool { return true }, 0)},
		{"train", corpus.Filter{Split: corpus.Train}, want(func(_ int, c corpus.Comment) bool {
			return corpus.SplitOf(c.ID, corpus.DefaultValidFraction) == corpus.Train
		}, 0)},
		{"validation 0.3", corpus.Filter{Split: corpus.Validation, ValidFraction: 0.3}, want(func(_ int, c corpus.Comment) bool { return corpus.SplitOf(c.ID, 0.3) == corpus.Validation }, 0)},
		{"ingested after", corpus.Filter{IngestedAfter: ts(1150)}, want(func(i int, _ corpus.Comment) bool { return 1000+i > 1150 }, 0)},
		{"subreddits case-insensitive", corpus.Filter{Subreddits: []string{"GOLANG", "rust"}}, want(func(i int, _ corpus.Comment) bool { return i%3 != 2 }, 0)},
		{"combined", corpus.Filter{Split: corpus.Train, Subreddits: []string{"cooking"}, IngestedAfter: ts(1050), Limit: 10},
			want(func(i int, c corpus.Comment) bool {
				return i%3 == 2 && 1000+i > 1050 && corpus.SplitOf(c.ID, 0.1) == corpus.Train
			}, 10)},
	}
	for _, tt := range tests {
		got := ids(collect(t, s.Comments(tt.f)))
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Comments = %v\nwant %v", tt.name, got, tt.want)
		}
		n, err := s.Count(ctx, tt.f)
		if err != nil || n != len(tt.want) {
			t.Errorf("%s: Count = %d, %v; want %d", tt.name, n, err, len(tt.want))
		}
	}
	for _, f := range []corpus.Filter{{Split: corpus.Split(7)}, {Limit: -1}, {ValidFraction: 1.5}} {
		if err := s.Comments(f)(ctx, func(corpus.Comment) error { return nil }); !errors.Is(err, corpus.ErrInvalidFilter) {
			t.Errorf("Comments(%+v) err = %v, want corpus.ErrInvalidFilter", f, err)
		}
		if _, err := s.Count(ctx, f); !errors.Is(err, corpus.ErrInvalidFilter) {
			t.Errorf("Count(%+v) err = %v, want corpus.ErrInvalidFilter", f, err)
		}
	}
}

func testCommentsStopsAndWritesInsideCallback(t *testing.T, s Store) {
	ctx := context.Background()
	var cs []corpus.Comment
	for i := range 10 {
		cs = append(cs, corpus.Comment{ID: fmt.Sprintf("t1_%d", i), Body: fmt.Sprintf("body %d", i)})
	}
	if _, err := s.Upsert(ctx, cs); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	seen := 0
	err := s.Comments(corpus.Filter{})(ctx, func(c corpus.Comment) error {
		seen++
		// A write from inside the callback must not deadlock, even on the
		// single-connection memory store.
		if err := s.RecordRun(ctx, runs.Run{Job: "inside", Started: ts(1)}); err != nil {
			return err
		}
		if seen == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 3 {
		t.Errorf("stream stopped with %v after %d comments, want the callback's error after 3", err, seen)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Comments(corpus.Filter{})(cctx, func(corpus.Comment) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Comments on a canceled context: err = %v, want context.Canceled", err)
	}
}

func testCursorAndCommitPage(t *testing.T, s Store) {
	ctx := context.Background()
	c, err := s.Cursor(ctx, "r/golang")
	if err != nil || c != (Cursor{}) {
		t.Fatalf("Cursor of an unknown source = %+v, %v; want zero", c, err)
	}
	page := []corpus.Comment{{ID: "t1_x", Body: "x"}, {ID: "t1_y", Body: "y"}}
	cur := Cursor{Pending: "t1_x", After: "t1_y", Updated: ts(50)}
	st, err := s.CommitPage(ctx, "r/golang", cur, page, nil)
	if err != nil || st != (UpsertStats{New: 2}) {
		t.Fatalf("CommitPage = %+v, %v", st, err)
	}
	if got, err := s.Cursor(ctx, "r/golang"); err != nil || got != cur {
		t.Errorf("Cursor = %+v, %v; want %+v", got, err, cur)
	}
	// A failing page leaves comments and cursor as they were.
	bad := []corpus.Comment{{ID: "t1_z", Body: "z"}, {Body: "no id"}}
	if _, err := s.CommitPage(ctx, "r/golang", Cursor{Newest: "t1_x"}, bad, nil); !errors.Is(err, ErrInvalidComment) {
		t.Fatalf("CommitPage with a bad comment: err = %v", err)
	}
	if got, _ := s.Cursor(ctx, "r/golang"); got != cur {
		t.Errorf("cursor after a refused page = %+v, want unchanged %+v", got, cur)
	}
	if n, _ := s.Count(ctx, corpus.Filter{}); n != 2 {
		t.Errorf("Count after a refused page = %d, want 2", n)
	}
	// Zero Updated is stamped with the current time.
	before := time.Now()
	if _, err := s.CommitPage(ctx, "r/golang", Cursor{Newest: "t1_x"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Cursor(ctx, "r/golang"); got.Newest != "t1_x" || got.Pending != "" || got.Updated.Before(before.Add(-time.Second)) {
		t.Errorf("cursor after completing the pass = %+v", got)
	}
}

func TestFileStoreWALAndReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "corpus.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v; want 1", fk, err)
	}
	if _, err := s.Upsert(ctx, []corpus.Comment{{ID: "t1_a", Body: "kept", Created: ts(7)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := collect(t, s.Comments(corpus.Filter{}))
	if len(got) != 1 || got[0].Body != "kept" || !got[0].Created.Equal(ts(7)) {
		t.Errorf("after reopening: %+v", got)
	}
}

func TestMigrateFromOlderSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := openSQLite(ctx, path, 1) // a database written before runs existed
	if err != nil {
		t.Fatal(err)
	}
	if v, err := old.Version(ctx); err != nil || v != 1 {
		t.Fatalf("old store version = %d, %v; want 1", v, err)
	}
	if _, err := old.Upsert(ctx, []corpus.Comment{{ID: "t1_old", Body: "from version one"}}); err != nil {
		t.Fatal(err)
	}
	if err := old.RecordRun(ctx, runs.Run{Job: "x"}); err == nil {
		t.Errorf("RecordRun on a version-1 schema succeeded; the runs table should not exist yet")
	}
	old.Close()

	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	if v, err := s.Version(ctx); err != nil || v != SchemaVersion() {
		t.Errorf("migrated version = %d, %v; want %d", v, err, SchemaVersion())
	}
	if got := ids(collect(t, s.Comments(corpus.Filter{}))); !slices.Equal(got, []string{"t1_old"}) {
		t.Errorf("comments after migration = %v, want [t1_old]", got)
	}
	if err := s.RecordRun(ctx, runs.Run{Job: "x"}); err != nil {
		t.Errorf("RecordRun after migration: %v", err)
	}
	// A database from the future is refused, not downgraded.
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenSQLite(ctx, path); !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("OpenSQLite on a newer schema: err = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenSQLiteBadPath(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"", "a?b", filepath.Join(t.TempDir(), "missing-dir", "x.db")} {
		if s, err := OpenSQLite(ctx, p); err == nil {
			s.Close()
			t.Errorf("OpenSQLite(%q) succeeded, want an error", p)
		}
	}
}

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello  World", "hello world"},
		{"  tabs\tand\nnewlines \r\n", "tabs and newlines"},
		{"ÀÉ ümlaut", "àé ümlaut"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeText(tt.in); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if NormKey("A b") != NormKey("a   B") || NormKey("a b") == NormKey("ab") {
		t.Errorf("normKey does not follow NormalizeText")
	}
}

func testConcurrentWritersAndReaders(t *testing.T, s Store) {
	// Several writers and a reader on one store: writers queue (SQLite: BEGIN
	// IMMEDIATE and the busy timeout; PostgreSQL: row locks), readers run alongside.
	ctx := context.Background()
	const writers, batches, per = 4, 20, 10
	errs := make(chan error, writers+1)
	for w := range writers {
		go func() {
			for b := range batches {
				cs := make([]corpus.Comment, per)
				for i := range cs {
					cs[i] = corpus.Comment{ID: fmt.Sprintf("t1_w%db%di%d", w, b, i), Body: fmt.Sprintf("writer %d batch %d item %d", w, b, i)}
				}
				if _, err := s.Upsert(ctx, cs); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		for range 20 {
			if err := s.Comments(corpus.Filter{})(ctx, func(corpus.Comment) error { return nil }); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range writers + 1 {
		if err := <-errs; err != nil {
			t.Errorf("concurrent use: %v", err)
		}
	}
	if n, err := s.Count(ctx, corpus.Filter{}); err != nil || n != writers*batches*per {
		t.Errorf("Count = %d, %v; want %d", n, err, writers*batches*per)
	}
}

func testCommitPageForgetsGone(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.Upsert(ctx, []corpus.Comment{
		{ID: "t1_a", Body: "same text"}, {ID: "t1_b", Body: "other"}, {ID: "t1_c", Body: "SAME  text"},
	}); err != nil {
		t.Fatal(err)
	}
	cur := Cursor{Newest: "t1_z", Updated: ts(9)}
	st, err := s.CommitPage(ctx, "r/x", cur, []corpus.Comment{{ID: "t1_d", Body: "new"}}, []string{"t1_a", "t1_b", "t1_never_stored"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (UpsertStats{New: 1, Forgotten: 2}); st != want {
		t.Errorf("CommitPage stats = %+v, want %+v", st, want)
	}
	// a and b are gone; c, the later copy of a's text, is trained on now.
	if got, want := ids(collect(t, s.Comments(corpus.Filter{}))), []string{"t1_c", "t1_d"}; !slices.Equal(got, want) {
		t.Errorf("Comments = %v, want %v", got, want)
	}
	if got, _ := s.Cursor(ctx, "r/x"); got != cur {
		t.Errorf("cursor = %+v, want %+v", got, cur)
	}
	// A refused page forgets nothing.
	if _, err := s.CommitPage(ctx, "r/x", Cursor{}, []corpus.Comment{{Body: "no id"}}, []string{"t1_c"}); err == nil {
		t.Fatal("page with an invalid comment accepted")
	}
	if n, _ := s.Count(ctx, corpus.Filter{}); n != 2 {
		t.Errorf("Count after a refused page = %d, want 2", n)
	}
}

// BenchmarkUpsert measures the store alone (no parsing or cleaning):
// batches of 1000 new comments into a file store.
func BenchmarkUpsert(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "u.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]corpus.Comment, 1000)
	n := 0
	for b.Loop() {
		for i := range batch {
			batch[i] = corpus.Comment{ID: fmt.Sprintf("t1_%d", n), Subreddit: "bench", Author: "a", Body: fmt.Sprintf("comment body number %d with some words", n), Score: 1, Created: ts(int64(n))}
			n++
		}
		if _, err := s.Upsert(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "comments/s")
}

// BenchmarkComments measures streaming 10,000 stored comments.
func BenchmarkComments(b *testing.B) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "c.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cs := make([]corpus.Comment, 10000)
	for i := range cs {
		cs[i] = corpus.Comment{ID: fmt.Sprintf("t1_%d", i), Body: fmt.Sprintf("comment body number %d", i)}
	}
	if _, err := s.Upsert(ctx, cs); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		if err := s.Comments(corpus.Filter{Split: corpus.Train})(ctx, func(corpus.Comment) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "comments/s")
}
