package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testReplayKeys(t *testing.T, s Store) {
	ctx := context.Background()
	mark := func(at time.Time, keys ...string) bool {
		t.Helper()
		fresh, err := s.MarkSeen(ctx, keys, at, at.Add(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	steps := []struct {
		at   time.Time
		keys []string
		want bool
	}{
		{t0, []string{"id:1", "sig:aa"}, true},
		{t0, []string{"id:1", "sig:aa"}, false},                  // the same request again
		{t0.Add(time.Second), []string{"id:2", "sig:aa"}, false}, // a new id, the same signature
		{t0.Add(time.Second), []string{"id:1", "sig:bb"}, false}, // the same id, a new signature
		{t0.Add(2 * time.Second), []string{"id:3", "sig:cc"}, true},
		{t0.Add(5 * time.Minute), []string{"id:1"}, false},                  // seen until t0+5m, inclusive
		{t0.Add(6 * time.Minute), []string{"id:1", "sig:dd"}, true},         // expired: fresh again
		{t0.Add(7 * time.Minute), []string{"id:1"}, false},                  // and remembered anew
		{t0.Add(7 * time.Minute), []string{"id:2"}, true},                   // recorded at +1s (though refused), expired since
		{t0.Add(7 * time.Minute), []string{"sig:zz", "id:4", "id:5"}, true}, // any number of keys
	}
	for i, st := range steps {
		if got := mark(st.at, st.keys...); got != st.want {
			t.Errorf("step %d: MarkSeen(%v) = %v, want %v", i, st.keys, got, st.want)
		}
	}
	// Replicas racing with the same interaction: exactly one accepts it.
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.MarkSeen(ctx, []string{"id:race", "sig:race"}, t0, t0.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Errorf("%d of 12 racing replicas accepted the same interaction, want 1", fresh.Load())
	}
}

func testCommandLimits(t *testing.T, s Store) {
	ctx := context.Background()
	const cooldown, perMinute = 10 * time.Second, 3
	steps := []struct {
		user, channel string
		at            time.Duration
		wait          time.Duration
		which         string
	}{
		{"u1", "c1", 0, 0, ""},
		{"u1", "c1", 5 * time.Second, 5 * time.Second, "user"},
		{"u1", "c9", 9 * time.Second, time.Second, "user"}, // the cooldown follows the user
		{"u1", "c1", 10 * time.Second, 0, ""},              // exactly over
		{"u2", "c2", 0, 0, ""},
		{"u3", "c2", 0, 0, ""},
		{"u4", "c2", 0, 0, ""},
		{"u5", "c2", time.Second, 59 * time.Second, "channel"}, // 3 in the last minute
		{"u5", "c3", time.Second, 0, ""},                       // a refusal started no cooldown
		{"u6", "c2", 60 * time.Second, 0, ""},                  // the first three are a minute old
	}
	for i, st := range steps {
		wait, which, err := s.AllowCommand(ctx, st.user, st.channel, t0.Add(st.at), cooldown, perMinute)
		if err != nil {
			t.Fatal(err)
		}
		if wait != st.wait || which != st.which {
			t.Errorf("step %d (%s in %s at +%v): wait %v %q, want %v %q", i, st.user, st.channel, st.at, wait, which, st.wait, st.which)
		}
	}
	// A longer cooldown (a reload) is measured from the last allowed command.
	if wait, which, _ := s.AllowCommand(ctx, "u1", "c1", t0.Add(20*time.Second), time.Minute, perMinute); wait != 50*time.Second || which != "user" {
		t.Errorf("cooldown raised to 1m: wait %v %q, want 50s user", wait, which)
	}
	for i := range 10 { // both limits off
		if wait, _, err := s.AllowCommand(ctx, "u7", "c7", t0, 0, 0); wait != 0 || err != nil {
			t.Fatalf("command %d with no limits: wait %v, %v", i, wait, err)
		}
	}
}

// testConcurrentCooldown: replicas deciding for one user, or one channel, at
// the same moment take turns; the limits hold exactly.
func testConcurrentCooldown(t *testing.T, s Store) {
	ctx := context.Background()
	race := func(n int, user, channel func(i int) string, cooldown time.Duration, perMinute int) int {
		var allowed atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wait, _, err := s.AllowCommand(ctx, user(i), channel(i), t0, cooldown, perMinute)
				if err != nil {
					t.Error(err)
				}
				if wait == 0 {
					allowed.Add(1)
				}
			}()
		}
		wg.Wait()
		return int(allowed.Load())
	}
	same := func(v string) func(int) string { return func(int) string { return v } }
	each := func(p string) func(int) string { return func(i int) string { return fmt.Sprint(p, i) } }
	if got := race(16, same("racer"), each("chan"), time.Minute, 0); got != 1 {
		t.Errorf("one user on 16 replicas at once: %d allowed, want 1", got)
	}
	if got := race(16, each("user"), same("busy"), 0, 5); got != 5 {
		t.Errorf("16 users in one channel (5 a minute) at once: %d allowed, want 5", got)
	}
}

func testSlotsAndSettings(t *testing.T, s Store) {
	ctx := context.Background()
	claims := []struct {
		post string
		slot time.Time
		want bool
	}{
		{"c1 @daily word", t0, true},
		{"c1 @daily word", t0, false},
		{"c1 @daily word", t0.Add(24 * time.Hour), true},
		{"c2 @daily word", t0, true},
	}
	for i, c := range claims {
		if got, err := s.ClaimSlot(ctx, c.post, c.slot); err != nil || got != c.want {
			t.Errorf("claim %d: %v, %v; want %v", i, got, err, c.want)
		}
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.ClaimSlot(ctx, "race", t0); err != nil {
				t.Error(err)
			} else if ok {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Errorf("%d of 8 trainers claimed one slot, want 1", won.Load())
	}
	if v, err := s.Setting(ctx, "commands"); v != "" || err != nil {
		t.Errorf("unset setting = %q, %v", v, err)
	}
	for _, v := range []string{"abc", "def"} {
		if err := s.SetSetting(ctx, "commands", v); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Setting(ctx, "commands"); got != v {
			t.Errorf("Setting = %q, want %q", got, v)
		}
	}
}
