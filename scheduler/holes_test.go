package scheduler

import (
	"commentbot/store"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"commentbot/config"
	"commentbot/model"
	"commentbot/scheduler/runs"
)

func tinyChar(name string) config.ModelConfig {
	m := config.DefaultModel(name, config.KindCharLSTM)
	m.Hidden, m.Dropout, m.Streams, m.Steps, m.MaxTokens = []int{8, 8}, 0, 4, 8, 40
	return m
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Tried: a model's max_temperature of 0.5 over a checkpoint trained under the default
// 2.0, then raised to 3 by Apply. Survives: 1.5 is refused (model.ErrTemperature)
// and 0.4 samples while the limit is 0.5; 2.5 samples once it is 3.
func TestConfiguredMaxTemperatureBinds(t *testing.T) {
	e := newRealEnv(t, 60, 5, nil)
	e.start()
	cfg := e.s.Config()
	cfg.Models[0].MaxTemperature = 0.5
	e.s.Apply(cfg)
	ctx := context.Background()
	if _, err := e.s.Generate(ctx, "word", SampleOptions{Temperature: 1.5, Seed: 1}); !errors.Is(err, model.ErrTemperature) {
		t.Errorf("temperature 1.5 with max_temperature 0.5: err = %v, want ErrTemperature", err)
	}
	if _, err := e.s.Generate(ctx, "word", SampleOptions{Temperature: 0.4, Seed: 1}); err != nil {
		t.Errorf("temperature 0.4: %v", err)
	}
	cfg.Models[0].MaxTemperature = 3
	e.s.Apply(cfg)
	if _, err := e.s.Generate(ctx, "word", SampleOptions{Temperature: 2.5, Seed: 1}); err != nil {
		t.Errorf("temperature 2.5 with max_temperature 3 (checkpoint made under 2): %v", err)
	}
}

// Tried: a word checkpoint copied into the char model's directory as v2 with the live
// file pointing at it; a char checkpoint overwritten by a word one under its own
// metadata; then the char model's hidden sizes changed in the config. Survives: each
// foreign file is refused with ErrMismatch naming kind and level, the char model
// serves its own v1 (made live again), and with no version matching the new sizes the
// lineage is set aside whole and a new one trains at the configured sizes.
func TestForeignCheckpointsRefused(t *testing.T) {
	models := []config.ModelConfig{tinyWord("word"), tinyChar("char")}
	e := newRealEnv(t, 60, 5, func(o *Options) { o.Config.Models = models })
	e.start()
	repo := e.s.Repo()
	copyFile(t, repo.CheckpointPath("word", 1), repo.CheckpointPath("char", 2))
	if err := repo.SetLive(context.Background(), "char", 2, store.AnyLive); err != nil {
		t.Fatal(err)
	}
	dir := e.s.Config().DataDir
	restart := func(models ...config.ModelConfig) *env {
		return newRealEnv(t, 60, 5, func(o *Options) { o.Config.DataDir, o.Config.Models = dir, models })
	}
	e2 := restart(models...)
	e2.start()
	ld, err := e2.s.Live().Get("char")
	if err != nil || ld.Version != 1 || ld.Model.Spec().Kind != config.KindCharLSTM {
		t.Fatalf("char after a word checkpoint was made its live v2: %+v %v; want char-lstm v1", ld, err)
	}
	if v, _ := repo.Live(context.Background(), "char"); v != 1 {
		t.Errorf("live file = v%d, want v1 again", v)
	}
	_, _, err = e2.s.loadVersion(context.Background(), tinyChar("char"), 2)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "word-lstm checkpoint and the config says char-lstm") ||
		!strings.Contains(err.Error(), "word-level and char-lstm needs char-level") {
		t.Errorf("loading the word file as char: %v", err)
	}
	if _, _, err := e2.s.LoadVersion(context.Background(), "char", 2); !errors.Is(err, ErrMismatch) {
		t.Errorf("LoadVersion (the CLI's generate/eval) of the word file: %v", err)
	}
	if _, err := e2.s.Rollback(context.Background(), "char", 2); !errors.Is(err, ErrMismatch) {
		t.Errorf("Rollback to the word file: %v", err)
	}

	// Same name, other lineage: the metadata's vocabulary hash catches it.
	own := repo.CheckpointPath("char", 1)
	backup := own + ".bak"
	copyFile(t, own, backup)
	copyFile(t, repo.CheckpointPath("word", 1), own)
	if _, _, err := e2.s.loadVersion(context.Background(), tinyWord("char"), 1); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "another lineage") {
		t.Errorf("a word checkpoint under char's v1 metadata, loaded as a word model: %v", err)
	}
	if err := os.Rename(backup, own); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(repo.CheckpointPath("char", 2)); err != nil {
		t.Fatal(err)
	}

	// New sizes in the config: no version fits; the lineage is set aside.
	bigger := tinyChar("char")
	bigger.Hidden = []int{12, 12}
	e4 := restart(tinyWord("word"), bigger)
	e4.start()
	ld, err = e4.s.Live().Get("char")
	if err != nil || !slices.Equal(ld.Model.Spec().Hidden, []int{12, 12}) {
		t.Fatalf("char after its sizes changed: %+v %v; want a new lineage of [12 12]", ld, err)
	}
	asides, _ := repo.SetAsides(context.Background(), "char")
	tr, ok := e4.s.Trouble("char")
	if len(asides) != 1 || !ok || tr.SetAside != asides[0] || !strings.Contains(tr.Reason, "hidden layers [8 8], the config says [12 12]") {
		t.Fatalf("set aside %v, trouble %+v", asides, tr)
	}
	if _, err := os.Stat(filepath.Join(asides[0], "v000001.ckpt")); err != nil {
		t.Errorf("the set-aside lineage lost its checkpoint: %v", err)
	}
	if got := e4.runs(JobSetAside); len(got) != 1 || !strings.Contains(got[0].Detail, asides[0]) {
		t.Errorf("set-aside runs = %+v", got)
	}
	if ld, err := e4.s.Live().Get("word"); err != nil || ld.Version != 1 {
		t.Errorf("word model after char was set aside: %+v %v", ld, err)
	}
}

// Tried: every checkpoint of one of two models truncated on disk, then a restart;
// separately the same damage followed by `commentbot train` (Scheduler.Train, not
// Full). Survives: the healthy model serves at once; the damaged lineage is moved
// aside whole (files intact, named by Trouble and in a set-aside run), a new v1
// trains and serves; Train likewise starts a new lineage instead of failing.
func TestDamagedLineageSetAside(t *testing.T) {
	models := []config.ModelConfig{testModel("good"), testModel("bad")}
	for _, via := range []string{"restart", "train"} {
		t.Run(via, func(t *testing.T) {
			e := newEnv(t, 60, func(o *Options) { o.Config.Models = models })
			e.start()
			if _, err := e.s.Train(context.Background(), "bad", TrainRequest{}); err != nil {
				t.Fatal(err)
			}
			repo := e.s.Repo()
			for _, v := range []int{1, 2} {
				p := repo.CheckpointPath("bad", v)
				b, _ := os.ReadFile(p)
				if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dir := e.s.Config().DataDir
			e2 := newEnv(t, 60, func(o *Options) { o.Config.DataDir, o.Config.Models = dir, models })
			if via == "restart" {
				e2.start()
			} else {
				rep, err := e2.s.Train(context.Background(), "bad", TrainRequest{})
				if err != nil || rep.From != 0 || rep.Info.Version != 1 {
					t.Fatalf("Train over a damaged lineage: %+v %v; want a new lineage v1", rep, err)
				}
			}
			if via == "restart" {
				if ld, err := e2.s.Live().Get("good"); err != nil || ld.Version != 1 {
					t.Errorf("healthy model: %+v %v", ld, err)
				}
				if ld, err := e2.s.Live().Get("bad"); err != nil || ld.Version != 1 || ld.Info.Job != JobBootstrap {
					t.Errorf("damaged model after restart: %+v %v; want a fresh bootstrap v1", ld, err)
				}
			}
			asides, _ := repo.SetAsides(context.Background(), "bad")
			tr, _ := e2.s.Trouble("bad")
			if len(asides) != 1 || tr.SetAside != asides[0] || !strings.Contains(tr.Reason, "corrupt") {
				t.Fatalf("set aside %v, trouble %+v", asides, tr)
			}
			for _, f := range []string{"v000001.ckpt", "v000002.ckpt", "live"} {
				if _, err := os.Stat(filepath.Join(asides[0], f)); err != nil {
					t.Errorf("set-aside lineage: %v", err)
				}
			}
		})
	}
}

// Tried: the live file pointed at a version that does not load while the bot serves,
// and SyncLive run many times (the scheduler runs it every 5 s). Survives: the serving
// version stays, the refusal is logged once, and Trouble names it; fixing the file
// clears it.
func TestSyncLiveWarnsOnce(t *testing.T) {
	log := &lockedLog{}
	e := newEnv(t, 60, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(log, nil)) })
	e.start()
	repo := e.s.Repo()
	copyFile(t, repo.CheckpointPath("uni", 1), repo.CheckpointPath("uni", 2))
	if err := os.WriteFile(repo.CheckpointPath("uni", 2), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := repo.SetLive(context.Background(), "uni", 2, store.AnyLive); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		e.s.SyncLive(context.Background())
	}
	if n := strings.Count(log.String(), "cannot serve"); n != 1 {
		t.Errorf("%d warnings over 5 passes, want 1:\n%s", n, log.String())
	}
	if tr, ok := e.s.Trouble("uni"); !ok || tr.Refused != 2 || e.liveVersion("uni") != 1 {
		t.Errorf("trouble %+v, serving v%d; want v2 refused, v1 serving", tr, e.liveVersion("uni"))
	}
	if err := repo.SetLive(context.Background(), "uni", 1, store.AnyLive); err != nil {
		t.Fatal(err)
	}
	e.s.SyncLive(context.Background())
	if tr, ok := e.s.Trouble("uni"); ok {
		t.Errorf("trouble after the live file named the serving version again: %+v", tr)
	}
}

// lockedLog collects log output written from several goroutines.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Tried: Apply a config whose model has other hidden sizes than the serving lineage.
// Survives: v1 serves on while a new lineage trains; it then goes live as v2 with the
// configured sizes, recorded as a full training.
func TestApplyNewSizesTrainsNewLineage(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	cfg := e.s.Config()
	cfg.Models[0].Hidden = []int{7}
	e.s.Apply(cfg)
	if ld, err := e.s.Live().Get("uni"); err != nil || ld.Version != 1 {
		t.Errorf("right after Apply: %+v %v; want v1 serving", ld, err)
	}
	if err := e.s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ld, err := e.s.Live().Get("uni")
	if err != nil || ld.Version != 2 || !slices.Equal(ld.Model.Spec().Hidden, []int{7}) {
		t.Fatalf("after the retrain: %+v %v; want v2 with hidden [7]", ld, err)
	}
	if rs := e.runs(JobFullTrain); len(rs) != 1 || rs[0].Outcome != runs.OutcomeOK {
		t.Errorf("full-train runs = %+v", rs)
	}
}

// Tried: the live file naming a garbage v2 (refused), then v2 replaced by a good
// checkpoint without touching the live file. Survives: the next sync loads it.
func TestSyncLiveRetriesAChangedFile(t *testing.T) {
	e := newEnv(t, 60, nil)
	e.start()
	repo := e.s.Repo()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	good, err := os.ReadFile(repo.CheckpointPath("uni", 1))
	must(err)
	must(os.WriteFile(repo.CheckpointPath("uni", 2), []byte("garbage"), 0o644))
	must(repo.SetLive(context.Background(), "uni", 2, store.AnyLive))
	e.s.SyncLive(context.Background())
	if tr, ok := e.s.Trouble("uni"); !ok || tr.Refused != 2 {
		t.Fatalf("trouble %+v", tr)
	}
	must(os.WriteFile(repo.CheckpointPath("uni", 2), good, 0o644))
	e.s.SyncLive(context.Background())
	if got := e.liveVersion("uni"); got != 2 {
		t.Errorf("serving v%d after v2 was repaired, want v2", got)
	}
}
