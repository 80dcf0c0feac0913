package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"commentbot/text"
	"commentbot/tokens"
)

// charTestVocab is CharUnknown, CharEnd, then the letters a…z.
func charTestVocab(t testing.TB) *text.Vocab {
	toks := []string{tokens.CharUnknown, tokens.CharEnd}
	for r := 'a'; r <= 'z'; r++ {
		toks = append(toks, string(r))
	}
	v, err := text.NewVocab(toks)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// rows renders each stream of ids as a string, "$" for CharEnd.
func rows(v *text.Vocab, ids []int, streams, steps int) []string {
	out := make([]string, streams)
	for s := range streams {
		var b strings.Builder
		for _, id := range ids[s*steps : (s+1)*steps] {
			tok := v.Token(id)
			if tok == tokens.CharEnd {
				tok = "$"
			}
			b.WriteString(tok)
		}
		out[s] = b.String()
	}
	return out
}

func bodies(texts ...string) Source {
	cs := make([]Comment, len(texts))
	for i, t := range texts {
		cs[i] = Comment{ID: fmt.Sprintf("t1_%d", i), Body: t}
	}
	return SliceSource(cs)
}

func TestBatcherGolden(t *testing.T) {
	// Encoded: ab$ cde$ f$ ghij$ k$. With 2 streams × 3 steps each stream
	// needs 4 tokens: stream 0 takes ab$ then cde$, stream 1 f$ then ghij$.
	// Batch 0 uses ab$ / f$g as inputs; batch 1 is served from what is left
	// (cde$ / hij$); batch 2 would need stream 0 ("$") to take k$ and it
	// still falls short of 4, so the epoch ends there.
	v := charTestVocab(t)
	b := NewBatcher(bodies("ab", "cde", "f", "ghij", "k"), text.LevelChar, v, 2, 3)
	defer b.Close()
	ctx := context.Background()
	// Comments numbers the comment of each target in reading order: ab$ is
	// 0, cde$ 1, f$ 2, ghij$ 3.
	want := []struct {
		inputs, targets []string
		comments        []int
	}{
		{[]string{"ab$", "f$g"}, []string{"b$c", "$gh"}, []int{0, 0, 1, 2, 3, 3}},
		{[]string{"cde", "hij"}, []string{"de$", "ij$"}, []int{1, 1, 1, 3, 3, 3}},
	}
	for epoch := range 2 { // the second epoch repeats the first
		for i, w := range want {
			var batch tokens.Batch
			if err := b.Next(ctx, &batch); err != nil {
				t.Fatalf("epoch %d batch %d: %v", epoch, i, err)
			}
			if batch.Streams != 2 || batch.Steps != 3 {
				t.Fatalf("batch shape %d×%d, want 2×3", batch.Streams, batch.Steps)
			}
			gi, gt := rows(v, batch.Inputs, 2, 3), rows(v, batch.Targets, 2, 3)
			if !slices.Equal(gi, w.inputs) || !slices.Equal(gt, w.targets) {
				t.Errorf("epoch %d batch %d: inputs %q targets %q, want %q %q", epoch, i, gi, gt, w.inputs, w.targets)
			}
			if !slices.Equal(batch.Comments, w.comments) {
				t.Errorf("epoch %d batch %d: comments %v, want %v", epoch, i, batch.Comments, w.comments)
			}
			if got := b.Position(); got != (tokens.Position{Epoch: epoch, Batch: int64(i + 1)}) {
				t.Errorf("Position after batch %d = %+v", i, got)
			}
		}
		if err := b.Next(ctx, &tokens.Batch{}); err != io.EOF {
			t.Fatalf("epoch %d end: err = %v, want io.EOF", epoch, err)
		}
		if got := b.Position(); got != (tokens.Position{Epoch: epoch + 1}) {
			t.Errorf("Position after epoch %d = %+v, want {%d 0}", epoch, got, epoch+1)
		}
	}
}

// sampleWordBatcher batches the cleaned embedded sample at word level.
func sampleWordBatcher(t testing.TB, src Source, streams, steps int) (*Batcher, *text.Vocab) {
	t.Helper()
	counts := text.NewCounts()
	err := src(context.Background(), func(c Comment) error {
		counts.Add(text.LevelWord.Tokens(c.Body)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v := text.BuildVocab(counts, 500, text.LevelWord.Specials())
	return NewBatcher(src, text.LevelWord, v, streams, steps), v
}

// allBatches reads n batches (or to the end of the epoch when n < 0).
func allBatches(t *testing.T, b *Batcher, n int) []tokens.Batch {
	t.Helper()
	var out []tokens.Batch
	for n < 0 || len(out) < n {
		var batch tokens.Batch
		err := b.Next(context.Background(), &batch)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d batches: %v", len(out), err)
		}
		out = append(out, batch)
	}
	return out
}

func TestBatcherContinuityAndCoverage(t *testing.T) {
	src := CleanSource(Sample(), text.DefaultCleanRules())
	const streams, steps = 4, 16
	b, v := sampleWordBatcher(t, src, streams, steps)
	defer b.Close()
	batches := allBatches(t, b, -1)
	if len(batches) < 10 {
		t.Fatalf("only %d batches from the sample", len(batches))
	}
	// Targets are inputs shifted by one; row s of a batch continues row s
	// of the previous one.
	for k, batch := range batches {
		for s := range streams {
			in := batch.Inputs[s*steps : (s+1)*steps]
			tg := batch.Targets[s*steps : (s+1)*steps]
			if !slices.Equal(in[1:], tg[:steps-1]) {
				t.Fatalf("batch %d stream %d: targets are not the inputs shifted by one", k, s)
			}
			if k > 0 && batches[k-1].Targets[s*steps+steps-1] != in[0] {
				t.Fatalf("batch %d stream %d does not continue batch %d", k, s, k-1)
			}
		}
	}
	// Every stream, read across batches, is whole encoded comments of the
	// source, in source order, and together the streams hold all but the
	// tail of the epoch.
	var encoded [][]int
	src(context.Background(), func(c Comment) error {
		encoded = append(encoded, v.Encode(text.LevelWord.Tokens(c.Body), nil))
		return nil
	})
	next := 0 // next comment the streams must hold, in order
	streamTok := make([][]int, streams)
	for s := range streams {
		for _, batch := range batches {
			streamTok[s] = append(streamTok[s], batch.Inputs[s*steps:(s+1)*steps]...)
		}
	}
	pos := make([]int, streams)
	for next < len(encoded) {
		matched := false
		for s := range streams {
			rest := streamTok[s][pos[s]:]
			c := encoded[next]
			if len(rest) >= len(c) && slices.Equal(rest[:len(c)], c) {
				pos[s] += len(c)
				next++
				matched = true
				break
			}
			if len(rest) > 0 && len(rest) < len(c) && slices.Equal(rest, c[:len(rest)]) {
				pos[s] = len(streamTok[s]) // the comment is cut by the epoch's end
				next++
				matched = true
				break
			}
		}
		if !matched {
			break
		}
	}
	for s := range streams {
		if pos[s] != len(streamTok[s]) {
			t.Errorf("stream %d: tokens %d… are not the next comment in source order", s, pos[s])
		}
	}
	dropped := len(encoded) - next
	if dropped > streams+1 {
		t.Errorf("%d of %d comments never reached a batch; the tail should be at most about one per stream", dropped, len(encoded))
	}
}

func TestBatcherFailures(t *testing.T) {
	ctx := context.Background()
	v := charTestVocab(t)
	var batch tokens.Batch

	// Too little data for one batch: an error, not an endless run of EOFs.
	b := NewBatcher(bodies("ab"), text.LevelChar, v, 2, 3)
	if err := b.Next(ctx, &batch); !errors.Is(err, ErrEmptyEpoch) {
		t.Errorf("tiny source: err = %v, want ErrEmptyEpoch", err)
	}
	b.Close()

	// A source error stops the Batcher until Seek.
	boom := errors.New("disk on fire")
	failing := func(ctx context.Context, fn func(Comment) error) error {
		if err := fn(Comment{ID: "t1_a", Body: "abcdefgh"}); err != nil {
			return err
		}
		return boom
	}
	b = NewBatcher(failing, text.LevelChar, v, 1, 3)
	if err := b.Next(ctx, &batch); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	var err error
	for range 5 {
		if err = b.Next(ctx, &batch); err != nil {
			break
		}
	}
	if !errors.Is(err, boom) {
		t.Errorf("source failure: err = %v, want it wrapped", err)
	}
	if err2 := b.Next(ctx, &batch); !errors.Is(err2, boom) {
		t.Errorf("after a failure Next = %v, want the same failure", err2)
	}
	if err := b.Seek(ctx, tokens.Position{}); err != nil {
		t.Errorf("Seek after a failure: %v", err)
	}
	if err := b.Next(ctx, &batch); err != nil {
		t.Errorf("Next after Seek: %v", err)
	}
	b.Close()
	if err := b.Next(ctx, &batch); err == nil {
		t.Errorf("Next after Close succeeded")
	}

	// Canceling the context of a Next call while it reads ends the source.
	cctx, cancel := context.WithCancel(ctx)
	blocking := func(sctx context.Context, fn func(Comment) error) error {
		if err := fn(Comment{ID: "t1_a", Body: "abcd"}); err != nil {
			return err
		}
		cancel() // the caller gives up while the source is reading
		<-sctx.Done()
		return sctx.Err()
	}
	b = NewBatcher(blocking, text.LevelChar, v, 1, 3)
	defer b.Close()
	if err := b.Next(cctx, &batch); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	if err := b.Next(cctx, &batch); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled while reading: err = %v, want context.Canceled", err)
	}
	if err := b.Next(context.Background(), &batch); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancellation Next = %v, want the failure kept until Seek", err)
	}

	// A token outside a vocabulary that has no unknown token.
	noUnk, err := text.NewVocab([]string{"a", "b", tokens.CharEnd})
	if err != nil {
		t.Fatal(err)
	}
	b = NewBatcher(bodies("abz"), text.LevelChar, noUnk, 1, 2)
	defer b.Close()
	if err := b.Next(ctx, &batch); !errors.Is(err, text.ErrVocab) || !strings.Contains(err.Error(), `"z"`) {
		t.Errorf("out-of-vocabulary token: err = %v, want ErrVocab naming \"z\"", err)
	}

	for _, tt := range []struct{ streams, steps int }{{0, 3}, {2, 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewBatcher(%d, %d) did not panic", tt.streams, tt.steps)
				}
			}()
			NewBatcher(bodies("a"), text.LevelChar, v, tt.streams, tt.steps)
		}()
	}
}

func TestBatcherNoAllocationsInSteadyState(t *testing.T) {
	// Two long comments: most batches are cut from tokens already held.
	long := strings.Repeat("abcdefghij", 2000)
	b := NewBatcher(bodies(long, long), text.LevelChar, charTestVocab(t), 2, 10)
	defer b.Close()
	ctx := context.Background()
	var batch tokens.Batch
	if err := b.Next(ctx, &batch); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(500, func() {
		if err := b.Next(ctx, &batch); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %.1f times per batch in steady state, want 0", allocs)
	}
}

func BenchmarkBatcherWordSample(b *testing.B) { benchmarkBatcher(b, text.LevelWord, 32, 35) }
func BenchmarkBatcherCharSample(b *testing.B) { benchmarkBatcher(b, text.LevelChar, 32, 100) }

// benchmarkBatcher reads epochs of the cleaned embedded sample and reports
// tokens per second delivered in batches.
func benchmarkBatcher(b *testing.B, level text.Level, streams, steps int) {
	src := CleanSource(Sample(), text.DefaultCleanRules())
	counts := text.NewCounts()
	src(context.Background(), func(c Comment) error { counts.Add(level.Tokens(c.Body)...); return nil })
	v := text.BuildVocab(counts, 4000, level.Specials())
	bt := NewBatcher(src, level, v, streams, steps)
	defer bt.Close()
	ctx := context.Background()
	var batch tokens.Batch
	tokens := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		err := bt.Next(ctx, &batch)
		if err == io.EOF {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		tokens += streams * steps
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}
