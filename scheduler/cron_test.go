package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/internal/fakereddit"
	"commentbot/reddit"
	"commentbot/scheduler/runs"
	"commentbot/store"
)

// TestCronIngestFromFakeReddit: the ingest job, on a one-second cron schedule,
// runs the real Reddit ingester against the loopback fake; its run is recorded
// with the comments added. A failing ingest (HTTP 500, no retries) is recorded
// as an error and counted, and the next run works.
func TestCronIngestFromFakeReddit(t *testing.T) {
	srv := fakereddit.New(t)
	for i := range 30 {
		srv.AddComments("cooking", fakereddit.Comment{Author: fmt.Sprintf("u%d", i), Body: fmt.Sprintf("comment number %d about soup", i), Score: 1})
	}
	e := newEnv(t, 40, func(o *Options) {
		in, err := reddit.NewIngester(reddit.Config{
			Subreddits: []string{"cooking"}, BaseURL: srv.BaseURL(), TokenURL: srv.TokenURL(),
			Timeout: 5 * time.Second, MaxRetries: -1,
		}, o.Store.(*store.SQLite), reddit.Deps{})
		if err != nil {
			t.Fatal(err)
		}
		o.Ingester = IngestFunc(func(ctx context.Context) (IngestCounts, error) {
			r, err := in.Run(ctx)
			return IngestCounts{New: r.New, Updated: r.Updated, Skipped: r.Skipped, Figures: r.Figures()}, err
		})
		o.Config.Schedule.Ingest = "@every 1s"
	})
	e.start()
	// The first cron tick comes within a second (cron's finest @every step).
	deadline := time.Now().Add(10 * time.Second)
	for len(e.runs(JobIngest)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	rs := e.runs(JobIngest)
	if len(rs) == 0 {
		t.Fatal("no ingest run within 10 s of a 1 s schedule")
	}
	if rs[len(rs)-1].Outcome != runs.OutcomeOK || rs[len(rs)-1].Figures["new"] != 30 {
		t.Fatalf("first ingest run = %+v, want ok with 30 new", rs[len(rs)-1])
	}
	if got := metricValue(t, e, "commentbot_ingested_comments_total", "kind", "new"); got != 30 {
		t.Errorf("ingested{new} = %v, want 30", got)
	}
	n, err := e.store.Count(context.Background(), corpus.Filter{})
	if err != nil || n != 70 {
		t.Errorf("store holds %d comments (%v), want 40 + 30", n, err)
	}

	// A failing run: recorded, counted, not fatal.
	srv.AddComments("cooking", fakereddit.Comment{Author: "late", Body: "a later comment about bread"})
	srv.SetFault(fakereddit.Fault{Endpoint: fakereddit.Listing, Kind: fakereddit.Status500, Times: 1})
	err = e.s.RunIngest(context.Background())
	if err == nil {
		t.Fatal("RunIngest with a 500 and no retries succeeded")
	}
	if got := metricValue(t, e, "commentbot_ingest_errors_total"); got < 1 {
		t.Errorf("ingest errors = %v, want ≥ 1", got)
	}
	errRuns := 0
	for _, r := range e.runs(JobIngest) {
		if r.Outcome == runs.OutcomeError && strings.Contains(r.Detail, "500") {
			errRuns++
		}
	}
	if errRuns < 1 {
		t.Errorf("no ingest run recorded with the 500: %+v", e.runs(JobIngest))
	}
	if err := e.s.RunIngest(context.Background()); err != nil {
		t.Errorf("RunIngest after the fault: %v", err)
	}
	if n, _ := e.store.Count(context.Background(), corpus.Filter{}); n != 71 {
		t.Errorf("store holds %d comments after recovery, want 71", n)
	}
}

// TestRunPost: a scheduled post samples the configured model and hands the
// text to the Poster; each outcome is a run record.
func TestRunPost(t *testing.T) {
	var mu sync.Mutex
	var sent []string
	fail := false
	unoriginal := 0 // samples to refuse as copies before accepting one
	var levels []string
	e := newEnv(t, 60, func(o *Options) {
		o.Poster = PostFunc(func(ctx context.Context, ch, level, text string) error {
			mu.Lock()
			defer mu.Unlock()
			levels = append(levels, level)
			if fail {
				return errors.New("discord said no")
			}
			if unoriginal > 0 {
				unoriginal--
				return fmt.Errorf("refused: %w", ErrUnoriginal)
			}
			sent = append(sent, ch+": "+text)
			return nil
		})
	})
	e.start()
	tests := []struct {
		name    string
		post    config.Post
		fail    bool
		wantErr string
		wantOut string
	}{
		{"ok", config.Post{Channel: "42", Model: "uni", Temperature: 0.8}, false, "", runs.OutcomeOK},
		{"poster fails", config.Post{Channel: "42", Model: "uni", Temperature: 0.8}, true, "discord said no", runs.OutcomeError},
		{"unknown model", config.Post{Channel: "42", Model: "nope", Temperature: 0.8}, false, "unknown model", runs.OutcomeError},
		{"two copies, then an original", config.Post{Channel: "42", Model: "uni", Temperature: 0.8}, false, "", runs.OutcomeOK},
		{"only copies", config.Post{Channel: "42", Model: "uni", Temperature: 0.8}, false, "copies training data", runs.OutcomeError},
	}
	for i, tt := range tests {
		mu.Lock()
		fail = tt.fail
		switch tt.name {
		case "two copies, then an original":
			unoriginal = 2
		case "only copies":
			unoriginal = 100
		}
		before, calls := len(sent), len(levels)
		mu.Unlock()
		err := e.s.RunPost(context.Background(), tt.post)
		if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
		rs := e.runs(JobPost)
		if len(rs) != i+1 || rs[0].Outcome != tt.wantOut {
			t.Errorf("%s: %d post runs, newest %+v; want %d with outcome %s", tt.name, len(rs), rs[0], i+1, tt.wantOut)
		}
		mu.Lock()
		if got := len(sent) - before; (tt.wantOut == runs.OutcomeOK) != (got == 1) {
			t.Errorf("%s: %d messages sent", tt.name, got)
		}
		want := map[string]int{"two copies, then an original": 3, "only copies": postAttempts}[tt.name]
		if got := len(levels) - calls; want > 0 && got != want {
			t.Errorf("%s: poster called %d times, want %d", tt.name, got, want)
		}
		mu.Unlock()
	}
	for _, l := range levels {
		if l != "word" {
			t.Errorf("poster got level %q for a word model", l)
		}
	}
	if !strings.HasPrefix(sent[0], "42: ") || len(strings.Fields(sent[0])) != 13 {
		t.Errorf("sent %q, want channel 42 and 12 words", sent[0])
	}
}

// metricValue reads a counter or gauge from the env's registry; labels are
// name, value pairs that must all match.
func metricValue(t *testing.T, e *env, name string, labels ...string) float64 {
	t.Helper()
	fams, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
