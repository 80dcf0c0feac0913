package bot

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/bwmarrin/discordgo"
)

// SharedLimits keeps the limits of the commands where every replica sees them
// (the fleet's shared store implements it).
type SharedLimits interface {
	// MarkSeen records each key as seen until until unless it is seen
	// already, and reports whether none of them was.
	MarkSeen(ctx context.Context, keys []string, now, until time.Time) (fresh bool, err error)
	// AllowCommand applies the user's cooldown and the channel's rate at now:
	// 0 and the command recorded, or how long to wait and which limit applied
	// ("user" or "channel").
	AllowCommand(ctx context.Context, user, channel string, now time.Time, cooldown time.Duration, perMinute int) (time.Duration, string, error)
}

// sharedTimeout bounds one call to the shared limits: well inside Discord's 3 s.
const sharedTimeout = time.Second

// allow applies the /comment limits: in the shared store when there is one,
// else (or when the store fails: logged) in this process.
func (b *Bot) allow(ctx context.Context, user, channel string) (time.Duration, string) {
	now := b.now()
	if b.shared != nil {
		cfg := b.conf().cfg
		sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
		defer cancel()
		wait, which, err := b.shared.AllowCommand(sctx, user, channel, now, cfg.Cooldown, cfg.ChannelRate)
		if err == nil {
			return wait, which
		}
		b.log.WarnContext(ctx, "shared limits unavailable; applying this replica's", "err", err)
	}
	return b.limits.allow(user, channel, now)
}

// sharedSeen is the replay check in the shared store, keyed by the decoded
// signature (hex) and the interaction id; ok is false when there is no shared
// store or it failed (logged), and the caller checks in this process.
func (b *Bot) sharedSeen(ctx context.Context, sig []byte, id string, now, until time.Time) (fresh, ok bool) {
	if b.shared == nil {
		return false, false
	}
	keys := []string{"sig:" + hex.EncodeToString(sig)}
	if id != "" {
		keys = append(keys, "id:"+id)
	}
	sctx, cancel := context.WithTimeout(ctx, sharedTimeout)
	defer cancel()
	fresh, err := b.shared.MarkSeen(sctx, keys, now, until)
	if err != nil {
		b.log.WarnContext(ctx, "shared replay cache unavailable; checking in this replica", "err", err)
		return false, false
	}
	return fresh, true
}

// RegisterCommands registers the command set for appID with the bot token
// through Discord's REST API, now and whenever Refresh finds it changed, without
// serving any transport: the fleet's trainer does it for replicas started with
// Options.NoRegistration. last is the key of the set some process registered
// before (what saved was last given; "" when unknown): the same set is not
// registered again, so a new trainer taking over does not call Discord.
// A failure is retried with backoff (see Health).
func (b *Bot) RegisterCommands(ctx context.Context, token, appID, last string, saved func(key string)) error {
	if token == "" || appID == "" {
		return fmt.Errorf("%w: registering commands needs a token and an application id", ErrConfig)
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return fmt.Errorf("bot: rest session: %w", err)
	}
	s.Client = &http.Client{Timeout: 20 * time.Second}
	s.StateEnabled = false
	b.attach(ctx, &registrar{session: s, appID: appID, key: last, saved: saved})
	return nil
}
