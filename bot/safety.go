package bot

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// MaxMessageRunes is Discord's limit on message content, counted in characters.
const MaxMessageRunes = 2000

// Mask replaces every filtered word.
const Mask = "[expletive]"

// noMentions allows no mention of any kind: generated text saying "@everyone" or
// "<@123>" is shown but pings nobody. Parse is an empty list, not null.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// wordRE matches one word: letters and digits, with inner apostrophes (don't, rock'n'roll).
var wordRE = regexp.MustCompile(`[\pL\pN]+(?:['’][\pL\pN]+)*`)

// wordFilter masks whole words, case-insensitively. A word matches only as a whole
// (filtering "heck" leaves "check" and "hecking" alone), or as the stem of a
// contraction or possessive ("heck's" becomes "[expletive]'s").
type wordFilter struct{ words map[string]bool }

func newWordFilter(words []string) wordFilter {
	f := wordFilter{words: map[string]bool{}}
	for _, w := range words {
		if w = strings.TrimSpace(w); w != "" {
			f.words[strings.ToLower(w)] = true
		}
	}
	return f
}

// apply returns text with every filtered word replaced by Mask.
func (f wordFilter) apply(text string) string {
	if len(f.words) == 0 {
		return text
	}
	return wordRE.ReplaceAllStringFunc(text, func(w string) string {
		lw := strings.ToLower(w)
		if f.words[lw] {
			return Mask
		}
		// A contraction or possessive of a filtered word keeps its suffix: heck's.
		if i := strings.IndexAny(lw, "'’"); i > 0 && f.words[lw[:i]] {
			return Mask + w[i:]
		}
		return w
	})
}

// cutRunes returns s cut to at most n characters on a rune boundary, with "…" as the
// last character when something was cut.
func cutRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// footer is the line that makes an answer reproducible:
// "-# word v3 · temperature 0.8 · seed 42" (Discord renders "-#" as small text).
func footer(g Generated) string {
	v := g.Version
	if v == "" {
		v = "untrained"
	}
	return "-# " + g.Model + " " + v + " · temperature " + strconv.FormatFloat(g.Temperature, 'f', -1, 64) +
		" · seed " + strconv.FormatUint(g.Seed, 10)
}

// emptyText stands in for a sample with nothing printable in it.
const emptyText = "*(the model wrote nothing this time — try again or change the temperature)*"

// compose builds the message for a generated comment: the filtered text, cut so that
// text + "\n" + footer fits in MaxMessageRunes, never empty.
func (s *settings) compose(g Generated) string {
	f := footer(g)
	text := s.clean(g.Text)
	if text == "" {
		text = emptyText
	}
	room := MaxMessageRunes - utf8.RuneCountInString(f) - 1
	return cutRunes(text, room) + "\n" + f
}

// clean is generated text as it may be shown: the word filter applied, surrounding
// white space trimmed. "" means there is nothing to show.
func (s *settings) clean(text string) string {
	return strings.TrimSpace(s.filter.apply(text))
}

// plain makes any bot-written message safe: never empty, at most MaxMessageRunes.
func plain(s string) string {
	if strings.TrimSpace(s) == "" {
		s = "(no answer)"
	}
	return cutRunes(s, MaxMessageRunes)
}

// limiter enforces a per-user cooldown and a per-channel rate over a sliding minute.
type limiter struct {
	cooldown  time.Duration
	perMinute int

	mu       sync.Mutex
	lastUser map[string]time.Time
	channel  map[string][]time.Time
}

func newLimiter(cooldown time.Duration, perMinute int) *limiter {
	return &limiter{cooldown: cooldown, perMinute: perMinute,
		lastUser: map[string]time.Time{}, channel: map[string][]time.Time{}}
}

// configure changes the limits (a config reload); the history is kept, so a user in
// a cooldown stays in it, measured against the new length.
func (l *limiter) configure(cooldown time.Duration, perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cooldown, l.perMinute = cooldown, perMinute
}

// allow records one command by user in channel at now and returns 0, or refuses it
// and returns how long to wait and which limit applied ("user" or "channel").
func (l *limiter) allow(user, channel string, now time.Time) (time.Duration, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cooldown > 0 {
		if last, ok := l.lastUser[user]; ok {
			if wait := last.Add(l.cooldown).Sub(now); wait > 0 {
				return wait, "user"
			}
		}
	}
	var recent []time.Time
	if l.perMinute > 0 {
		for _, t := range l.channel[channel] {
			if now.Sub(t) < time.Minute {
				recent = append(recent, t)
			}
		}
		if len(recent) >= l.perMinute {
			l.channel[channel] = recent
			return recent[0].Add(time.Minute).Sub(now), "channel"
		}
		l.channel[channel] = append(recent, now)
	}
	if l.cooldown > 0 {
		l.lastUser[user] = now
	}
	l.pruneLocked(now)
	return 0, ""
}

// pruneLocked forgets entries that no longer limit anything once the maps grow large.
func (l *limiter) pruneLocked(now time.Time) {
	if len(l.lastUser)+len(l.channel) < 4096 {
		return
	}
	for u, t := range l.lastUser {
		if now.Sub(t) >= l.cooldown {
			delete(l.lastUser, u)
		}
	}
	for c, ts := range l.channel {
		if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= time.Minute {
			delete(l.channel, c)
		}
	}
}

// waitText says how long to wait in words: "8 seconds", "1 minute".
func waitText(d time.Duration) string {
	s := int((d + time.Second - 1) / time.Second)
	switch {
	case s <= 1:
		return "1 second"
	case s < 60:
		return strconv.Itoa(s) + " seconds"
	case s < 120:
		return "1 minute"
	default:
		return strconv.Itoa((s+59)/60) + " minutes"
	}
}
