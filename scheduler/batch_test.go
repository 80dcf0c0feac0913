package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestRealBatchedGenerateIsTheLoneText: 96 generations from 24 goroutines
// through Generate — the bot's path, in the live version's continuous batch
// (bot.max_batch 8, so that requests also queue) — while the live version of
// "word" is swapped back and forth between two lineages, as promotions and
// rollbacks publish them. Survives: every answer's text is the one the version
// it names gives alone for its seed, temperature and prompt (the model's lone
// Sample, what `commentbot generate --seed` draws), so no sequence changed
// weights mid-way and no neighbour changed a sequence; both versions served,
// and the batch held several sequences at once.
func TestRealBatchedGenerateIsTheLoneText(t *testing.T) {
	e := newRealEnv(t, 80, 30, func(o *Options) {
		o.Config.Bot.MaxBatch, o.Config.Bot.MaxQueued = 8, 96
		o.Config.Models[0].MaxTokens = 200 // long enough for the requests to overlap
	})
	e.start()
	other := newRealEnv(t, 80, 30, func(o *Options) { o.Seed = 8 })
	other.start()
	v1, err := e.s.Live().Get("word")
	if err != nil {
		t.Fatal(err)
	}
	ld2, err := other.s.Live().Get("word")
	if err != nil {
		t.Fatal(err)
	}
	v2 := &Loaded{Name: "word", Config: v1.Config, Version: 2, Info: ld2.Info, Model: ld2.Model}
	byVersion := map[int]*Loaded{1: v1, 2: v2}

	type ask struct {
		o   SampleOptions
		got Generated
		err error
	}
	prompts := []string{"", "the", "i think that", "what"}
	asks := make([]ask, 96)
	for i := range asks {
		asks[i].o = SampleOptions{Temperature: []float64{0.3, 0.8, 1.2}[i%3], Prompt: prompts[i%len(prompts)],
			MinTokens: 100, Seed: uint64(1000 + i)}
	}
	stop := make(chan struct{})
	swapped := make(chan int)
	go func() { // promotions and rollbacks while the batch runs
		n := 0
		for ; ; n++ {
			select {
			case <-stop:
				swapped <- n
				return
			default:
			}
			ld := *byVersion[1+(n+1)%2] // a Loaded is immutable once published
			e.s.live.publish(&ld)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for g := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(asks); i += 24 {
				asks[i].got, asks[i].err = e.s.Generate(context.Background(), "word", asks[i].o)
			}
		}()
	}
	wg.Wait()
	close(stop)
	swaps := <-swapped
	seen := map[int]int{}
	for i, a := range asks {
		if a.err != nil {
			t.Fatalf("request %d: %v", i, a.err)
		}
		ld := byVersion[a.got.Version]
		if ld == nil {
			t.Fatalf("request %d answered by v%d, want v1 or v2", i, a.got.Version)
		}
		seen[a.got.Version]++
		o := a.o
		o.MaxTokens, o.MaxTemperature = ld.Config.MaxTokens, ld.Config.MaxTemperature
		alone, err := ld.Model.Sample(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if a.got.Text != alone.Text {
			t.Errorf("request %d (%+v) on v%d: batched %q, alone %q", i, a.o, a.got.Version, a.got.Text, alone.Text)
		}
	}
	var peaks []string
	peak := 0
	for v, ld := range byVersion {
		lm := ld.Model.(*lmModel)
		if lm.batch == nil {
			t.Errorf("v%d served %d requests without its batch", v, seen[v])
			continue
		}
		st := lm.batch.Stats()
		peaks = append(peaks, fmt.Sprintf("v%d: %d answers, peak batch %d, mean %.1f", v, seen[v], st.Peak, float64(st.Rows)/float64(max(st.Steps, 1))))
		peak = max(peak, st.Peak)
	}
	if peak < 2 {
		t.Errorf("every request was written alone (%v): the batch never held two", peaks)
	}
	if seen[1] == 0 || seen[2] == 0 {
		t.Errorf("answers by version %v after %d swaps: want both versions to have served", seen, swaps)
	}
	t.Logf("%d swaps; %v", swaps, peaks)
}
