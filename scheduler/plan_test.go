package scheduler

import (
	"testing"
	"time"

	"commentbot/config"
)

// A fine-tune is planned as one pass over its fresh and replayed tokens; when
// the measured speed says that will not fit in the cap, replay is cut first,
// and the fresh tokens are never cut (the cap stops the run; its record says
// how much it learned).
func TestPlanFineTune(t *testing.T) {
	for _, tc := range []struct {
		name               string
		fresh, replayTok   int64
		replay             int
		speed              float64
		cap                time.Duration
		wantSteps, wantCut int
		wantReplayTok      int64
	}{
		{"unknown speed: the whole pass", 500, 1000, 100, 0, time.Minute, 15, 0, 1000},
		{"fits", 500, 1000, 100, 100, time.Minute, 15, 0, 1000},
		{"replay cut to fit", 500, 1000, 100, 100, 10 * time.Second, 9, 65, 350},
		{"fresh alone too many: all replay cut", 2000, 1000, 100, 100, 10 * time.Second, 20, 100, 0},
		{"nothing to replay", 2000, 0, 0, 100, 10 * time.Second, 20, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planFineTune(tc.fresh, tc.replayTok, tc.replay, tc.speed, tc.cap, 100)
			if p.Steps != tc.wantSteps || p.ReplayCut != tc.wantCut || p.ReplayTokens != tc.wantReplayTok || p.FreshTokens != tc.fresh || p.Cap != tc.cap {
				t.Errorf("plan = %+v; want %d steps, %d replayed comments cut, %d replay tokens", p, tc.wantSteps, tc.wantCut, tc.wantReplayTok)
			}
		})
	}
}

// Two models on one scale: after the first trainings every live version is
// measured in bits per character on the same held-out comments, and /comment's
// default is the lowest — unless bot.default_model names another.
func TestDefaultModelIsTheBestByBitsPerChar(t *testing.T) {
	small := testModel("small")
	small.VocabSize = 3
	models := []config.ModelConfig{testModel("big"), small}
	e := newEnv(t, 60, func(o *Options) { o.Config.Models = models })
	e.start()
	scores := e.s.Scores()
	big, sm := scores["big"], scores["small"]
	if big.Version != 1 || sm.Version != 1 || !finite(big.BitsPerChar) || !finite(sm.BitsPerChar) || big.BitsPerChar == sm.BitsPerChar || big.Comments == 0 {
		t.Fatalf("scores %+v; want both v1 measured, different", scores)
	}
	best, worst := "big", "small"
	if sm.BitsPerChar < big.BitsPerChar {
		best, worst = worst, best
	}
	if name, why := e.s.DefaultModel(); name != best || why != "lowest held-out bits per character" {
		t.Errorf("DefaultModel = %s (%s), want %s (scores %+v)", name, why, best, scores)
	}

	e2 := newEnv(t, 60, func(o *Options) { o.Config.Models = models; o.Config.Bot.DefaultModel = worst })
	e2.start()
	if name, why := e2.s.DefaultModel(); name != worst || why != "bot.default_model" {
		t.Errorf("with bot.default_model %s: DefaultModel = %s (%s)", worst, name, why)
	}
}
