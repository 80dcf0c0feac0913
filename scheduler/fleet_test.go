package scheduler

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"commentbot/config"
)

// A Follower loads what the store holds and nothing more: before Lead it
// trains no model that has no version and refuses a fine-tune; while Lead
// runs it trains the missing model; once Lead's context ends it stops
// leading, and the version it made stays live for every process.
func TestFollowerLeadsOnlyWhileElected(t *testing.T) {
	e := newEnv(t, 60, func(o *Options) { o.Follower = true })
	e.start()
	if v := e.liveVersion("uni"); v != 0 {
		t.Fatalf("a follower that never led serves v%d; it must not train", v)
	}
	if len(e.runs(JobBootstrap)) != 0 {
		t.Fatal("a follower recorded a first training")
	}
	if _, err := e.s.FineTune(context.Background(), "uni"); !errors.Is(err, ErrNotLeading) {
		t.Errorf("FineTune on a follower = %v, want ErrNotLeading", err)
	}
	if err := e.s.RunIngest(context.Background()); err != nil {
		t.Errorf("RunIngest without an ingester = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.s.Lead(ctx) }()
	deadline := time.Now().Add(60 * time.Second)
	for e.liveVersion("uni") == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if e.liveVersion("uni") != 1 || !e.s.Leading() {
		t.Fatalf("while leading: live v%d, leading %v; want v1 trained by the leader", e.liveVersion("uni"), e.s.Leading())
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Lead = %v, want the cause of its context", err)
	}
	if e.s.Leading() {
		t.Error("still leading after Lead returned")
	}
	if _, err := e.s.FineTune(context.Background(), "uni"); !errors.Is(err, ErrNotLeading) {
		t.Errorf("FineTune after leading = %v, want ErrNotLeading", err)
	}
	if v, err := e.s.Repo().Live(context.Background(), "uni"); err != nil || v != 1 {
		t.Errorf("store's live version = %d, %v; want 1", v, err)
	}
}

// A scheduled post claims its slot in the store before it is sent: the same
// slot run again — by this process or by a trainer taking over after a
// failover, sharing the store — sends nothing; the next slot sends again.
func TestScheduledPostOncePerSlot(t *testing.T) {
	var sent atomic.Int32
	e := newEnv(t, 60, func(o *Options) {
		o.Poster = PostFunc(func(context.Context, string, string, string) error { sent.Add(1); return nil })
	})
	e.start()
	other := newEnv(t, 0, nil) // a second scheduler over the same store
	other.s.opts.Store, other.s.store, other.s.opts.Fleet = e.store, e.store, e.store
	e.s.opts.Fleet = e.store
	p := config.Post{Cron: "0 * * * *", Channel: "c1", Model: "uni", Temperature: 0.8}
	e.clock.Add(30 * time.Second) // inside the minute of the slot
	for _, s := range []*Scheduler{e.s, e.s, other.s} {
		if err := s.runScheduledPost(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if n := sent.Load(); n != 1 {
		t.Fatalf("one slot run three times sent %d posts, want 1", n)
	}
	e.clock.Add(time.Hour)
	if err := e.s.runScheduledPost(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if n := sent.Load(); n != 2 {
		t.Errorf("the next slot sent %d posts in all, want 2", n)
	}
}
