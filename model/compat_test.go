package model

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
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
func TestCheckpointsFromBeforeTheSplitSampleTheSameText(t *testing.T) {
	data, err := os.ReadFile("testdata/samples-v1.golden.json")
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
		if s.Text != g.Text || !slices.Equal(s.Toks, g.Tokens) || s.LogProb != g.LogProb || string(s.Stop) != g.Stop {
			t.Errorf("%s, prompt %q, T=%g, top-p %g, seed %d:\n got %q (%v, log p %v, %s)\nwant %q (%v, log p %v, %s)",
				g.Checkpoint, g.Prompt, g.Temperature, g.TopP, g.Seed, s.Text, s.Toks, s.LogProb, s.Stop, g.Text, g.Tokens, g.LogProb, g.Stop)
		}
	}
}
