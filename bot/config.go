package bot

import (
	"errors"
	"fmt"
	"time"
)

// Config is the bot's behaviour; the caller maps the YAML config into it. Zero
// Cooldown and ChannelRate disable those limits.
type Config struct {
	// GuildID registers the commands in one guild (instant; for development); empty
	// registers them globally.
	GuildID string

	Temperature    float64 // /comment default (0.8)
	MinTemperature float64 // lowest accepted (0.1)
	MaxTemperature float64 // highest accepted (2.0)
	MaxPromptChars int     // longest prompt, in characters (200)
	MaxLength      int     // largest length option, in tokens (500)

	WordFilter []string // words masked as [expletive]: whole words, case-insensitive

	Cooldown          time.Duration // per user between /comment (10 s)
	ChannelRate       int           // /comment per channel per minute (6)
	MaxConcurrent     int           // generations at once; more are told "busy" (32)
	GenerationTimeout time.Duration // per /comment, retries included (30 s)

	ModeratorRole      string // role id allowed to /retrain besides Manage Server / Administrator
	OriginalityRetries int    // resamples when a sample copies training text (5)

	ShardID, ShardCount int // gateway sharding; ShardCount ≤ 1 = no sharding
}

// DefaultConfig returns the defaults listed on Config's fields.
func DefaultConfig() Config {
	return Config{
		Temperature:        0.8,
		MinTemperature:     0.1,
		MaxTemperature:     2.0,
		MaxPromptChars:     200,
		MaxLength:          500,
		Cooldown:           10 * time.Second,
		ChannelRate:        6,
		MaxConcurrent:      32,
		GenerationTimeout:  30 * time.Second,
		OriginalityRetries: 5,
		ShardCount:         1,
	}
}

// Validate reports every problem of c at once, wrapped in ErrConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !(c.MinTemperature > 0) || !(c.MaxTemperature >= c.MinTemperature) {
		bad("temperature bounds [%g, %g]: want 0 < min ≤ max", c.MinTemperature, c.MaxTemperature)
	}
	if !(c.Temperature >= c.MinTemperature && c.Temperature <= c.MaxTemperature) {
		bad("default temperature %g outside [%g, %g]", c.Temperature, c.MinTemperature, c.MaxTemperature)
	}
	if c.MaxPromptChars < 0 || c.MaxPromptChars > 6000 {
		bad("max prompt chars %d: want 0…6000 (Discord's limit for a string option)", c.MaxPromptChars)
	}
	if c.MaxLength < 1 {
		bad("max length %d: want ≥ 1", c.MaxLength)
	}
	if c.Cooldown < 0 || c.ChannelRate < 0 {
		bad("cooldown %v and channel rate %d must not be negative", c.Cooldown, c.ChannelRate)
	}
	if c.MaxConcurrent < 1 {
		bad("max concurrent %d: want ≥ 1", c.MaxConcurrent)
	}
	if c.GenerationTimeout <= 0 {
		bad("generation timeout %v: want > 0", c.GenerationTimeout)
	}
	if c.OriginalityRetries < 0 {
		bad("originality retries %d: want ≥ 0", c.OriginalityRetries)
	}
	if c.ShardCount > 1 && (c.ShardID < 0 || c.ShardID >= c.ShardCount) {
		bad("shard id %d: want 0 ≤ id < shard count %d", c.ShardID, c.ShardCount)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return nil
}
