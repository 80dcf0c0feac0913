package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"

	"commentbot/model"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// MaxBatchLimit is the largest bot.max_batch accepted.
const MaxBatchLimit = 1024

// Model kinds, as named in the config file: the model package's kinds.
const (
	KindWordLSTM = string(model.WordLSTM)
	KindCharLSTM = string(model.CharLSTM)
	KindRNN      = string(model.RNN)
)

// Config is the whole configuration of the bot.
type Config struct {
	// DataDir holds the SQLite store and the model checkpoints (with a PostgreSQL
	// store: lock files and scratch only).
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Role is what `run` does: RoleAll (everything, one process), RoleServe
	// (answer interactions from the live models in the store) or RoleTrain (ingest,
	// fine-tune, post; one active among any number). `run --role` and
	// COMMENTBOT_ROLE override it.
	Role     string       `yaml:"role"`
	Store    StoreConfig  `yaml:"store"`
	Corpus   CorpusConfig `yaml:"corpus"`
	Reddit   RedditConfig `yaml:"reddit"`
	Models   Models       `yaml:"models"`
	Schedule Schedule     `yaml:"schedule"`
	Bot      BotConfig    `yaml:"bot"`
	Metrics  Metrics      `yaml:"metrics"`
}

// Roles of `run`, in the order the help lists them.
const (
	RoleAll   = "all"
	RoleServe = "serve"
	RoleTrain = "train"
)

// Roles lists every role `run` accepts.
func Roles() []string { return []string{RoleAll, RoleServe, RoleTrain} }

// ValidRole reports whether role is one of Roles.
func ValidRole(role string) bool {
	for _, r := range Roles() {
		if r == role {
			return true
		}
	}
	return false
}

// StoreConfig says where comments, runs, model versions and shared limits live.
type StoreConfig struct {
	// URL is "" for the embedded SQLite store under data_dir, or a PostgreSQL URL
	// (postgres://user@host:5432/db?sslmode=require). It never holds a password:
	// that comes from PGPASSWORD, or from a whole URL in COMMENTBOT_STORE_URL,
	// which overrides this key.
	URL string `yaml:"url"`
}

// CorpusConfig holds the cleaning rules and the split.
type CorpusConfig struct {
	// BotAccounts are authors whose comments are never trained on (AutoModerator always is).
	BotAccounts []string `yaml:"bot_accounts"`
	// BotNames are patterns (Go regexp syntax) of author names that mark a bot, unless
	// one of BotNameExceptions matches too; BotFooters are patterns of the cleaned body
	// of a bot's comment. Skipped comments are counted as bot_name and bot_footer.
	BotNames          []string `yaml:"bot_names"`
	BotNameExceptions []string `yaml:"bot_name_exceptions"`
	BotFooters        []string `yaml:"bot_footers"`
	// URLs is "drop" (remove bare URLs) or "placeholder" (replace them with a token).
	URLs     string `yaml:"urls"`
	MinChars int    `yaml:"min_chars"`
	MaxChars int    `yaml:"max_chars"`
	// ValidationFraction of comments (chosen by a hash of the id) is held out.
	ValidationFraction float64 `yaml:"validation_fraction"`
}

// RedditConfig says where fresh comments come from. Credentials come from the
// environment (see Secrets).
type RedditConfig struct {
	Subreddits []string `yaml:"subreddits"`
	// UserAgent follows Reddit's rule: <platform>:<app ID>:<version> (by /u/<username>).
	UserAgent string        `yaml:"user_agent"`
	MaxPerRun int           `yaml:"max_per_run"`
	Timeout   time.Duration `yaml:"timeout"`
	// BaseURL and TokenURL override Reddit's endpoints (a proxy, or a fake in tests);
	// empty means Reddit's own.
	BaseURL  string `yaml:"base_url"`
	TokenURL string `yaml:"token_url"`
}

// ModelConfig is one named model: its kind, sizes and training hyper-parameters.
type ModelConfig struct {
	Name    string `yaml:"name"`
	Kind    string `yaml:"kind"`
	Enabled bool   `yaml:"enabled"`
	// VocabSize is the number of most frequent tokens kept (words) or the maximum
	// number of characters (char); specials come on top.
	VocabSize int `yaml:"vocab_size"`
	// Embed is the embedding width (word kinds; char kinds use one-hot input).
	Embed int `yaml:"embed"`
	// Hidden lists the widths of the recurrent layers, bottom first.
	Hidden       []int   `yaml:"hidden"`
	Dropout      float64 `yaml:"dropout"`
	LearningRate float64 `yaml:"learning_rate"`
	// LRDecay multiplies the learning rate after every epoch. Default 1 (off): on a
	// small corpus epochs are short, and 0.97 per epoch had cut the rate 20-fold within
	// 100 epochs (10 minutes on the seed sample), stalling the char model at 2.3 nats.
	LRDecay float64 `yaml:"lr_decay"`
	// Clip is the maximum global gradient norm.
	Clip float64 `yaml:"clip"`
	// Streams (B) and Steps (T) shape the truncated-BPTT batches.
	Streams int `yaml:"streams"`
	Steps   int `yaml:"steps"`
	// LRSchedule is how the rate moves over a run's budget: "anneal" (learning_rate
	// for the first 80%, then a cosine down to a tenth of it when the budget is
	// spent), "cosine" (that cosine over the whole budget) or "constant". On the
	// default char model, 1500 steps on Debian's fortunes with the same seed ended at
	// 2.145 nats/char held out with anneal, 2.157 constant and 2.286 cosine.
	LRSchedule string `yaml:"lr_schedule"`
	// PatienceShare is the share of a run's budget, in training tokens, that may
	// pass without a held-out improvement larger than the evaluation's standard
	// error before a plateau is declared; Patience is the least number of held-out
	// evaluations that takes. On a plateau the best weights come back and the rate
	// halves, LRReductions times; the next plateau stops the run.
	PatienceShare  float64 `yaml:"patience_share"`
	Patience       int     `yaml:"patience"`
	LRReductions   int     `yaml:"lr_reductions"`
	MaxTemperature float64 `yaml:"max_temperature"`
	// MaxTokens bounds one generated comment (words or characters).
	MaxTokens int `yaml:"max_tokens"`
	// FirstTrainMinutes is the budget of the first training on a fresh machine
	// when the model does not start from a pretrained checkpoint.
	FirstTrainMinutes float64 `yaml:"first_train_minutes"`
	// Pretrained starts a model with no checkpoint on disk from the checkpoint
	// shipped with the binary for its kind, when its sizes match (package
	// pretrained); false trains its first version from scratch. `train --full`
	// always starts from scratch.
	Pretrained bool `yaml:"pretrained"`
}

// Schedule holds the cron jobs (robfig/cron specs: five fields or descriptors such as
// "@every 30m" and "@daily").
type Schedule struct {
	Ingest   string `yaml:"ingest"`
	FineTune string `yaml:"fine_tune"`
	// FineTuneMinutes caps one fine-tune. A fine-tune trains one pass over the
	// fresh comments and their replay sample; when the model's measured speed
	// says that would take longer, the replay is cut first, then the cap stops
	// the run (its record says which share of the fresh tokens it learned).
	FineTuneMinutes float64 `yaml:"fine_tune_minutes"`
	// ReplayRatio is how many older comments are mixed in per fresh comment.
	ReplayRatio float64 `yaml:"replay_ratio"`
	// PromoteTolerance is how much higher (nats per token) a candidate's held-out loss
	// may be than live's and still be promoted.
	PromoteTolerance float64 `yaml:"promote_tolerance"`
	// KeepVersions is how many checkpoints of each model stay on disk.
	KeepVersions int    `yaml:"keep_versions"`
	Posts        []Post `yaml:"posts"`
}

// Post is a scheduled comment to a channel.
type Post struct {
	Channel     string  `yaml:"channel"`
	Cron        string  `yaml:"cron"`
	Model       string  `yaml:"model"`
	Temperature float64 `yaml:"temperature"`
}

// BotConfig is the behaviour of the Discord bot.
type BotConfig struct {
	// GuildID registers the commands in one guild (instant; for development); empty
	// registers them globally once a Discord token is set. Global says the same in
	// words and changes nothing: files that set it keep loading.
	GuildID string `yaml:"guild_id"`
	Global  bool   `yaml:"global"`
	// HTTPListen, when set, serves the HTTP interactions endpoint on that address.
	HTTPListen string `yaml:"http_listen"`
	// APIURL overrides Discord's API base (REST, and the gateway lookup), e.g. a REST
	// proxy or a test fake: "http://127.0.0.1:8080/api/v10/". Empty means Discord's.
	APIURL             string        `yaml:"api_url"`
	Temperature        float64       `yaml:"temperature"`
	MinTemperature     float64       `yaml:"min_temperature"`
	MaxTemperature     float64       `yaml:"max_temperature"`
	MaxPromptChars     int           `yaml:"max_prompt_chars"`
	Cooldown           time.Duration `yaml:"cooldown"`
	ChannelRate        int           `yaml:"channel_rate_per_minute"`
	MaxConcurrent      int           `yaml:"max_concurrent"`
	MaxBatch           int           `yaml:"max_batch"`  // comments one model version writes at once, stepped together
	MaxQueued          int           `yaml:"max_queued"` // requests waiting for a place in a full batch; more are told "busy"
	GenerationTimeout  time.Duration `yaml:"generation_timeout"`
	WordFilter         []string      `yaml:"word_filter"`
	ModeratorRole      string        `yaml:"moderator_role"`
	OriginalityRetries int           `yaml:"originality_retries"`
	ShardID            int           `yaml:"shard_id"`
	ShardCount         int           `yaml:"shard_count"`
	// DefaultModel is the model /comment uses when none is named; empty: the
	// ready model with the lowest held-out bits per character.
	DefaultModel string `yaml:"default_model"`
}

// Metrics says where Prometheus metrics and /healthz are served.
type Metrics struct {
	// Listen is a host:port; empty disables the endpoint.
	Listen string `yaml:"listen"`
}

// Default returns the configuration used when there is no file: every field set.
func Default() Config {
	return Config{
		DataDir:  "data",
		LogLevel: "info",
		Role:     RoleAll,
		Corpus: CorpusConfig{
			BotAccounts:       []string{"AutoModerator"},
			BotNames:          []string{`(?i)bot\d*$`, `(?i)(^|[_-])bot([_-]|$)`, `^Bot[A-Z]`},
			BotNameExceptions: []string{`(?i)(ro|ab|tal|ca|sa)bot\d*$`},
			BotFooters: []string{
				`(?i)\bI(?: am|'m) a bot\b`,
				`(?i)\bthis action was performed automatically\b`,
				`(?i)\bthis (?:message|comment|reply|post) was (?:created|generated|posted|made) (?:by a bot|automatically)\b`,
			},
			URLs:               "placeholder",
			MinChars:           2,
			MaxChars:           2000,
			ValidationFraction: 0.1,
		},
		Reddit: RedditConfig{
			Subreddits: []string{"AskReddit"},
			UserAgent:  "linux:commentbot:v0.1.0 (by /u/commentbot)",
			MaxPerRun:  1000,
			Timeout:    30 * time.Second,
		},
		Models: Models{
			DefaultModel("word", KindWordLSTM),
			DefaultModel("char", KindCharLSTM),
			func() ModelConfig { m := DefaultModel("rnn", KindRNN); m.Enabled = false; return m }(),
		},
		Schedule: Schedule{
			Ingest:           "@every 30m",
			FineTune:         "@daily",
			FineTuneMinutes:  120,
			ReplayRatio:      1,
			PromoteTolerance: 0.01,
			KeepVersions:     5,
			Posts:            []Post{},
		},
		Bot: BotConfig{
			Temperature:        0.8,
			MinTemperature:     0.1,
			MaxTemperature:     2.0,
			MaxPromptChars:     200,
			Cooldown:           10 * time.Second,
			ChannelRate:        6,
			MaxConcurrent:      32,
			MaxBatch:           32,
			MaxQueued:          64,
			GenerationTimeout:  30 * time.Second,
			WordFilter:         DefaultWordFilter(),
			OriginalityRetries: 5,
			ShardCount:         1,
		},
		Metrics: Metrics{Listen: "127.0.0.1:9464"},
	}
}

// DefaultWordFilter is the profanity masked as [expletive] unless configured: the
// models learn from real Reddit comments, and a moderator's server should not hear
// them from the bot. Extend it (or empty it) in bot.word_filter.
func DefaultWordFilter() []string {
	return []string{"fuck", "fucking", "fucked", "fucker", "motherfucker", "shit", "shitty", "bullshit",
		"bitch", "cunt", "asshole", "twat", "wanker"}
}

// DefaultModel returns the defaults of a model entry of kind: the sizes and
// training hyper-parameters are the model package's product defaults
// (model.DefaultConfig, whose doc says why each was chosen), its plateau
// rules (model.DefaultPatience, model.DefaultReductions) and the anneal
// schedule (see LRSchedule); the vocabulary, the length of a comment and the
// first training's budget are the config's own.
func DefaultModel(name, kind string) ModelConfig {
	mc := model.DefaultConfig(model.Kind(kind))
	m := ModelConfig{
		Name: name, Kind: kind, Enabled: true,
		Embed: mc.Embed, Hidden: mc.Hidden, Dropout: mc.Dropout,
		LearningRate: mc.LearningRate, LRDecay: mc.LRDecay, Clip: mc.Clip, Streams: mc.Streams, Steps: mc.Steps,
		LRSchedule: string(model.ScheduleAnneal), PatienceShare: model.DefaultPatience, Patience: mc.Patience,
		LRReductions: model.DefaultReductions, MaxTemperature: mc.MaxTemperature,
		VocabSize: 4000, MaxTokens: 60, FirstTrainMinutes: 3, Pretrained: true,
	}
	if kind == KindCharLSTM {
		m.VocabSize, m.MaxTokens = 96, 400
	}
	return m
}

// Model returns the model named name.
func (c *Config) Model(name string) (ModelConfig, bool) {
	for _, m := range c.Models {
		if m.Name == name {
			return m, true
		}
	}
	return ModelConfig{}, false
}

// Load reads the file at path over the defaults. A missing path ("") gives Default().
// The result is validated.
func Load(path string) (Config, error) {
	if path == "" {
		c := Default()
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(bytes.NewReader(b))
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML over the defaults and validates the result. Unknown keys and wrong
// types are errors that give the line. A model entry in the file starts from the
// defaults of its kind, so it names only what it changes.
func Parse(r io.Reader) (Config, error) {
	c := Default()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return c, c.Validate()
}

// Models is the list of models; in YAML each entry starts from its kind's defaults.
type Models []ModelConfig

// UnmarshalYAML decodes each entry over DefaultModel(name, kind), refusing unknown keys
// (yaml's KnownFields does not reach into custom unmarshalers).
func (ms *Models) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: models must be a list", n.Line)
	}
	known := yamlKeys(reflect.TypeFor[ModelConfig]())
	out := make(Models, 0, len(n.Content))
	var problems []string
	for _, e := range n.Content {
		if e.Kind != yaml.MappingNode {
			problems = append(problems, fmt.Sprintf("line %d: a model must be a mapping", e.Line))
			continue
		}
		var head struct {
			Name string `yaml:"name"`
			Kind string `yaml:"kind"`
		}
		if err := e.Decode(&head); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if head.Kind == "" {
			head.Kind = KindWordLSTM
		}
		for i := 0; i < len(e.Content); i += 2 {
			if k := e.Content[i]; !known[k.Value] {
				problems = append(problems, fmt.Sprintf("line %d: field %s not found in a model", k.Line, k.Value))
			}
		}
		m := DefaultModel(head.Name, head.Kind)
		if err := e.Decode(&m); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, m)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	*ms = out
	return nil
}

func yamlKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for f := range t.Fields() {
		if k, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); k != "" {
			keys[k] = true
		}
	}
	return keys
}

// ErrInvalid marks a configuration that cannot be used.
var ErrInvalid = errors.New("config: invalid")

// Problem is one reason a configuration is invalid.
type Problem struct {
	Field  string // e.g. "models[1].hidden[0]"
	Reason string
}

// ValidationError lists every problem found, not just the first.
type ValidationError struct{ Problems []Problem }

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Field, p.Reason)
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

var modelName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// ValidModelName reports whether name can name a model: 1 to 32 of a–z,
// 0–9, "_" and "-", starting with a letter or a digit. A model's name is the
// directory of its checkpoints, so this is also what the scheduler accepts.
func ValidModelName(name string) bool { return modelName.MatchString(name) }

// Validate checks every field and reports all problems at once in a *ValidationError.
func (c *Config) Validate() error {
	var ps []Problem
	bad := func(field, format string, a ...any) {
		ps = append(ps, Problem{field, fmt.Sprintf(format, a...)})
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if !ValidRole(c.Role) {
		bad("role", "%q is not one of %s", c.Role, strings.Join(Roles(), ", "))
	}
	c.Store.validate(bad)
	c.Corpus.validate(bad)
	c.Reddit.validate(bad)
	if len(c.Models) == 0 {
		bad("models", "at least one model is needed")
	}
	seen := map[string]bool{}
	for i, m := range c.Models {
		m.validate(fmt.Sprintf("models[%d]", i), bad)
		if seen[m.Name] {
			bad(fmt.Sprintf("models[%d].name", i), "%q is used twice", m.Name)
		}
		seen[m.Name] = true
	}
	c.Schedule.validate(bad, seen, c.Bot.MaxTemperature)
	if c.Bot.DefaultModel != "" && !seen[c.Bot.DefaultModel] {
		bad("bot.default_model", "%q is not a model of this config", c.Bot.DefaultModel)
	}
	c.Bot.validate(bad)
	if len(ps) > 0 {
		return &ValidationError{Problems: ps}
	}
	return nil
}

func (sc *StoreConfig) validate(bad func(field, format string, a ...any)) {
	if sc.URL == "" {
		return
	}
	if err := CheckStoreURL(sc.URL); err != nil {
		bad("store.url", "%v", err)
		return
	}
	if u, _ := url.Parse(sc.URL); u.User != nil {
		if _, set := u.User.Password(); set {
			bad("store.url", "holds a password: put it in PGPASSWORD (or the whole URL in COMMENTBOT_STORE_URL), never in the config file")
		}
	}
}

// CheckStoreURL says whether s can name a store: a postgres:// or postgresql://
// URL with a host. The error never repeats a password s may hold.
func CheckStoreURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL (want postgres://user@host:5432/db)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("scheme %q: want postgres:// (or empty for the embedded SQLite store)", u.Scheme)
	}
	if u.Host == "" && u.Query().Get("host") == "" {
		return errors.New("no host (want postgres://user@host:5432/db)")
	}
	return nil
}

func (cc *CorpusConfig) validate(bad func(field, format string, a ...any)) {
	if cc.URLs != "drop" && cc.URLs != "placeholder" {
		bad("corpus.urls", "%q is not drop or placeholder", cc.URLs)
	}
	if cc.MinChars < 0 {
		bad("corpus.min_chars", "must be ≥ 0, got %d", cc.MinChars)
	}
	if cc.MaxChars <= cc.MinChars {
		bad("corpus.max_chars", "must be greater than min_chars (%d), got %d", cc.MinChars, cc.MaxChars)
	}
	if !(cc.ValidationFraction > 0 && cc.ValidationFraction < 0.5) {
		bad("corpus.validation_fraction", "must be in (0, 0.5), got %v", cc.ValidationFraction)
	}
	for _, f := range []struct {
		name     string
		patterns []string
	}{{"bot_names", cc.BotNames}, {"bot_name_exceptions", cc.BotNameExceptions}, {"bot_footers", cc.BotFooters}} {
		for i, p := range f.patterns {
			if strings.TrimSpace(p) == "" {
				bad(fmt.Sprintf("corpus.%s[%d]", f.name, i), "empty pattern: it would match everything")
			} else if _, err := regexp.Compile(p); err != nil {
				bad(fmt.Sprintf("corpus.%s[%d]", f.name, i), "%q is not a Go regexp: %v", p, err)
			}
		}
	}
}

func (r *RedditConfig) validate(bad func(field, format string, a ...any)) {
	for i, s := range r.Subreddits {
		if !validSubreddit(s) {
			bad(fmt.Sprintf("reddit.subreddits[%d]", i), "%q is not a subreddit name (letters, digits, _; a+b for several)", s)
		}
	}
	if strings.TrimSpace(r.UserAgent) == "" {
		bad("reddit.user_agent", "must not be empty: Reddit blocks clients without a descriptive User-Agent")
	}
	if r.MaxPerRun <= 0 {
		bad("reddit.max_per_run", "must be > 0, got %d", r.MaxPerRun)
	}
	if r.Timeout <= 0 {
		bad("reddit.timeout", "must be > 0, got %v", r.Timeout)
	}
}

// validate checks the schedule; models holds the configured model names and
// maxTemperature the bot's limit, which scheduled posts must keep.
func (s *Schedule) validate(bad func(field, format string, a ...any), models map[string]bool, maxTemperature float64) {
	for field, spec := range map[string]string{"schedule.ingest": s.Ingest, "schedule.fine_tune": s.FineTune} {
		if spec != "" {
			if _, err := cron.ParseStandard(spec); err != nil {
				bad(field, "%q is not a cron spec: %v", spec, err)
			}
		}
	}
	if !(s.FineTuneMinutes > 0) {
		bad("schedule.fine_tune_minutes", "must be > 0, got %v", s.FineTuneMinutes)
	}
	if s.ReplayRatio < 0 || math.IsNaN(s.ReplayRatio) {
		bad("schedule.replay_ratio", "must be ≥ 0, got %v", s.ReplayRatio)
	}
	if s.PromoteTolerance < 0 || math.IsNaN(s.PromoteTolerance) {
		bad("schedule.promote_tolerance", "must be ≥ 0, got %v", s.PromoteTolerance)
	}
	if s.KeepVersions < 2 {
		bad("schedule.keep_versions", "must be ≥ 2 so that a rollback has somewhere to go, got %d", s.KeepVersions)
	}
	for i, p := range s.Posts {
		f := fmt.Sprintf("schedule.posts[%d]", i)
		if p.Channel == "" {
			bad(f+".channel", "must not be empty")
		}
		if _, err := cron.ParseStandard(p.Cron); err != nil {
			bad(f+".cron", "%q is not a cron spec: %v", p.Cron, err)
		}
		if !models[p.Model] {
			bad(f+".model", "%q is not a model of this config", p.Model)
		}
		if !(p.Temperature > 0 && p.Temperature <= maxTemperature) {
			bad(f+".temperature", "must be in (0, %v], got %v", maxTemperature, p.Temperature)
		}
	}
}

func (b *BotConfig) validate(bad func(field, format string, a ...any)) {
	if !(b.MinTemperature > 0) {
		bad("bot.min_temperature", "must be > 0, got %v", b.MinTemperature)
	}
	if !(b.MaxTemperature >= b.MinTemperature) || math.IsInf(b.MaxTemperature, 0) {
		bad("bot.max_temperature", "must be finite and ≥ min_temperature (%v), got %v", b.MinTemperature, b.MaxTemperature)
	}
	if !(b.Temperature >= b.MinTemperature && b.Temperature <= b.MaxTemperature) {
		bad("bot.temperature", "must be within [%v, %v], got %v", b.MinTemperature, b.MaxTemperature, b.Temperature)
	}
	if b.MaxPromptChars <= 0 || b.MaxPromptChars > 6000 {
		bad("bot.max_prompt_chars", "must be in 1…6000 (Discord's limit for a text option), got %d", b.MaxPromptChars)
	}
	if b.APIURL != "" {
		if u, err := url.Parse(b.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("bot.api_url", "%q is not an http(s) URL", b.APIURL)
		}
	}
	if b.Cooldown < 0 {
		bad("bot.cooldown", "must be ≥ 0, got %v", b.Cooldown)
	}
	if b.ChannelRate <= 0 {
		bad("bot.channel_rate_per_minute", "must be > 0, got %d", b.ChannelRate)
	}
	if b.MaxConcurrent <= 0 {
		bad("bot.max_concurrent", "must be > 0, got %d", b.MaxConcurrent)
	}
	if b.MaxBatch < 1 || b.MaxBatch > MaxBatchLimit {
		bad("bot.max_batch", "must be in 1…%d, got %d", MaxBatchLimit, b.MaxBatch)
	}
	if b.MaxQueued < 0 {
		bad("bot.max_queued", "must be ≥ 0, got %d", b.MaxQueued)
	}
	if b.GenerationTimeout <= 0 {
		bad("bot.generation_timeout", "must be > 0, got %v", b.GenerationTimeout)
	}
	if b.OriginalityRetries < 0 {
		bad("bot.originality_retries", "must be ≥ 0, got %d", b.OriginalityRetries)
	}
	if b.ShardCount < 1 || b.ShardID < 0 || b.ShardID >= b.ShardCount {
		bad("bot.shard_id", "must be in [0, shard_count=%d), got %d", b.ShardCount, b.ShardID)
	}
}

func (m *ModelConfig) validate(f string, bad func(field, format string, a ...any)) {
	if !ValidModelName(m.Name) {
		bad(f+".name", "%q must be 1–32 of a-z 0-9 _ -, starting with a letter or digit", m.Name)
	}
	switch m.Kind {
	case KindWordLSTM, KindCharLSTM, KindRNN:
	default:
		bad(f+".kind", "%q is not one of word-lstm, char-lstm, rnn", m.Kind)
	}
	if m.VocabSize < 2 {
		bad(f+".vocab_size", "must be ≥ 2, got %d", m.VocabSize)
	}
	if m.Kind != KindCharLSTM && m.Embed <= 0 {
		bad(f+".embed", "must be > 0, got %d", m.Embed)
	}
	if len(m.Hidden) == 0 {
		bad(f+".hidden", "needs at least one layer width")
	}
	for i, h := range m.Hidden {
		if h <= 0 {
			bad(fmt.Sprintf("%s.hidden[%d]", f, i), "must be > 0, got %d", h)
		}
	}
	if !(m.Dropout >= 0 && m.Dropout < 1) {
		bad(f+".dropout", "is a drop probability in [0, 1), got %v", m.Dropout)
	}
	if !(m.LearningRate > 0) || math.IsInf(m.LearningRate, 0) {
		bad(f+".learning_rate", "must be > 0, got %v", m.LearningRate)
	}
	if !(m.LRDecay > 0 && m.LRDecay <= 1) {
		bad(f+".lr_decay", "must be in (0, 1], got %v", m.LRDecay)
	}
	if !(m.Clip > 0) {
		bad(f+".clip", "must be > 0, got %v", m.Clip)
	}
	if m.Streams <= 0 {
		bad(f+".streams", "must be > 0, got %d", m.Streams)
	}
	if m.Steps <= 0 {
		bad(f+".steps", "must be > 0, got %d", m.Steps)
	}
	if m.LRSchedule != "cosine" && m.LRSchedule != "constant" && m.LRSchedule != "anneal" {
		bad(f+".lr_schedule", "%q is not constant, cosine or anneal", m.LRSchedule)
	}
	if !(m.PatienceShare > 0 && m.PatienceShare <= 1) {
		bad(f+".patience_share", "must be in (0, 1], got %v", m.PatienceShare)
	}
	if m.Patience < 1 {
		bad(f+".patience", "must be ≥ 1, got %d", m.Patience)
	}
	if m.LRReductions < 0 || m.LRReductions > 10 {
		bad(f+".lr_reductions", "must be in [0, 10], got %d", m.LRReductions)
	}
	if !(m.MaxTemperature > 0) || math.IsInf(m.MaxTemperature, 0) {
		bad(f+".max_temperature", "must be > 0 and finite, got %v", m.MaxTemperature)
	}
	if m.MaxTokens <= 0 {
		bad(f+".max_tokens", "must be > 0, got %d", m.MaxTokens)
	}
	if !(m.FirstTrainMinutes > 0) {
		bad(f+".first_train_minutes", "must be > 0, got %v", m.FirstTrainMinutes)
	}
}

var subredditName = regexp.MustCompile(`^[A-Za-z0-9_]{2,21}$`)

func validSubreddit(s string) bool {
	for _, p := range strings.Split(s, "+") {
		if !subredditName.MatchString(p) {
			return false
		}
	}
	return true
}
