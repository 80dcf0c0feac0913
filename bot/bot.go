package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors. A Generator returns (wrapped) ErrUnknownModel, ErrModelDisabled or
// ErrBadRequest for input it refuses, and ErrBusy when the model's batch and queue are
// full; the bot turns them into plain-language replies.
var (
	ErrUnknownModel  = errors.New("bot: unknown model")
	ErrModelDisabled = errors.New("bot: model disabled")
	ErrBadRequest    = errors.New("bot: bad request") // temperature, length or prompt refused
	ErrBusy          = errors.New("bot: busy")        // the model writes as many comments as it may, with a full queue
	ErrConfig        = errors.New("bot: invalid config")
	ErrShutdown      = errors.New("bot: shut down")
)

// ModelInfo describes one model as /models shows it.
type ModelInfo struct {
	Name         string    // what users type: "word", "char"
	Kind         string    // "word-lstm" | "char-lstm" | "rnn"
	Level        string    // "word" | "char": which originality rule applies; derived from Kind when empty
	Enabled      bool      // only enabled models are offered by /comment
	Version      string    // live checkpoint version; "" = none trained yet
	TrainedAt    time.Time // zero = unknown
	HeldOutLoss  float64   // mean cross-entropy per token on the held-out split (nats); NaN/0 = unknown
	CorpusSize   int       // comments the live version was trained on
	LossCurvePNG []byte    // optional: attached to /models
	Note         string    // optional: a problem to show, such as a damaged lineage set aside
	// Origin says where the live version came from: "pretrained on …",
	// "fine-tuned on 491 comments (from v1)", "trained from scratch".
	Origin string
	// BitsPerChar is the live version's held-out bits per character on the
	// comments every model is measured on (ScoredOn of them); 0 = not measured.
	BitsPerChar float64
	ScoredOn    int
	// LastFineTune is the last fine-tune in a line (with the share of the
	// fresh comments it learned); "" = none yet.
	LastFineTune string
	// Default marks the model /comment uses when none is named (DefaultWhy
	// says why); without one, the first enabled model.
	Default    bool
	DefaultWhy string
}

// level is the originality level of the model: "char" for char-level kinds, else "word".
func (m ModelInfo) level() string {
	if m.Level != "" {
		return m.Level
	}
	if m.Kind == "char-lstm" || m.Kind == "char" {
		return "char"
	}
	return "word"
}

// GenerateRequest asks for one comment. Seed makes it reproducible: the same model
// version, temperature, prompt, length and seed give the same text.
type GenerateRequest struct {
	Model       string
	Temperature float64
	Prompt      string // text to continue; "" = start of a comment
	Length      int    // tokens (words or chars); 0 = the model's default
	Seed        uint64
}

// Generated is one sampled comment and what reproduces it.
type Generated struct {
	Text        string
	Model       string
	Version     string
	Temperature float64
	Seed        uint64
}

// Generator is what the bot needs from the live models; the caller adapts the
// scheduler's model set to it. Implementations must be safe for concurrent use and
// must return promptly when ctx ends.
type Generator interface {
	// Models lists every configured model, enabled or not, in display order.
	Models(ctx context.Context) []ModelInfo
	// Generate samples one comment.
	Generate(ctx context.Context, req GenerateRequest) (Generated, error)
	// Retrain fine-tunes model now and returns a one-line summary when it ends.
	Retrain(ctx context.Context, model string) (string, error)
}

// Originality says whether text copies training data: a run of ≥ 8 consecutive words
// (level "word") or ≥ 50 characters (level "char") of a training comment. The corpus
// n-gram index implements it; OriginalityFunc adapts a function.
type Originality interface {
	Copies(level, text string) bool
}

// OriginalityFunc adapts a function to Originality.
type OriginalityFunc func(level, text string) bool

// Copies calls f.
func (f OriginalityFunc) Copies(level, text string) bool { return f(level, text) }

// Metrics receives one observation per handled command: the command name, its outcome
// ("ok", "bad_input", "limited", "busy", "timeout", "unoriginal", "error", "refused"),
// the time to the first response (what Discord's 3 s deadline applies to) and the
// total time until the final answer was sent.
type Metrics interface {
	ObserveCommand(command, outcome string, firstResponse, total time.Duration)
}

// MetricsFunc adapts a function to Metrics.
type MetricsFunc func(command, outcome string, firstResponse, total time.Duration)

// ObserveCommand calls f.
func (f MetricsFunc) ObserveCommand(command, outcome string, firstResponse, total time.Duration) {
	f(command, outcome, firstResponse, total)
}

// Options are the bot's injected collaborators; all are optional.
type Options struct {
	Logger      *slog.Logger     // default: discard
	Now         func() time.Time // default: time.Now
	Seeds       rand.Source      // seeds for samples; default: PCG seeded from the clock
	Originality Originality      // nil = every sample is accepted
	Metrics     Metrics          // nil = none
	// Shared, when set, keeps the replay cache of HTTP interactions and the
	// /comment limits where every replica sees them (the shared store); nil:
	// in this process only.
	Shared SharedLimits
	// NoRegistration leaves registering the command set to another process
	// (the fleet's trainer, see RegisterCommands): transports never call
	// Discord's REST API at start.
	NoRegistration bool
}

// Stats are counters since New.
type Stats struct {
	Commands      int64 // interactions handled
	Generated     int64 // /comment answers with a comment
	Samples       int64 // samples drawn (retries included)
	Rejected      int64 // samples discarded by the originality filter
	Exhausted     int64 // /comment answered without a comment: every retry copied
	Timeouts      int64 // generations that ran out of time
	Busy          int64 // refused: all generation slots taken, or the model's batch and queue full
	Limited       int64 // refused: user cooldown or channel rate
	BadInput      int64 // refused: bad options, wrong place, missing permission
	RespondErrors int64 // Discord calls (respond, edit, follow-up) that failed
}

// Bot answers /comment, /models and /retrain over any of its transports (gateway,
// HTTP interactions, console). Create it with New; it is safe for concurrent use.
type Bot struct {
	set     atomic.Pointer[settings] // swapped whole by Apply
	gen     Generator
	log     *slog.Logger
	now     func() time.Time
	orig    Originality
	metrics Metrics
	limits  *limiter
	shared  SharedLimits
	noReg   bool
	busy    slots

	seedMu sync.Mutex
	seeds  *rand.Rand

	life   context.Context // ends when Shutdown gives up waiting
	cancel context.CancelFunc

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
	stats    Stats
	gateways []*Gateway

	reg registration // where commands are registered, and how that went
}

// settings is one version of the bot's behaviour: the config and what is derived
// from it. It is immutable; Apply publishes a new one.
type settings struct {
	cfg    Config
	filter wordFilter
}

// conf returns the settings in force. A handler reads them once and keeps them for
// the whole command, so a reload never changes the rules half-way through one.
func (b *Bot) conf() *settings { return b.set.Load() }

// Apply puts a new config in force at once (a config reload): temperature bounds and
// default, prompt and length limits, word filter, cooldown, channel rate, concurrency
// cap, generation timeout, moderator role and originality retries apply to the next
// command; cooldowns already running keep their start. GuildID and the shard
// settings are read when a transport connects: they take effect at the next start.
// Call Refresh afterwards so that Discord shows the new bounds. An invalid cfg is
// refused (ErrConfig) and the running one stays.
func (b *Bot) Apply(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b.mu.Lock() // one Apply at a time
	defer b.mu.Unlock()
	old := b.conf().cfg
	cfg.GuildID, cfg.ShardID, cfg.ShardCount = old.GuildID, old.ShardID, old.ShardCount
	b.set.Store(&settings{cfg: cfg, filter: newWordFilter(cfg.WordFilter)})
	b.limits.configure(cfg.Cooldown, cfg.ChannelRate)
	return nil
}

// slots counts the generations running against a cap that a reload may change;
// lowering the cap never interrupts a generation, it only refuses new ones.
type slots struct {
	mu   sync.Mutex
	used int
}

// take claims a slot; false when all limit slots are taken.
func (s *slots) take(limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used >= limit {
		return false
	}
	s.used++
	return true
}

// give frees a slot claimed by take.
func (s *slots) give() {
	s.mu.Lock()
	s.used--
	s.mu.Unlock()
}

// New validates cfg and returns a bot serving gen.
func New(cfg Config, gen Generator, opts Options) (*Bot, error) {
	if gen == nil {
		return nil, fmt.Errorf("%w: nil Generator", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Seeds == nil {
		t := uint64(time.Now().UnixNano())
		opts.Seeds = rand.NewPCG(t, t^0x9e3779b97f4a7c15)
	}
	life, cancel := context.WithCancel(context.Background())
	b := &Bot{
		gen:     gen,
		log:     opts.Logger,
		now:     opts.Now,
		orig:    opts.Originality,
		metrics: opts.Metrics,
		limits:  newLimiter(cfg.Cooldown, cfg.ChannelRate),
		shared:  opts.Shared,
		noReg:   opts.NoRegistration,
		seeds:   rand.New(opts.Seeds),
		life:    life,
		cancel:  cancel,
	}
	b.set.Store(&settings{cfg: cfg, filter: newWordFilter(cfg.WordFilter)})
	return b, nil
}

// Stats returns a snapshot of the counters.
func (b *Bot) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

func (b *Bot) count(f func(*Stats)) {
	b.mu.Lock()
	f(&b.stats)
	b.mu.Unlock()
}

// newSeed draws a seed below 2^53, so that it survives JSON and a command line intact.
func (b *Bot) newSeed() uint64 {
	b.seedMu.Lock()
	defer b.seedMu.Unlock()
	return b.seeds.Uint64() >> 11
}

// begin registers one in-flight interaction; false once Shutdown has started.
func (b *Bot) begin() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing {
		return false
	}
	b.inflight.Add(1)
	return true
}

// Shutdown stops accepting interactions (new ones are told the bot is restarting),
// waits for the in-flight ones to be answered, then closes the gateways opened with
// Connect. When ctx ends first, running generations are cancelled and ctx's error is
// returned wrapped.
func (b *Bot) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closing = true
	gws := append([]*Gateway(nil), b.gateways...)
	b.mu.Unlock()
	done := make(chan struct{})
	go func() {
		b.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	default:
		select {
		case <-done:
		case <-ctx.Done():
			err = fmt.Errorf("bot: shutdown: %w", ctx.Err())
		}
	}
	b.cancel()
	b.reg.stop()
	for _, g := range gws {
		if cerr := g.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	return err
}
