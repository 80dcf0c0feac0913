package model

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

// trainedCheckpoint returns a checkpoint of a tiny char model after a few
// training steps (non-trivial optimizer state, metrics and carry).
func trainedCheckpoint(t testing.TB) *Checkpoint {
	t.Helper()
	v := charVocab(memoText)
	m := tinyModel(t, CharLSTM, v, 0, []int{6, 5}, 2, 5, 1)
	cp := NewCheckpoint(m, 3)
	data := encodeChars(v, strings.Repeat(memoText, 3))
	if _, err := Train(context.Background(), cp, newSliceBatches(data, 2, 5), newSliceBatches(data, 2, 5), TrainOptions{MaxSteps: 6, EvalEvery: 3}); err != nil {
		t.Fatal(err)
	}
	cp.State.Plateau.Reductions = 1 // as after a plateau
	return cp
}

func encoded(t testing.TB, cp *Checkpoint) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Encode(&b, cp); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// resealed rewrites the header of a valid encoding with edit and fixes the
// checksum, to build well-formed but semantically wrong checkpoints.
func resealed(t *testing.T, data []byte, edit func(h map[string]any)) []byte {
	t.Helper()
	const fixed = len(checkpointMagic) + 8
	hlen := int(binary.LittleEndian.Uint32(data[len(checkpointMagic)+4:]))
	var h map[string]any
	if err := json.Unmarshal(data[fixed:fixed+hlen], &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	hdr, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), data[:fixed]...)
	binary.LittleEndian.PutUint32(out[len(checkpointMagic)+4:], uint32(len(hdr)))
	out = append(out, hdr...)
	out = append(out, data[fixed+hlen:len(data)-sha256.Size]...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// TestCheckpointRoundTrip encodes a trained checkpoint, decodes it and wants
// every part back: weights, optimizer, state, metrics, vocabulary, and the
// same samples.
func TestCheckpointRoundTrip(t *testing.T) {
	cp := trainedCheckpoint(t)
	got, err := Decode(bytes.NewReader(encoded(t, cp)))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"weights", slices.Equal(got.Model.w, cp.Model.w)},
		{"adam m", slices.Equal(got.Optimizer.M, cp.Optimizer.M)},
		{"adam v", slices.Equal(got.Optimizer.V, cp.Optimizer.V)},
		{"adam step", got.Optimizer.Step == cp.Optimizer.Step && got.Optimizer.Step == 6},
		{"config", slices.Equal(got.Model.cfg.Hidden, cp.Model.cfg.Hidden) && got.Model.cfg.Kind == cp.Model.cfg.Kind},
		{"vocab", slices.Equal(got.Model.voc.tokens, cp.Model.voc.tokens) && got.Model.VocabHash() == cp.Model.VocabHash()},
		{"state", got.State.Step == cp.State.Step && got.State.Position == cp.State.Position && got.State.BestValid == cp.State.BestValid &&
			bytes.Equal(got.State.RNG, cp.State.RNG) && slices.Equal(got.State.Carry, cp.State.Carry) && len(got.State.Carry) > 0},
		{"rates and plateau", got.State.LR == cp.State.LR && got.State.PeakLR == cp.State.PeakLR && got.State.Plateau == cp.State.Plateau &&
			cp.State.Plateau.Reductions == 1 && cp.State.Plateau.Best.Step > 0},
		{"metrics", len(got.Metrics) == len(cp.Metrics) && len(got.Metrics) >= 2 && got.Metrics[0].Step == cp.Metrics[0].Step &&
			got.Metrics[0].StdErr == cp.Metrics[0].StdErr && slices.EqualFunc(got.Metrics, cp.Metrics, func(a, b Metric) bool { return a.Event == b.Event })},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s differ after the round trip", c.what)
		}
	}
	o := SampleOptions{Temperature: 0.9, Seed: 4, MaxTokens: 30}
	a, _ := sampleText(context.Background(), cp.Model, o, "")
	b, _ := sampleText(context.Background(), got.Model, o, "")
	if a.Text != b.Text {
		t.Errorf("sample %q after the round trip, %q before", b.Text, a.Text)
	}
	// A serving-only checkpoint (no optimizer) round-trips too.
	serve, err := Decode(bytes.NewReader(encoded(t, &Checkpoint{Model: cp.Model})))
	if err != nil {
		t.Fatalf("model-only round trip: %v", err)
	}
	if serve.Optimizer != nil || !slices.Equal(serve.Model.w, cp.Model.w) {
		t.Errorf("model-only round trip: optimizer %v, weights equal %v", serve.Optimizer != nil, slices.Equal(serve.Model.w, cp.Model.w))
	}
}

// A checkpoint written before the peak rate, the plateau bookkeeping and
// the standard errors existed (testdata/before-plateau.ckpt, made by the
// release before them: a char model of 130 steps with one evaluation)
// still decodes, with the defaults of a run in progress, and trains on.
func TestDecodeCheckpointFromBeforePlateau(t *testing.T) {
	data, err := os.ReadFile("testdata/before-plateau.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(`"peak_lr"`)) || bytes.Contains(data, []byte(`"plateau"`)) {
		t.Fatal("the test file already has the new fields")
	}
	cp, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	st := cp.State
	if st.Step != 130 || st.LR != 0.001 || st.PeakLR != st.LR || st.Plateau.Reductions != 0 ||
		st.Plateau.Ref != st.BestValid || st.Plateau.RefTokens != st.Tokens || !finite(st.BestValid) {
		t.Errorf("old state decoded as %+v; want the peak at its rate and the patience counting from its best at its last step", st)
	}
	if len(cp.Metrics) != 2 || !math.IsNaN(cp.Metrics[0].StdErr) || cp.Metrics[0].Event != "" || !finite(cp.Metrics[0].ValidLoss) {
		t.Errorf("old metrics decoded as %+v; want an unknown standard error and no event", cp.Metrics)
	}
	ids := make([]int, 0, 400)
	for i := range cap(ids) {
		ids = append(ids, 2+i%(cp.Model.VocabSize()-2))
	}
	cfg := cp.Model.Config()
	b := newSliceBatches(ids, cfg.Streams, cfg.Steps)
	cp.StartRun(0)
	res, err := Train(context.Background(), cp, b, newSliceBatches(ids, 1, 8), TrainOptions{MaxSteps: 140, EvalEvery: 5, Schedule: ScheduleCosine})
	if err != nil || res.Steps != 10 || !finite(res.BestValid) {
		t.Errorf("training the old checkpoint on: %+v, %v", res, err)
	}
	if _, err := Decode(bytes.NewReader(encoded(t, cp))); err != nil {
		t.Errorf("the old checkpoint trained on does not round-trip: %v", err)
	}
}

// TestDecodeRefuses damages a valid checkpoint in each way the format guards
// against and wants the matching sentinel and no checkpoint.
func TestDecodeRefuses(t *testing.T) {
	good := encoded(t, trainedCheckpoint(t))
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x40
		return b
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"wrong magic", append([]byte("GIF89a\x00\x00"), good[8:]...), ErrCorrupt},
		{"magic only", good[:8], ErrCorrupt},
		{"truncated in header", good[:40], ErrCorrupt},
		{"truncated in weights", good[:len(good)/2], ErrCorrupt},
		{"missing checksum byte", good[:len(good)-1], ErrCorrupt},
		{"flipped header byte", flip(30), ErrCorrupt},
		{"flipped weight byte", flip(len(good) - 100), ErrCorrupt},
		{"flipped checksum byte", flip(len(good) - 1), ErrCorrupt},
		{"future version", func() []byte { b := append([]byte(nil), good...); b[8] = 2; return b }(), ErrVersion},
		{"vocabulary hash mismatch", resealed(t, good, func(h map[string]any) {
			toks := h["tokens"].([]any)
			toks[2], toks[3] = toks[3], toks[2]
		}), ErrVocabMismatch},
		{"parameter count mismatch", resealed(t, good, func(h map[string]any) {
			h["config"].(map[string]any)["hidden"] = []int{6, 6}
		}), ErrCorrupt},
		{"invalid config", resealed(t, good, func(h map[string]any) {
			h["config"].(map[string]any)["dropout"] = 1.5
		}), ErrCorrupt},
		{"kind and level disagree", resealed(t, good, func(h map[string]any) { h["level"] = "word" }), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cp, err := Decode(bytes.NewReader(c.data))
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if cp != nil {
				t.Errorf("got a checkpoint with the error")
			}
		})
	}
}

// TestCheckVocab wants a vocabulary with another hash refused.
func TestCheckVocab(t *testing.T) {
	m := tinyModel(t, CharLSTM, charVocab("abc"), 0, []int{3}, 1, 2, 1)
	cases := []struct {
		name string
		v    Vocab
		want error
	}{
		{"same", charVocab("abc"), nil},
		{"reordered", charVocab("acb"), ErrVocabMismatch},
		{"larger", charVocab("abcd"), ErrVocabMismatch},
		{"nil", nil, ErrVocabMismatch},
	}
	for _, c := range cases {
		v := c.v
		if c.name == "nil" {
			v = nil
		}
		if err := m.CheckVocab(v); !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

// TestEncodeReportsWriteErrors wants a failing writer's error back.
func TestEncodeReportsWriteErrors(t *testing.T) {
	cp := trainedCheckpoint(t)
	for _, n := range []int{0, 100, 1 << 20} {
		err := Encode(&failWriter{n: n}, cp)
		if n < len(encoded(t, cp)) && !errors.Is(err, io.ErrShortWrite) {
			t.Errorf("writer failing after %d bytes: error %v", n, err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes (seeded with a valid checkpoint and
// damaged copies) and wants either a usable checkpoint or an error wrapping
// one of the sentinels — never a panic.
func FuzzDecode(f *testing.F) {
	good := encoded(f, trainedCheckpoint(f))
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(checkpointMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := Decode(bytes.NewReader(data))
		if err != nil {
			if cp != nil {
				t.Fatal("checkpoint returned with an error")
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrVocabMismatch) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		s, err := cp.Model.Sample(context.Background(), SampleOptions{Temperature: 1, MaxTokens: 5})
		if err != nil || !finite(s.LogProb) || math.IsNaN(s.LogProb) {
			t.Fatalf("decoded model fails to sample: %v", err)
		}
	})
}
