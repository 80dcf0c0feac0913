package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	c2, err := Load("")
	if err != nil || !reflect.DeepEqual(c, c2) {
		t.Fatalf(`Load("") = %+v, %v; want Default()`, c2, err)
	}
}

// The documented example must say exactly what the defaults are: a reader who copies it
// gets the same bot as one with no file.
func TestExampleFileMatchesDefaults(t *testing.T) {
	got, err := Load("../commentbot.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("example file differs from Default():\n got  %+v\n want %+v", got, want)
	}
}

func TestParseOverlaysDefaults(t *testing.T) {
	c, err := Parse(strings.NewReader(`
data_dir: /var/lib/commentbot
models:
  - name: tiny
    kind: char-lstm
    hidden: [32]
bot:
  cooldown: 1m
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/commentbot" || c.Bot.Cooldown != time.Minute {
		t.Errorf("overlay lost: data_dir=%q cooldown=%v", c.DataDir, c.Bot.Cooldown)
	}
	if c.Bot.MaxTemperature != 2 || c.Reddit.MaxPerRun != 1000 {
		t.Errorf("defaults lost: %+v", c.Bot)
	}
	m, ok := c.Model("tiny")
	if !ok || len(c.Models) != 1 {
		t.Fatalf("models = %+v", c.Models)
	}
	want := DefaultModel("tiny", KindCharLSTM)
	want.Hidden = []int{32}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("model = %+v, want %+v", m, want)
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // every problem must be named
	}{
		{"wrong type", "bot:\n  cooldown: soon\n", []string{"line 2", "soon", "time.Duration"}},
		{"unknown key", "colour: blue\n", []string{"line 1", "colour"}},
		{"secret in file", "discord_token: abc\n", []string{"discord_token"}},
		{"unknown model key", "models:\n  - name: a\n    layers: 3\n", []string{"line 3", "layers"}},
		{"negative sizes, all reported", `
models:
  - name: a
    kind: word-lstm
    hidden: [-4, 0]
    embed: -1
    streams: 0
bot:
  max_concurrent: -2
`, []string{"models[0].hidden[0]", "models[0].hidden[1]", "models[0].embed", "models[0].streams", "bot.max_concurrent"}},
		{"bad kind and name", "models:\n  - name: Big Model\n    kind: transformer\n", []string{"models[0].name", "models[0].kind"}},
		{"training plan", "models:\n  - name: a\n    lr_schedule: linear\n    patience_share: 1.5\n    lr_reductions: -1\n",
			[]string{"models[0].lr_schedule", `"linear"`, "models[0].patience_share", "models[0].lr_reductions"}},
		{"duplicate names", "models:\n  - name: a\n  - name: a\n", []string{`"a" is used twice`}},
		{"bad cron and post", `
schedule:
  ingest: "every now and then"
  posts:
    - channel: ""
      cron: "* * *"
      model: nosuch
      temperature: 9
`, []string{"schedule.ingest", "posts[0].channel", "posts[0].cron", "posts[0].model", "posts[0].temperature"}},
		{"temperatures", "bot:\n  temperature: 5\n  min_temperature: 0\n", []string{"bot.temperature", "bot.min_temperature"}},
		{"batch caps", "bot:\n  max_batch: 0\n  max_queued: -1\n", []string{"bot.max_batch", "got 0", "bot.max_queued", "got -1"}},
		{"batch too large", "bot:\n  max_batch: 5000\n", []string{"bot.max_batch", "1…1024", "got 5000"}},
		{"subreddit", "reddit:\n  subreddits: [\"r/golang\", \"a+\"]\n", []string{"subreddits[0]", "subreddits[1]"}},
		{"bot patterns", "corpus:\n  bot_names: ['(?i)bot$', '(unclosed']\n  bot_name_exceptions: ['']\n  bot_footers: ['[z-a]']\n",
			[]string{"corpus.bot_names[1]", "missing closing )", "corpus.bot_name_exceptions[0]: empty pattern", "corpus.bot_footers[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.yaml))
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %v, want ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	env := map[string]string{"DISCORD_TOKEN": "tok-SECRET", "REDDIT_PASSWORD": "pw-SECRET"}
	s := SecretsFromEnv(func(k string) string { return env[k] })
	if s.DiscordToken != "tok-SECRET" || s.RedditPassword != "pw-SECRET" {
		t.Fatalf("SecretsFromEnv = %#v", s)
	}
	var log strings.Builder
	slog.New(slog.NewJSONHandler(&log, nil)).Info("start", "secrets", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s), log.String()} {
		if strings.Contains(out, "SECRET") {
			t.Errorf("secret value printed: %s", out)
		}
		if !strings.Contains(out, "discord_token=set") || !strings.Contains(out, "discord_app_id=unset") {
			t.Errorf("output does not say which secrets are set: %s", out)
		}
	}
}

func TestWatchAppliesGoodAndRefusesBad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "commentbot.yaml")
	write := func(s string) {
		t.Helper()
		// Write then rename, as editors do.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("log_level: info\n")
	applied := make(chan Config, 4)
	refused := make(chan error, 4)
	hup := make(chan os.Signal, 1)
	w := &Watcher{Path: path, Reload: hup, Debounce: 20 * time.Millisecond,
		Apply: func(c Config) { applied <- c }, OnError: func(err error) { refused <- err }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Watch(ctx) }()
	time.Sleep(50 * time.Millisecond) // let the watcher start

	write("log_level: debug\n")
	select {
	case c := <-applied:
		if c.LogLevel != "debug" {
			t.Errorf("applied log_level %q, want debug", c.LogLevel)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a valid edit was not applied")
	}

	write("log_level: loud\nbot:\n  max_concurrent: 0\n")
	select {
	case err := <-refused:
		for _, want := range []string{"log_level", "bot.max_concurrent", "keeping the running config"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q does not say %q", err, want)
			}
		}
	case c := <-applied:
		t.Fatalf("a broken file was applied: %+v", c)
	case <-time.After(5 * time.Second):
		t.Fatal("a broken edit was not reported")
	}

	write("log_level: warn\n")
	hup <- os.Interrupt // stands for SIGHUP: any value triggers a reload
	select {
	case c := <-applied:
		if c.LogLevel != "warn" {
			t.Errorf("applied log_level %q, want warn", c.LogLevel)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reload after fixing the file did not apply")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Tried: Diff of a config against itself, against one with bot, schedule and model
// values changed, a model removed, another added and the models reordered. Survives:
// exactly the changed keys, in file order, named as in the file, with both values.
func TestDiff(t *testing.T) {
	a := Default()
	if d := Diff(a, a); len(d) != 0 {
		t.Fatalf("Diff(a, a) = %v", d)
	}
	b := Default()
	b.Bot.MaxTemperature = 1.5
	b.Bot.Cooldown = 0
	b.Bot.WordFilter = []string{"heck"}
	b.Models = Models{b.Models[1], b.Models[0], DefaultModel("tiny", KindCharLSTM)} // char, word; rnn removed
	b.Models[1].Hidden = []int{64}
	var got []string
	for _, c := range Diff(a, b) {
		got = append(got, c.String())
	}
	want := []string{
		"models[word].hidden: [256] → [64]",
		"models[rnn]: rnn → (absent)",
		"models[tiny]: (absent) → char-lstm",
		"bot.max_temperature: 2 → 1.5",
		"bot.cooldown: 10s → 0s",
		"bot.word_filter: [fuck fucking fucked fucker motherfucker shit shitty bullsh… → [heck]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A fleet's keys: the role must be one `run` knows, and store.url a PostgreSQL URL
// without a password — a password in the file is refused, and the error never repeats it.
func TestRoleAndStoreURL(t *testing.T) {
	ok := []string{
		"role: serve\nstore:\n  url: postgres://bot@db.example.org:5432/commentbot?sslmode=require\n",
		"role: train\nstore:\n  url: postgresql://db:5432/cb\n",
		"role: all\n",
	}
	for _, y := range ok {
		if _, err := Parse(strings.NewReader(y)); err != nil {
			t.Errorf("Parse(%q) = %v, want it accepted", y, err)
		}
	}
	for _, tc := range []struct{ yaml, want string }{
		{"role: replica\n", `role: "replica" is not one of all, serve, train`},
		{"store:\n  url: mysql://db/cb\n", "store.url"},
		{"store:\n  url: postgres:///cb\n", "no host"},
		{"store:\n  url: postgres://bot:hunter2@db/cb\n", "PGPASSWORD"},
	} {
		_, err := Parse(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error naming %q", tc.yaml, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	for _, r := range Roles() {
		if !ValidRole(r) {
			t.Errorf("ValidRole(%q) = false for a listed role", r)
		}
	}
}
