// Command export turns the live version of a trained lineage into a shipped
// checkpoint of package pretrained: a serving-only copy (weights, vocabulary
// and training history; no optimizer moments or carried state) written to
// <out>/<kind>.ckpt, and its entry in <out>/manifest.json (the entry of the
// same kind is replaced, the others kept) with the provenance the README
// promises:
//
//	go run ./tools/pretrain/export --data-dir /work/pt/char-data --model char \
//	    --corpus /work/pt/pt.ndjson --config tools/pretrain/char.yaml --seed 1 \
//	    --commit 242d6babb1a7353e05f75b9d3108f1152b8550da --go-version go1.26.8 \
//	    --command './cb train --config tools/pretrain/char.yaml --model char --full --steps 20000 --seed 1 --data pt.ndjson' \
//	    --reference ../shared/data/reddit-comments-2015-08.sample.csv
//
// The corpus's sources are read from its comment ids (pt_<source>_…, as
// tools/pretraincorpus writes them) and described with the Debian package
// versions installed here. It also measures the checkpoint on the held-out
// part of the embedded sample (bits per character, the scale /models ranks
// on), which the pretraining never saw, and with --reference on a file of
// real Reddit comments (the seed sample). tools/pretrain/pretrain.sh runs it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"commentbot/corpus"
	"commentbot/internal/atomicfile"
	"commentbot/model"
	"commentbot/pretrained"
	"commentbot/scheduler"
	"commentbot/store"
	"commentbot/text"
)

type options struct {
	dataDir, name, corpusFile, configFile, command, commit, goVersion, out, reference string
	seed                                                                              uint64
}

func main() {
	var o options
	flag.StringVar(&o.dataDir, "data-dir", "", "data directory of the pretraining run (required)")
	flag.StringVar(&o.name, "model", "", "model name in that run's config (required)")
	flag.StringVar(&o.corpusFile, "corpus", "", "the NDJSON file the run trained on (required)")
	flag.StringVar(&o.configFile, "config", "", "the config file the run used (required)")
	flag.StringVar(&o.command, "command", "", "the exact command that trained it (required)")
	flag.Uint64Var(&o.seed, "seed", 0, "the seed given to that command")
	flag.StringVar(&o.commit, "commit", "", "commit of the binary that trained it (required)")
	flag.StringVar(&o.goVersion, "go-version", "", "Go version that built that binary (required)")
	flag.StringVar(&o.out, "out", "pretrained/weights", "directory of the shipped files")
	flag.StringVar(&o.reference, "reference", "", "optional CSV or NDJSON file of real comments no corpus holds (the seed sample) to measure on")
	flag.Parse()
	if o.dataDir == "" || o.name == "" || o.corpusFile == "" || o.configFile == "" || o.command == "" || o.commit == "" || o.goVersion == "" {
		flag.Usage()
		os.Exit(2)
	}
	e, err := export(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %s, %d bytes, sha256 %.16s…; held-out %.4f nats/token on the corpus; on the embedded sample %.4f bits/char, %.1f%% of its tokens in the vocabulary\n",
		e.Kind, filepath.Join(o.out, e.File), e.Bytes, e.SHA256, e.HeldOutLoss, e.SampleBitsPerChar, 100*e.SampleCoverage)
	if r := e.Reference; r != nil {
		fmt.Printf("  on %s: %.4f bits/char, %.1f%% of its tokens in the vocabulary\n", r.File, r.BitsPerChar, 100*r.Coverage)
	}
}

// export writes the shipped checkpoint and its manifest entry.
func export(ctx context.Context, o options) (pretrained.Entry, error) {
	repo := scheduler.NewRepo(store.NewModelDir(filepath.Join(o.dataDir, "models")))
	v, err := repo.Live(ctx, o.name)
	if err != nil {
		return pretrained.Entry{}, err
	}
	info, err := repo.Info(ctx, o.name, v)
	if err != nil {
		return pretrained.Entry{}, err
	}
	raw, err := os.ReadFile(repo.CheckpointPath(o.name, v))
	if err != nil {
		return pretrained.Entry{}, err
	}
	cp, err := model.Decode(bytes.NewReader(raw))
	if err != nil {
		return pretrained.Entry{}, err
	}
	var buf bytes.Buffer
	if err := model.Encode(&buf, cp.Serving()); err != nil {
		return pretrained.Entry{}, err
	}
	cfgText, err := os.ReadFile(o.configFile)
	if err != nil {
		return pretrained.Entry{}, err
	}
	corp, err := describeCorpus(o.corpusFile)
	if err != nil {
		return pretrained.Entry{}, err
	}
	bpc, coverage, err := sampleFigures(ctx, buf.Bytes())
	if err != nil {
		return pretrained.Entry{}, err
	}
	var ref *pretrained.Reference
	if o.reference != "" {
		r, err := referenceFigures(ctx, buf.Bytes(), o.reference)
		if err != nil {
			return pretrained.Entry{}, fmt.Errorf("reference %s: %w", o.reference, err)
		}
		ref = &r
	}
	lm, sum := cp.Model, sha256.Sum256(buf.Bytes())
	e := pretrained.Entry{
		Kind: string(lm.Kind()), File: string(lm.Kind()) + ".ckpt", Bytes: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:]),
		VocabHash: lm.VocabHash(), VocabSize: lm.VocabSize(), Embed: lm.Config().Embed, Hidden: lm.Config().Hidden,
		Steps: cp.State.Step, TokensTrained: cp.State.Tokens, Seed: o.seed,
		HeldOutLoss: info.HeldOutLoss, HeldOutTokens: info.HeldOutTokens, SampleBitsPerChar: bpc, SampleCoverage: coverage, Reference: ref, Trained: info.Created.UTC(),
		ConfigFile: o.configFile, Config: string(cfgText), Command: o.command, Commit: o.commit, GoVersion: o.goVersion,
		Corpus: corp,
		Licence: "The weights are derived from the corpus sources listed, each of which may be redistributed: " +
			"Debian's fortunes under its BSD-style licence, Jane Austen's novels in the public domain (packaged by janeaustenr, MIT), " +
			"and the project's own threads under the project's licence. They are shipped under the project's licence.",
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return e, err
	}
	if err := atomicfile.WriteFile(filepath.Join(o.out, e.File), buf.Bytes(), 0o644); err != nil {
		return e, err
	}
	return e, writeManifest(o.out, e)
}

// writeManifest replaces the entry of e's kind in dir's manifest (creating it).
func writeManifest(dir string, e pretrained.Entry) error {
	path := filepath.Join(dir, pretrained.ManifestFile)
	m := pretrained.Manifest{Format: 1}
	raw, err := os.ReadFile(path)
	switch {
	case err == nil:
		if m, err = pretrained.ParseManifest(raw); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	kept := m.Models[:0]
	for _, x := range m.Models {
		if x.Kind != e.Kind {
			kept = append(kept, x)
		}
	}
	m.Models = append(kept, e)
	sort.Slice(m.Models, func(i, j int) bool { return m.Models[i].Kind < m.Models[j].Kind })
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(out, '\n'), 0o644)
}

// sources describes the corpus sources tools/pretraincorpus names in its ids.
var sources = map[string]pretrained.Source{
	"fortune": {Name: "fortunes", Origin: "Debian package fortunes %s (/usr/share/games/fortunes)",
		Licence: "BSD-style: redistribution permitted with the copyright notice (Debian's /usr/share/doc/fortunes/copyright)"},
	"austen": {Name: "Jane Austen's novels", Origin: "the six novels as packaged by janeaustenr, Debian package r-cran-janeaustenr %s",
		Licence: "public domain text (published 1811–1818); the janeaustenr package is MIT-licensed"},
	"written": {Name: "the project's own threads", Origin: "tools/pretrain/written",
		Licence: "written by the project's authors for this purpose; the project's licence"},
}

var packages = map[string]string{"fortune": "fortunes", "austen": "r-cran-janeaustenr"}

// describeCorpus hashes the corpus file and counts its comments by source.
func describeCorpus(path string) (pretrained.Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return pretrained.Corpus{}, err
	}
	defer f.Close()
	h := sha256.New()
	c := pretrained.Corpus{File: filepath.Base(path)}
	bySource := map[string]*pretrained.Source{}
	sc := bufio.NewScanner(io.TeeReader(f, h))
	sc.Buffer(make([]byte, 1<<20), corpus.MaxRecordBytes)
	for sc.Scan() {
		var r struct{ ID, Body string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
		parts := strings.SplitN(r.ID, "_", 3)
		if len(parts) < 3 || parts[0] != "pt" {
			return c, fmt.Errorf("%s: id %q is not a tools/pretraincorpus id", path, r.ID)
		}
		s, ok := bySource[parts[1]]
		if !ok {
			d, known := sources[parts[1]]
			if !known {
				return c, fmt.Errorf("%s: unknown source %q", path, parts[1])
			}
			if p := packages[parts[1]]; p != "" {
				d.Origin = fmt.Sprintf(d.Origin, debVersion(p))
			}
			s = &d
			bySource[parts[1]] = s
		}
		s.Comments++
		s.Bytes += int64(len(r.Body))
		c.Comments++
	}
	if err := sc.Err(); err != nil {
		return c, err
	}
	if _, err := io.Copy(h, f); err != nil { // a final line the scanner did not need
		return c, err
	}
	st, err := f.Stat()
	if err != nil {
		return c, err
	}
	c.Bytes, c.SHA256 = st.Size(), hex.EncodeToString(h.Sum(nil))
	for _, k := range []string{"fortune", "austen", "written"} {
		if s := bySource[k]; s != nil {
			c.Sources = append(c.Sources, *s)
		}
	}
	return c, nil
}

// debVersion is the installed version of a Debian package, or "(version unknown)".
func debVersion(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
	if err != nil || len(out) == 0 {
		return "(version unknown)"
	}
	return string(out)
}

// sampleFigures measures a checkpoint on the embedded sample, cleaned by
// the default rules: bits per character on its held-out part (what a first
// start's /models shows for the version it installs), and the share of all
// its tokens, specials aside, that the vocabulary holds.
func sampleFigures(ctx context.Context, ckpt []byte) (bpc, coverage float64, err error) {
	cs, err := corpus.SampleComments(ctx)
	if err != nil {
		return 0, 0, err
	}
	return figures(ctx, ckpt, cs, true)
}

// referenceFigures are the same figures on every comment of a file — the
// seed sample of real Reddit comments, which no pretraining corpus holds.
func referenceFigures(ctx context.Context, ckpt []byte, path string) (pretrained.Reference, error) {
	src, err := corpus.FileSource(path)
	if err != nil {
		return pretrained.Reference{}, err
	}
	var cs []corpus.Comment
	if err := src(ctx, func(c corpus.Comment) error { cs = append(cs, c); return nil }); err != nil {
		return pretrained.Reference{}, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return pretrained.Reference{}, err
	}
	sum := sha256.Sum256(raw)
	r := pretrained.Reference{File: filepath.Base(path), SHA256: hex.EncodeToString(sum[:])}
	r.BitsPerChar, r.Coverage, err = figures(ctx, ckpt, cs, false)
	if err == nil && (math.IsNaN(r.BitsPerChar) || math.IsInf(r.BitsPerChar, 0)) {
		err = fmt.Errorf("%d comments: too few to fill one evaluation batch", len(cs))
	}
	return r, err
}

// figures cleans cs by the default rules and measures the checkpoint on them
// (on their held-out part when heldOnly): bits per character, and the share
// of all their tokens, specials aside, in the vocabulary.
func figures(ctx context.Context, ckpt []byte, cs []corpus.Comment, heldOnly bool) (bpc, coverage float64, err error) {
	m, err := scheduler.ModelEngine{}.Decode(bytes.NewReader(ckpt))
	if err != nil {
		return 0, 0, err
	}
	level := text.Level(m.Spec().Level)
	v, err := text.NewVocab(m.(interface{ LM() *model.LM }).LM().VocabTokens())
	if err != nil {
		return 0, 0, err
	}
	var held []corpus.Comment
	var known, all int
	rules := text.DefaultCleanRules()
	for _, c := range cs {
		k, why := corpus.Clean(c, rules)
		if why != "" {
			continue
		}
		if !heldOnly || corpus.SplitOf(k.ID, corpus.DefaultValidFraction) == corpus.Validation {
			held = append(held, k)
		}
		for _, tok := range level.Tokens(k.Body) {
			if !slices.Contains(level.Specials(), tok) {
				all++
				if v.Contains(tok) {
					known++
				}
			}
		}
	}
	ev, err := m.Evaluate(ctx, corpus.SliceSource(held))
	return ev.BitsPerChar, float64(known) / float64(max(all, 1)), err
}
