package scheduler

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"commentbot/config"
	"commentbot/corpus"
	"commentbot/scheduler/runs"
)

// lockedBuffer is a log sink the scheduler's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// shippedUni is a "shipped" checkpoint of mc's shape: a unigram model whose
// vocabulary and counts come from junk text, so that the store's comments
// teach it something.
func shippedUni(t *testing.T, eng *uniEngine, mc config.ModelConfig) Pretrained {
	t.Helper()
	junk := []corpus.Comment{{ID: "p1", Body: "zork zork plugh xyzzy the the a"}, {ID: "p2", Body: "frotz plugh zork the cat"}}
	m, err := eng.New(context.Background(), mc, corpus.SliceSource(junk), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Train(context.Background(), TrainSpec{Train: corpus.SliceSource(junk), MaxSteps: 4}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	sp := ModelConfig(mc)
	return Pretrained{Kind: mc.Kind, Embed: sp.Embed, Hidden: sp.Hidden, VocabHash: m.VocabHash(),
		Summary: "pretrained on junk (4 steps)", Steps: 4, TokensTrained: 28, Data: buf.Bytes()}
}

// Tried: a first start with a shipped checkpoint of the model's shape and an
// unlimited fine-tune budget (TrainSteps 0: one pass, sized by the plan).
// Survives: the model serves the shipped weights as v1 the moment Start
// returns (no first training), then a fine-tune on every stored comment runs
// in the background, learns all of their tokens, and v2 — fine-tuned from
// v1 — goes live through the gate; each version says where it came from.
func TestPretrainedStartServesAtOnceAndFineTunes(t *testing.T) {
	var shipped Pretrained
	var logs lockedBuffer
	e := newEnv(t, 60, func(o *Options) {
		eng := o.Engine.(*uniEngine)
		eng.stepDelay.Store(int64(time.Millisecond))
		shipped = shippedUni(t, eng, o.Config.Models[0])
		o.Pretrained, o.TrainSteps = []Pretrained{shipped}, 0
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if err := e.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ld, err := e.s.Live().Get("uni")
	if err != nil || ld.Version != 1 || ld.Info.Job != JobPretrained || ld.Model.VocabHash() != shipped.VocabHash {
		t.Fatalf("right after Start: %+v, %v; want the shipped weights live as v1", ld, err)
	}
	if got := ld.Info.Origin(); got != shipped.Summary || !ld.Info.DataUntil.IsZero() {
		t.Errorf("v1 origin %q, data until %v; want %q and none of the store seen", got, ld.Info.DataUntil, shipped.Summary)
	}
	if err := e.s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rs := e.runs(JobBootstrap); len(rs) != 0 {
		t.Errorf("a first training ran beside the shipped model: %+v", rs)
	}
	rs := e.runs(JobFineTune)
	if len(rs) != 1 || rs[0].Outcome != runs.OutcomePromoted {
		t.Fatalf("fine-tune runs %+v, want one promoted\nlog:\n%s", rs, logs.String())
	}
	trainComments, _ := e.store.Count(context.Background(), corpus.Filter{Split: corpus.Train, ValidFraction: 0.2})
	f := rs[0].Figures
	if int(f["fresh_comments"]) != trainComments || f["fresh_learned_share"] != 1 || f["fresh_train_tokens"] <= 0 {
		t.Errorf("the first fine-tune of a shipped model: figures %v; want all %d training comments fresh and fully learned", f, trainComments)
	}
	if !strings.Contains(rs[0].Detail, "learned 100% of") {
		t.Errorf("run detail %q does not say which share of the fresh tokens it learned", rs[0].Detail)
	}
	vs, err := e.s.Versions(t.Context(), "uni")
	if err != nil || len(vs) != 2 || !vs[1].Live {
		t.Fatalf("versions %+v, %v", vs, err)
	}
	if got, want := vs[1].Origin(), "fine-tuned on "; !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "(from v1)") {
		t.Errorf("v2 origin %q", got)
	}
	if vs[1].Learned == nil || vs[1].Learned.Share() != 1 {
		t.Errorf("v2 records fresh coverage %+v, want all learned", vs[1].Learned)
	}
	if !strings.Contains(logs.String(), "installed the pretrained model") {
		t.Errorf("no log line says the shipped model was installed:\n%s", logs.String())
	}
}

// Tried: a shipped checkpoint the model may not use — switched off, another
// shape, another kind, damaged bytes. Survives: the model trains from scratch
// as before (a bootstrap v1), and the log says why in one line.
func TestPretrainedStartRefused(t *testing.T) {
	for _, tc := range []struct {
		name, why string
		edit      func(*config.ModelConfig, *Pretrained)
	}{
		{"switched off", "pretrained: false", func(mc *config.ModelConfig, _ *Pretrained) { mc.Pretrained = false }},
		{"other sizes", "the config says embedding", func(mc *config.ModelConfig, _ *Pretrained) { mc.Hidden = []int{7} }},
		{"other kind", "ships no word-lstm model", func(_ *config.ModelConfig, p *Pretrained) { p.Kind = config.KindCharLSTM }},
		{"damaged", "cannot be installed", func(_ *config.ModelConfig, p *Pretrained) { p.Data = p.Data[:len(p.Data)/2] }},
		{"other vocabulary", "cannot be installed", func(_ *config.ModelConfig, p *Pretrained) { p.VocabHash = "uni-other" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs lockedBuffer
			e := newEnv(t, 60, func(o *Options) {
				p := shippedUni(t, o.Engine.(*uniEngine), o.Config.Models[0])
				tc.edit(&o.Config.Models[0], &p)
				o.Pretrained = []Pretrained{p}
				o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			e.start()
			ld, err := e.s.Live().Get("uni")
			if err != nil || ld.Version != 1 || ld.Info.Job != JobBootstrap || ld.Info.Origin() != "trained from scratch" {
				t.Fatalf("live %+v, %v; want v1 trained from scratch", ld.Info, err)
			}
			if !strings.Contains(logs.String(), "training") || !strings.Contains(logs.String(), tc.why) {
				t.Errorf("the log does not say why (%q):\n%s", tc.why, logs.String())
			}
		})
	}
}

// An operator's `train` on a model with no versions starts from the shipped
// checkpoint (v1 installed, v2 trained from it); `train --full` starts from
// scratch whatever is shipped.
func TestTrainWithShippedCheckpoint(t *testing.T) {
	e := newEnv(t, 60, func(o *Options) {
		o.Pretrained = []Pretrained{shippedUni(t, o.Engine.(*uniEngine), o.Config.Models[0])}
	})
	rep, err := e.s.Train(context.Background(), "uni", TrainRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Info.Version != 2 || rep.Info.Parent != 1 || rep.From != 1 {
		t.Errorf("train on an empty lineage = %+v; want v2 continued from the installed v1", rep)
	}
	if vi, err := e.s.Repo().Info(t.Context(), "uni", 1); err != nil || vi.Job != JobPretrained {
		t.Errorf("v1 = %+v, %v; want the shipped checkpoint", vi, err)
	}
	rep, err = e.s.Train(context.Background(), "uni", TrainRequest{Full: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Info.Parent != 0 || rep.Info.Job != JobFullTrain || rep.Info.Origin() != "trained from scratch" {
		t.Errorf("train --full = %+v; want a new lineage from scratch", rep.Info)
	}
}
