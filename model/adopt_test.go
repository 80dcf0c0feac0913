package model

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
)

// A shipped checkpoint is serving-only: a third of the training file, it
// decodes without optimizer or carried state and samples exactly what the
// model it came from samples. Adopting it keeps those weights under the
// caller's hyper-parameters, with a fresh optimizer and state, and it trains;
// another shape is refused.
func TestServingAndAdopt(t *testing.T) {
	ctx := context.Background()
	v := charVocab(memoText)
	m := tinyModel(t, CharLSTM, v, 0, []int{12, 16}, 2, 8, 3)
	cp := NewCheckpoint(m, 5)
	data := encodeChars(v, memoText, memoText, memoText)
	if _, err := Train(ctx, cp, newSliceBatches(data, 2, 8), nil, TrainOptions{MaxSteps: 5}); err != nil {
		t.Fatal(err)
	}
	var full, serving bytes.Buffer
	if err := Encode(&full, cp); err != nil {
		t.Fatal(err)
	}
	if err := Encode(&serving, cp.Serving()); err != nil {
		t.Fatal(err)
	}
	if cp.Optimizer == nil || len(cp.State.Carry) == 0 {
		t.Fatal("Serving changed the checkpoint it copied")
	}
	if s, f := serving.Len(), full.Len(); 3*s > f+3*1024 { // + the header, written once in each
		t.Errorf("serving-only file %d bytes, training file %d: want about a third", s, f)
	}
	shipped, err := Decode(&serving)
	if err != nil {
		t.Fatal(err)
	}
	if shipped.Optimizer != nil || len(shipped.State.Carry) != 0 || shipped.State.Step != cp.State.Step {
		t.Errorf("decoded serving checkpoint: optimizer %v, carry %d, step %d (trained %d)", shipped.Optimizer != nil,
			len(shipped.State.Carry), shipped.State.Step, cp.State.Step)
	}
	o := SampleOptions{Temperature: 0.7, MaxTokens: 30, Seed: 9}
	want, _ := m.Sample(ctx, o)
	got, err := shipped.Model.Sample(ctx, o)
	if err != nil || !slices.Equal(got.Tokens, want.Tokens) {
		t.Errorf("serving copy samples %v (%v), the model %v", got.Tokens, err, want.Tokens)
	}

	cfg := m.Config()
	cfg.Dropout, cfg.LearningRate, cfg.Streams, cfg.Steps = 0.1, 0.003, 3, 5
	a, err := Adopt(shipped.Model, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Model.Config(); got.Dropout != 0.1 || got.LearningRate != 0.003 || got.Streams != 3 || got.Steps != 5 {
		t.Errorf("adopted config %+v, want the caller's hyper-parameters", got)
	}
	if a.Optimizer == nil || a.Optimizer.Step != 0 || a.State.Step != 0 || a.State.PeakLR != 0.003 || len(a.Metrics) != 0 {
		t.Errorf("adopted state: optimizer %+v, state %+v, %d metrics; want fresh", a.Optimizer != nil, a.State, len(a.Metrics))
	}
	if got, _ := a.Model.Sample(ctx, o); !slices.Equal(got.Tokens, want.Tokens) {
		t.Errorf("adopted model samples %v, the weights it adopted %v", got.Tokens, want.Tokens)
	}
	if _, err := Train(ctx, a, newSliceBatches(data, 3, 5), nil, TrainOptions{MaxSteps: 2}); err != nil {
		t.Errorf("the adopted checkpoint does not train: %v", err)
	}
	if got, _ := shipped.Model.Sample(ctx, o); !slices.Equal(got.Tokens, want.Tokens) {
		t.Error("training the adopted checkpoint changed the weights it was adopted from")
	}
	other := cfg
	other.Hidden = []int{12, 17}
	if _, err := Adopt(shipped.Model, other, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("adopt as hidden %v: %v, want ErrConfig", other.Hidden, err)
	}
}
