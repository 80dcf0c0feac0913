package atomicfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		old     string // "" = no file before
		fn      func(w io.Writer) error
		want    string // content after
		wantErr error
	}{
		{"new file", "", func(w io.Writer) error { _, err := io.WriteString(w, "hello"); return err }, "hello", nil},
		{"replace", "old", func(w io.Writer) error { _, err := io.WriteString(w, "new content"); return err }, "new content", nil},
		{"writer fails after partial write keeps old", "old", func(w io.Writer) error {
			_, _ = io.WriteString(w, "half")
			return errBoom
		}, "old", errBoom},
		{"empty content", "old", func(io.Writer) error { return nil }, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "f")
			if tt.old != "" {
				if err := os.WriteFile(p, []byte(tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(p, 0o640, tt.fn)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !errors.Is(err, ErrWrite) {
					t.Fatalf("err = %v, want %v wrapped with ErrWrite", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("content = %q, want %q", got, tt.want)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("dir holds %d entries, want 1 (no temp left)", len(ents))
			}
			if tt.wantErr == nil {
				st, _ := os.Stat(p)
				if st.Mode().Perm() != 0o640 {
					t.Errorf("mode = %v, want 0640", st.Mode().Perm())
				}
			}
		})
	}
}

func TestWriteMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "no", "such", "f")
	err := WriteFile(p, []byte("x"), 0o644)
	if !errors.Is(err, ErrWrite) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want ErrWrite wrapping ErrNotExist", err)
	}
}

func TestCleanTemp(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{TempPrefix + "a-1", TempPrefix + "b-2", "keep", ".other"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := CleanTemp(dir)
	if err != nil || got != 2 {
		t.Fatalf("CleanTemp = %d, %v; want 2, nil", got, err)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != ".other,keep" {
		t.Errorf("left %v, want [.other keep]", names)
	}
}

const childEnv = "ATOMICFILE_TEST_CHILD"

// TestKillDuringWrite re-executes the test binary as a child that writes a large
// file slowly; the parent kills it (SIGKILL) once the temporary file has grown, and
// checks the target still holds the old content in full.
func TestKillDuringWrite(t *testing.T) {
	if p := os.Getenv(childEnv); p != "" {
		// Child: write forever in chunks; the parent kills us.
		chunk := bytes.Repeat([]byte("N"), 4096)
		_ = Write(p, 0o644, func(w io.Writer) error {
			for {
				if _, err := w.Write(chunk); err != nil {
					return err
				}
				time.Sleep(time.Millisecond)
			}
		})
		os.Exit(3) // not reached
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "target")
	old := bytes.Repeat([]byte("old!"), 1000)
	if err := WriteFile(p, old, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringWrite$")
	cmd.Env = append(os.Environ(), childEnv+"="+p)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child's temporary file holds at least 64 KiB.
	deadline := time.Now().Add(20 * time.Second)
	grown := false
	for time.Now().Before(deadline) && !grown {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), TempPrefix) {
				if info, err := e.Info(); err == nil && info.Size() >= 64<<10 {
					grown = true
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !grown {
		t.Fatal("the child never started writing")
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, old) {
		t.Fatalf("target changed after kill -9: %d bytes, want the old %d", len(got), len(old))
	}
	n, err := CleanTemp(dir)
	if err != nil || n != 1 {
		t.Errorf("CleanTemp after kill = %d, %v; want 1 leftover removed", n, err)
	}
}
