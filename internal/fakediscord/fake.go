package fakediscord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Options configure a fake. Zero values take the defaults shown.
type Options struct {
	AppID             string        // "100000000000000001"
	BotUserID         string        // "100000000000000002"
	HeartbeatInterval time.Duration // 41.25 s, as Discord sends
	Deadline          time.Duration // 3 s: later callbacks get 404 Unknown interaction
}

// Request is one recorded REST request.
type Request struct {
	Method, Path, Query string
	ContentType         string
	Body                []byte
	At                  time.Time
	Status              int // the status the fake answered with
}

// File is one uploaded attachment of a multipart request.
type File struct {
	Field, Name, ContentType string
	Data                     []byte
}

// Message is one message body the bot sent (callback data, edit or follow-up).
type Message struct {
	At    time.Time
	Raw   json.RawMessage // the JSON payload as sent (payload_json for multipart)
	Files []File
	// Decoded fields of Raw.
	Content         *string                           `json:"content"`
	Flags           discordgo.MessageFlags            `json:"flags"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Embeds          []json.RawMessage                 `json:"embeds"`
}

// Ephemeral reports whether the message carries the ephemeral flag.
func (m Message) Ephemeral() bool { return m.Flags&discordgo.MessageFlagsEphemeral != 0 }

// Text is the content, or "" when the message set none.
func (m Message) Text() string {
	if m.Content == nil {
		return ""
	}
	return *m.Content
}

// Callback is the initial response to an interaction.
type Callback struct {
	At   time.Time
	Type discordgo.InteractionResponseType
	Data *Message // nil for types without data (PONG, deferred without flags)
}

// InteractionLog is what happened to one dispatched interaction.
type InteractionLog struct {
	ID, Token  string
	Dispatched time.Time // when INTERACTION_CREATE was written to the gateway; zero while queued
	Callback   *Callback
	Edits      []Message // PATCH @original, in order
	Followups  []Message
	Refused    []string // requests the fake refused for this interaction, with the reason
}

// Latency is the time from dispatch to the callback, or -1 when not answered yet.
func (l InteractionLog) Latency() time.Duration {
	if l.Callback == nil || l.Dispatched.IsZero() {
		return -1
	}
	return l.Callback.At.Sub(l.Dispatched)
}

// Final is the last message the user sees as the answer: the last edit, else the
// callback's data; ok is false when there is none yet.
func (l InteractionLog) Final() (Message, bool) {
	if n := len(l.Edits); n > 0 {
		return l.Edits[n-1], true
	}
	if l.Callback != nil && l.Callback.Data != nil && l.Callback.Type == discordgo.InteractionResponseChannelMessageWithSource {
		return *l.Callback.Data, true
	}
	return Message{}, false
}

// Identify is one IDENTIFY payload received on the gateway.
type Identify struct {
	Token   string           `json:"token"`
	Intents discordgo.Intent `json:"intents"`
	Shard   *[2]int          `json:"shard"`
}

type rateLimit struct {
	method, pathContains string
	remaining            int
	retryAfter           time.Duration
	global               bool
}

// fault is an injected answer other than a 429: an error status with Discord's JSON
// error body, or a delay before the request is served.
type fault struct {
	method, pathContains string
	remaining            int
	status, code         int
	message              string
	delay                time.Duration
}

type event struct {
	seq  int64
	typ  string
	data json.RawMessage
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	srv    *httptest.Server
	prefix string // "/api/v9"

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every state change
	requests     []Request
	limits       []*rateLimit
	faults       []*fault
	channelMsgs  map[string][]Message // POST /channels/{id}/messages accepted, by channel
	commands     map[string][]*discordgo.ApplicationCommand
	commandPuts  int
	interactions map[string]*InteractionLog // by token
	nextID       int64

	// gateway
	conn       *websocket.Conn
	connWrite  *sync.Mutex
	sessionID  string
	seq        int64
	events     []event // dispatches of the current session, for RESUME
	identifies []Identify
	resumes    int
	acks       int
	drops      int
}

// Start starts a fake on a loopback port. Close it when done.
func Start(opts Options) *Server {
	if opts.AppID == "" {
		opts.AppID = "100000000000000001"
	}
	if opts.BotUserID == "" {
		opts.BotUserID = "100000000000000002"
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.Deadline <= 0 {
		opts.Deadline = discordgo.InteractionDeadline
	}
	s := &Server{
		opts:         opts,
		prefix:       "/api/v" + discordgo.APIVersion,
		changed:      make(chan struct{}),
		commands:     map[string][]*discordgo.ApplicationCommand{},
		interactions: map[string]*InteractionLog{},
		channelMsgs:  map[string][]Message{},
		nextID:       900000000000000000,
	}
	mux := http.NewServeMux()
	p := s.prefix
	mux.HandleFunc("GET "+p+"/gateway", s.gateway)
	mux.HandleFunc("GET "+p+"/gateway/bot", s.gateway)
	mux.HandleFunc("PUT "+p+"/applications/{app}/commands", s.putCommands)
	mux.HandleFunc("PUT "+p+"/applications/{app}/guilds/{guild}/commands", s.putCommands)
	mux.HandleFunc("POST "+p+"/interactions/{id}/{token}/callback", s.callback)
	mux.HandleFunc("PATCH "+p+"/webhooks/{app}/{token}/messages/{msg}", s.editMessage)
	mux.HandleFunc("POST "+p+"/webhooks/{app}/{token}", s.followup)
	mux.HandleFunc("POST "+p+"/channels/{channel}/messages", s.channelMessage)
	mux.HandleFunc("GET /ws", s.websocket)
	mux.HandleFunc("GET /ws/", s.websocket) // discordgo appends a slash before the query
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 0, "404: Not Found")
	})
	s.srv = httptest.NewServer(s.record(mux))
	return s
}

// Close drops the gateway connection and stops the server.
func (s *Server) Close() {
	s.Drop()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// URL is the base URL of the fake (http://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the fake's API base as bot.api_url takes it: a process started with it
// (the real binary) talks to the fake without Install.
func (s *Server) APIURL() string { return s.srv.URL + s.prefix + "/" }

// AppID is the application id the fake expects.
func (s *Server) AppID() string { return s.opts.AppID }

// Install points discordgo's process-wide Endpoint* variables at the fake and returns a
// function that restores the previous values. Not safe to call from parallel tests.
func (s *Server) Install() (restore func()) {
	saved := []string{
		discordgo.EndpointDiscord, discordgo.EndpointAPI, discordgo.EndpointGuilds,
		discordgo.EndpointChannels, discordgo.EndpointUsers, discordgo.EndpointGateway,
		discordgo.EndpointGatewayBot, discordgo.EndpointWebhooks, discordgo.EndpointApplications,
		discordgo.EndpointGuildCreate,
	}
	base := s.srv.URL + "/"
	api := s.srv.URL + s.prefix + "/"
	discordgo.EndpointDiscord = base
	discordgo.EndpointAPI = api
	discordgo.EndpointGuilds = api + "guilds/"
	discordgo.EndpointChannels = api + "channels/"
	discordgo.EndpointUsers = api + "users/"
	discordgo.EndpointGateway = api + "gateway"
	discordgo.EndpointGatewayBot = api + "gateway/bot"
	discordgo.EndpointWebhooks = api + "webhooks/"
	discordgo.EndpointApplications = api + "applications"
	discordgo.EndpointGuildCreate = api + "guilds"
	return func() {
		discordgo.EndpointDiscord, discordgo.EndpointAPI, discordgo.EndpointGuilds,
			discordgo.EndpointChannels, discordgo.EndpointUsers, discordgo.EndpointGateway,
			discordgo.EndpointGatewayBot, discordgo.EndpointWebhooks, discordgo.EndpointApplications,
			discordgo.EndpointGuildCreate = saved[0], saved[1], saved[2], saved[3], saved[4],
			saved[5], saved[6], saved[7], saved[8], saved[9]
	}
}

// notifyLocked wakes every Wait; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Wait blocks until cond (called with the fake's state readable through its methods)
// returns true, or ctx ends.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("fakediscord: wait: %w", ctx.Err())
		}
	}
}

// InjectRateLimit makes the next count requests whose method equals method ("" = any) and
// whose path contains pathContains answer 429 with Discord's JSON body
// {"message","retry_after","global"} and the Retry-After and X-RateLimit-* headers.
func (s *Server) InjectRateLimit(method, pathContains string, count int, retryAfter time.Duration, global bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = append(s.limits, &rateLimit{method, pathContains, count, retryAfter, global})
}

// InjectError makes the next count requests whose method equals method ("" = any) and
// whose path contains pathContains answer status with Discord's JSON error body
// {"message": message, "code": code}; e.g. 403, 50001, "Missing Access" for a channel
// the bot cannot see, or 403, 50013, "Missing Permissions" for one it cannot write to.
func (s *Server) InjectError(method, pathContains string, count, status, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, pathContains: pathContains, remaining: count,
		status: status, code: code, message: message})
}

// InjectDelay makes the next count matching requests wait d before they are served.
// A client that gives up first (its context ends, its connection closes) is recorded
// with Status 499 and the request has no effect.
func (s *Server) InjectDelay(method, pathContains string, count int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, pathContains: pathContains, remaining: count, delay: d})
}

// ChannelMessages returns the messages accepted by POST /channels/{channelID}/messages,
// in order.
func (s *Server) ChannelMessages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.channelMsgs[channelID]...)
}

// Requests returns a copy of every REST request recorded so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Commands returns the commands last registered for guildID ("" = global) and how many
// bulk overwrites the fake has accepted in total.
func (s *Server) Commands(guildID string) (cmds []*discordgo.ApplicationCommand, puts int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*discordgo.ApplicationCommand(nil), s.commands[guildID]...), s.commandPuts
}

// Interaction returns a copy of the log of the interaction with this token.
func (s *Server) Interaction(token string) (InteractionLog, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.interactions[token]
	if !ok {
		return InteractionLog{}, false
	}
	return copyLog(l), true
}

// Interactions returns copies of every interaction log.
func (s *Server) Interactions() []InteractionLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]InteractionLog, 0, len(s.interactions))
	for _, l := range s.interactions {
		out = append(out, copyLog(l))
	}
	return out
}

func copyLog(l *InteractionLog) InteractionLog {
	c := *l
	c.Edits = append([]Message(nil), l.Edits...)
	c.Followups = append([]Message(nil), l.Followups...)
	c.Refused = append([]string(nil), l.Refused...)
	return c
}

// Gateway counters: IDENTIFYs received, RESUMEs accepted, heartbeats ACKed, drops.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.identifies...)
}

// Resumes is the number of RESUMEs accepted.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// HeartbeatAcks is the number of op 1 heartbeats answered with op 11.
func (s *Server) HeartbeatAcks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks
}

// Connected reports whether a gateway session is established (after READY or RESUMED).
func (s *Server) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil
}

// NewInteraction returns a fresh id and token for an interaction to dispatch.
func (s *Server) NewInteraction() (id, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	return strconv.FormatInt(s.nextID, 10), "tok" + strconv.FormatInt(s.nextID, 36)
}

// Register records an interaction delivered over HTTP (the HTTP interactions
// transport, where the test posts it and the first response is the HTTP body): the
// fake then accepts edits and follow-ups for it. Dispatched and the callback time are
// set to now; the callback's Type is recorded as typ.
func (s *Server) Register(id, token string, typ discordgo.InteractionResponseType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.interactions[token] = &InteractionLog{ID: id, Token: token, Dispatched: now, Callback: &Callback{At: now, Type: typ}}
	s.notifyLocked()
}

// DispatchInteraction sends INTERACTION_CREATE for i on the gateway. i.ID, i.Token and
// i.AppID are filled in when empty. Without a connection the dispatch is queued in the
// session and delivered by a RESUME, as Discord does.
func (s *Server) DispatchInteraction(i *discordgo.Interaction) error {
	if i.ID == "" || i.Token == "" {
		i.ID, i.Token = s.NewInteraction()
	}
	if i.AppID == "" {
		i.AppID = s.opts.AppID
	}
	data, err := json.Marshal(i)
	if err != nil {
		return fmt.Errorf("fakediscord: marshal interaction: %w", err)
	}
	s.mu.Lock()
	s.interactions[i.Token] = &InteractionLog{ID: i.ID, Token: i.Token}
	s.mu.Unlock()
	return s.DispatchRaw("INTERACTION_CREATE", data)
}

// DispatchRaw sends a dispatch (op 0) of type typ with payload data. An
// INTERACTION_CREATE whose token is known gets its dispatch time recorded when written.
func (s *Server) DispatchRaw(typ string, data json.RawMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessionID == "" {
		return errors.New("fakediscord: dispatch: no gateway session")
	}
	s.seq++
	ev := event{s.seq, typ, data}
	s.events = append(s.events, ev)
	if s.conn == nil {
		return nil // delivered on RESUME
	}
	if err := s.writeEventLocked(ev); err != nil {
		return err
	}
	return nil
}

// writeEventLocked writes one dispatch on the current connection; s.mu must be held.
func (s *Server) writeEventLocked(ev event) error {
	msg := map[string]any{"op": 0, "s": ev.seq, "t": ev.typ, "d": ev.data}
	s.connWrite.Lock()
	_ = s.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err := s.conn.WriteJSON(msg)
	s.connWrite.Unlock()
	if err != nil {
		return fmt.Errorf("fakediscord: write %s: %w", ev.typ, err)
	}
	if ev.typ == "INTERACTION_CREATE" {
		var hdr struct{ Token string }
		if json.Unmarshal(ev.data, &hdr) == nil {
			if l, ok := s.interactions[hdr.Token]; ok && l.Dispatched.IsZero() {
				l.Dispatched = time.Now()
			}
		}
	}
	s.notifyLocked()
	return nil
}

// Drop closes the gateway connection abruptly (no close frame), as a network failure
// would; the session stays resumable.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
		s.drops++
		s.notifyLocked()
	}
}

// record wraps the REST handlers: injects 429s and records every request.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" || r.URL.Path == "/ws/" {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Body: body, At: time.Now()}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		if rl := s.takeLimit(r); rl != nil {
			secs := rl.retryAfter.Seconds()
			sw.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
			sw.Header().Set("X-RateLimit-Limit", "1")
			sw.Header().Set("X-RateLimit-Remaining", "0")
			sw.Header().Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
			sw.Header().Set("X-RateLimit-Bucket", "fake-bucket")
			if rl.global {
				sw.Header().Set("X-RateLimit-Global", "true")
				sw.Header().Set("X-RateLimit-Scope", "global")
			} else {
				sw.Header().Set("X-RateLimit-Scope", "user")
			}
			sw.Header().Set("Content-Type", "application/json")
			sw.WriteHeader(http.StatusTooManyRequests)
			_ = json.NewEncoder(sw).Encode(map[string]any{
				"message": "You are being rate limited.", "retry_after": secs, "global": rl.global,
			})
		} else if f := s.takeFault(r); f != nil && f.delay > 0 {
			t := time.NewTimer(f.delay)
			select {
			case <-t.C:
				next.ServeHTTP(sw, r)
			case <-r.Context().Done():
				t.Stop()
				sw.status = 499 // client closed the request; nothing was done
			}
		} else if f != nil {
			writeError(sw, f.status, f.code, f.message)
		} else {
			next.ServeHTTP(sw, r)
		}
		rec.Status = sw.status
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.notifyLocked()
		s.mu.Unlock()
	})
}

func (s *Server) takeLimit(r *http.Request) *rateLimit {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rl := range s.limits {
		if rl.remaining > 0 && (rl.method == "" || rl.method == r.Method) && strings.Contains(r.URL.Path, rl.pathContains) {
			rl.remaining--
			return rl
		}
	}
	return nil
}

func (s *Server) takeFault(r *http.Request) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.remaining > 0 && (f.method == "" || f.method == r.Method) && strings.Contains(r.URL.Path, f.pathContains) {
			f.remaining--
			return f
		}
	}
	return nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": code})
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bot ") {
		writeError(w, http.StatusUnauthorized, 0, "401: Unauthorized")
		return false
	}
	return true
}

func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	u := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"
	writeJSON(w, http.StatusOK, map[string]any{
		"url": u, "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
	})
}

func (s *Server) putCommands(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	if r.PathValue("app") != s.opts.AppID {
		writeError(w, http.StatusNotFound, 10002, "Unknown Application")
		return
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.NewDecoder(r.Body).Decode(&cmds); err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	guild := r.PathValue("guild")
	s.mu.Lock()
	for _, c := range cmds {
		if c.Name == "" || c.Description == "" {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		s.nextID++
		c.ID = strconv.FormatInt(s.nextID, 10)
		c.ApplicationID = s.opts.AppID
		c.GuildID = guild
		c.Version = "1"
	}
	s.commands[guild] = cmds
	s.commandPuts++
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, cmds)
}

// decodeMessage reads a JSON or multipart (payload_json + files[n]) body.
func decodeMessage(r *http.Request) (Message, error) {
	m := Message{At: time.Now()}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return m, err
			}
			data, err := io.ReadAll(p)
			if err != nil {
				return m, err
			}
			if p.FormName() == "payload_json" {
				m.Raw = data
				continue
			}
			m.Files = append(m.Files, File{Field: p.FormName(), Name: p.FileName(),
				ContentType: p.Header.Get("Content-Type"), Data: data})
		}
	} else {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return m, err
		}
		m.Raw = data
	}
	if len(m.Raw) == 0 {
		return m, errors.New("empty payload")
	}
	if err := json.Unmarshal(m.Raw, &m); err != nil {
		return m, err
	}
	return m, nil
}

func (s *Server) callback(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data json.RawMessage                   `json:"data"`
	}
	m, err := decodeMessage(r)
	if err == nil {
		err = json.Unmarshal(m.Raw, &body)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.interactions[r.PathValue("token")]
	switch {
	case !ok || l.ID != r.PathValue("id"):
		writeError(w, http.StatusNotFound, 10062, "Unknown interaction")
		return
	case l.Callback != nil:
		l.Refused = append(l.Refused, "second callback")
		s.notifyLocked()
		writeError(w, http.StatusBadRequest, 40060, "Interaction has already been acknowledged.")
		return
	case l.Dispatched.IsZero() || now.Sub(l.Dispatched) > s.opts.Deadline:
		l.Refused = append(l.Refused, fmt.Sprintf("callback after the %v deadline", s.opts.Deadline))
		s.notifyLocked()
		writeError(w, http.StatusNotFound, 10062, "Unknown interaction")
		return
	}
	cb := &Callback{At: now, Type: body.Type}
	if len(body.Data) > 0 && string(body.Data) != "null" {
		dm := Message{At: now, Raw: body.Data, Files: m.Files}
		if err := json.Unmarshal(body.Data, &dm); err != nil {
			writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
			return
		}
		cb.Data = &dm
	}
	l.Callback = cb
	s.notifyLocked()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) webhookLog(w http.ResponseWriter, r *http.Request, what string) (*InteractionLog, bool) {
	if r.PathValue("app") != s.opts.AppID {
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return nil, false
	}
	l, ok := s.interactions[r.PathValue("token")]
	if !ok {
		writeError(w, http.StatusNotFound, 10015, "Unknown Webhook")
		return nil, false
	}
	if l.Callback == nil {
		l.Refused = append(l.Refused, what+" before the callback")
		s.notifyLocked()
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return nil, false
	}
	return l, true
}

func (s *Server) messageJSON(m Message, l *InteractionLog) map[string]any {
	s.nextID++
	return map[string]any{
		"id": strconv.FormatInt(s.nextID, 10), "channel_id": "1", "content": m.Text(),
		"flags": m.Flags, "author": map[string]any{"id": s.opts.BotUserID, "username": "commentbot", "bot": true},
		"interaction": map[string]any{"id": l.ID},
	}
}

func (s *Server) editMessage(w http.ResponseWriter, r *http.Request) {
	m, err := decodeMessage(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PathValue("msg") != "@original" {
		writeError(w, http.StatusNotFound, 10008, "Unknown Message")
		return
	}
	l, ok := s.webhookLog(w, r, "edit")
	if !ok {
		return
	}
	l.Edits = append(l.Edits, m)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, s.messageJSON(m, l))
}

func (s *Server) followup(w http.ResponseWriter, r *http.Request) {
	m, err := decodeMessage(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.webhookLog(w, r, "follow-up")
	if !ok {
		return
	}
	l.Followups = append(l.Followups, m)
	s.notifyLocked()
	if r.URL.Query().Get("wait") == "true" {
		writeJSON(w, http.StatusOK, s.messageJSON(m, l))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxContentRunes is Discord's limit on message content, in characters.
const maxContentRunes = 2000

// channelMessage creates a message in a channel (POST /channels/{id}/messages), JSON or
// multipart, refusing what Discord refuses: no content, files or embeds (400, code
// 50006) and content over 2000 characters (400, code 50035).
func (s *Server) channelMessage(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	m, err := decodeMessage(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, 50109, "The request body contains invalid JSON.")
		return
	}
	switch {
	case m.Text() == "" && len(m.Files) == 0 && len(m.Embeds) == 0:
		writeError(w, http.StatusBadRequest, 50006, "Cannot send an empty message")
		return
	case utf8.RuneCountInString(m.Text()) > maxContentRunes:
		writeError(w, http.StatusBadRequest, 50035, "Invalid Form Body")
		return
	}
	channel := r.PathValue("channel")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channelMsgs[channel] = append(s.channelMsgs[channel], m)
	s.nextID++
	s.notifyLocked()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": strconv.FormatInt(s.nextID, 10), "channel_id": channel, "content": m.Text(), "type": 0,
		"author": map[string]any{"id": s.opts.BotUserID, "username": "commentbot", "bot": true},
	})
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

type frame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
}

// websocket runs one gateway connection.
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	write := &sync.Mutex{}
	send := func(v any) error {
		write.Lock()
		defer write.Unlock()
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		return conn.WriteJSON(v)
	}
	if err := send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}}); err != nil {
		return
	}
	var f frame
	if err := conn.ReadJSON(&f); err != nil {
		return
	}
	switch f.Op {
	case 2:
		if !s.identify(conn, write, f.D) {
			return
		}
	case 6:
		if !s.resume(conn, write, f.D) {
			_ = send(map[string]any{"op": 9, "d": false})
			return
		}
	default:
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4003, "Not authenticated."))
		return
	}
	for {
		var f frame
		if err := conn.ReadJSON(&f); err != nil {
			s.mu.Lock()
			if s.conn == conn {
				s.conn = nil
				s.notifyLocked()
			}
			s.mu.Unlock()
			return
		}
		if f.Op == 1 {
			if send(map[string]any{"op": 11}) == nil {
				s.mu.Lock()
				s.acks++
				s.notifyLocked()
				s.mu.Unlock()
			}
		}
	}
}

func (s *Server) identify(conn *websocket.Conn, write *sync.Mutex, d json.RawMessage) bool {
	var id Identify
	if err := json.Unmarshal(d, &id); err != nil || !strings.HasPrefix(id.Token, "Bot ") {
		_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.identifies = append(s.identifies, id)
	s.sessionID = fmt.Sprintf("fake-session-%d", len(s.identifies))
	s.seq = 0
	s.events = nil
	s.conn, s.connWrite = conn, write
	ready, _ := json.Marshal(map[string]any{
		"v": 10, "session_id": s.sessionID, "shard": id.Shard,
		"user":        map[string]any{"id": s.opts.BotUserID, "username": "commentbot", "bot": true},
		"application": map[string]any{"id": s.opts.AppID, "flags": 0},
		"guilds":      []any{}, "private_channels": []any{},
		"resume_gateway_url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws",
	})
	s.seq++
	ev := event{s.seq, "READY", ready}
	s.events = append(s.events, ev)
	return s.writeEventLocked(ev) == nil
}

func (s *Server) resume(conn *websocket.Conn, write *sync.Mutex, d json.RawMessage) bool {
	var rp struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(d, &rp); err != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rp.SessionID == "" || rp.SessionID != s.sessionID || rp.Seq > s.seq {
		return false
	}
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.conn, s.connWrite = conn, write
	s.resumes++
	for _, ev := range s.events {
		if ev.seq > rp.Seq {
			if s.writeEventLocked(ev) != nil {
				return false
			}
		}
	}
	s.seq++
	ev := event{s.seq, "RESUMED", json.RawMessage(`{}`)}
	s.events = append(s.events, ev)
	return s.writeEventLocked(ev) == nil
}
