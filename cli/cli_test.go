package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"commentbot/config"
	"commentbot/text"
)

// run runs the CLI in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }}
	code := Main(context.Background(), args, env)
	return code, out.String(), errb.String()
}

const sampleCSV = "../../shared/data/reddit-comments-2015-08.sample.csv"

func TestEveryCommandAnswersHelp(t *testing.T) {
	for _, c := range commands() {
		args := append(strings.Fields(c.name), "--help")
		code, out, _ := run(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage: commentbot "+c.name) {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	code, out, _ := run(t, "", "help")
	for _, c := range commands() {
		if !strings.Contains(out, c.name) {
			t.Errorf("help does not list %q", c.name)
		}
	}
	if code != 0 {
		t.Errorf("help: exit %d", code)
	}
}

func TestUnknownCommandAndBadFlag(t *testing.T) {
	if code, _, errs := run(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errs)
	}
	if code, _, _ := run(t, "", "import", "--no-such-flag"); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "", "import"); code != 2 {
		t.Errorf("import without files: exit %d, want 2", code)
	}
}

func TestImportAndStats(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.ndjson")
	os.WriteFile(good, []byte(`{"name":"t1_a","subreddit":"cooking","author":"x","body":"Salt the water. It's worth it!","score":3,"created_utc":1700000000}
{"name":"t1_b","subreddit":"cooking","author":"AutoModerator","body":"Your post was removed.","score":1,"created_utc":1700000001}
{"name":"t1_c","subreddit":"cooking","author":"y","body":"I don't measure anything, honestly.","score":1,"created_utc":1700000002}
`), 0o644)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("body\n\"fine\n"), 0o644) // unterminated quote
	data := filepath.Join(dir, "data")

	code, out, errs := run(t, "", "import", "--data-dir", data, good)
	if code != 0 || !strings.Contains(out, "new 2") || !strings.Contains(out, "bot:1") {
		t.Fatalf("import: exit %d\nstdout %s\nstderr %s", code, out, errs)
	}
	code, out, _ = run(t, "", "import", "--data-dir", data, good)
	if code != 0 || !strings.Contains(out, "new 0") || !strings.Contains(out, "unchanged 2") {
		t.Errorf("re-import added something: exit %d, %s", code, out)
	}
	// A malformed file is refused with its line; the store keeps its 2 comments.
	code, _, errs = run(t, "", "import", "--data-dir", data, bad)
	if code != 1 || !strings.Contains(errs, "bad.csv:") {
		t.Errorf("bad file: exit %d, stderr %q", code, errs)
	}
	code, out, _ = run(t, "", "corpus", "stats", "--data-dir", data)
	if code != 0 || !regexpLine(out, "comments", "2") {
		t.Errorf("stats after refused import: exit %d\n%s", code, out)
	}
}

func TestStatsOnSeedSample(t *testing.T) {
	file, want := sampleCSV, "201"
	if _, err := os.Stat(sampleCSV); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("seed sample missing under CI=true: %v", err)
		}
		t.Logf("seed sample not available (%v): checking the embedded sample instead", err)
		file, want = "../corpus/sample/comments.ndjson", "546"
	}
	code, out, errs := run(t, "", "corpus", "stats", "--file", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, k := range []string{"comments", "sentences", "unique word tokens", "vocabulary size", "least frequent word", "characters", "char vocabulary size"} {
		if !strings.Contains(out, k) {
			t.Errorf("stats lack %q:\n%s", k, out)
		}
	}
	// The seed sample: 201 of 211 (9 carry a bot's footer, one is over
	// max_chars); the embedded one: 546 of 553.
	if !regexpLine(out, "comments", want) {
		t.Errorf("%s: want %s comments kept:\n%s", file, want, out)
	}
}

// regexpLine reports whether out has a line starting with key whose first number is want.
func regexpLine(out, key, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); strings.HasPrefix(l, key+" ") && len(f) > 1 && f[len(strings.Fields(key))] == want {
			return true
		}
	}
	return false
}

// TestCorpusTokens runs `corpus tokens` the way a user checks what the models
// learn from: a file and the store, both levels, -n, and bad arguments.
func TestCorpusTokens(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.ndjson")
	os.WriteFile(file, []byte(`{"name":"t1_a","author":"x","body":"Don't fear 'looking bad'. See https://example.com/x\n\nOk?!","created_utc":1700000000}
{"name":"t1_b","author":"AutoModerator","body":"Your post was removed.","created_utc":1700000001}
{"name":"t1_c","author":"y","body":"A back\\slash\tand tab.","created_utc":1700000002}
`), 0o644)

	code, out, errs := run(t, "", "corpus", "tokens", "--file", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "don't fear 'looking bad'.\tSENTENCE_START\tdo\tn't\tfear\t'looking\tbad\t'\t.\tSENTENCE_END\n" +
		`see <url>\n\nok?` + "\tSENTENCE_START\tsee\t<url>\tok\t?\tSENTENCE_END\n" +
		"!\tSENTENCE_START\t!\tSENTENCE_END\n" +
		`a back\\slash and tab.` + "\tSENTENCE_START\ta\tback\\\\slash\tand\ttab\t.\tSENTENCE_END\n"
	if out != want {
		t.Errorf("word level:\n got %q\nwant %q", out, want)
	}

	code, out, errs = run(t, "", "corpus", "tokens", "--file", file, "--level", "char", "-n", "1")
	want = `Don't fear 'looking bad'. See <url>\n\nOk?!` + "\tD\to\tn\t'\tt\t \tf\te\ta\tr\t \t'\tl\to\to\tk\ti\tn\tg\t \tb\ta\td\t'\t.\t \tS\te\te\t \t<\tu\tr\tl\t>\t\\n\t\\n\tO\tk\t?\t!\t\\x03\n"
	if code != 0 || out != want {
		t.Errorf("char level, -n 1: exit %d (%s)\n got %q\nwant %q", code, errs, out, want)
	}

	// From the store: what import kept (the bot's comment is not there).
	data := filepath.Join(dir, "data")
	if code, _, errs := run(t, "", "import", "--data-dir", data, file); code != 0 {
		t.Fatalf("import: %s", errs)
	}
	code, out, _ = run(t, "", "corpus", "tokens", "--data-dir", data)
	if code != 0 || strings.Count(out, "\n") != 4 || strings.Contains(out, "removed") {
		t.Errorf("store: exit %d, want the 4 sentences of the 2 kept comments:\n%s", code, out)
	}

	for _, args := range [][]string{{"--level", "byte"}, {"-n", "-1"}} {
		if code, _, errs := run(t, "", append([]string{"corpus", "tokens", "--file", file}, args...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage); stderr %q", args, code, errs)
		}
	}
	if code, _, errs := run(t, "", "corpus", "tokens", "--file", filepath.Join(dir, "missing.csv")); code != 1 || !strings.Contains(errs, "missing.csv") {
		t.Errorf("missing file: exit %d, stderr %q", code, errs)
	}
}

// TestDefaultConfigCleansAsCorpusDefaults: the config's default corpus section
// (and so commentbot.example.yaml) gives exactly text.DefaultCleanRules.
func TestDefaultConfigCleansAsCorpusDefaults(t *testing.T) {
	got, err := cleanRules(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	want := text.DefaultCleanRules()
	want.BotAccounts = []string{text.AutoModerator}
	str := func(res []*regexp.Regexp) []string {
		var out []string
		for _, re := range res {
			out = append(out, re.String())
		}
		return out
	}
	for _, pair := range [][2][]*regexp.Regexp{{got.BotNames, want.BotNames}, {got.BotNameExceptions, want.BotNameExceptions}, {got.BotFooters, want.BotFooters}} {
		if !slices.Equal(str(pair[0]), str(pair[1])) {
			t.Errorf("config default patterns %q, corpus defaults %q", str(pair[0]), str(pair[1]))
		}
	}
	got.BotNames, got.BotNameExceptions, got.BotFooters = nil, nil, nil
	want.BotNames, want.BotNameExceptions, want.BotFooters = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config defaults clean with %+v, corpus defaults are %+v", got, want)
	}
}
