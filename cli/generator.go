package cli

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"commentbot/bot"
	"commentbot/config"
	"commentbot/corpus"
	"commentbot/model"
	"commentbot/originality"
	"commentbot/scheduler"
	"commentbot/store"
	"commentbot/text"
)

// generator adapts the scheduler's live models to bot.Generator.
type generator struct {
	sched *scheduler.Scheduler
	store store.Store
}

func (g generator) Models(ctx context.Context) []bot.ModelInfo {
	cfg := g.sched.Config()
	out := make([]bot.ModelInfo, 0, len(cfg.Models))
	comments, err := g.store.Count(ctx, corpus.Filter{Split: corpus.Train, ValidFraction: cfg.Corpus.ValidationFraction})
	if err != nil {
		comments = 0 // unknown; /models still lists the models
	}
	scores := g.sched.Scores()
	def, why := g.sched.DefaultModel()
	for _, mc := range cfg.Models {
		info := bot.ModelInfo{Name: mc.Name, Kind: mc.Kind, Enabled: mc.Enabled, HeldOutLoss: math.NaN()}
		if ld, err := g.sched.Live().Get(mc.Name); err == nil {
			describe(&info, ld.Version, ld.Info)
			info.Kind = ld.Model.Spec().Kind // what serves, which a reload may not have replaced yet
			info.CorpusSize = comments
			if png, err := g.sched.LossPNG(ctx, mc.Name); err == nil {
				info.LossCurvePNG = png
			}
			if sc, ok := scores[mc.Name]; ok && sc.Version == ld.Version {
				info.BitsPerChar, info.ScoredOn = sc.BitsPerChar, sc.Comments
			}
			info.Default, info.DefaultWhy = mc.Name == def, why
		} else if vi, ok := liveOnDisk(ctx, g.sched, mc.Name); ok && !mc.Enabled {
			describe(&info, vi.Version, vi) // disabled: not loaded, but trained
		}
		info.LastFineTune = lastFineTune(ctx, g.store, mc.Name)
		info.Note = troubleNote(g.sched, mc.Name, g.sched.Training(mc.Name))
		out = append(out, info)
	}
	return out
}

// describe fills the version figures of info.
func describe(info *bot.ModelInfo, v int, vi scheduler.VersionInfo) {
	info.Version = fmt.Sprintf("v%d", v)
	info.TrainedAt = vi.Created
	info.Origin = vi.Origin()
	if vi.HeldOutTokens > 0 {
		info.HeldOutLoss = vi.HeldOutLoss
	}
}

// liveOnDisk returns the metadata of the version the live file of name names.
func liveOnDisk(ctx context.Context, s *scheduler.Scheduler, name string) (scheduler.VersionInfo, bool) {
	v, err := s.Repo().Live(ctx, name)
	if err != nil {
		return scheduler.VersionInfo{}, false
	}
	vi, err := s.Repo().Info(ctx, name, v)
	return vi, err == nil
}

// troubleNote says in a line what keeps name from serving what its files say.
func troubleNote(s *scheduler.Scheduler, name string, training bool) string {
	t, ok := s.Trouble(name)
	switch {
	case !ok:
		return ""
	case t.SetAside != "" && training:
		return fmt.Sprintf("its checkpoints could not be used and were set aside in %s; a new version is training", filepath.Base(t.SetAside))
	case t.SetAside != "":
		return fmt.Sprintf("an unusable earlier lineage was set aside in %s", filepath.Base(t.SetAside))
	default:
		return fmt.Sprintf("the live file names v%d, which was refused (see the log)", t.Refused)
	}
}

func (g generator) Generate(ctx context.Context, req bot.GenerateRequest) (bot.Generated, error) {
	out, err := g.sched.Generate(ctx, req.Model, scheduler.SampleOptions{
		Temperature: req.Temperature, Prompt: req.Prompt, MaxTokens: req.Length, Seed: req.Seed,
	})
	switch {
	case errors.Is(err, scheduler.ErrUnknownModel):
		return bot.Generated{}, fmt.Errorf("%w: %w", bot.ErrUnknownModel, err)
	case errors.Is(err, scheduler.ErrDisabled):
		return bot.Generated{}, fmt.Errorf("%w: %w", bot.ErrModelDisabled, err)
	case errors.Is(err, scheduler.ErrNotReady) && g.sched.Training(req.Model):
		return bot.Generated{}, fmt.Errorf("%w: model %q is still training its first version, try again in a few minutes", bot.ErrBadRequest, req.Model)
	case errors.Is(err, scheduler.ErrNotReady):
		return bot.Generated{}, fmt.Errorf("%w: model %q has no trained version: its first training failed (the log says why); it is tried again after the next ingest", bot.ErrBadRequest, req.Model)
	case errors.Is(err, model.ErrBusy):
		return bot.Generated{}, fmt.Errorf("%w: %w", bot.ErrBusy, err)
	case errors.Is(err, model.ErrTemperature), errors.Is(err, model.ErrSampleOptions):
		return bot.Generated{}, fmt.Errorf("%w: %w", bot.ErrBadRequest, err)
	case err != nil:
		return bot.Generated{}, err
	}
	return bot.Generated{Text: out.Text, Model: out.Model, Version: fmt.Sprintf("v%d", out.Version),
		Temperature: req.Temperature, Seed: out.Seed}, nil
}

func (g generator) Retrain(ctx context.Context, name string) (string, error) {
	rep, err := g.sched.FineTune(ctx, name)
	switch {
	case errors.Is(err, scheduler.ErrUnknownModel):
		return "", fmt.Errorf("%w: %w", bot.ErrUnknownModel, err)
	case errors.Is(err, scheduler.ErrNotReady):
		return "", fmt.Errorf("%w: model %q has no live version to fine-tune yet", bot.ErrBadRequest, name)
	case err != nil:
		return "", err
	case rep.Skipped != "":
		return fmt.Sprintf("%s: nothing to fine-tune on (%s)", name, rep.Skipped), nil
	case rep.Promoted:
		return fmt.Sprintf("%s: v%d promoted (held-out loss %.3f → %.3f on %d fresh + %d replayed comments)",
			name, rep.Version, rep.LiveFixed, rep.CandFixed, rep.Fresh, rep.Replay), nil
	default:
		return fmt.Sprintf("%s: candidate rejected, v%d stays live: %s", name, rep.From, rep.Decision.Reason), nil
	}
}

// botConfig maps the config's bot section to bot.Config.
func botConfig(cfg config.Config) bot.Config {
	b := bot.DefaultConfig()
	c := cfg.Bot
	b.GuildID = c.GuildID
	b.Temperature, b.MinTemperature, b.MaxTemperature = c.Temperature, c.MinTemperature, c.MaxTemperature
	b.MaxPromptChars = c.MaxPromptChars
	b.WordFilter = c.WordFilter
	b.Cooldown, b.ChannelRate, b.MaxConcurrent, b.GenerationTimeout = c.Cooldown, c.ChannelRate, c.MaxConcurrent, c.GenerationTimeout
	b.ModeratorRole, b.OriginalityRetries = c.ModeratorRole, c.OriginalityRetries
	b.ShardID, b.ShardCount = c.ShardID, c.ShardCount
	b.MaxLength = 1
	for _, m := range cfg.Models {
		if m.MaxTokens > b.MaxLength {
			b.MaxLength = m.MaxTokens
		}
	}
	return b
}

// originalityCheck adapts the originality index to bot.Originality.
func originalityCheck(ix *originality.Index) bot.Originality {
	return bot.OriginalityFunc(func(level, s string) bool {
		l := text.LevelWord
		if level == "char" {
			l = text.LevelChar
		}
		return ix.Copies(l, s)
	})
}

// indexingIngester keeps the n-gram index current: after each ingest, the comments it
// stored are added.
type indexingIngester struct {
	in    scheduler.Ingester
	store store.Store
	index *originality.Index
}

func (x indexingIngester) Ingest(ctx context.Context) (scheduler.IngestCounts, error) {
	since := time.Now()
	n, err := x.in.Ingest(ctx)
	if n.New+n.Updated > 0 {
		if aerr := x.store.Comments(corpus.Filter{IngestedAfter: since.Add(-time.Second)})(ctx, func(c corpus.Comment) error {
			x.index.Add(c.Body)
			return nil
		}); aerr != nil && err == nil {
			err = fmt.Errorf("n-gram index: %w", aerr)
		}
	}
	return n, err
}
