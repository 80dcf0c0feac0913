package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/internal/leader"
)

// version is a NewVersion whose metadata names its number and whose
// checkpoint is body.
func version(body string) NewVersion {
	return NewVersion{
		Meta:       func(v int) ([]byte, error) { return fmt.Appendf(nil, `{"version":%d}`, v), nil },
		Checkpoint: func(w io.Writer) error { _, err := io.WriteString(w, body); return err },
	}
}

func liveVersion(body string, expect int) NewVersion {
	nv := version(body)
	nv.MakeLive, nv.Expect = true, expect
	return nv
}

func save(t *testing.T, s Store, model string, nv NewVersion) int {
	t.Helper()
	v, err := s.SaveVersion(context.Background(), model, nv)
	if err != nil {
		t.Fatalf("SaveVersion(%s): %v", model, err)
	}
	return v
}

func numbers(t *testing.T, s Store, model string) []int {
	t.Helper()
	list, err := s.ModelVersions(context.Background(), model)
	if err != nil {
		t.Fatal(err)
	}
	out := []int{}
	for _, mv := range list {
		out = append(out, mv.Version)
	}
	return out
}

func readVersion(t *testing.T, s Store, model string, v int) string {
	t.Helper()
	r, err := s.OpenVersion(context.Background(), model, v)
	if err != nil {
		t.Fatalf("OpenVersion(%s, %d): %v", model, v, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testModelVersions(t *testing.T, s Store) {
	ctx := context.Background()
	if _, err := s.LiveVersion(ctx, "word"); !errors.Is(err, ErrNoLive) {
		t.Errorf("LiveVersion of a new model: %v, want ErrNoLive", err)
	}
	if got := numbers(t, s, "word"); len(got) != 0 {
		t.Errorf("versions of a new model: %v", got)
	}
	if _, err := s.OpenVersion(ctx, "word", 1); !errors.Is(err, ErrNoVersion) {
		t.Errorf("OpenVersion of a missing version: %v, want ErrNoVersion", err)
	}
	if v := save(t, s, "word", version("one")); v != 1 {
		t.Errorf("first version numbered %d, want 1", v)
	}
	if v := save(t, s, "word", version("two!")); v != 2 {
		t.Errorf("second version numbered %d, want 2", v)
	}
	save(t, s, "char", version("other model"))
	list, err := s.ModelVersions(ctx, "word")
	if err != nil || len(list) != 2 {
		t.Fatalf("ModelVersions = %+v, %v", list, err)
	}
	for i, mv := range list {
		if mv.Version != i+1 || string(mv.Meta) != fmt.Sprintf(`{"version":%d}`, i+1) || mv.Live || mv.Stamp == "" {
			t.Errorf("version %d listed as %+v", i+1, mv)
		}
	}
	if list[0].Size != 3 || list[1].Size != 4 || list[0].Stamp == list[1].Stamp {
		t.Errorf("sizes %d, %d (want 3, 4), stamps %q %q (want different)", list[0].Size, list[1].Size, list[0].Stamp, list[1].Stamp)
	}
	if got := readVersion(t, s, "word", 2); got != "two!" {
		t.Errorf("checkpoint of v2 = %q", got)
	}
	if err := s.SetLiveVersion(ctx, "word", 2, 0); err != nil {
		t.Fatal(err)
	}
	if v, err := s.LiveVersion(ctx, "word"); err != nil || v != 2 {
		t.Errorf("LiveVersion = %d, %v; want 2", v, err)
	}
	if list, _ := s.ModelVersions(ctx, "word"); !list[1].Live || list[0].Live {
		t.Errorf("live flags after SetLiveVersion: %+v", list)
	}
	// A checkpoint or metadata that fails to write stores nothing, and the
	// number is not used up.
	boom := errors.New("disk on fire")
	bad := version("x")
	bad.Checkpoint = func(io.Writer) error { return boom }
	if _, err := s.SaveVersion(ctx, "word", bad); !errors.Is(err, boom) {
		t.Errorf("SaveVersion with a failing checkpoint: %v, want its error", err)
	}
	bad = version("x")
	bad.Meta = func(int) ([]byte, error) { return nil, boom }
	if _, err := s.SaveVersion(ctx, "word", bad); !errors.Is(err, boom) {
		t.Errorf("SaveVersion with failing metadata: %v, want its error", err)
	}
	if got := numbers(t, s, "word"); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("versions after failed saves: %v, want [1 2]", got)
	}
	if v := save(t, s, "word", version("three")); v != 3 {
		t.Errorf("version after failed saves numbered %d, want 3", v)
	}
}

func testLiveCompareAndSwap(t *testing.T, s Store) {
	ctx := context.Background()
	if v := save(t, s, "m", liveVersion("a", 0)); v != 1 {
		t.Fatalf("v = %d", v)
	}
	// A second writer that also started from "no live version" is refused
	// whole: no version stored, live untouched.
	_, err := s.SaveVersion(ctx, "m", liveVersion("b", 0))
	var moved *LiveMovedError
	if !errors.As(err, &moved) || !errors.Is(err, ErrLiveMoved) || moved.Expected != 0 || moved.Actual != 1 {
		t.Fatalf("SaveVersion expecting no live version: %v, want LiveMovedError{0, 1}", err)
	}
	if got := numbers(t, s, "m"); !slices.Equal(got, []int{1}) {
		t.Errorf("versions after a refused promotion: %v, want [1]", got)
	}
	if v := save(t, s, "m", liveVersion("c", 1)); v != 2 {
		t.Errorf("promotion from v1 numbered %d, want 2", v)
	}
	if err := s.SetLiveVersion(ctx, "m", 1, 1); !errors.Is(err, ErrLiveMoved) {
		t.Errorf("rollback expecting v1 while v2 is live: %v, want ErrLiveMoved", err)
	}
	if err := s.SetLiveVersion(ctx, "m", 1, 2); err != nil {
		t.Errorf("rollback expecting v2: %v", err)
	}
	if err := s.SetLiveVersion(ctx, "m", 9, AnyLive); !errors.Is(err, ErrNoVersion) {
		t.Errorf("SetLiveVersion to a missing version: %v, want ErrNoVersion", err)
	}
	if err := s.SetLiveVersion(ctx, "m", 2, AnyLive); err != nil {
		t.Errorf("SetLiveVersion with AnyLive: %v", err)
	}
	if v, _ := s.LiveVersion(ctx, "m"); v != 2 {
		t.Errorf("live = %d, want 2", v)
	}
}

// testConcurrentPromotions: writers racing (goroutines with their own locks
// or connections, as processes would) never share a number, and of those
// promoting from the same live version exactly one wins.
func testConcurrentPromotions(t *testing.T, s Store) {
	ctx := context.Background()
	save(t, s, "m", liveVersion("base", 0))
	const n = 8
	var wg sync.WaitGroup
	results := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.SaveVersion(ctx, "m", liveVersion(fmt.Sprintf("candidate %d", i), 1))
		}()
	}
	wg.Wait()
	won := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			won++
			if live, _ := s.LiveVersion(ctx, "m"); live != results[i] {
				t.Errorf("winner saved v%d but live is v%d", results[i], live)
			}
		case !errors.Is(errs[i], ErrLiveMoved):
			t.Errorf("writer %d: %v, want success or ErrLiveMoved", i, errs[i])
		}
	}
	if won != 1 {
		t.Errorf("%d of %d promotions from v1 succeeded, want exactly 1", won, n)
	}
	if got := numbers(t, s, "m"); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("versions = %v, want [1 2]: refused promotions store nothing", got)
	}
	seen := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.SaveVersion(ctx, "m", version(fmt.Sprint(i)))
			if err != nil {
				t.Error(err)
			}
			seen <- v
		}()
	}
	wg.Wait()
	close(seen)
	var got []int
	for v := range seen {
		got = append(got, v)
	}
	slices.Sort(got)
	if want := []int{3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(got, want) {
		t.Errorf("concurrent saves numbered %v, want %v", got, want)
	}
}

func testSetAsideFilesPrune(t *testing.T, s Store) {
	ctx := context.Background()
	png := []byte("\x89PNG fake")
	if err := s.PutModelFile(ctx, "m", "loss.png", png); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ModelFile(ctx, "m", "loss.png"); err != nil || !bytes.Equal(got, png) {
		t.Errorf("ModelFile = %q, %v", got, err)
	}
	if err := s.PutModelFile(ctx, "m", "loss.png", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ModelFile(ctx, "m", "loss.png"); string(got) != "v2" {
		t.Errorf("ModelFile after a rewrite = %q", got)
	}
	if _, err := s.ModelFile(ctx, "m", "interrupted.json"); !errors.Is(err, ErrNoFile) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNoFile and fs.ErrNotExist", err)
	}
	for range 2 { // removing twice is fine
		if err := s.RemoveModelFile(ctx, "m", "loss.png"); err != nil {
			t.Errorf("RemoveModelFile: %v", err)
		}
	}
	if _, err := s.ModelFile(ctx, "m", "loss.png"); !errors.Is(err, ErrNoFile) {
		t.Errorf("removed file: %v", err)
	}
	for i := range 5 {
		save(t, s, "m", version(fmt.Sprint(i)))
	}
	if err := s.SetLiveVersion(ctx, "m", 2, AnyLive); err != nil {
		t.Fatal(err)
	}
	removed, err := s.PruneVersions(ctx, "m", 2)
	if err != nil || !slices.Equal(removed, []int{1, 3}) {
		t.Errorf("PruneVersions = %v, %v; want [1 3] (keeps the newest two and live v2)", removed, err)
	}
	if got := numbers(t, s, "m"); !slices.Equal(got, []int{2, 4, 5}) {
		t.Errorf("after prune: %v", got)
	}
	if err := s.PutModelFile(ctx, "m", "interrupted.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	aside, err := s.SetAsideModel(ctx, "m", at)
	if err != nil || !strings.HasSuffix(aside, "m.set-aside-20240102T030405Z") {
		t.Fatalf("SetAsideModel = %q, %v", aside, err)
	}
	if got := numbers(t, s, "m"); len(got) != 0 {
		t.Errorf("versions after setting aside: %v", got)
	}
	if _, err := s.LiveVersion(ctx, "m"); !errors.Is(err, ErrNoLive) {
		t.Errorf("live after setting aside: %v", err)
	}
	if _, err := s.ModelFile(ctx, "m", "interrupted.json"); !errors.Is(err, ErrNoFile) {
		t.Errorf("files after setting aside: %v", err)
	}
	if v := save(t, s, "m", version("new lineage")); v != 1 {
		t.Errorf("a new lineage starts at v%d, want v1", v)
	}
	aside2, err := s.SetAsideModel(ctx, "m", at)
	if err != nil || aside2 == aside {
		t.Errorf("second set-aside at the same time: %q, %v; want a name of its own", aside2, err)
	}
	if got, err := s.SetAsideModels(ctx, "m"); err != nil || !slices.Equal(got, []string{aside, aside2}) {
		t.Errorf("SetAsideModels = %v, %v; want [%s %s]", got, err, aside, aside2)
	}
	if got, _ := s.SetAsideModels(ctx, "other"); len(got) != 0 {
		t.Errorf("set-asides of another model: %v", got)
	}
}

func testModelNames(t *testing.T, s Store) {
	ctx := context.Background()
	for _, name := range []string{"", "a/b", "../x", "a.b", "a b", strings.Repeat("x", 65)} {
		if _, err := s.SaveVersion(ctx, name, version("x")); !errors.Is(err, ErrBadName) {
			t.Errorf("SaveVersion(%q): %v, want ErrBadName", name, err)
		}
		if _, err := s.LiveVersion(ctx, name); !errors.Is(err, ErrBadName) {
			t.Errorf("LiveVersion(%q): %v, want ErrBadName", name, err)
		}
	}
	for _, file := range []string{"../x.png", "live", "a/b.png", ".hidden.png", "Loss.PNG"} {
		if err := s.PutModelFile(ctx, "m", file, nil); !errors.Is(err, ErrBadName) {
			t.Errorf("PutModelFile(%q): %v, want ErrBadName", file, err)
		}
	}
}

// fast elections for tests.
var fast = leader.Options{Poll: 50 * time.Millisecond, Check: 100 * time.Millisecond, Timeout: 2 * time.Second}

func testElector(t *testing.T, s Store) {
	ctx := context.Background()
	held, release, err := s.Elector("trainer", fast).TryAcquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Elector("trainer", fast).TryAcquire(ctx); !errors.Is(err, leader.ErrHeld) {
		t.Errorf("second TryAcquire: %v, want ErrHeld", err)
	}
	_, release2, err := s.Elector("model/word", fast).TryAcquire(ctx)
	if err != nil {
		t.Errorf("another election: %v", err)
	} else {
		release2()
	}
	release()
	if held.Err() == nil {
		t.Errorf("held context alive after release")
	}
	_, release3, err := s.Elector("trainer", fast).TryAcquire(ctx)
	if err != nil {
		t.Errorf("TryAcquire after release: %v", err)
	} else {
		release3()
	}
}

// breakLock makes the leadership of held end the way a holder that lost it
// would see it: its PostgreSQL session is terminated, or its lock file replaced.
func breakLock(t *testing.T, s Store, held context.Context) {
	t.Helper()
	tok := leader.Tokens(held)[0]
	switch st := s.(type) {
	case *Postgres:
		if _, err := st.pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, int64(tok.Session)); err != nil {
			t.Fatal(err)
		}
	case *SQLite:
		other := tok.Name + ".new"
		if err := os.WriteFile(other, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(other, tok.Name); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("no way to break a lock of %T", s)
	}
}

// testFence: a live pointer moves under a leadership only while it is held,
// checked in the write's own transaction; a write made without leadership (an
// operator's rollback) is not fenced.
func testFence(t *testing.T, s Store) {
	held, release, err := s.Elector("trainer", fast).Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// The values of held without its cancellation: a holder that has not
	// noticed its loss yet.
	fenced := context.WithoutCancel(held)
	if _, err := s.SaveVersion(fenced, "m", liveVersion("a", 0)); err != nil {
		t.Fatalf("promotion while leading: %v", err)
	}
	save(t, s, "m", version("b"))
	breakLock(t, s, held)
	var err2 error
	deadline := time.Now().Add(5 * time.Second)
	for { // a terminated session leaves pg_locks within moments
		if err2 = s.SetLiveVersion(fenced, "m", 2, 1); err2 != nil || time.Now().After(deadline) {
			break
		}
		if err := s.SetLiveVersion(context.Background(), "m", 1, 2); err != nil { // undo, try again
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !errors.Is(err2, ErrFenced) {
		t.Errorf("promotion after the leadership was lost: %v, want ErrFenced", err2)
	}
	if _, err := s.SaveVersion(fenced, "m", liveVersion("c", 1)); !errors.Is(err, ErrFenced) {
		t.Errorf("save-and-promote after the leadership was lost: %v, want ErrFenced", err)
	}
	if got := numbers(t, s, "m"); !slices.Equal(got, []int{1, 2}) {
		t.Errorf("versions = %v, want [1 2]: a fenced save stores nothing", got)
	}
	if v, _ := s.LiveVersion(context.Background(), "m"); v != 1 {
		t.Errorf("live = v%d after fenced writes, want v1", v)
	}
	if err := s.SetLiveVersion(context.Background(), "m", 2, 1); err != nil {
		t.Errorf("an unfenced rollback: %v", err)
	}
}
