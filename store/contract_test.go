package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"commentbot/internal/pgtest"
)

// The contract of Store, run against both implementations: the embedded
// SQLite store (a file in a temporary directory, model versions beside it)
// and PostgreSQL (a fresh database on a real server started for this test
// binary, see internal/pgtest). Each case gets an empty store of its own.

var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	if err := pg.Close(); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		code = 1
	}
	os.Exit(code)
}

// backend opens an empty store of one implementation for t.
type backend struct {
	name string
	open func(t *testing.T) Store
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) Store {
			s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "corpus.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", func(t *testing.T) Store { return openPG(t, pg.Database(t)) }},
	}
}

func openPG(t *testing.T, url string) *Postgres {
	t.Helper()
	ctx := context.Background()
	s, err := OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// contract lists every case of the contract.
var contract = []struct {
	name string
	run  func(t *testing.T, s Store)
}{
	{"UpsertSemantics", testUpsertSemantics},
	{"UpsertRefusesWholeBatch", testUpsertRefusesWholeBatch},
	{"Filter", testFilter},
	{"CommentsStopsAndWritesInsideCallback", testCommentsStopsAndWritesInsideCallback},
	{"CursorAndCommitPage", testCursorAndCommitPage},
	{"CommitPageForgetsGone", testCommitPageForgetsGone},
	{"ConcurrentWritersAndReaders", testConcurrentWritersAndReaders},
	{"Runs", testRuns},
	{"ModelVersions", testModelVersions},
	{"LiveCompareAndSwap", testLiveCompareAndSwap},
	{"ConcurrentPromotions", testConcurrentPromotions},
	{"SetAsideFilesPrune", testSetAsideFilesPrune},
	{"ModelNames", testModelNames},
	{"ReplayKeys", testReplayKeys},
	{"CommandLimits", testCommandLimits},
	{"ConcurrentCooldown", testConcurrentCooldown},
	{"SlotsAndSettings", testSlotsAndSettings},
	{"Elector", testElector},
	{"Fence", testFence},
}

func TestContract(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range contract {
				t.Run(c.name, func(t *testing.T) { c.run(t, b.open(t)) })
			}
		})
	}
}
