package bot

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"commentbot/internal/fakediscord"

	"github.com/bwmarrin/discordgo"
)

// percentile returns the q-quantile (0…1) of sorted durations, nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// loadRun dispatches n /comment interactions with at most conc in flight (an
// interaction leaves the flight when its answer is edited in) and returns the time
// from INTERACTION_CREATE to the callback and to the final answer, per interaction.
func loadRun(t testing.TB, h *harness, n, conc int) (first, final []time.Duration) {
	t.Helper()
	slots := make(chan struct{}, conc)
	var wg sync.WaitGroup
	var failed atomic.Int64
	logs := make([]fakediscord.InteractionLog, n)
	for k := range n {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			i := guildCmd(CmdComment, "load-user-"+strconv.Itoa(k), "load-chan-"+strconv.Itoa(k), 0,
				numOpt("temperature", 0.5+float64(k%10)/10))
			if err := h.fake.DispatchInteraction(i); err != nil {
				t.Errorf("dispatch %d: %v", k, err)
				failed.Add(1)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := h.fake.Wait(ctx, func() bool {
				l, _ := h.fake.Interaction(i.Token)
				logs[k] = l
				return answered(l)
			})
			if err != nil {
				l := logs[k]
				t.Errorf("interaction %d never answered: %v; dispatched %v, callback %+v, edits %d, refused %v",
					k, err, l.Dispatched.Format(time.StampMicro), l.Callback, len(l.Edits), l.Refused)
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d interactions lost (gateway: %d IDENTIFY, %d RESUME)", failed.Load(), n, len(h.fake.Identifies()), h.fake.Resumes())
	}
	for k, l := range logs {
		if len(l.Refused) > 0 || l.Callback == nil {
			t.Errorf("interaction %d: refused %v, callback %v", k, l.Refused, l.Callback)
			continue
		}
		if l.Callback.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
			t.Errorf("interaction %d: callback type %v, want deferred", k, l.Callback.Type)
		}
		if len(l.Edits) == 0 {
			var text string
			if l.Callback.Data != nil {
				text = l.Callback.Data.Text()
			}
			t.Errorf("interaction %d: answered %q without a comment", k, text)
			continue
		}
		if got := l.Edits[len(l.Edits)-1].Text(); !strings.Contains(got, "\n-# word v3 · temperature ") {
			t.Errorf("interaction %d: answer %q is not a comment", k, got)
		}
		first = append(first, l.Latency())
		final = append(final, l.Edits[len(l.Edits)-1].At.Sub(l.Dispatched))
	}
	slices.Sort(first)
	slices.Sort(final)
	return first, final
}

// burnCPU keeps k goroutines spinning until stop is closed, standing in for a
// training run competing for the cores.
func burnCPU(k int, stop <-chan struct{}) {
	for range k {
		go func() {
			x := 1.0
			for {
				select {
				case <-stop:
					return
				default:
				}
				for range 10000 {
					x = x*1.0000001 + 1e-9
				}
			}
		}()
	}
}

// Tried: 500 /comment interactions, 25 at a time, distinct users and channels, each
// generation taking 20 ms; with BOT_LOAD_BURN=k, k goroutines spin meanwhile (a
// training run's load). Survives: every interaction is answered, the callback
// within Discord's 3 s deadline (the fake refuses later ones), none is told "busy",
// no Discord call fails. p50/p99 of dispatch→callback and dispatch→answer are logged.
func TestGatewayLoad(t *testing.T) {
	const n, conc = 500, 25
	gen := newFakeGen()
	gen.delay = 20 * time.Millisecond
	cfg := testConfig()
	cfg.MaxConcurrent = conc
	h := startGateway(t, cfg, gen, Options{})
	burn, _ := strconv.Atoi(os.Getenv("BOT_LOAD_BURN"))
	stop := make(chan struct{})
	burnCPU(burn, stop)
	start := time.Now()
	first, final := loadRun(t, h, n, conc)
	elapsed := time.Since(start)
	close(stop)
	if len(first) != n {
		t.Fatalf("answered %d of %d", len(first), n)
	}
	if worst := first[len(first)-1]; worst > discordgo.InteractionDeadline {
		t.Errorf("slowest first response %v, over Discord's %v deadline", worst, discordgo.InteractionDeadline)
	}
	s := h.bot.Stats()
	if s.Generated != n || s.Busy != 0 || s.RespondErrors != 0 || s.Limited != 0 {
		t.Errorf("stats = %+v, want %d comments, none busy, limited or failed", s, n)
	}
	t.Logf("gateway: %d IDENTIFY, %d RESUME during the run", len(h.fake.Identifies()), h.fake.Resumes())
	t.Logf("%d /comment, %d at a time, GOMAXPROCS=%d, %d CPU burners, generation 20ms: %.0f comments/s",
		n, conc, runtime.GOMAXPROCS(0), burn, float64(n)/elapsed.Seconds())
	t.Logf("INTERACTION_CREATE → callback: p50 %v  p99 %v  max %v", percentile(first, 0.5), percentile(first, 0.99), first[len(first)-1])
	t.Logf("INTERACTION_CREATE → answer:   p50 %v  p99 %v  max %v", percentile(final, 0.5), percentile(final, 0.99), final[len(final)-1])
}

// BenchmarkGatewayComment measures /comment through the fake Discord with 25 in
// flight and a generator that returns at once; it reports comments/s and the p50/p99
// time to the first response.
func BenchmarkGatewayComment(b *testing.B) {
	gen := newFakeGen()
	cfg := testConfig()
	cfg.MaxConcurrent = 25
	h := startGateway(b, cfg, gen, Options{})
	b.ResetTimer()
	start := time.Now()
	first, _ := loadRun(b, h, b.N, 25)
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "comments/s")
	b.ReportMetric(float64(percentile(first, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(first, 0.99).Microseconds()), "p99-µs")
}
