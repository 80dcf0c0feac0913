// Package pretrained holds the language models shipped inside the binary: a
// char-lstm and a word-lstm checkpoint at the default sizes, trained on text
// the project may redistribute weights of (Debian's fortunes, Jane Austen's
// novels, the project's own threads), so that a first start answers /comment
// at once and in real words instead of training for minutes first.
//
// The files live in weights/: manifest.json lists every shipped checkpoint
// with its provenance (corpus sources, sizes and sha256, steps, seed, the
// config and command, the commit and Go version that trained it, held-out
// loss, vocabulary hash, licence notes), and each checkpoint is a
// serving-only model.Encode file (weights, vocabulary and training history;
// no optimizer moments or carried state). tools/pretrain/export writes both
// from a trained lineage; tools/pretrain/pretrain.sh reproduces them from a
// fresh machine. The manifest is the list of files: Load refuses a manifest
// naming a file the build lacks or whose sha256 differs, and a test refuses
// an embedded file the manifest does not name.
//
// The package imports only the standard library: it hands out bytes and
// their description, and the scheduler decodes and checks them like any
// checkpoint.
package pretrained

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"
)

// weights is the directory of shipped files. It always holds README.md, so
// the package builds before any weights are dropped in.
//
//go:embed weights
var weights embed.FS

// ManifestFile is the manifest's name in the weights directory.
const ManifestFile = "manifest.json"

// ErrNone means the build carries no pretrained models (no manifest).
var ErrNone = errors.New("pretrained: this build ships no pretrained models")

// ErrManifest marks a manifest that does not describe the embedded files.
var ErrManifest = errors.New("pretrained: manifest does not match the embedded files")

// Manifest lists the shipped checkpoints.
type Manifest struct {
	// Format is the manifest's format version (1).
	Format int     `json:"format"`
	Models []Entry `json:"models"`
}

// Entry is one shipped checkpoint and how it was made.
type Entry struct {
	// Kind is the model kind ("char-lstm", "word-lstm"); one entry per kind.
	Kind string `json:"kind"`
	// File is the checkpoint's name in weights/, Bytes and SHA256 its size and digest.
	File   string `json:"file"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// VocabHash is tokens.Hash of the checkpoint's vocabulary; VocabSize its
	// length, special tokens included.
	VocabHash string `json:"vocab_hash"`
	VocabSize int    `json:"vocab_size"`
	// Embed and Hidden are the shape (Embed 0: one-hot input).
	Embed  int   `json:"embed"`
	Hidden []int `json:"hidden"`
	// Steps and TokensTrained are the pretraining run's optimizer steps and
	// training targets; Seed the seed it was given.
	Steps         int64  `json:"steps"`
	TokensTrained int64  `json:"tokens_trained"`
	Seed          uint64 `json:"seed"`
	// HeldOutLoss is the mean loss per token (nats) on the held-out part of
	// the pretraining corpus (10% of its comments by id hash), over
	// HeldOutTokens tokens.
	HeldOutLoss   float64 `json:"held_out_loss"`
	HeldOutTokens int64   `json:"held_out_tokens"`
	// SampleBitsPerChar is the bits per character on the held-out part of the
	// embedded sample (real-Reddit-style comments the pretraining never saw),
	// the scale /models ranks models on.
	SampleBitsPerChar float64 `json:"sample_bits_per_char"`
	// SampleCoverage is the share of the embedded sample's tokens (all of
	// it, specials aside) that the vocabulary holds: for the word model, how
	// well its vocabulary suits Reddit (issue 15's goal: at least 0.95).
	SampleCoverage float64 `json:"sample_coverage"`
	// Reference is the same pair of figures on a file of real Reddit comments
	// that no pretraining corpus holds (the seed sample), when one was given.
	Reference *Reference `json:"reference,omitempty"`
	// Trained is when the run ended.
	Trained time.Time `json:"trained"`
	// ConfigFile and Config are the config file the run used and its text;
	// Command the exact command line.
	ConfigFile string `json:"config_file"`
	Config     string `json:"config"`
	Command    string `json:"command"`
	// Commit and GoVersion built the binary that trained it.
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
	// Corpus is the training file and where its text comes from.
	Corpus Corpus `json:"corpus"`
	// Licence says under which terms the weights are shipped.
	Licence string `json:"licence"`
}

// Corpus is the pretraining data file of one checkpoint.
type Corpus struct {
	File     string   `json:"file"`
	Bytes    int64    `json:"bytes"`
	SHA256   string   `json:"sha256"`
	Comments int      `json:"comments"`
	Sources  []Source `json:"sources"`
}

// Reference is a checkpoint measured on every comment of a file: bits per
// character and the share of the file's tokens (specials aside) that its
// vocabulary holds.
type Reference struct {
	File        string  `json:"file"`
	SHA256      string  `json:"sha256"`
	BitsPerChar float64 `json:"bits_per_char"`
	Coverage    float64 `json:"coverage"`
}

// Source is one origin of the corpus's text.
type Source struct {
	Name     string `json:"name"`     // "fortunes", "austen", "written"
	Origin   string `json:"origin"`   // e.g. "Debian package fortunes 1:1.99.1-7.3"
	Licence  string `json:"licence"`  // the text's terms
	Comments int    `json:"comments"` // comments of the corpus from it
	Bytes    int64  `json:"bytes"`    // of their bodies
}

// Summary says in a few words what the checkpoint was trained on, for
// /models: "pretrained on fortunes, austen and written (20000 steps)".
func (e Entry) Summary() string {
	names := make([]string, 0, len(e.Corpus.Sources))
	for _, s := range e.Corpus.Sources {
		names = append(names, s.Name)
	}
	on := strings.Join(names, ", ")
	if i := strings.LastIndex(on, ", "); i >= 0 {
		on = on[:i] + " and " + on[i+2:]
	}
	if on == "" {
		on = "an unnamed corpus"
	}
	return fmt.Sprintf("pretrained on %s (%d steps)", on, e.Steps)
}

// Model is one shipped checkpoint: its manifest entry and its bytes.
type Model struct {
	Entry
	Data []byte
}

// Load reads the embedded manifest and the checkpoints it names, each
// checked against its recorded size and sha256. ErrNone: the build ships no
// manifest; an error wrapping ErrManifest: the manifest is malformed or does
// not describe the embedded files.
func Load() ([]Model, error) { return LoadFS(Embedded()) }

// Embedded is the weights directory embedded in the binary, as a file system
// whose root holds the manifest.
func Embedded() fs.FS {
	sub, err := fs.Sub(weights, "weights")
	if err != nil {
		panic(err) // "weights" is a valid path: cannot happen
	}
	return sub
}

// LoadFS is Load over the manifest and checkpoints at the root of fsys: the
// seam through which tests (and `run`'s callers) hand in other weights.
func LoadFS(fsys fs.FS) ([]Model, error) {
	raw, err := fs.ReadFile(fsys, ManifestFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNone
	}
	if err != nil {
		return nil, fmt.Errorf("pretrained: %w", err)
	}
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, err
	}
	out := make([]Model, 0, len(m.Models))
	for _, e := range m.Models {
		data, err := fs.ReadFile(fsys, e.File)
		if err != nil {
			return nil, fmt.Errorf("%w: %s names %s: %w", ErrManifest, ManifestFile, e.File, err)
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != e.Bytes || hex.EncodeToString(sum[:]) != e.SHA256 {
			return nil, fmt.Errorf("%w: %s is %d bytes with sha256 %.12s, the manifest says %d bytes, %.12s",
				ErrManifest, e.File, len(data), hex.EncodeToString(sum[:]), e.Bytes, e.SHA256)
		}
		out = append(out, Model{Entry: e, Data: data})
	}
	return out, nil
}

// ParseManifest decodes and checks a manifest: format 1, every entry with a
// kind (at most one entry per kind), a plain file name, a digest and a
// vocabulary hash.
func ParseManifest(raw []byte) (Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrManifest, ManifestFile, err)
	}
	if m.Format != 1 {
		return m, fmt.Errorf("%w: format %d, this build reads format 1", ErrManifest, m.Format)
	}
	kinds := map[string]bool{}
	var problems []string
	for i, e := range m.Models {
		switch {
		case e.Kind == "" || kinds[e.Kind]:
			problems = append(problems, fmt.Sprintf("models[%d]: kind %q empty or repeated", i, e.Kind))
		case e.File == "" || path.Base(e.File) != e.File || e.File == ManifestFile || strings.HasPrefix(e.File, "."):
			problems = append(problems, fmt.Sprintf("models[%d]: file %q is not a plain file name", i, e.File))
		case len(e.SHA256) != 64 || e.VocabHash == "" || e.Bytes <= 0 || len(e.Hidden) == 0:
			problems = append(problems, fmt.Sprintf("models[%d] (%s): sha256, bytes, vocab_hash and hidden are required", i, e.Kind))
		}
		kinds[e.Kind] = true
	}
	if len(problems) > 0 {
		return m, fmt.Errorf("%w: %s", ErrManifest, strings.Join(problems, "; "))
	}
	return m, nil
}

// Files lists the names in the embedded weights directory (README.md and
// the manifest included), for the test that the manifest names every
// shipped checkpoint.
func Files() ([]string, error) {
	ents, err := fs.ReadDir(Embedded(), ".")
	if err != nil {
		return nil, fmt.Errorf("pretrained: %w", err)
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out, nil
}
