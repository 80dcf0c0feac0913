package cli

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"commentbot/internal/fakereddit"
	"commentbot/internal/testweights"
)

// Issue 15, the way a newcomer meets it: a first start on an empty data
// directory, with shipped checkpoints of the configured shapes (built here,
// handed in through Env.Pretrained as the binary's embedded ones would be)
// and the real bot on the console. Tried: /comment the moment the console
// reads. Survives: it is answered within 10 s of the start by the shipped
// weights (v1, no first training), /models says where each live version came
// from, and /comment without a model picks one; the fine-tunes from v1 run in
// the background and are recorded with the share of fresh tokens they learned.
func TestFirstStartWithPretrainedModels(t *testing.T) {
	srv := fakereddit.New(t)
	srv.AddComments("cooking", fakereddit.Comment{ID: "fresh1", Author: "cook", Body: "Fresh from the fake Reddit, salt your pasta water.", Score: 2, Created: time.Unix(1_790_000_000, 0)})
	dir := t.TempDir()
	cfgPath := tinyConfig(t, dir, srv.BaseURL(), srv.TokenURL())
	c := common{configPath: cfgPath}
	cfg, err := c.load()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	word, _ := cfg.Model("word")
	char, _ := cfg.Model("char")
	weights, err := testweights.Build(ctx, 5, word, char)
	if err != nil {
		t.Fatal(err)
	}

	stdin, feed := io.Pipe()
	var out, errb lockedBuffer
	env := Env{Stdin: stdin, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Pretrained: weights}
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, common{configPath: cfgPath}, env, runOptions{trainSteps: 3, firstIngestTimeout: 10 * time.Second, waitReady: true})
	}()
	if _, err := io.WriteString(feed, "/comment model:char temperature:0.8\n"); err != nil {
		t.Fatalf("the console did not read: %v\n%s", err, errb.String())
	}
	for !strings.Contains(out.String(), "char v1 · temperature 0.8") {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no answer to the first /comment 10 s after the start:\nstdout %s\nstderr %s", out.String(), errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("first /comment answered %.2f s after the start", time.Since(start).Seconds())
	if _, err := io.WriteString(feed, "/models\n/comment\n"); err != nil {
		t.Fatal(err)
	}
	// Both fine-tunes from v1 end and say which share of the fresh tokens they learned.
	ran := regexp.MustCompile(`msg=run component=scheduler job=fine-tune model=(word|char) outcome=(promoted|rejected) .*learned \d+% of \d+ fresh tokens`)
	for len(ran.FindAllString(errb.String(), -1)) < 2 {
		if ctx.Err() != nil {
			t.Fatalf("the fine-tunes from v1 did not end:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := io.WriteString(feed, "/models\n"); err != nil {
		t.Fatal(err)
	}
	feed.Close()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, errb.String())
	}
	o, logs := out.String(), errb.String()
	for _, want := range []string{
		"**word** — word-lstm, enabled, version v1 (pretrained on the test sample (0 steps))",
		"**char** — char-lstm, enabled, version v1 (pretrained on the test sample (0 steps))",
	} {
		if !strings.Contains(o, want) {
			t.Errorf("/models lacks %q:\n%s", want, o)
		}
	}
	if !regexp.MustCompile(`\*\*char\*\* — char-lstm, enabled, version v\d+ \((pretrained on|fine-tuned on \d+ comments \(from v1\)).*; last fine-tune (promoted|rejected) .*, learned \d+% of [\d,]+ fresh tokens`).MatchString(o) {
		t.Errorf("/models after the fine-tunes does not show the last one and its fresh share:\n%s", o)
	}
	if n := len(regexp.MustCompile(`(word|char) v\d+ · temperature`).FindAllString(o, -1)); n != 2 {
		t.Errorf("%d comments answered, want 2 (one named, one default):\n%s", n, o)
	}
	if strings.Contains(logs, "training from scratch") || strings.Contains(logs, "job=bootstrap") {
		t.Errorf("a model was trained from scratch beside the shipped ones:\n%s", logs)
	}
	if !strings.Contains(logs, "installed the pretrained model") {
		t.Errorf("the log does not say the shipped models were installed:\n%s", logs)
	}

	// eval --pretrained measures the shipped checkpoints on the store's held-out comments.
	var ev, everr bytes.Buffer
	if code := Main(ctx, []string{"eval", "--config", cfgPath, "--pretrained"}, Env{Stdout: &ev, Stderr: &everr, Pretrained: weights}); code != 0 ||
		!regexp.MustCompile(`(?m)^char-lstm +char-lstm.ckpt +\d+\.\d+ .*pretrained on the test sample`).MatchString(ev.String()) ||
		!strings.Contains(ev.String(), "word-lstm.ckpt") {
		t.Errorf("eval --pretrained: exit %d\n%s\n%s", code, ev.String(), everr.String())
	}

	// commentbot models says the same of the versions on disk.
	code, m, _ := run(t, "", "models", "--config", cfgPath)
	if code != 0 || !strings.Contains(m, "pretrained on the test sample") {
		t.Errorf("commentbot models: exit %d\n%s", code, m)
	}
}
