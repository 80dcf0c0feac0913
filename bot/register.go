package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Backoff of command registration and of the gateway connection after a Discord
// failure: the first retry after registerRetryFirst, each next one twice as late, at
// most registerRetryMax apart.
const (
	registerRetryFirst = time.Second
	registerRetryMax   = 5 * time.Minute
)

// nextBackoff doubles d within [registerRetryFirst, registerRetryMax].
func nextBackoff(d time.Duration) time.Duration {
	if d < registerRetryFirst {
		return registerRetryFirst
	}
	return min(2*d, registerRetryMax)
}

// registrar registers the command set with one application through one REST session.
type registrar struct {
	session *discordgo.Session
	appID   string
	key     string           // JSON of the set last registered through it ("" = none); guarded by registration.run
	saved   func(key string) // called after each registration (nil: none)
}

// registration tracks where the commands are registered and retries failures.
type registration struct {
	run sync.Mutex // serialises attempts; guards registrar.key

	mu       sync.Mutex // guards the fields below
	targets  []*registrar
	synced   bool // the last attempt registered the set on every target
	attempts int  // failed attempts since the last success
	lastErr  string
	next     time.Time // when the scheduled retry runs; zero = none
	backoff  time.Duration
	timer    *time.Timer
	stopped  bool
	gateway  string // "", "connecting" or "connected"
	gwErr    string
	gwFailed int
}

// stop cancels a scheduled retry; none is scheduled afterwards.
func (r *registration) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
	if r.timer != nil {
		r.timer.Stop()
	}
}

// Health is the bot's link to Discord as /healthz reports it.
type Health struct {
	// Gateway is "connecting" or "connected"; "" when no gateway is used.
	Gateway      string `json:"gateway,omitempty"`
	GatewayError string `json:"gateway_error,omitempty"`
	// Commands is "registered" (Discord has the current command set),
	// "registering" (a transport's first registration is under way), "retrying"
	// (the last attempt failed; another is scheduled), "trainer" (left to the
	// fleet's trainer: Options.NoRegistration) or "none" (no transport
	// registers commands: the console).
	Commands       string     `json:"commands"`
	FailedAttempts int        `json:"failed_attempts,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	NextAttempt    *time.Time `json:"next_attempt,omitempty"`
}

// Health reports the gateway connection and the command registration.
func (b *Bot) Health() Health {
	r := &b.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	h := Health{Gateway: r.gateway, GatewayError: r.gwErr, Commands: "none"}
	switch {
	case r.lastErr != "":
		h.Commands, h.FailedAttempts, h.LastError = "retrying", r.attempts, r.lastErr
		if !r.next.IsZero() {
			next := r.next
			h.NextAttempt = &next
		}
	case len(r.targets) > 0 && r.synced:
		h.Commands = "registered"
	case len(r.targets) > 0:
		h.Commands = "registering"
	case b.noReg:
		h.Commands = "trainer"
	}
	return h
}

// register bulk-overwrites the command set for r (guild or global, per config).
func (b *Bot) register(ctx context.Context, r *registrar, cmds []*discordgo.ApplicationCommand) error {
	guild := b.conf().cfg.GuildID
	_, err := r.session.ApplicationCommandBulkOverwrite(r.appID, guild, cmds, discordgo.WithContext(ctx))
	if err != nil {
		scope := "globally"
		if guild != "" {
			scope = "in guild " + guild
		}
		return fmt.Errorf("bot: register %d commands %s: %w", len(cmds), scope, err)
	}
	return nil
}

// attach remembers r for Refresh and registers the current command set through it.
// A failure does not stop the transport: it is logged, reported by Health, and
// retried with backoff until it succeeds.
func (b *Bot) attach(ctx context.Context, r *registrar) {
	b.reg.mu.Lock()
	b.reg.targets = append(b.reg.targets, r)
	b.reg.synced = false
	b.reg.mu.Unlock()
	_ = b.syncCommands(ctx)
}

// Refresh registers the command set on every attached transport that does not have
// it yet — after the set of enabled models or the bounds of a reloaded config
// changed, or a failed registration. It does nothing when every transport is up to
// date. On failure it returns the error, and a retry is already scheduled.
func (b *Bot) Refresh(ctx context.Context) error { return b.syncCommands(ctx) }

// syncCommands registers the current command set where it is missing; on failure it
// schedules a retry (exponential backoff) and returns the error.
func (b *Bot) syncCommands(ctx context.Context) error {
	r := &b.reg
	r.run.Lock()
	defer r.run.Unlock()
	r.mu.Lock()
	targets := slices.Clone(r.targets)
	r.mu.Unlock()
	if len(targets) == 0 {
		return nil
	}
	cmds := b.Commands(ctx)
	key := registrationKey(cmds)
	var errs []error
	changed := 0
	for _, t := range targets {
		if t.key == key {
			continue
		}
		if err := b.register(ctx, t, cmds); err != nil {
			errs = append(errs, err)
			continue
		}
		t.key = key
		if t.saved != nil {
			t.saved(key)
		}
		changed++
	}
	err := errors.Join(errs...)
	b.recordRegistration(ctx, changed, err)
	return err
}

// recordRegistration updates the status after an attempt, logs it, and schedules
// the next attempt after a failure.
func (b *Bot) recordRegistration(ctx context.Context, changed int, err error) {
	r := &b.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		if r.attempts > 0 {
			b.log.InfoContext(ctx, "commands registered after failed attempts", "failed_attempts", r.attempts)
		} else if changed > 0 {
			b.log.InfoContext(ctx, "commands registered", "targets", changed)
		}
		r.synced, r.attempts, r.lastErr, r.backoff, r.next = true, 0, "", 0, time.Time{}
		if r.timer != nil {
			r.timer.Stop()
		}
		return
	}
	r.attempts++
	r.lastErr = err.Error()
	if r.stopped || b.life.Err() != nil || (r.timer != nil && !r.next.IsZero()) {
		// Shutting down, or a retry is already scheduled.
		b.log.WarnContext(ctx, "registering the commands failed", "failed_attempts", r.attempts, "err", err)
		return
	}
	r.backoff = nextBackoff(r.backoff)
	r.next = b.now().Add(r.backoff)
	b.log.WarnContext(ctx, "registering the commands failed; the bot serves on and retries",
		"failed_attempts", r.attempts, "retry_in", r.backoff, "err", err)
	r.timer = time.AfterFunc(r.backoff, func() {
		r.mu.Lock()
		r.next = time.Time{}
		r.mu.Unlock()
		_ = b.syncCommands(b.life)
	})
}

// gatewayState records the gateway connection for Health.
func (b *Bot) gatewayState(state string, err error) {
	r := &b.reg
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gateway = state
	if err != nil {
		r.gwFailed++
		r.gwErr = err.Error()
	} else if state == "connected" {
		r.gwFailed, r.gwErr = 0, ""
	}
}
