package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"commentbot/internal/fakereddit"
)

// tinyModels are models small enough that a first start trains in seconds.
const tinyModels = `  - name: word
    kind: word-lstm
    vocab_size: 300
    embed: 8
    hidden: [16]
    streams: 4
    steps: 8
  - name: char
    kind: char-lstm
    hidden: [16, 16]
    streams: 4
    steps: 16
    max_tokens: 80
  - name: rnn
    kind: rnn
    enabled: false
    vocab_size: 300
    embed: 8
    hidden: [8]
`

// tinyConfig writes a config with tinyModels.
func tinyConfig(t *testing.T, dir, redditBase, tokenURL string) string {
	t.Helper()
	return writeConfig(t, dir, redditBase, tokenURL, tinyModels)
}

// writeConfig writes the tests' config: data under dir, no metrics endpoint, Reddit at
// redditBase, no cooldown, and the given models section.
func writeConfig(t *testing.T, dir, redditBase, tokenURL, models string) string {
	t.Helper()
	path := filepath.Join(dir, "commentbot.yaml")
	y := fmt.Sprintf(`data_dir: %s
metrics:
  listen: ""
reddit:
  subreddits: [cooking]
  base_url: %q
  token_url: %q
  timeout: 1s
bot:
  cooldown: 0s
models:
%s`, filepath.Join(dir, "data"), redditBase, tokenURL, models)
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The first start end to end, with the console transport: an empty data directory, the
// embedded sample loaded, Reddit tried (here a fake that answers), both models trained,
// then a scripted console session — good commands answered, bad ones refused in plain
// words — ending at EOF.
func TestFirstStartConsole(t *testing.T) {
	srv := fakereddit.New(t)
	srv.AddComments("cooking", fakereddit.Comment{ID: "fresh1", Author: "cook", Body: "Fresh from the fake Reddit, salt your pasta water.", Score: 2, Created: time.Unix(1_790_000_000, 0)})
	dir := t.TempDir()
	cfg := tinyConfig(t, dir, srv.BaseURL(), srv.TokenURL())

	script := strings.Join([]string{
		"/models",
		`/comment model:char temperature:0.7 prompt:"i think"`,
		"/comment model:word temperature:0.5",
		"/comment model:word temperature:7",
		"/comment model:nosuch",
		"/comment temperature:hot",
	}, "\n") + "\n"
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(script), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := serve(ctx, common{configPath: cfg}, env, runOptions{trainSteps: 3, firstIngestTimeout: 10 * time.Second, waitReady: true})
	if err != nil {
		t.Fatalf("serve: %v\nstderr:\n%s", err, errb.String())
	}
	o := out.String()
	for _, want := range []string{
		"**word** — word-lstm", "**char** — char-lstm", "version v1", // /models
		"char v1 · temperature 0.7 · seed", "word v1 · temperature 0.5 · seed", // the two comments' footers
		"Temperature 7 is out of range", `no model called "nosuch"`, "temperature option must be a number",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("console output lacks %q:\n%s", want, o)
		}
	}
	if !strings.Contains(errb.String(), "loaded the embedded sample corpus") {
		t.Errorf("first start did not say it loaded the sample:\n%s", errb.String())
	}
	for _, f := range []string{"corpus.db", "models/word/live", "models/char/live", "models/word/loss.png"} {
		if _, err := os.Stat(filepath.Join(dir, "data", f)); err != nil {
			t.Errorf("after the first start: %v", err)
		}
	}
	// The fake Reddit's comment reached the store.
	code, stats, _ := run(t, "", "corpus", "stats", "--config", cfg)
	if code != 0 || !regexpLine(stats, "comments", "547") {
		t.Errorf("store after first start (546 sample comments + 1 fetched):\n%s", stats)
	}

	// A second start finds the checkpoints: nothing is trained again.
	out.Reset()
	errb.Reset()
	env.Stdin = strings.NewReader("/comment model:word\n")
	if err := serve(ctx, common{configPath: cfg}, env, runOptions{trainSteps: 3, waitReady: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(errb.String(), "training from scratch") || !strings.Contains(out.String(), "word v1") {
		t.Errorf("second start retrained or did not serve v1:\nstdout %s\nstderr %s", out.String(), errb.String())
	}
}

// With Reddit unreachable the bot says so and serves offline.
func TestFirstStartOffline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there now: connections are refused
	dir := t.TempDir()
	cfg := tinyConfig(t, dir, dead, dead+"api/v1/access_token")
	var out, errb bytes.Buffer
	// The console waits until the models are ready, then reads one command.
	env := Env{Stdin: strings.NewReader("/comment model:char\n"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := serve(ctx, common{configPath: cfg}, env, runOptions{trainSteps: 2, firstIngestTimeout: 30 * time.Second, waitReady: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "char v1") {
		t.Errorf("offline start did not serve:\n%s\n%s", out.String(), errb.String())
	}
}

// The model commands over what a first start left: models lists v1 as live, generate is
// reproducible from its seed, eval prints the model beside the baselines, rollback
// refuses when there is nothing older and names why, and bad input is refused.
func TestModelCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(t, dir, "http://127.0.0.1:1/", "http://127.0.0.1:1/token")
	env := Env{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := serve(ctx, common{configPath: cfg}, env, runOptions{trainSteps: 2, waitReady: true}); err != nil {
		t.Fatal(err)
	}

	code, out, errs := run(t, "", "models", "--config", cfg)
	if code != 0 || strings.Count(out, "v1 (live)") != 2 || !strings.Contains(out, "rnn   rnn, disabled") || !strings.Contains(out, "no versions yet") {
		t.Errorf("models: exit %d\n%s\n%s", code, out, errs)
	}
	_, a, _ := run(t, "", "generate", "--config", cfg, "--model", "char", "--seed", "7", "-n", "2", "--temperature", "0.9")
	_, b, _ := run(t, "", "generate", "--config", cfg, "--model", "char", "--seed", "8", "--temperature", "0.9")
	second := strings.SplitN(a, "\n\n", 2)[1]
	if !strings.Contains(a, "seed 7") || strings.TrimSpace(second) != strings.TrimSpace(b) {
		t.Errorf("generate --seed 8 does not reproduce the second of -n 2 --seed 7:\n%q\n%q", second, b)
	}
	code, out, _ = run(t, "", "eval", "--config", cfg, "--model", "word")
	for _, want := range []string{"nats/word, perplexity", "unigram", "uniform"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("eval: exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	code, out, _ = run(t, "", "eval", "--config", cfg, "--model", "char")
	if code != 0 || !strings.Contains(out, "bits/char") {
		t.Errorf("eval char: exit %d\n%s", code, out)
	}
	// Without --model: every enabled model on the same comments, best first, in
	// bits per character (the disabled rnn is not measured).
	code, out, _ = run(t, "", "eval", "--config", cfg)
	rows := regexp.MustCompile(`(?m)^(word|char|rnn) +v1 +(\d+\.\d+) `).FindAllStringSubmatch(out, -1)
	if code != 0 || len(rows) != 2 || rows[0][2] > rows[1][2] || !strings.Contains(out, "best first") {
		t.Errorf("eval of every model: exit %d, rows %q\n%s", code, rows, out)
	}
	if code, _, errs := run(t, "", "rollback", "--config", cfg, "--model", "word"); code != 1 || !strings.Contains(errs, "no version older than v1") {
		t.Errorf("rollback with one version: exit %d, stderr %q", code, errs)
	}
	code, out, errs = run(t, "", "train", "--config", cfg, "--model", "word", "--steps", "2")
	if code != 0 || !strings.Contains(out, "word v2 is live (continued v1)") {
		t.Errorf("train: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "", "train", "--config", cfg, "--model", "word", "--steps", "2", "--full", "--data", "../corpus/sample/comments.ndjson")
	if code != 0 || !strings.Contains(out, "word v3 is live (new lineage)") {
		t.Errorf("train --full --data: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = run(t, "", "rollback", "--config", cfg, "--model", "word")
	if code != 0 || !strings.Contains(out, "word: v2 is live (was v3)") {
		t.Errorf("rollback: exit %d\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--model", "word", "--minutes", "-1"}, 2, ""},
		{[]string{"train", "--model", "word", "--steps", "1", "--data", "nosuch.csv"}, 1, "nosuch.csv"},
		{[]string{"rollback", "--model", "nosuch"}, 1, `no model "nosuch"`},
		{[]string{"generate", "--model", "word", "--temperature", "0"}, 1, "invalid temperature"},
		{[]string{"generate", "--model", "word", "--temperature", "NaN"}, 1, "invalid temperature"},
		{[]string{"generate", "--model", "word", "--temperature", "50"}, 1, "invalid temperature"},
		{[]string{"generate", "--model", "rnn"}, 1, "no trained version"},
		{[]string{"generate"}, 2, ""},
		{[]string{"generate", "--model", "word", "-n", "0"}, 2, ""},
		{[]string{"eval", "--version", "x"}, 2, ""},
		{[]string{"eval", "--model", "nosuch"}, 1, "nosuch has no trained version"},
	} {
		code, _, errs := run(t, "", append(tc.args, "--config", cfg)...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errs, tc.want)
		}
	}
}

// Issue 12: a model trained with `train --data FILE` on an empty store, then `eval --data
// FILE`, printed its own figure and failed on the unigram baseline ("source too small for
// one batch"): the baseline was counted on the store's empty training split. Now both
// come from the file, split by id hash as `train --data` split it. A file with no
// held-out part is refused in plain words, and the trained version survives.
func TestEvalDataEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfg := tinyConfig(t, dir, "http://127.0.0.1:1/", "http://127.0.0.1:1/token")
	const data = "../corpus/sample/comments.ndjson"
	if code, out, errs := run(t, "", "train", "--config", cfg, "--model", "char", "--full", "--steps", "3", "--data", data); code != 0 {
		t.Fatalf("train --data: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs := run(t, "", "eval", "--config", cfg, "--model", "char", "--data", data)
	if code != 0 {
		t.Fatalf("eval --data: exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"char v1 (char-lstm) on the held-out part of " + data, "model ", "bits/char",
		"unigram ", "(counted on the rest of " + data + ")", "uniform "} {
		if !strings.Contains(out, want) {
			t.Errorf("eval --data output lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`unigram +\d+\.\d+ nats/char`).MatchString(out) {
		t.Errorf("no unigram figure:\n%s", out)
	}

	// One comment, in the training part: nothing to evaluate on, said as much.
	one := filepath.Join(dir, "one.ndjson")
	os.WriteFile(one, []byte(`{"id":"a1","body":"just one comment here, nothing held out"}`+"\n"), 0o644)
	code, _, errs = run(t, "", "eval", "--config", cfg, "--model", "char", "--data", one)
	if code != 1 || !strings.Contains(errs, "no held-out tokens in the held-out part of "+one) {
		t.Errorf("eval of a file without held-out comments: exit %d, stderr %q", code, errs)
	}
	code, _, errs = run(t, "", "eval", "--config", cfg, "--model", "char", "--data", filepath.Join(dir, "nosuch.csv"))
	if code != 1 || !strings.Contains(errs, "nosuch.csv") {
		t.Errorf("eval of a missing file: exit %d, stderr %q", code, errs)
	}
	if code, out, _ := run(t, "", "models", "--config", cfg); code != 0 || !strings.Contains(out, "v1 (live)") {
		t.Errorf("after the refused evals the trained version is gone:\n%s", out)
	}
}
