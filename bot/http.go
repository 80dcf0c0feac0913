package bot

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// ReplayWindow is how far X-Signature-Timestamp may be from now, either way, for an
// HTTP interaction to be accepted; signatures seen within it are refused a second time.
const ReplayWindow = 5 * time.Minute

// firstResponseBudget is how long a transport waits for the handler's first response
// before it defers by itself: well inside Discord's 3 s.
const firstResponseBudget = 2500 * time.Millisecond

// maxInteractionBody bounds the request body read before the signature check.
const maxInteractionBody = 1 << 20

// HTTPInteractions is the HTTP interactions endpoint (an http.Handler to mount at the
// URL configured in the Discord developer portal). Each request must carry a valid
// ed25519 signature of timestamp+body (discordgo.VerifyInteraction), a timestamp
// within ReplayWindow of now, and a signature not seen before in that window; anything
// else is answered 401. PING is answered PONG; commands get their first response in
// the HTTP body and later messages over REST, so replicas behind a load balancer need
// no shared state beyond the bot's own limits.
type HTTPInteractions struct {
	b      *Bot
	key    ed25519.PublicKey
	token  string
	client *http.Client

	mu   sync.Mutex
	seen map[string]time.Time // signature → when it may be forgotten
}

// ParsePublicKey decodes the application's public key as the developer portal shows
// it (64 hex digits), e.g. from DISCORD_PUBLIC_KEY.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: public key: %w", ErrConfig, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key has %d bytes, want %d", ErrConfig, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// HTTPInteractions registers the commands for appID with the bot token and returns
// the endpoint verifying requests with publicKey.
func (b *Bot) HTTPInteractions(ctx context.Context, token, appID string, publicKey ed25519.PublicKey) (*HTTPInteractions, error) {
	if len(publicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: public key has %d bytes, want %d", ErrConfig, len(publicKey), ed25519.PublicKeySize)
	}
	if token == "" || appID == "" {
		return nil, fmt.Errorf("%w: HTTP interactions need a token and an application id", ErrConfig)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("bot: rest session: %w", err)
	}
	s.Client = client
	s.StateEnabled = false
	if err := b.attach(ctx, &registrar{session: s, appID: appID}); err != nil {
		return nil, err
	}
	return &HTTPInteractions{b: b, key: publicKey, token: token, client: client, seen: map[string]time.Time{}}, nil
}

// fresh checks the timestamp window and remembers the signature; false = refuse.
func (h *HTTPInteractions) fresh(timestamp, signature string) bool {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	now := h.b.now()
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > ReplayWindow || d < -ReplayWindow {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.seen) >= 1024 {
		for sig, until := range h.seen {
			if now.After(until) {
				delete(h.seen, sig)
			}
		}
	}
	if until, ok := h.seen[signature]; ok && !now.After(until) {
		return false
	}
	h.seen[signature] = ts.Add(ReplayWindow)
	return true
}

func writeInteractionResponse(w http.ResponseWriter, resp *discordgo.InteractionResponse) {
	body, err := json.Marshal(resp)
	if err != nil {
		http.Error(w, "encoding response", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// ServeHTTP verifies and answers one interaction.
func (h *HTTPInteractions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxInteractionBody)
	if !discordgo.VerifyInteraction(r, h.key) ||
		!h.fresh(r.Header.Get("X-Signature-Timestamp"), r.Header.Get("X-Signature-Ed25519")) {
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "reading body", http.StatusBadRequest)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	switch i.Type {
	case discordgo.InteractionPing:
		writeInteractionResponse(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	case discordgo.InteractionApplicationCommand:
	default:
		http.Error(w, "unsupported interaction type", http.StatusBadRequest)
		return
	}
	first := make(chan *discordgo.InteractionResponse, 1)
	resp := newDiscordResponder(interactionSession(h.token, h.client), &i, false,
		func(_ context.Context, resp *discordgo.InteractionResponse) error {
			select {
			case first <- resp:
				return nil
			default:
				return errors.New("bot: first HTTP response already sent")
			}
		})
	go h.b.serveInteraction(&i, resp)
	// serveInteraction defers by itself after firstResponseBudget; this backstop only
	// matters if the bot is shutting down and never answers.
	timer := time.NewTimer(firstResponseBudget + 300*time.Millisecond)
	defer timer.Stop()
	select {
	case out := <-first:
		writeInteractionResponse(w, out)
	case <-timer.C:
		resp.mu.Lock()
		if resp.state == stateFresh {
			resp.state = stateDeferred
			resp.mu.Unlock()
			close(resp.sent)
			writeInteractionResponse(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
			return
		}
		resp.mu.Unlock()
		select { // the handler is sending it right now
		case out := <-first:
			writeInteractionResponse(w, out)
		case <-r.Context().Done():
		}
	case <-r.Context().Done():
	}
}
