package model

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"commentbot/model/kernel"
)

// BatchLimits bound a BatchSampler.
type BatchLimits struct {
	// MaxBatch is the most sequences stepped together (≥ 1).
	MaxBatch int
	// MaxQueued is the most requests waiting for a place in a full batch
	// (≥ 0); a request beyond them is refused at once with ErrBusy.
	MaxQueued int
}

// BatchSampler serves concurrent Sample calls on one model by continuous
// batching: the sequences in progress are stepped together, one
// kernel.GemvTRows per product per step for all of them, so that the
// weights are read once per step instead of once per sequence. A request
// joins at the next step boundary and leaves as soon as its comment ends,
// without waiting for the others; each keeps its own options, prompt and
// random stream. GemvTRows computes every row as GemvT does alone and the
// cell and the draw work row by row, so a sequence's text is the one
// LM.Sample gives it alone, byte for byte, whatever else is in the batch
// (batch invariance).
//
// A goroutine steps the batch while there is work and exits when there is
// none, so a BatchSampler needs no closing: a model that stops serving (a
// promotion swaps in another) finishes the sequences it has and is
// collected. Create one with NewBatchSampler; it is safe for concurrent use.
type BatchSampler struct {
	m       *LM
	mu      sync.Mutex
	queue   []*request // waiting to join, in arrival order
	stats   BatchStats // all but Queued, which is len(queue)
	running bool       // the stepping goroutine runs
	lim     BatchLimits
}

// request is one Sample call in a BatchSampler.
type request struct {
	q    *seq
	st   *startState
	gone atomic.Bool   // the caller stopped waiting (its context ended)
	done chan struct{} // closed once out and err are set
	out  Sample
	err  error
}

// NewBatchSampler returns a BatchSampler over m.
func NewBatchSampler(m *LM) *BatchSampler { return &BatchSampler{m: m} }

// Sample generates one comment as m.Sample(ctx, o) does — the same text for
// the same options — stepped with the other calls in progress. It waits for
// a place when the batch holds lim.MaxBatch sequences, and returns ErrBusy at
// once when lim.MaxQueued requests wait already. The limits are the caller's
// current ones: each call brings them. When ctx ends, Sample returns its
// error at once and the sequence leaves the batch at the next step.
func (b *BatchSampler) Sample(ctx context.Context, o SampleOptions, lim BatchLimits) (Sample, error) {
	r, err := b.submit(ctx, o, lim, true)
	if err != nil {
		return Sample{}, err
	}
	return b.wait(ctx, r)
}

// submit validates a request and queues it, starting the stepping goroutine
// when start and none runs.
func (b *BatchSampler) submit(ctx context.Context, o SampleOptions, lim BatchLimits, start bool) (*request, error) {
	if lim.MaxBatch < 1 || lim.MaxQueued < 0 {
		return nil, fmt.Errorf("%w: batch limits %d sequences, %d queued (want ≥ 1 and ≥ 0)", ErrSampleOptions, lim.MaxBatch, lim.MaxQueued)
	}
	q, err := b.m.newSeq(o)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("model: sample: %w", err)
	}
	r := &request{q: q, st: b.m.startState(), done: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lim = lim
	if waiting := b.stats.Active + len(b.queue) + 1 - lim.MaxBatch; waiting > lim.MaxQueued {
		return nil, fmt.Errorf("%w: %d comments being written and %d waiting (at most %d at once and %d waiting)",
			ErrBusy, b.stats.Active, len(b.queue), lim.MaxBatch, lim.MaxQueued)
	}
	b.queue = append(b.queue, r)
	if start && !b.running {
		b.running = true
		go b.run()
	}
	return r, nil
}

// wait returns r's sample, or ctx's error as soon as ctx ends.
func (b *BatchSampler) wait(ctx context.Context, r *request) (Sample, error) {
	select {
	case <-r.done:
		return r.out, r.err
	case <-ctx.Done():
		r.gone.Store(true)
		b.mu.Lock()
		for i, w := range b.queue {
			if w == r {
				b.queue = slices.Delete(b.queue, i, i+1)
				break
			}
		}
		b.mu.Unlock()
		return Sample{}, fmt.Errorf("model: sample: %w", ctx.Err())
	}
}

// BatchStats describe a BatchSampler's work.
type BatchStats struct {
	Active int   // sequences in the batch at the last step boundary
	Queued int   // requests waiting to join it
	Peak   int   // the most sequences stepped at once so far
	Steps  int64 // batch steps taken so far
	Rows   int64 // sequence steps taken so far: Rows/Steps is the mean batch size
}

// Stats reports the batch's current load and its work so far.
func (b *BatchSampler) Stats() BatchStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.stats
	st.Queued = len(b.queue)
	return st
}

// startState returns the model's start state, computing it on first use.
func (m *LM) startState() *startState {
	if st := m.start.Load(); st != nil {
		return st
	}
	s := m.pool.Get().(*sampler)
	defer m.pool.Put(s)
	return m.warm(s)
}

// run steps the batch until no sequence is left or waiting.
func (b *BatchSampler) run() {
	m := b.m
	be, stop := kernel.WithWorkers[float32](m.be)
	defer stop()
	bt := newBatch(m.lo)
	defer func() {
		if p := recover(); p != nil {
			b.fail(bt, fmt.Errorf("model: batch sampler: %v", p))
		}
	}()
	for b.admit(bt) {
		stepRows(be, m.lo, m.p, bt.h, bt.c, bt.g, bt.x, bt.logits, bt.ids)
		sV := stride(m.lo.vocab)
		for r := 0; r < len(bt.reqs); {
			id, done := bt.reqs[r].q.next(m, bt.logits[r*sV:r*sV+m.lo.vocab], &bt.draw)
			if done {
				bt.finish(r)
				continue
			}
			bt.ids[r] = id
			r++
		}
	}
}

// admit is the step boundary: the rows whose callers left go, waiting
// requests join while the batch has room (the last limit a caller brought),
// and it reports whether there is anything to step; when not, the stepping
// goroutine ends.
func (b *BatchSampler) admit(bt *batch) bool {
	for r := 0; r < len(bt.reqs); {
		if bt.reqs[r].gone.Load() {
			bt.remove(r)
			continue
		}
		r++
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.queue) > 0 && len(bt.reqs) < b.lim.MaxBatch {
		r := b.queue[0]
		b.queue[0] = nil
		b.queue = b.queue[1:]
		bt.join(b.m, r)
	}
	if len(b.queue) == 0 {
		b.queue = nil // let the backing array go
	}
	n := len(bt.reqs)
	b.stats.Active = n
	if n == 0 {
		b.running = false
		return false
	}
	b.stats.Peak = max(b.stats.Peak, n)
	b.stats.Steps++
	b.stats.Rows += int64(n)
	return true
}

// fail ends every sequence in the batch and every waiting request with err
// (a panic while stepping), so that no caller waits forever.
func (b *BatchSampler) fail(bt *batch, err error) {
	for _, r := range bt.reqs {
		r.err = err
		close(r.done)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range b.queue {
		r.err = err
		close(r.done)
	}
	b.queue, b.stats.Active, b.running = nil, 0, false
}
