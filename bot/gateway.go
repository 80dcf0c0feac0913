package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Gateway is the bot connected to Discord's gateway: it receives INTERACTION_CREATE
// there and answers over REST. discordgo reconnects and resumes by itself after a
// dropped connection.
type Gateway struct {
	session *discordgo.Session
	remove  func()
	once    sync.Once
	err     error
}

// Connect opens a gateway session for the application appID with the bot token
// (without the "Bot " prefix), with no intents (interactions need none) and the
// configured shard, then registers the commands (in the configured guild, else
// globally). A failed registration does not fail Connect: it is retried with backoff
// (see Health). Shutdown closes the gateway; so does Gateway.Close. ctx bounds the
// connection and the first registration attempt.
func (b *Bot) Connect(ctx context.Context, token, appID string) (*Gateway, error) {
	if token == "" || appID == "" {
		return nil, fmt.Errorf("%w: gateway needs a token and an application id", ErrConfig)
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("bot: gateway session: %w", err)
	}
	s.Identify.Intents = discordgo.IntentsNone
	if cfg := b.conf().cfg; cfg.ShardCount > 1 {
		s.ShardID, s.ShardCount = cfg.ShardID, cfg.ShardCount
	}
	s.StateEnabled = false
	client := &http.Client{Timeout: 20 * time.Second}
	s.Client = client
	remove := s.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		if ic == nil || ic.Interaction == nil {
			return
		}
		i := ic.Interaction
		rest := interactionSession(token, client)
		b.serveInteraction(i, newDiscordResponder(rest, i, true,
			func(ctx context.Context, resp *discordgo.InteractionResponse) error {
				return rest.InteractionRespond(i, resp, discordgo.WithContext(ctx))
			}))
	})
	opened := make(chan error, 1)
	go func() { opened <- s.Open() }()
	select {
	case err = <-opened:
	case <-ctx.Done():
		go func() {
			if <-opened == nil {
				_ = s.Close()
			}
		}()
		remove()
		return nil, fmt.Errorf("bot: gateway open: %w", ctx.Err())
	}
	if err != nil {
		remove()
		return nil, fmt.Errorf("bot: gateway open: %w", err)
	}
	g := &Gateway{session: s, remove: remove}
	b.mu.Lock()
	closing := b.closing
	if !closing {
		b.gateways = append(b.gateways, g)
	}
	b.mu.Unlock()
	if closing {
		_ = g.Close()
		return nil, fmt.Errorf("bot: gateway: %w", ErrShutdown)
	}
	b.gatewayState("connected", nil)
	b.log.InfoContext(ctx, "gateway connected", "shard", s.ShardID, "shards", s.ShardCount, "guild", b.conf().cfg.GuildID)
	if !b.noReg {
		b.attach(ctx, &registrar{session: s, appID: appID})
	}
	return g, nil
}

// ConnectRetrying is Connect that keeps trying while Discord fails, waiting twice as
// long after each failure (1 s up to 5 minutes), so that an outage at start delays
// the gateway, never the rest of the bot. Health reports "connecting" with the last
// error meanwhile. It returns the open gateway, ctx's error when ctx ends first, or
// at once an error that retrying cannot fix: a token Discord refuses (401) or a
// missing token or application id.
func (b *Bot) ConnectRetrying(ctx context.Context, token, appID string) (*Gateway, error) {
	var wait time.Duration
	for attempt := 1; ; attempt++ {
		b.gatewayState("connecting", nil)
		g, err := b.Connect(ctx, token, appID)
		if err == nil {
			return g, nil
		}
		var re *discordgo.RESTError
		switch {
		case ctx.Err() != nil:
			return nil, err
		case errors.Is(err, ErrConfig), errors.Is(err, ErrShutdown),
			errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized:
			b.gatewayState("", err)
			return nil, err
		}
		wait = nextBackoff(wait)
		b.gatewayState("connecting", err)
		b.log.WarnContext(ctx, "Discord gateway unreachable; the bot serves on and retries", "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("bot: gateway: %w", ctx.Err())
		}
	}
}

// Close closes the gateway connection (interactions in flight still get their REST
// answers). It is idempotent.
func (g *Gateway) Close() error {
	g.once.Do(func() {
		g.remove()
		// discordgo's heartbeat goroutine may call reconnect after an intended Close;
		// switch reconnecting off first so a closed gateway stays closed.
		g.session.Lock()
		g.session.ShouldReconnectOnError = false
		g.session.Unlock()
		if err := g.session.Close(); err != nil {
			g.err = fmt.Errorf("bot: gateway close: %w", err)
		}
	})
	return g.err
}
