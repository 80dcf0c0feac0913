package bot

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Tried: ASCII, multi-byte runes, exact fits, tiny limits. Survives: at most n runes,
// valid UTF-8, "…" only when something was cut.
func TestCutRunes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 5, "hello"},
		{"hello", 4, "hel…"},
		{"héllo wörld", 6, "héllo…"},
		{"€€€€", 3, "€€…"},
		{"😀😀", 1, "…"},
		{"abc", 0, ""},
		{"", 3, ""},
	} {
		got := cutRunes(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) || utf8.RuneCountInString(got) > max(tc.n, 0) {
			t.Errorf("cutRunes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// Tried: filtered words in every case, inside other words, with apostrophes, next to
// punctuation and in other scripts. Survives: only whole words (and their
// possessives/contractions) are masked.
func TestWordFilter(t *testing.T) {
	f := newWordFilter([]string{"heck", " Darn ", "", "straße"})
	for _, tc := range []struct{ in, want string }{
		{"heck", Mask},
		{"HECK yes", Mask + " yes"},
		{"check hecking heckle", "check hecking heckle"},
		{"heck's heck’s", Mask + "'s " + Mask + "’s"},
		{"(darn)!darn?", "(" + Mask + ")!" + Mask + "?"},
		{"darned", "darned"},
		{"STRASSE straße Straße", "STRASSE " + Mask + " " + Mask},
		{"", ""},
	} {
		if got := f.apply(tc.in); got != tc.want {
			t.Errorf("apply(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := newWordFilter(nil).apply("heck"); got != "heck" {
		t.Errorf("empty filter changed text: %q", got)
	}
}

// Tried: compose with blank, huge and ordinary texts and an unversioned model.
// Survives: never empty, never over 2000 runes, footer always last.
func TestCompose(t *testing.T) {
	b, err := New(DefaultConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		g    Generated
		want string
	}{
		{Generated{Text: "hi", Model: "word", Version: "v2", Temperature: 0.25, Seed: 9}, "hi\n-# word v2 · temperature 0.25 · seed 9"},
		{Generated{Text: "", Model: "char", Temperature: 1, Seed: 0}, emptyText + "\n-# char untrained · temperature 1 · seed 0"},
		{Generated{Text: strings.Repeat("x", 5000), Model: "m", Version: "v", Temperature: 2, Seed: 1}, ""},
	} {
		got := b.conf().compose(tc.g)
		if tc.want != "" && got != tc.want {
			t.Errorf("compose(%+v) = %q, want %q", tc.g, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > MaxMessageRunes || n == 0 || !strings.HasSuffix(got, footer(tc.g)) {
			t.Errorf("compose(%.20q…): %d runes, footer last %v", tc.g.Text, n, strings.HasSuffix(got, footer(tc.g)))
		}
	}
}

// Tried: a user repeating within and after the cooldown, a channel filling its minute,
// and both limits off. Survives: the waits returned are exact and refused commands do
// not count against the window.
func TestLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(10*time.Second, 2)
	steps := []struct {
		user, ch string
		at       time.Duration
		wait     time.Duration
		which    string
	}{
		{"a", "c", 0, 0, ""},
		{"a", "c", 4 * time.Second, 6 * time.Second, "user"},
		{"b", "c", 5 * time.Second, 0, ""},
		{"c", "c", 6 * time.Second, 54 * time.Second, "channel"},
		{"c", "d", 7 * time.Second, 0, ""},
		{"d", "c", 60 * time.Second, 0, ""},
		{"a", "c", 61 * time.Second, 4 * time.Second, "channel"},
	}
	for _, s := range steps {
		wait, which := l.allow(s.user, s.ch, t0.Add(s.at))
		if wait != s.wait || which != s.which {
			t.Errorf("at %v %s in %s: wait %v %q, want %v %q", s.at, s.user, s.ch, wait, which, s.wait, s.which)
		}
	}
	off := newLimiter(0, 0)
	for range 100 {
		if wait, _ := off.allow("a", "c", t0); wait != 0 {
			t.Fatalf("limits off but refused")
		}
	}
}

func TestWaitText(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Millisecond, "1 second"}, {6500 * time.Millisecond, "7 seconds"}, {59 * time.Second, "59 seconds"},
		{60 * time.Second, "1 minute"}, {150 * time.Second, "3 minutes"},
	} {
		if got := waitText(tc.d); got != tc.want {
			t.Errorf("waitText(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// Tried: the defaults and each kind of broken config. Survives: defaults validate;
// each broken field is reported, wrapped in ErrConfig; New refuses them and a nil
// Generator.
func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"min zero", func(c *Config) { c.MinTemperature = 0 }, "temperature bounds"},
		{"max below min", func(c *Config) { c.MaxTemperature = 0.05 }, "temperature bounds"},
		{"default outside", func(c *Config) { c.Temperature = 3 }, "default temperature"},
		{"prompt too big", func(c *Config) { c.MaxPromptChars = 7000 }, "max prompt"},
		{"no length", func(c *Config) { c.MaxLength = 0 }, "max length"},
		{"negative cooldown", func(c *Config) { c.Cooldown = -time.Second }, "cooldown"},
		{"no concurrency", func(c *Config) { c.MaxConcurrent = 0 }, "max concurrent"},
		{"no timeout", func(c *Config) { c.GenerationTimeout = 0 }, "generation timeout"},
		{"negative retries", func(c *Config) { c.OriginalityRetries = -1 }, "originality"},
		{"bad shard", func(c *Config) { c.ShardCount, c.ShardID = 2, 2 }, "shard id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate = %v, want ErrConfig mentioning %q", err, tc.want)
			}
			if _, err := New(c, newFakeGen(), Options{}); !errors.Is(err, ErrConfig) {
				t.Errorf("New accepted it: %v", err)
			}
		})
	}
	if _, err := New(DefaultConfig(), nil, Options{}); !errors.Is(err, ErrConfig) {
		t.Errorf("New(nil Generator) = %v, want ErrConfig", err)
	}
}

// Tried: nil and non-command interactions, a command with nil options and neither
// Member nor User. Survives: no panic; only application commands are accepted.
func TestFromInteraction(t *testing.T) {
	if _, ok := fromInteraction(nil); ok {
		t.Error("nil interaction accepted")
	}
	if _, ok := fromInteraction(&discordgo.Interaction{Type: discordgo.InteractionMessageComponent,
		Data: discordgo.MessageComponentInteractionData{CustomID: "x"}}); ok {
		t.Error("component interaction accepted")
	}
	if _, ok := fromInteraction(&discordgo.Interaction{Type: discordgo.InteractionApplicationCommand}); ok {
		t.Error("command without data accepted")
	}
	inv, ok := fromInteraction(&discordgo.Interaction{Type: discordgo.InteractionApplicationCommand,
		Data: discordgo.ApplicationCommandInteractionData{Name: "comment", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			nil, {Name: "prompt"}, {Name: "model", Value: "word"}}}})
	if !ok || inv.command != "comment" || inv.inGuild || len(inv.options) != 1 || inv.options["model"] != "word" {
		t.Errorf("got %+v %v, want comment with only the model option, not in a guild", inv, ok)
	}
}

// FuzzParseConsoleLine: any line parses or fails with errConsoleSyntax, never panics,
// and a parsed command is non-empty lower case.
func FuzzParseConsoleLine(f *testing.F) {
	for _, s := range []string{`/comment model:char temperature:0.7 prompt:"i think"`, `/x a:"\"`, `/`, `/a b:"c\\"`, "/é ü:\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, opts, err := parseConsoleLine(line)
		if err != nil {
			if !errors.Is(err, errConsoleSyntax) {
				t.Fatalf("error %v is not errConsoleSyntax", err)
			}
			return
		}
		if cmd == "" || cmd != strings.ToLower(cmd) || opts == nil {
			t.Fatalf("parsed %q %v", cmd, opts)
		}
	})
}

// FuzzCompose: whatever the generator writes, the message fits Discord and keeps the
// footer.
func FuzzCompose(f *testing.F) {
	b, err := New(DefaultConfig(), newFakeGen(), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("hello @everyone", 0.8, uint64(1))
	f.Add(strings.Repeat("€", 3000), 2.0, uint64(1<<52))
	f.Fuzz(func(t *testing.T, text string, temp float64, seed uint64) {
		g := Generated{Text: text, Model: "word", Version: "v1", Temperature: temp, Seed: seed}
		got := b.conf().compose(g)
		if n := utf8.RuneCountInString(got); n > MaxMessageRunes || strings.TrimSpace(got) == "" {
			t.Fatalf("%d runes", n)
		}
		if !strings.HasSuffix(got, "\n"+footer(g)) {
			t.Fatalf("footer lost: %q", got)
		}
	})
}
