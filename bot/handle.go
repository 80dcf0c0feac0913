package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// reply is one message to the user.
type reply struct {
	content   string
	ephemeral bool
	files     []*discordgo.File
}

// responder is how a transport answers one interaction. The first call must be
// respond or deferAnswer; a respond after deferAnswer edits the deferred answer and a
// respond after respond sends a follow-up, so the handler need not track the state.
type responder interface {
	respond(ctx context.Context, r reply) error
	deferAnswer(ctx context.Context, ephemeral bool) error
	followup(ctx context.Context, r reply) error
}

// handle runs one command to its end: validation, limits, the answer. It never
// panics: a panic in a collaborator is logged and answered with a plain error.
func (b *Bot) handle(ctx context.Context, inv invocation, r responder) {
	start := time.Now()
	t := &timedResponder{r: r, start: start}
	out := "ok"
	defer func() {
		if p := recover(); p != nil {
			b.log.ErrorContext(ctx, "handler panic", "command", inv.command, "interaction", inv.id, "panic", p, "stack", string(debug.Stack()))
			out = "error"
			b.send(ctx, t, inv, reply{content: "Something went wrong on my side; the error was logged.", ephemeral: true})
		}
		b.count(func(s *Stats) { s.Commands++ })
		if b.metrics != nil {
			b.metrics.ObserveCommand(inv.command, out, t.first, time.Since(start))
		}
	}()
	switch inv.command {
	case CmdComment:
		out = b.comment(ctx, inv, t)
	case CmdModels:
		out = b.models(ctx, inv, t)
	case CmdRetrain:
		out = b.retrain(ctx, inv, t)
	default:
		out = "bad_input"
		b.count(func(s *Stats) { s.BadInput++ })
		b.send(ctx, t, inv, reply{content: fmt.Sprintf("I don't know the command /%s. Try /comment, /models or /retrain.", cutRunes(inv.command, 32)), ephemeral: true})
	}
}

// timedResponder notes when the first response went out.
type timedResponder struct {
	r     responder
	start time.Time
	first time.Duration
}

func (t *timedResponder) mark() {
	if t.first == 0 {
		t.first = time.Since(t.start)
	}
}

func (t *timedResponder) respond(ctx context.Context, r reply) error {
	t.mark()
	return t.r.respond(ctx, r)
}

func (t *timedResponder) deferAnswer(ctx context.Context, ephemeral bool) error {
	t.mark()
	return t.r.deferAnswer(ctx, ephemeral)
}

func (t *timedResponder) followup(ctx context.Context, r reply) error {
	return t.r.followup(ctx, r)
}

// send answers (or edits the deferred answer); errors are logged and counted, never
// ignored, and the caller carries on.
func (b *Bot) send(ctx context.Context, r responder, inv invocation, rep reply) bool {
	rep.content = plain(rep.content)
	if err := r.respond(ctx, rep); err != nil {
		b.count(func(s *Stats) { s.RespondErrors++ })
		b.log.ErrorContext(ctx, "answering interaction failed", "command", inv.command, "interaction", inv.id, "err", err)
		return false
	}
	return true
}

// refuseWith answers a user error ephemerally and returns the outcome "bad_input".
func (b *Bot) refuseWith(ctx context.Context, r responder, inv invocation, err error) string {
	b.count(func(s *Stats) { s.BadInput++ })
	msg := err.Error()
	var ue userError
	if !errors.As(err, &ue) {
		msg = "Something went wrong on my side; the error was logged."
		b.log.ErrorContext(ctx, "command failed", "command", inv.command, "interaction", inv.id, "err", err)
	}
	b.send(ctx, r, inv, reply{content: msg, ephemeral: true})
	return "bad_input"
}

// busyText answers a /comment refused for load: every generation slot taken
// (MaxConcurrent), or the model's batch and its queue full (ErrBusy).
const busyText = "I'm busy writing other comments; try again in a few seconds."

// comment answers /comment: validate, limit, defer, generate (resampling copies of
// training text), edit the deferred answer.
func (b *Bot) comment(ctx context.Context, inv invocation, r responder) string {
	set := b.conf()
	cfg := set.cfg
	args, err := b.parseComment(ctx, cfg, inv)
	if err != nil {
		return b.refuseWith(ctx, r, inv, err)
	}
	if !inv.trusted {
		if wait, which := b.allow(ctx, inv.userID, inv.channelID); wait > 0 {
			b.count(func(s *Stats) { s.Limited++ })
			msg := "Easy there: you can ask for another comment in " + waitText(wait) + "."
			if which == "channel" {
				msg = "This channel has had a lot of comments lately; try again in " + waitText(wait) + "."
			}
			b.send(ctx, r, inv, reply{content: msg, ephemeral: true})
			return "limited"
		}
	}
	if !b.busy.take(cfg.MaxConcurrent) {
		b.count(func(s *Stats) { s.Busy++ })
		b.send(ctx, r, inv, reply{content: busyText, ephemeral: true})
		return "busy"
	}
	// The slot is released by the generating goroutine, so a Generator that ignores
	// its context keeps holding it: the cap stays honest.
	if err := r.deferAnswer(ctx, false); err != nil {
		b.busy.give()
		b.count(func(s *Stats) { s.RespondErrors++ })
		b.log.ErrorContext(ctx, "deferring /comment failed", "interaction", inv.id, "err", err)
		return "error"
	}
	gctx, cancel := context.WithTimeout(ctx, cfg.GenerationTimeout)
	defer cancel()
	type result struct {
		g         Generated
		exhausted bool
		err       error
	}
	done := make(chan result, 1)
	b.inflight.Add(1) // the goroutine may outlive this call on timeout
	go func() {
		defer b.inflight.Done()
		var res result
		func() {
			defer func() {
				if p := recover(); p != nil {
					res = result{err: fmt.Errorf("bot: generator panic: %v", p)}
				}
			}()
			res.g, res.exhausted, res.err = b.sample(gctx, cfg.OriginalityRetries, args)
		}()
		b.busy.give() // free the slot before the answer goes out
		done <- res
	}()
	var res result
	select {
	case res = <-done:
	case <-gctx.Done():
		res.err = gctx.Err()
	}
	switch {
	case res.err == nil && res.exhausted:
		b.count(func(s *Stats) { s.Exhausted++ })
		b.send(ctx, r, inv, reply{content: fmt.Sprintf("Every comment I wrote repeated training comments word for word (%d tries); I'd rather not parrot Reddit. Try a higher temperature or another prompt.", cfg.OriginalityRetries+1)})
		return "unoriginal"
	case res.err == nil:
		b.count(func(s *Stats) { s.Generated++ })
		b.send(ctx, r, inv, reply{content: set.compose(res.g)})
		return "ok"
	case errors.Is(res.err, ErrBusy):
		b.count(func(s *Stats) { s.Busy++ })
		b.send(ctx, r, inv, reply{content: busyText})
		return "busy"
	case errors.Is(res.err, context.DeadlineExceeded) && ctx.Err() == nil:
		b.count(func(s *Stats) { s.Timeouts++ })
		b.send(ctx, r, inv, reply{content: fmt.Sprintf("Writing took longer than %s, so I stopped. Try a shorter length.", cfg.GenerationTimeout)})
		return "timeout"
	case errors.Is(res.err, ErrUnknownModel), errors.Is(res.err, ErrModelDisabled), errors.Is(res.err, ErrBadRequest):
		b.count(func(s *Stats) { s.BadInput++ })
		b.send(ctx, r, inv, reply{content: "The model refused that: " + strings.TrimPrefix(res.err.Error(), "bot: ")})
		return "bad_input"
	default:
		b.log.ErrorContext(ctx, "generation failed", "interaction", inv.id, "model", args.model.Name, "err", res.err)
		b.send(ctx, r, inv, reply{content: "Something went wrong while writing the comment; the error was logged."})
		return "error"
	}
}

// sample draws comments until one does not copy training text, at most
// 1 + OriginalityRetries times, each with a fresh seed. exhausted reports that every
// sample copied.
func (b *Bot) sample(ctx context.Context, retries int, a commentArgs) (Generated, bool, error) {
	for try := 0; try <= retries; try++ {
		req := GenerateRequest{Model: a.model.Name, Temperature: a.temp, Prompt: a.text, Length: a.len, Seed: b.newSeed()}
		g, err := b.gen.Generate(ctx, req)
		if err != nil {
			return Generated{}, false, err
		}
		if g.Model == "" {
			g.Model = req.Model
		}
		if g.Temperature == 0 {
			g.Temperature = req.Temperature
		}
		g.Seed = req.Seed
		b.count(func(s *Stats) { s.Samples++ })
		if b.orig != nil && b.orig.Copies(a.model.level(), g.Text) {
			b.count(func(s *Stats) { s.Rejected++ })
			continue
		}
		return g, false, nil
	}
	return Generated{}, true, nil
}

// models answers /models with one paragraph per model and their loss curves.
func (b *Bot) models(ctx context.Context, inv invocation, r responder) string {
	ms := b.gen.Models(ctx)
	if len(ms) == 0 {
		b.send(ctx, r, inv, reply{content: "No models are configured."})
		return "ok"
	}
	var sb strings.Builder
	var files []*discordgo.File
	for _, m := range ms {
		state := "enabled"
		if !m.Enabled {
			state = "disabled"
		}
		version := m.Version
		if version == "" {
			version = "not trained yet"
		}
		fmt.Fprintf(&sb, "**%s** — %s, %s, version %s", m.Name, m.Kind, state, version)
		if m.Origin != "" {
			fmt.Fprintf(&sb, " (%s)", m.Origin)
		}
		if !m.TrainedAt.IsZero() {
			fmt.Fprintf(&sb, ", trained %s", m.TrainedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		if m.BitsPerChar > 0 && !math.IsInf(m.BitsPerChar, 0) {
			fmt.Fprintf(&sb, ", %.3f bits/char on %d held-out comments", m.BitsPerChar, m.ScoredOn)
		}
		if m.HeldOutLoss > 0 && !math.IsNaN(m.HeldOutLoss) && !math.IsInf(m.HeldOutLoss, 0) {
			fmt.Fprintf(&sb, ", held-out loss %.3f", m.HeldOutLoss)
		}
		if m.CorpusSize > 0 {
			fmt.Fprintf(&sb, ", corpus %d comments", m.CorpusSize)
		}
		if m.LastFineTune != "" {
			fmt.Fprintf(&sb, "; last fine-tune %s", m.LastFineTune)
		}
		if m.Default {
			fmt.Fprintf(&sb, " — **default** for /comment (%s)", m.DefaultWhy)
		}
		if m.Note != "" {
			fmt.Fprintf(&sb, " — %s", m.Note)
		}
		sb.WriteString("\n")
		if len(m.LossCurvePNG) > 0 && len(files) < 10 {
			files = append(files, &discordgo.File{Name: m.Name + "-loss.png", ContentType: "image/png",
				Reader: bytes.NewReader(m.LossCurvePNG)})
		}
	}
	b.send(ctx, r, inv, reply{content: sb.String(), files: files})
	return "ok"
}

// retrain answers /retrain for moderators: it acknowledges at once, runs the
// fine-tune, and reports the result as a follow-up while the interaction token lives.
func (b *Bot) retrain(ctx context.Context, inv invocation, r responder) string {
	if !inv.trusted {
		if !inv.inGuild {
			return b.refuseWith(ctx, r, inv, refuse("/retrain only works in a server, not in direct messages."))
		}
		if !b.isModerator(inv) {
			return b.refuseWith(ctx, r, inv, refuse("Only moderators (Manage Server) can retrain models."))
		}
	}
	for name := range inv.options {
		if name != "model" {
			return b.refuseWith(ctx, r, inv, refuse("/retrain has no option %q; it takes model.", name))
		}
	}
	name, given, err := inv.str("model")
	if err != nil {
		return b.refuseWith(ctx, r, inv, err)
	}
	if !given || strings.TrimSpace(name) == "" {
		return b.refuseWith(ctx, r, inv, refuse("Tell me which model to retrain: /retrain model:<name>."))
	}
	var model *ModelInfo
	for _, m := range b.gen.Models(ctx) {
		if strings.EqualFold(m.Name, name) {
			model = &m
			break
		}
	}
	if model == nil {
		return b.refuseWith(ctx, r, inv, refuse("There is no model called %q.", cutRunes(name, 40)))
	}
	started := b.now()
	if !b.send(ctx, r, inv, reply{content: fmt.Sprintf("Fine-tuning **%s** now; I'll report here when it ends.", model.Name)}) {
		return "error"
	}
	summary, err := b.gen.Retrain(ctx, model.Name)
	msg := fmt.Sprintf("Fine-tune of **%s** finished: %s", model.Name, summary)
	out := "ok"
	if err != nil {
		b.log.ErrorContext(ctx, "retrain failed", "model", model.Name, "err", err)
		msg = fmt.Sprintf("Fine-tune of **%s** failed: %s", model.Name, strings.TrimPrefix(err.Error(), "bot: "))
		out = "error"
	}
	if b.now().Sub(started) > interactionTokenLife {
		b.log.InfoContext(ctx, "retrain ended after the interaction token expired; not reported in Discord", "model", model.Name, "summary", msg)
		return out
	}
	if err := r.followup(ctx, reply{content: plain(msg)}); err != nil {
		b.count(func(s *Stats) { s.RespondErrors++ })
		b.log.ErrorContext(ctx, "retrain follow-up failed", "interaction", inv.id, "err", err)
	}
	return out
}

// interactionTokenLife is how long Discord accepts edits and follow-ups, with a margin.
const interactionTokenLife = 14*time.Minute + 30*time.Second

func (b *Bot) isModerator(inv invocation) bool {
	if inv.perms&moderatorPerms != 0 {
		return true
	}
	role := b.conf().cfg.ModeratorRole
	if role == "" {
		return false
	}
	for _, r := range inv.roles {
		if r == role {
			return true
		}
	}
	return false
}
