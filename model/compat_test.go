package model

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"commentbot/model/kernel"
)

// goldenSample is one sample the code before the package split (commit
// 242d6ba) drew from a checkpoint it wrote: the options, and the text,
// tokens, log-probability and stop reason it produced. The file is never
// regenerated: it pins the behaviour of checkpoints already on disk.
type goldenSample struct {
	Checkpoint  string   `json:"checkpoint"`
	Temperature float64  `json:"temperature"`
	TopP        float64  `json:"top_p"`
	Prompt      string   `json:"prompt"`
	MinTokens   int      `json:"min_tokens"`
	MaxTokens   int      `json:"max_tokens"`
	Seed        uint64   `json:"seed"`
	Text        string   `json:"text"`
	Tokens      []string `json:"tokens"`
	LogProb     float64  `json:"log_prob"`
	Stop        string   `json:"stop"`
}

// TestCheckpointsFromBeforeTheSplitSampleTheSameText decodes the checkpoints
// written by the code before the split (a word LSTM with a padded
// embedding, a two-layer char LSTM, a tanh RNN, each trained 150 steps on
// the embedded sample, optimizer, carry and metrics included; and the older
// before-plateau.ckpt) and wants every sample of
// testdata/samples-v1.golden.json byte for byte: greedy and tempered,
// nucleus, prompts with unknown words and characters, length limits. The
// samples are drawn as the product draws them since the model works on
// token ids: the prompt encoded by the caller, the ids decoded by it.
//
// The files were drawn by the default build on a CPU with AVX2 and FMA
// (samples-v1.golden.json) and by the pure-Go path (-tags purego, or a CPU
// without them: samples-v1.purego.golden.json); the two agree on every text
// and differ in the last digits of the log-probabilities. The OpenBLAS
// build draws the same texts, with log-probabilities that depend on the
// CPU's OpenBLAS kernels: it is held to 1e-5 of them (float32 sums).
func TestCheckpointsFromBeforeTheSplitSampleTheSameText(t *testing.T) {
	path, tol := "testdata/samples-v1.golden.json", 0.0
	switch {
	case kernel.Name() == "openblas":
		tol = 1e-5
	case !kernel.Default().Assembly():
		path = "testdata/samples-v1.purego.golden.json"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden []goldenSample
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) < 100 {
		t.Fatalf("%d golden samples, want the full file", len(golden))
	}
	models := map[string]*LM{}
	for _, g := range golden {
		m, ok := models[g.Checkpoint]
		if !ok {
			raw, err := os.ReadFile(filepath.Join("testdata", g.Checkpoint))
			if err != nil {
				t.Fatal(err)
			}
			cp, err := Decode(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s: %v", g.Checkpoint, err)
			}
			m = cp.Model
			models[g.Checkpoint] = m
		}
		s, err := sampleText(context.Background(), m, SampleOptions{Temperature: g.Temperature, TopP: g.TopP,
			MinTokens: g.MinTokens, MaxTokens: g.MaxTokens, Seed: g.Seed}, g.Prompt)
		if err != nil {
			t.Fatalf("%s %+v: %v", g.Checkpoint, g, err)
		}
		if s.Text != g.Text || !slices.Equal(s.Toks, g.Tokens) || math.Abs(s.LogProb-g.LogProb) > tol*math.Abs(g.LogProb) || string(s.Stop) != g.Stop {
			t.Errorf("%s, prompt %q, T=%g, top-p %g, seed %d:\n got %q (%v, log p %v, %s)\nwant %q (%v, log p %v, %s)",
				g.Checkpoint, g.Prompt, g.Temperature, g.TopP, g.Seed, s.Text, s.Toks, s.LogProb, s.Stop, g.Text, g.Tokens, g.LogProb, g.Stop)
		}
	}
}
