package bot

import (
	"context"
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
// globally). Shutdown closes it; so does Gateway.Close. ctx bounds the connection and
// the registration.
func (b *Bot) Connect(ctx context.Context, token, appID string) (*Gateway, error) {
	if token == "" || appID == "" {
		return nil, fmt.Errorf("%w: gateway needs a token and an application id", ErrConfig)
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("bot: gateway session: %w", err)
	}
	s.Identify.Intents = discordgo.IntentsNone
	if b.cfg.ShardCount > 1 {
		s.ShardID, s.ShardCount = b.cfg.ShardID, b.cfg.ShardCount
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
	if err := b.attach(ctx, &registrar{session: s, appID: appID}); err != nil {
		_ = g.Close()
		return nil, err
	}
	b.mu.Lock()
	b.gateways = append(b.gateways, g)
	b.mu.Unlock()
	b.log.InfoContext(ctx, "gateway connected", "shard", s.ShardID, "shards", s.ShardCount, "guild", b.cfg.GuildID)
	return g, nil
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
