package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"commentbot/model/kernel"
	"commentbot/text"
	"commentbot/tokens"
)

// cpuSeconds is the process's user+system CPU time. Benchmarks report work
// per CPU-second beside work per wall-second: on a machine shared with other
// jobs, wall time depends on their load, CPU time much less.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// benchVocab returns a vocabulary of n tokens whose first are the word
// specials (or CharUnknown, CharEnd for char models).
func benchVocab(n int, char bool) *text.Vocab {
	var toks []string
	if char {
		toks = []string{tokens.CharUnknown, tokens.CharEnd}
	} else {
		toks = []string{"UNKNOWN_TOKEN", tokens.SentenceStart, tokens.SentenceEnd}
	}
	for i := len(toks); i < n; i++ {
		toks = append(toks, fmt.Sprintf("t%d", i))
	}
	return newTestVocab(toks)
}

// benchTrain measures training steps (forward, backward, clipping, Adam) of
// cfg over random tokens and reports tokens/s.
func benchTrain(b *testing.B, cfg Config, vocab int, be *kernel.Backend) {
	v := benchVocab(vocab, cfg.Kind == CharLSTM)
	m, err := New(cfg, v, rand.NewPCG(1, 2))
	if err != nil {
		b.Fatal(err)
	}
	if be != nil {
		m.be = *be
	}
	rng := rand.New(rand.NewPCG(3, 4))
	batch := tokens.Batch{Streams: cfg.Streams, Steps: cfg.Steps}
	for range cfg.Streams * cfg.Steps {
		batch.Inputs = append(batch.Inputs, rng.IntN(vocab))
		batch.Targets = append(batch.Targets, rng.IntN(vocab))
	}
	tr, err := newTrainer(context.Background(), NewCheckpoint(m, 5), newSliceBatches(nil, 1, 1), nil, TrainOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.w.close()
	if _, _, err := tr.step(&batch); err != nil { // warm up
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	for range b.N {
		if _, _, err := tr.step(&batch); err != nil {
			b.Fatal(err)
		}
	}
	sec, cpuSec := time.Since(start).Seconds(), cpuSeconds()-cpu
	tokens := float64(b.N * cfg.Streams * cfg.Steps)
	b.ReportMetric(tokens/sec, "tokens/s")
	b.ReportMetric(tokens/cpuSec, "tokens/cpu-s")
	b.ReportMetric(tokens*trainFLOPs(m.lo)/sec/1e9, "GFLOP/s")
}

// The benchmarks' models: the sizes of the seed's models, fixed here so that
// figures stay comparable when the product's defaults move.
func benchChar() Config {
	return Config{Kind: CharLSTM, Hidden: []int{128, 512}, Dropout: 0.4, LearningRate: 0.001, LRDecay: 0.97,
		Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Clip: 5, Streams: 64, Steps: 64, InitScale: 0.1, ForgetBias: 1, MaxTemperature: 2, Patience: 3}
}

func benchWord() Config {
	return Config{Kind: WordLSTM, Embed: 128, Hidden: []int{256}, Dropout: 0.25, LearningRate: 0.002, LRDecay: 0.97,
		Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-8, Clip: 5, Streams: 32, Steps: 32, InitScale: 0.1, ForgetBias: 1, MaxTemperature: 2, Patience: 3}
}

// BenchmarkTrainChar: char-lstm [128, 512], 96 symbols, 64 streams × 64
// steps, dropout 0.4, Adam, clipping 5. Reference PyTorch CPU ≈ 3,500 tokens/s.
func BenchmarkTrainChar(b *testing.B) {
	benchTrain(b, benchChar(), 96, nil)
}

// BenchmarkTrainWord: embedding 128 → LSTM 256 → 4000 words (+3 specials),
// 32 × 32. Reference PyTorch CPU ≈ 4,200 tokens/s.
func BenchmarkTrainWord(b *testing.B) {
	benchTrain(b, benchWord(), 4003, nil)
}

// gonumBackend is plain gonum BLAS (no kernel, no OpenBLAS): the same-run
// baseline of the *Gonum benchmarks.
func gonumBackend() *kernel.Backend {
	be := kernel.Gonum()
	return &be
}

// BenchmarkTrainCharGonum is BenchmarkTrainChar on plain gonum BLAS.
func BenchmarkTrainCharGonum(b *testing.B) {
	benchTrain(b, benchChar(), 96, gonumBackend())
}

// BenchmarkTrainWordGonum is BenchmarkTrainWord on plain gonum BLAS.
func BenchmarkTrainWordGonum(b *testing.B) {
	benchTrain(b, benchWord(), 4003, gonumBackend())
}

// BenchmarkSample: char-lstm [128, 512], 96 symbols, batch 1, 300 characters
// at temperature 0.8. Reference PyTorch CPU ≈ 2,000 chars/s.
func BenchmarkSample(b *testing.B) { benchSample(b, nil) }

// BenchmarkSampleGonum is BenchmarkSample on plain gonum BLAS.
func BenchmarkSampleGonum(b *testing.B) { benchSample(b, gonumBackend()) }

func benchSample(b *testing.B, be *kernel.Backend) {
	m, err := New(benchChar(), benchVocab(96, true), rand.NewPCG(1, 2))
	if err != nil {
		b.Fatal(err)
	}
	if be != nil {
		m.be = *be
	}
	o := SampleOptions{Temperature: 0.8, MinTokens: 300, MaxTokens: 300}
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	chars := 0
	for i := range b.N {
		o.Seed = uint64(i)
		s, err := m.Sample(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		chars += len(s.Tokens)
	}
	b.ReportMetric(float64(chars)/time.Since(start).Seconds(), "chars/s")
	b.ReportMetric(float64(chars)/(cpuSeconds()-cpu), "chars/cpu-s")
}

// trainFLOPs is the GEMM work of one training token: 2 flops per
// multiply-add, forward (input, recurrent and output products) plus backward
// (twice that: weight and input gradients; no input gradient for one-hot).
func trainFLOPs(lo *layout) float64 {
	f := 0.0
	for l, h := range lo.hidden {
		g := float64(lo.gate[l])
		rec := float64(h) * g
		f += 3 * 2 * rec
		if l > 0 || lo.embed > 0 {
			f += 3 * 2 * float64(lo.in[l]) * g
		}
	}
	return f + 3*2*float64(lo.top()*lo.vocab)
}
