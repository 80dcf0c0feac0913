package bot

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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
// ed25519 signature of timestamp+body, a timestamp within ReplayWindow of now, and
// neither an interaction id nor a signature seen before in that window; anything else
// is answered 401, and a body over 1 MiB 413. PING is answered PONG; commands get their
// first response in the HTTP body and later messages over REST.
//
// Replays are recognised by what a sender cannot spell differently: the interaction id
// from the signed body and the decoded signature bytes (the hex header may come in any
// case). The seen set lives in the shared store when Options.Shared is set, so that
// a replay reaching another replica behind a load balancer is refused too;
// otherwise in this process only.
type HTTPInteractions struct {
	b      *Bot
	key    ed25519.PublicKey
	token  string
	client *http.Client

	mu   sync.Mutex
	seen map[string]time.Time // "id:"+interaction id, "sig:"+signature bytes → when it may be forgotten
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

// HTTPInteractions returns the endpoint verifying requests with publicKey and
// registers the commands for appID with the bot token. A failed registration does
// not fail it: the endpoint serves, and the registration is retried with backoff
// (see Health).
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
	if !b.noReg {
		b.attach(ctx, &registrar{session: s, appID: appID})
	}
	return &HTTPInteractions{b: b, key: publicKey, token: token, client: client, seen: map[string]time.Time{}}, nil
}

// verify checks the ed25519 signature of timestamp+body and returns the decoded
// signature; ok is false when it is missing, malformed or wrong.
func (h *HTTPInteractions) verify(header http.Header, body []byte) (sig []byte, ok bool) {
	sig, err := hex.DecodeString(header.Get("X-Signature-Ed25519"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, false
	}
	ts := header.Get("X-Signature-Timestamp")
	if ts == "" {
		return nil, false
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	return sig, ed25519.Verify(h.key, msg, sig)
}

// fresh checks the timestamp window and remembers the interaction id and the
// signature; false = refuse (stale, or either was seen before).
func (h *HTTPInteractions) fresh(ctx context.Context, timestamp string, sig []byte, id string) bool {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	now := h.b.now()
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > ReplayWindow || d < -ReplayWindow {
		return false
	}
	keys := []string{"sig:" + string(sig)}
	if id != "" {
		keys = append(keys, "id:"+id)
	}
	if fresh, ok := h.b.sharedSeen(ctx, sig, id, now, ts.Add(ReplayWindow)); ok {
		return fresh
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.seen) >= 1024 {
		for k, until := range h.seen {
			if now.After(until) {
				delete(h.seen, k)
			}
		}
	}
	for _, k := range keys {
		if until, ok := h.seen[k]; ok && !now.After(until) {
			return false
		}
	}
	for _, k := range keys { // remembered as long as the timestamp passes the window check
		h.seen[k] = ts.Add(ReplayWindow)
	}
	return true
}

// readBody reads the request body up to maxInteractionBody. It answers the client
// itself (413 too large, 408 too slow, 400 otherwise) and returns ok false on failure.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > maxInteractionBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInteractionBody))
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case err == nil:
		return body, true
	case errors.As(err, &tooBig):
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
	case errors.As(err, &netErr) && netErr.Timeout():
		http.Error(w, "request body too slow", http.StatusRequestTimeout)
	default:
		http.Error(w, "reading body", http.StatusBadRequest)
	}
	return nil, false
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
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	sig, ok := h.verify(r.Header, body)
	if !ok {
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	if !h.fresh(r.Context(), r.Header.Get("X-Signature-Timestamp"), sig, i.ID) {
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
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
