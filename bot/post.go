package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Errors of Poster.
var (
	ErrEmptyMessage = errors.New("bot: empty message")             // nothing left to post after filtering and trimming
	ErrUnoriginal   = errors.New("bot: text copies training data") // refused by PostOriginal
	ErrBadChannel   = errors.New("bot: bad channel id")            // not a Discord snowflake
	ErrNoAccess     = errors.New("bot: no access to channel")      // Discord answered 403
	ErrRateLimited  = errors.New("bot: rate limited")              // 429s outlasted the retries
)

// Rate-limit handling of Poster.
const (
	// PostRateLimitRetries is how many times Post sends again after a 429.
	PostRateLimitRetries = 3
	// MaxRateLimitWait is the longest retry_after Post waits out; a longer one is
	// reported at once (ErrRateLimited) rather than holding the caller.
	MaxRateLimitWait = 30 * time.Second
)

// Poster sends generated text to channels as the bot, over REST only: it needs the
// bot token and works the same whether the interactions arrive over the gateway or the
// HTTP endpoint. It satisfies the scheduler's Poster interface. Safe for concurrent use.
type Poster struct {
	b       *Bot
	session *discordgo.Session
	calls   sync.WaitGroup // send goroutines still running; an abandoned one may outlive Post
}

// Poster returns a Poster for the bot token (without the "Bot " prefix), with its own
// REST session and HTTP client (20 s per request), applying b's output safety.
func (b *Bot) Poster(token string) (*Poster, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: posting needs the bot token", ErrConfig)
	}
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("bot: rest session: %w", err)
	}
	s.Client = &http.Client{Timeout: 20 * time.Second}
	s.StateEnabled = false
	s.ShouldRetryOnRateLimit = false // Post waits out 429s itself, honouring ctx
	return &Poster{b: b, session: s}, nil
}

// Post sends text as a message to channelID with the same output safety as /comment
// answers: the word filter masks whole words, white space around the text is trimmed,
// the content is cut to MaxMessageRunes characters on a rune boundary (ending in "…"
// when cut), and allowed_mentions is {"parse": []} so "@everyone" or "<@id>" in the
// text pings nobody. Text that is empty after that is refused with ErrEmptyMessage
// and nothing is sent; so is a channel id that is not a snowflake (ErrBadChannel).
// No originality check: see PostOriginal.
//
// A 429 is waited out (its retry_after, while ctx lasts) and the message sent again,
// at most PostRateLimitRetries times; a retry_after over MaxRateLimitWait, or 429s
// beyond that, give ErrRateLimited. A 403 gives ErrNoAccess naming the channel. Other
// failures are wrapped with the channel id. When ctx ends Post returns at once with
// ctx's error; a request already on the wire may still have created the message.
func (p *Poster) Post(ctx context.Context, channelID, text string) error {
	return p.PostOriginal(ctx, channelID, "", text)
}

// PostOriginal is Post that first refuses, with ErrUnoriginal and without sending,
// text that copies training data at level ("word": a run of ≥ 8 words; "char": ≥ 50
// characters) according to Options.Originality, as /comment does before it answers.
// With no Originality configured or level "", it is Post.
func (p *Poster) PostOriginal(ctx context.Context, channelID, level, text string) error {
	if !isSnowflake(channelID) {
		return fmt.Errorf("%w: %q is not a Discord channel id (digits)", ErrBadChannel, channelID)
	}
	b := p.b
	content := b.conf().clean(text)
	if content == "" {
		return fmt.Errorf("%w: nothing to post to channel %s (%d characters of blank text)",
			ErrEmptyMessage, channelID, utf8.RuneCountInString(text))
	}
	if level != "" && b.orig != nil && b.orig.Copies(level, text) {
		return fmt.Errorf("%w: not posted to channel %s (%s level)", ErrUnoriginal, channelID, level)
	}
	content = cutRunes(content, MaxMessageRunes)
	msg := &discordgo.MessageSend{Content: content, AllowedMentions: noMentions()}
	for attempt := 1; ; attempt++ {
		err := p.send(ctx, channelID, msg)
		if err == nil {
			b.log.InfoContext(ctx, "posted", "channel", channelID, "chars", utf8.RuneCountInString(content), "attempts", attempt)
			return nil
		}
		var rl *discordgo.RateLimitError
		if !errors.As(err, &rl) {
			return postError(channelID, err)
		}
		if attempt > PostRateLimitRetries || rl.RetryAfter > MaxRateLimitWait {
			return fmt.Errorf("%w: post to channel %s: %d attempts, Discord says retry after %v: %w",
				ErrRateLimited, channelID, attempt, rl.RetryAfter, err)
		}
		b.log.InfoContext(ctx, "post rate limited; waiting", "channel", channelID, "retry_after", rl.RetryAfter, "attempt", attempt)
		t := time.NewTimer(rl.RetryAfter)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("bot: post to channel %s: waiting out a rate limit: %w", channelID, ctx.Err())
		}
	}
}

// send makes one ChannelMessageSendComplex call bounded by ctx. The call runs in its
// own goroutine because discordgo sleeps (ignoring ctx) while its rate-limit bucket is
// exhausted; the request itself carries ctx, so an abandoned call sends nothing once
// it wakes up.
func (p *Poster) send(ctx context.Context, channelID string, msg *discordgo.MessageSend) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	done := make(chan error, 1)
	p.calls.Add(1)
	go func() {
		defer p.calls.Done()
		_, err := p.session.ChannelMessageSendComplex(channelID, msg, discordgo.WithContext(ctx))
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished at the same moment: report what happened
			return err
		default:
			return ctx.Err()
		}
	}
}

// postError wraps a failed send, naming the channel; a 403 becomes ErrNoAccess.
func postError(channelID string, err error) error {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusForbidden {
		why := "Missing Access"
		if re.Message != nil && re.Message.Message != "" {
			why = fmt.Sprintf("%s (code %d)", re.Message.Message, re.Message.Code)
		}
		return fmt.Errorf("%w %s: Discord says %s; the bot needs View Channel and Send Messages there: %w",
			ErrNoAccess, channelID, why, err)
	}
	return fmt.Errorf("bot: post to channel %s: %w", channelID, err)
}

// isSnowflake reports whether id looks like a Discord id: 1 to 20 ASCII digits.
func isSnowflake(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}
