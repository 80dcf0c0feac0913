package bot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// interactionSession returns a short-lived REST session for the calls about one
// interaction (callback, edit, follow-ups), sharing client's connections.
//
// Why not the long-lived session: discordgo keys interaction buckets by URL and never
// frees them (bwmarrin/discordgo#1333), and it puts every InteractionResponseEdit of
// the process in one bucket whose lock is held for the whole HTTP request (#1384), so
// edits for different users queue behind each other. A session per interaction keeps
// the buckets per interaction and lets them be collected with it; interaction
// endpoints are not subject to the bot's global rate limit.
func interactionSession(token string, client *http.Client) *discordgo.Session {
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		panic(fmt.Sprintf("bot: discordgo.New: %v", err)) // it never fails for a bot token
	}
	s.Client = client
	s.StateEnabled = false
	return s
}

// first-response states of a discordResponder.
const (
	stateFresh = iota
	stateAnswered
	stateDeferred
)

// discordResponder answers one Discord interaction. initial sends the first response
// (a REST callback on the gateway transport, the HTTP body on the HTTP transport);
// later messages go through rest: edit of @original after a deferral, else follow-up.
type discordResponder struct {
	rest           *discordgo.Session
	i              *discordgo.Interaction
	initial        func(ctx context.Context, resp *discordgo.InteractionResponse) error
	filesInInitial bool // whether initial can carry attachments (multipart)

	mu    sync.Mutex
	state int
	sent  chan struct{} // closed when the first response's call has returned
}

// newDiscordResponder returns a responder whose first response goes through initial.
func newDiscordResponder(rest *discordgo.Session, i *discordgo.Interaction, filesInInitial bool,
	initial func(ctx context.Context, resp *discordgo.InteractionResponse) error) *discordResponder {
	return &discordResponder{rest: rest, i: i, filesInInitial: filesInInitial, initial: initial, sent: make(chan struct{})}
}

// callInitial sends the first response and marks it sent, success or not.
func (d *discordResponder) callInitial(ctx context.Context, resp *discordgo.InteractionResponse) error {
	defer close(d.sent)
	return d.initial(ctx, resp)
}

// afterInitial waits until the first response has been sent: Discord refuses edits
// and follow-ups before it.
func (d *discordResponder) afterInitial(ctx context.Context) error {
	select {
	case <-d.sent:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bot: waiting for the first response to interaction %s: %w", d.i.ID, ctx.Err())
	}
}

func flags(ephemeral bool) discordgo.MessageFlags {
	if ephemeral {
		return discordgo.MessageFlagsEphemeral
	}
	return 0
}

func (d *discordResponder) deferAnswer(ctx context.Context, ephemeral bool) error {
	d.mu.Lock()
	if d.state != stateFresh {
		d.mu.Unlock()
		return nil
	}
	d.state = stateDeferred
	d.mu.Unlock()
	return d.deferNow(ctx, ephemeral)
}

func (d *discordResponder) respond(ctx context.Context, r reply) error {
	d.mu.Lock()
	st := d.state
	switch {
	case st == stateFresh && len(r.files) > 0 && !d.filesInInitial:
		d.state = stateDeferred
		d.mu.Unlock()
		if err := d.deferNow(ctx, r.ephemeral); err != nil {
			return err
		}
		return d.respond(ctx, r)
	case st == stateFresh:
		d.state = stateAnswered
		d.mu.Unlock()
		err := d.callInitial(ctx, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: r.content, AllowedMentions: noMentions(),
				Flags: flags(r.ephemeral), Files: r.files},
		})
		if err != nil {
			return fmt.Errorf("bot: respond to interaction %s: %w", d.i.ID, err)
		}
		return nil
	case st == stateDeferred:
		d.state = stateAnswered
		d.mu.Unlock()
		if err := d.afterInitial(ctx); err != nil {
			return err
		}
		c := r.content
		_, err := d.rest.InteractionResponseEdit(d.i, &discordgo.WebhookEdit{Content: &c,
			AllowedMentions: noMentions(), Files: r.files}, discordgo.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("bot: edit answer of interaction %s: %w", d.i.ID, err)
		}
		return nil
	default:
		d.mu.Unlock()
		return d.followup(ctx, r)
	}
}

// deferNow sends the deferral for respond's attachment path.
func (d *discordResponder) deferNow(ctx context.Context, ephemeral bool) error {
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if ephemeral {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	if err := d.callInitial(ctx, resp); err != nil {
		return fmt.Errorf("bot: defer interaction %s: %w", d.i.ID, err)
	}
	return nil
}

func (d *discordResponder) followup(ctx context.Context, r reply) error {
	if err := d.afterInitial(ctx); err != nil {
		return err
	}
	_, err := d.rest.FollowupMessageCreate(d.i, true, &discordgo.WebhookParams{Content: r.content,
		AllowedMentions: noMentions(), Flags: flags(r.ephemeral), Files: r.files}, discordgo.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("bot: follow-up to interaction %s: %w", d.i.ID, err)
	}
	return nil
}

// serveInteraction handles one interaction from Discord (either transport): it is
// told the bot is restarting once Shutdown has begun, and ignored when it is not an
// application command.
func (b *Bot) serveInteraction(i *discordgo.Interaction, r *discordResponder) {
	ctx := b.life
	inv, ok := fromInteraction(i)
	if !ok {
		b.log.DebugContext(ctx, "ignoring interaction", "type", i.Type.String(), "interaction", i.ID)
		return
	}
	if !b.begin() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discordgo.InteractionDeadline)
		defer cancel()
		b.send(sctx, r, inv, reply{content: "I'm restarting; try again in a minute.", ephemeral: true})
		return
	}
	defer b.inflight.Done()
	// Should validation be slow (a Generator whose Models blocks), defer before
	// Discord's deadline passes; the handler's answer then becomes an edit.
	watchdog := time.AfterFunc(firstResponseBudget, func() {
		if err := r.deferAnswer(ctx, false); err != nil {
			b.count(func(s *Stats) { s.RespondErrors++ })
			b.log.ErrorContext(ctx, "deferring a slow interaction failed", "interaction", i.ID, "err", err)
		}
	})
	defer watchdog.Stop()
	b.handle(ctx, inv, r)
}

// UseAPI points discordgo at another Discord API base URL (REST calls and the gateway
// lookup), such as a REST proxy or a test fake: base is like
// "http://127.0.0.1:8080/api/v10/". discordgo keeps its endpoints in package
// variables, so this applies to the whole process: call it once at start, before any
// session is made.
func UseAPI(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: Discord API URL %q is not an http(s) URL", ErrConfig, base)
	}
	api := strings.TrimSuffix(base, "/") + "/"
	discordgo.EndpointDiscord = u.Scheme + "://" + u.Host + "/"
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = api + "gateway/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointGuildCreate = api + "guilds"
	return nil
}
