package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"commentbot/text"
	"commentbot/tokens"
)

// ErrEmptyEpoch means a whole pass over the source did not fill a single
// batch: the source is empty or too small for streams × (steps+1) tokens.
var ErrEmptyEpoch = errors.New("corpus: source too small for one batch")

// errStopPull ends a source that the Batcher stopped reading.
var errStopPull = errors.New("corpus: batcher stopped reading")

// A Batcher cuts the comments of a Source into Batches for truncated BPTT.
//
// Each of the B streams is a continuous concatenation of encoded comments
// (Level.Tokens of the body, then Vocab.Encode; the word level ends every
// sentence with SENTENCE_END, the char level every comment with CharEnd, so
// comment boundaries are in the data). Streams are filled in a fixed order:
// to build a batch, stream 0, then 1, …, B-1 each take the next comments of
// the source until it holds at least T+1 tokens; a batch then takes T
// inputs and the T following targets from every stream, and the last target
// stays as the next batch's first input. Comments therefore go to whichever
// stream runs short first, which keeps the streams within one comment of
// the same length, and the assignment depends only on the source order, so
// it is the same on every pass.
//
// The source is read lazily: a Batcher holds at most about one comment more
// than T+1 tokens per stream, never the corpus. An epoch is one pass over
// the source; it ends, and Next returns io.EOF, as soon as the source runs
// dry while a stream still lacks tokens. The tail — fewer than T+1 tokens in
// that stream plus whatever the others held, at most B×(T+1) tokens plus a
// comment per stream — is dropped, and the next Next starts epoch+1 from the
// beginning of the source with empty streams (a model should reset its
// state there). The source is read in the same order every epoch; a source
// that grows only at its end (Store.Comments) keeps every earlier position.
//
// Reading needs a Source that calls fn on the goroutine that called it (all
// Sources of this package do). The source of an epoch runs under the context
// of the Next or Seek call that started the epoch, without its deadline;
// canceling the context of any Next call while it reads ends that source, and
// the Batcher then fails until Seek. A Batcher is not safe for concurrent
// use. Close releases the source being read.
type Batcher struct {
	src            Source
	level          text.Level
	vocab          *text.Vocab
	streams, steps int

	pos   tokens.Position
	bufs  [][]int // per stream: tokens not yet used as inputs
	owner [][]int // per stream: the comment number of each token in bufs
	read  int     // comments read in this epoch
	ids   []int   // scratch for Vocab.Encode

	// The pull side of the current epoch's source, nil between epochs.
	next   func() (Comment, bool)
	stop   func()
	cancel context.CancelFunc
	srcErr error // what the source returned once it ended
	err    error // sticky failure, cleared by Seek
}

// NewBatcher returns a Batcher of streams × steps batches over src, encoded
// with level and vocab, at Position{0, 0}. It panics when streams or steps
// is below 1 or vocab is nil (programmer errors).
func NewBatcher(src Source, level text.Level, vocab *text.Vocab, streams, steps int) *Batcher {
	if streams < 1 || steps < 1 {
		panic(fmt.Sprintf("corpus: NewBatcher with %d streams × %d steps", streams, steps))
	}
	if vocab == nil || src == nil {
		panic("corpus: NewBatcher with a nil source or vocabulary")
	}
	b := &Batcher{src: src, level: level, vocab: vocab, streams: streams, steps: steps,
		bufs: make([][]int, streams), owner: make([][]int, streams)}
	for s := range b.bufs {
		b.bufs[s] = make([]int, 0, 2*(steps+1))
		b.owner[s] = make([]int, 0, 2*(steps+1))
	}
	return b
}

// Position returns the position of the next batch.
func (b *Batcher) Position() tokens.Position { return b.pos }

// Next fills dst with the next batch (reusing its slices) and advances the
// position. At the end of an epoch it returns io.EOF, the position moves to
// {Epoch+1, 0} and the next call starts the new epoch. It returns an error
// wrapping ErrEmptyEpoch when a whole epoch yields no batch, the source's
// error when reading fails, and ctx.Err() when ctx is done.
func (b *Batcher) Next(ctx context.Context, dst *tokens.Batch) error {
	if b.err != nil {
		return b.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ok, err := b.fill(ctx)
	if err != nil {
		b.fail(err)
		return err
	}
	if !ok {
		empty := b.pos.Batch == 0
		b.endEpoch()
		b.pos = tokens.Position{Epoch: b.pos.Epoch + 1}
		if empty {
			return fmt.Errorf("%w (%d streams × %d steps)", ErrEmptyEpoch, b.streams, b.steps)
		}
		return io.EOF
	}
	b.cut(dst)
	b.pos.Batch++
	return nil
}

// Seek moves to position p by starting epoch p.Epoch from the source's
// beginning and replaying p.Batch batches (the comments are read and
// encoded again, nothing is returned), so the next Next returns exactly the
// batch that followed p before a restart. It fails with io.ErrUnexpectedEOF
// when the epoch has fewer than p.Batch batches, and clears a failure.
func (b *Batcher) Seek(ctx context.Context, p tokens.Position) error {
	if p.Epoch < 0 || p.Batch < 0 {
		return fmt.Errorf("corpus: seek to invalid position %+v", p)
	}
	b.endEpoch()
	b.err = nil
	b.pos = tokens.Position{Epoch: p.Epoch}
	for b.pos.Batch < p.Batch {
		ok, err := b.fill(ctx)
		if err != nil {
			b.fail(err)
			return fmt.Errorf("corpus: seek to %+v: %w", p, err)
		}
		if !ok {
			n := b.pos.Batch
			b.endEpoch()
			b.pos = tokens.Position{Epoch: p.Epoch}
			return fmt.Errorf("corpus: seek to %+v: epoch has %d batches: %w", p, n, io.ErrUnexpectedEOF)
		}
		for s := range b.bufs {
			b.bufs[s] = shift(b.bufs[s], b.steps)
			b.owner[s] = shift(b.owner[s], b.steps)
		}
		b.pos.Batch++
	}
	return nil
}

// Close stops reading the current source. The Batcher can be used again
// after Seek.
func (b *Batcher) Close() error {
	b.endEpoch()
	b.err = errors.New("corpus: batcher closed")
	return nil
}

// fill tops every stream up to steps+1 tokens; false when the source ran
// dry first.
func (b *Batcher) fill(ctx context.Context) (bool, error) {
	need := b.steps + 1
	for s := range b.bufs {
		if len(b.bufs[s]) >= need {
			continue
		}
		if b.next == nil {
			b.startEpoch(ctx)
		}
		// The source runs under its own context; a cancellation of this
		// call's ctx while reading reaches it through AfterFunc.
		stopWatch := context.AfterFunc(ctx, b.cancel)
		for len(b.bufs[s]) < need {
			c, ok := b.next()
			if !ok {
				stopWatch()
				if b.srcErr != nil && !errors.Is(b.srcErr, errStopPull) {
					return false, fmt.Errorf("corpus: batcher source: %w", b.srcErr)
				}
				return false, nil
			}
			toks := b.level.Tokens(c.Body)
			b.ids = b.vocab.Encode(toks, b.ids[:0])
			for i, id := range b.ids {
				if id < 0 {
					stopWatch()
					return false, fmt.Errorf("%w: token %q of comment %s is not in a vocabulary without an unknown token", text.ErrVocab, toks[i], c.ID)
				}
			}
			b.bufs[s] = append(b.bufs[s], b.ids...)
			for range b.ids {
				b.owner[s] = append(b.owner[s], b.read)
			}
			b.read++
		}
		if !stopWatch() {
			return false, ctx.Err() // ctx ended while reading: the source is canceled
		}
	}
	return true, nil
}

// cut copies steps inputs and targets from every stream into dst and keeps
// each stream's last target as its next first input.
func (b *Batcher) cut(dst *tokens.Batch) {
	n := b.streams * b.steps
	dst.Streams, dst.Steps = b.streams, b.steps
	dst.Inputs = resize(dst.Inputs, n)
	dst.Targets = resize(dst.Targets, n)
	dst.Comments = resize(dst.Comments, n)
	for s, buf := range b.bufs {
		copy(dst.Inputs[s*b.steps:(s+1)*b.steps], buf[:b.steps])
		copy(dst.Targets[s*b.steps:(s+1)*b.steps], buf[1:b.steps+1])
		copy(dst.Comments[s*b.steps:(s+1)*b.steps], b.owner[s][1:b.steps+1])
		b.bufs[s] = shift(buf, b.steps)
		b.owner[s] = shift(b.owner[s], b.steps)
	}
}

// shift drops the first n tokens of buf in place.
func shift(buf []int, n int) []int {
	k := copy(buf, buf[n:])
	return buf[:k]
}

func resize(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

// startEpoch turns the push Source into a pull iterator for one epoch.
func (b *Batcher) startEpoch(ctx context.Context) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.srcErr = nil
	seq := func(yield func(Comment) bool) {
		b.srcErr = b.src(sctx, func(c Comment) error {
			if !yield(c) {
				return errStopPull
			}
			return nil
		})
	}
	b.next, b.stop = iter.Pull(seq)
}

// endEpoch stops the epoch's source and empties the streams.
func (b *Batcher) endEpoch() {
	if b.stop != nil {
		b.stop()
		b.cancel()
	}
	b.next, b.stop, b.cancel = nil, nil, nil
	b.read = 0
	for s := range b.bufs {
		b.bufs[s] = b.bufs[s][:0]
		b.owner[s] = b.owner[s][:0]
	}
}

// fail stops reading and makes every later Next return err until Seek.
func (b *Batcher) fail(err error) {
	b.endEpoch()
	b.err = err
}
