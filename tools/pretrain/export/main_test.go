package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"commentbot/cli"
	"commentbot/pretrained"
)

// corpusFile writes a small pretraining corpus with tools/pretraincorpus's ids.
func corpusFile(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	for i := range 300 {
		src := []string{"fortune_misc", "austen", "written_a-01"}[i%3]
		body := fmt.Sprintf("I think comment number %d is about %s, and honestly it reads well enough.", i, []string{"bread", "rain", "tea"}[i%3])
		line, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("pt_%s_%d", src, i), "subreddit": "x", "author": "y", "body": body})
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(dir, "pt.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Tried: a char and a word lineage trained the way pretrain.sh trains them
// (`commentbot train --full --data FILE`, checkpoints under
// <data_dir>/models/<name>/), each exported into one weights directory.
// Survives: the directory loads through package pretrained (sizes and sha256
// checked), each checkpoint is serving-only and smaller than the training
// one, the second export keeps the first entry, and the provenance names the
// corpus's sources and counts, the command, config text and seed. A lineage
// that does not exist is refused, and the manifest is left as it was.
func TestExportTwoLineages(t *testing.T) {
	dir := t.TempDir()
	data := corpusFile(t, dir)
	cfgPath := filepath.Join(dir, "pt.yaml")
	cfgText := fmt.Sprintf("data_dir: %s\nmetrics:\n  listen: \"\"\nmodels:\n  - name: char\n    kind: char-lstm\n    hidden: [16, 16]\n    streams: 4\n    steps: 16\n  - name: word\n    kind: word-lstm\n    vocab_size: 60\n    embed: 8\n    hidden: [16]\n    streams: 4\n    steps: 8\n",
		filepath.Join(dir, "data"))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "reference.csv")
	refText := "id,body\n"
	for i := range 80 {
		refText += fmt.Sprintf("r%d,\"Honestly I think the bread is fine, zymurgy aside, says comment %d of the rain thread.\"\n", i, i)
	}
	if err := os.WriteFile(ref, []byte(refText), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "weights") // made by the first export
	for _, name := range []string{"char", "word"} {
		var stdout, stderr bytes.Buffer
		args := []string{"train", "--config", cfgPath, "--model", name, "--full", "--steps", "3", "--seed", "1", "--data", data}
		if code := cli.Main(ctx, args, cli.Env{Stdout: &stdout, Stderr: &stderr}); code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr.String())
		}
		o := options{dataDir: filepath.Join(dir, "data"), name: name, corpusFile: data, configFile: cfgPath,
			command: "commentbot " + strings.Join(args, " "), commit: "abc", goVersion: "go1.x", out: out, seed: 1, reference: ref}
		if _, err := export(ctx, o); err != nil {
			t.Fatalf("export %s: %v", name, err)
		}
	}
	ms, err := pretrained.LoadFS(os.DirFS(out))
	if err != nil || len(ms) != 2 || ms[0].Kind != "char-lstm" || ms[1].Kind != "word-lstm" {
		t.Fatalf("exported directory: %+v, %v; want char-lstm and word-lstm", ms, err)
	}
	// A 60-word vocabulary counted on 300 look-alike comments covers less of
	// the sample than the characters do.
	if !(ms[0].SampleCoverage > 0.5 && ms[1].SampleCoverage < ms[0].SampleCoverage) {
		t.Errorf("sample coverage: char %v, word %v", ms[0].SampleCoverage, ms[1].SampleCoverage)
	}
	for _, m := range ms {
		full, err := os.ReadFile(filepath.Join(dir, "data", "models", strings.TrimSuffix(m.Kind, "-lstm"), "v000001.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Bytes >= int64(len(full)) {
			t.Errorf("%s: shipped %d bytes, the training checkpoint %d: not serving-only", m.Kind, m.Bytes, len(full))
		}
		c := m.Corpus
		if c.Comments != 300 || len(c.Sources) != 3 || c.Sources[0].Name != "fortunes" || c.Sources[0].Comments != 100 || len(c.SHA256) != 64 {
			t.Errorf("%s: corpus %+v; want 300 comments from three sources, 100 of them fortunes", m.Kind, c)
		}
		if m.Steps != 3 || m.Seed != 1 || m.Config != cfgText || !strings.Contains(m.Command, "--full --steps 3") || m.HeldOutTokens == 0 {
			t.Errorf("%s: provenance %+v", m.Kind, m.Entry)
		}
		if r := m.Reference; r == nil || r.File != "reference.csv" || !(r.BitsPerChar > 0) || !(r.Coverage > 0 && r.Coverage < 1) {
			t.Errorf("%s: reference figures %+v; want bits per character and a partial coverage (zymurgy is in no vocabulary)", m.Kind, r)
		}
		if !(m.SampleBitsPerChar > 0) || !(m.SampleCoverage > 0 && m.SampleCoverage <= 1) {
			t.Errorf("%s: bits per character on the sample %v, its tokens covered %v", m.Kind, m.SampleBitsPerChar, m.SampleCoverage)
		}
	}
	before, _ := os.ReadFile(filepath.Join(out, pretrained.ManifestFile))
	_, err = export(ctx, options{dataDir: filepath.Join(dir, "data"), name: "nosuch", corpusFile: data, configFile: cfgPath, out: out})
	after, _ := os.ReadFile(filepath.Join(out, pretrained.ManifestFile))
	if err == nil || !bytes.Equal(before, after) {
		t.Errorf("export of a missing lineage: %v; manifest changed: %v", err, !bytes.Equal(before, after))
	}
	tiny := filepath.Join(dir, "tiny.csv")
	if err := os.WriteFile(tiny, []byte("id,body\nr1,Two comments.\nr2,Too few.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = export(ctx, options{dataDir: filepath.Join(dir, "data"), name: "char", corpusFile: data, configFile: cfgPath, out: out, reference: tiny})
	after, _ = os.ReadFile(filepath.Join(out, pretrained.ManifestFile))
	if err == nil || !strings.Contains(err.Error(), "too few") || !bytes.Equal(before, after) {
		t.Errorf("export with a two-comment reference: %v; manifest changed: %v", err, !bytes.Equal(before, after))
	}
}
