package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
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

// BenchmarkSampleConcurrent: conc concurrent requests (char-lstm [128, 512],
// 96 symbols, 300 characters each, T=0.8), served by a BatchSampler and by
// the path before it, one LM.Sample per goroutine, measured in the same run:
// each iteration is one round of conc requests on each path, the order
// alternating, so that both see the same machine. chars/s is the batched
// throughput, speedup its ratio to the per-goroutine path's (base-chars/s);
// cpu-speedup the same ratio in characters per CPU-second, which a shared
// machine's load disturbs less; mean-batch the sequences per batch step.
func BenchmarkSampleConcurrent(b *testing.B) {
	m, err := New(benchChar(), benchVocab(96, true), rand.NewPCG(1, 2))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, conc := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			bs := NewBatchSampler(m)
			lim := BatchLimits{MaxBatch: 64, MaxQueued: 64}
			lone := func(o SampleOptions) (Sample, error) { return m.Sample(ctx, o) }
			batched := func(o SampleOptions) (Sample, error) { return bs.Sample(ctx, o, lim) }
			var base, batch roundTotals
			b.ResetTimer()
			for i := range b.N {
				seed := uint64(i * conc)
				if i%2 == 0 {
					base.add(b, conc, seed, lone)
					batch.add(b, conc, seed, batched)
				} else {
					batch.add(b, conc, seed, batched)
					base.add(b, conc, seed, lone)
				}
			}
			b.ReportMetric(batch.rate(), "chars/s")
			b.ReportMetric(base.rate(), "base-chars/s")
			b.ReportMetric(batch.rate()/base.rate(), "speedup")
			b.ReportMetric(batch.cpuRate()/base.cpuRate(), "cpu-speedup")
			st := bs.Stats()
			b.ReportMetric(float64(st.Rows)/float64(max(st.Steps, 1)), "mean-batch")
		})
	}
}

// roundTotals adds up the characters, wall and CPU seconds of rounds of
// concurrent requests on one path.
type roundTotals struct {
	chars     int
	sec, cpuS float64
}

// add runs conc requests of 300 characters at T=0.8 at once through sample
// (seeds seed…seed+conc−1) and adds them to t.
func (t *roundTotals) add(b *testing.B, conc int, seed uint64, sample func(SampleOptions) (Sample, error)) {
	var wg sync.WaitGroup
	chars := make([]int, conc)
	start, cpu := time.Now(), cpuSeconds()
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := sample(SampleOptions{Temperature: 0.8, MinTokens: 300, MaxTokens: 300, Seed: seed + uint64(g)})
			if err != nil {
				b.Error(err)
			}
			chars[g] = len(s.Tokens)
		}()
	}
	wg.Wait()
	t.sec += time.Since(start).Seconds()
	t.cpuS += cpuSeconds() - cpu
	for _, c := range chars {
		t.chars += c
	}
}

func (t *roundTotals) rate() float64    { return float64(t.chars) / t.sec }
func (t *roundTotals) cpuRate() float64 { return float64(t.chars) / t.cpuS }
