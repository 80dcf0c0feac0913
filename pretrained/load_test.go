package pretrained

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func manifestFor(t *testing.T, files map[string][]byte, edit func(*Entry)) []byte {
	t.Helper()
	m := Manifest{Format: 1}
	for name, data := range files {
		sum := sha256.Sum256(data)
		e := Entry{Kind: strings.TrimSuffix(name, ".ckpt"), File: name, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
			VocabHash: "v", Hidden: []int{8}, Steps: 3, Corpus: Corpus{Sources: []Source{{Name: "fortunes"}, {Name: "Jane Austen's novels"}}}}
		if edit != nil {
			edit(&e)
		}
		m.Models = append(m.Models, e)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Load hands out exactly what the manifest describes, and refuses — naming the
// file — a manifest that names a missing file, records another digest or size,
// or is malformed; a build without a manifest has no pretrained models.
func TestLoadChecksTheManifest(t *testing.T) {
	data := map[string][]byte{"char-lstm.ckpt": []byte("weights")}
	good := manifestFor(t, data, nil)
	ms, err := LoadFS(fstest.MapFS{"manifest.json": {Data: good}, "char-lstm.ckpt": {Data: data["char-lstm.ckpt"]}})
	if err != nil || len(ms) != 1 || string(ms[0].Data) != "weights" {
		t.Fatalf("load = %+v, %v", ms, err)
	}
	if got := ms[0].Summary(); got != "pretrained on fortunes and Jane Austen's novels (3 steps)" {
		t.Errorf("Summary = %q", got)
	}
	if _, err := LoadFS(fstest.MapFS{"README.md": {Data: []byte("x")}}); !errors.Is(err, ErrNone) {
		t.Errorf("no manifest: %v, want ErrNone", err)
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"missing file", fstest.MapFS{"manifest.json": {Data: good}}, "char-lstm.ckpt"},
		{"other bytes", fstest.MapFS{"manifest.json": {Data: good}, "char-lstm.ckpt": {Data: []byte("weightz")}}, "sha256"},
		{"not JSON", fstest.MapFS{"manifest.json": {Data: []byte("{")}}, "manifest.json"},
		{"unknown field", fstest.MapFS{"manifest.json": {Data: []byte(`{"format":1,"models":[],"extra":1}`)}}, "extra"},
		{"format 2", fstest.MapFS{"manifest.json": {Data: []byte(`{"format":2}`)}}, "format 2"},
		{"path in file", fstest.MapFS{"manifest.json": {Data: manifestFor(t, data, func(e *Entry) { e.File = "../x.ckpt" })}}, "plain file name"},
		{"no digest", fstest.MapFS{"manifest.json": {Data: manifestFor(t, data, func(e *Entry) { e.SHA256 = "" })}}, "required"},
	} {
		_, err := LoadFS(tc.fsys)
		if !errors.Is(err, ErrManifest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrManifest naming %q", tc.name, err, tc.want)
		}
	}
}
