package scheduler

import (
	"commentbot/store"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"commentbot/internal/atomicfile"
)

const crashEnv = "SCHEDULER_TEST_CRASH_DIR"

// slowModel writes its checkpoint forever, slowly: the parent kills the writer
// mid-write.
type slowModel struct{ *uniModel }

func (m slowModel) Encode(w io.Writer) error {
	chunk := make([]byte, 8192)
	for {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}

// TestKillDuringCheckpointWrite re-executes the test binary as a child that
// saves v2 of a model; the parent kills it (SIGKILL) while the checkpoint is
// being written, then checks that v1 is still live and loads with its exact
// content, that the half-written file is not listed as a version, and that the
// next save and prune recover cleanly.
func TestKillDuringCheckpointWrite(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		r := NewRepo(store.NewModelDir(dir))
		m := &uniModel{eng: &uniEngine{}, Vocab: []string{uniUnknown}, Counts: []float64{0}}
		_, err := r.Save(context.Background(), "uni", slowModel{m}, VersionInfo{Job: JobFineTune})
		t.Fatalf("child: Save returned %v; it should have been killed", err)
	}
	dir := t.TempDir()
	r := NewRepo(store.NewModelDir(dir))
	eng := &uniEngine{}
	v1 := &uniModel{eng: eng, Vocab: []string{uniUnknown, "hello", "world"}, Counts: []float64{0, 3, 5}, Total: 8}
	if _, err := r.Save(context.Background(), "uni", v1, VersionInfo{Job: JobBootstrap}); err != nil {
		t.Fatal(err)
	}
	if err := r.SetLive(context.Background(), "uni", 1, store.AnyLive); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringCheckpointWrite$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	grown := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && !grown; time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir(r.Dir("uni"))
		for _, e := range ents {
			if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), atomicfile.TempPrefix+"v000002.ckpt") && info.Size() >= 256<<10 {
				grown = true
			}
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !grown {
		t.Fatal("the child never got to write the checkpoint")
	}

	vs, err := r.List(context.Background(), "uni")
	if err != nil || len(vs) != 1 || vs[0].Version != 1 || !vs[0].Live {
		t.Fatalf("List after kill = %+v, %v; want only v1, live", vs, err)
	}
	live, err := r.Live(context.Background(), "uni")
	if err != nil || live != 1 {
		t.Fatalf("Live after kill = %d, %v; want 1", live, err)
	}
	got, err := r.Load(context.Background(), eng, "uni", live)
	if err != nil {
		t.Fatalf("v1 does not load after kill: %v", err)
	}
	if g := got.(*uniModel); !slices.Equal(g.Counts, v1.Counts) || !slices.Equal(g.Vocab, v1.Vocab) {
		t.Errorf("v1 loaded as %v %v, want %v %v", g.Vocab, g.Counts, v1.Vocab, v1.Counts)
	}
	// Recovery: the next save is v2 (the stray metadata is overwritten) and
	// Prune removes the dead writer's temp file.
	info, err := r.Save(context.Background(), "uni", v1, VersionInfo{Job: JobFineTune, Parent: 1})
	if err != nil || info.Version != 2 {
		t.Fatalf("Save after kill = v%d, %v; want v2", info.Version, err)
	}
	if _, err := r.Prune(context.Background(), "uni", 5); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(r.Dir("uni"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if want := []string{"live", "v000001.ckpt", "v000001.json", "v000002.ckpt", "v000002.json"}; !slices.Equal(names, want) {
		t.Errorf("files after recovery = %v, want %v", names, want)
	}
	if _, err := r.Load(context.Background(), eng, "uni", 2); err != nil {
		t.Errorf("v2 does not load: %v", err)
	}
}
