package store

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"commentbot/corpus"
	"commentbot/text"
	"commentbot/tokens"
)

// TestBatcherSeekResumes: a Batcher over a store on disk, and a new one
// after the store is opened again (a restart), seek to the same batches.
func TestBatcherSeekResumes(t *testing.T) {
	ctx := context.Background()
	// The source is a store on disk, opened again for the "restart".
	path := filepath.Join(t.TempDir(), "corpus.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertFrom(ctx, corpus.CleanSource(corpus.Sample(), text.DefaultCleanRules())); err != nil {
		t.Fatal(err)
	}
	const streams, steps = 3, 20
	b, v := sampleWordBatcher(t, s.Comments(corpus.Filter{Split: corpus.Train}), streams, steps)
	epoch0 := allBatches(t, b, -1)
	epoch1 := allBatches(t, b, 5)
	b.Close()
	s.Close()

	s, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := corpus.NewBatcher(s.Comments(corpus.Filter{Split: corpus.Train}), text.LevelWord, v, streams, steps)
	defer r.Close()
	tests := []struct {
		pos  tokens.Position
		want tokens.Batch
	}{
		{tokens.Position{Epoch: 0, Batch: 0}, epoch0[0]},
		{tokens.Position{Epoch: 0, Batch: 1}, epoch0[1]},
		{tokens.Position{Epoch: 0, Batch: int64(len(epoch0) / 2)}, epoch0[len(epoch0)/2]},
		{tokens.Position{Epoch: 0, Batch: int64(len(epoch0) - 1)}, epoch0[len(epoch0)-1]},
		{tokens.Position{Epoch: 1, Batch: 4}, epoch1[4]},
		{tokens.Position{Epoch: 0, Batch: 7}, epoch0[7]}, // backwards
	}
	for _, tt := range tests {
		if err := r.Seek(ctx, tt.pos); err != nil {
			t.Fatalf("Seek(%+v): %v", tt.pos, err)
		}
		var got tokens.Batch
		if err := r.Next(ctx, &got); err != nil {
			t.Fatalf("Next after Seek(%+v): %v", tt.pos, err)
		}
		if !slices.Equal(got.Inputs, tt.want.Inputs) || !slices.Equal(got.Targets, tt.want.Targets) || !slices.Equal(got.Comments, tt.want.Comments) {
			t.Errorf("after Seek(%+v) the batch differs from the one first read there", tt.pos)
		}
		if want := (tokens.Position{Epoch: tt.pos.Epoch, Batch: tt.pos.Batch + 1}); r.Position() != want {
			t.Errorf("Position after Seek(%+v)+Next = %+v, want %+v", tt.pos, r.Position(), want)
		}
	}
	// Past the end of the epoch: refused, and the Batcher still works.
	err = r.Seek(ctx, tokens.Position{Epoch: 0, Batch: int64(len(epoch0) + 1)})
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Seek past the epoch: err = %v, want io.ErrUnexpectedEOF", err)
	}
	var got tokens.Batch
	if err := r.Next(ctx, &got); err != nil || !slices.Equal(got.Inputs, epoch0[0].Inputs) {
		t.Errorf("after a refused Seek, Next = %v (want the epoch's first batch)", err)
	}
	if err := r.Seek(ctx, tokens.Position{Epoch: -1, Batch: 0}); err == nil {
		t.Errorf("Seek to a negative position succeeded")
	}
}

// sampleWordBatcher batches src at word level over a vocabulary of its 500
// most frequent words.
func sampleWordBatcher(t testing.TB, src corpus.Source, streams, steps int) (*corpus.Batcher, *text.Vocab) {
	t.Helper()
	counts := text.NewCounts()
	err := src(context.Background(), func(c corpus.Comment) error {
		counts.Add(text.LevelWord.Tokens(c.Body)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	v := text.BuildVocab(counts, 500, text.LevelWord.Specials())
	return corpus.NewBatcher(src, text.LevelWord, v, streams, steps), v
}

// allBatches reads n batches (or to the end of the epoch when n < 0).
func allBatches(t *testing.T, b *corpus.Batcher, n int) []tokens.Batch {
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
