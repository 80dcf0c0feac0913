package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// Tried: well-formed lines with quotes, escapes and Unicode, and malformed ones.
// Survives: options come back exactly; every malformed line is an errConsoleSyntax.
func TestParseConsoleLine(t *testing.T) {
	for _, tc := range []struct {
		line    string
		cmd     string
		opts    map[string]any
		wantErr bool
	}{
		{line: `/comment model:char temperature:0.7 prompt:"i think"`, cmd: "comment",
			opts: map[string]any{"model": "char", "temperature": "0.7", "prompt": "i think"}},
		{line: `/Comment   prompt:"say \"hi\" \\ ok"  length:5`, cmd: "comment",
			opts: map[string]any{"prompt": `say "hi" \ ok`, "length": "5"}},
		{line: `/comment prompt:"été à Zürich"`, cmd: "comment", opts: map[string]any{"prompt": "été à Zürich"}},
		{line: `/comment prompt:""`, cmd: "comment", opts: map[string]any{"prompt": ""}},
		{line: `/models`, cmd: "models", opts: map[string]any{}},
		{line: `/retrain model:word`, cmd: "retrain", opts: map[string]any{"model": "word"}},
		{line: `comment model:word`, wantErr: true},
		{line: `/`, wantErr: true},
		{line: `/comment model`, wantErr: true},
		{line: `/comment :word`, wantErr: true},
		{line: `/comment prompt:"unterminated`, wantErr: true},
		{line: `/comment prompt:"a"b`, wantErr: true},
		{line: `/comment model:a model:b`, wantErr: true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			cmd, opts, err := parseConsoleLine(tc.line)
			if tc.wantErr {
				if !errors.Is(err, errConsoleSyntax) {
					t.Errorf("err = %v, want errConsoleSyntax", err)
				}
				return
			}
			if err != nil || cmd != tc.cmd || !maps.Equal(opts, tc.opts) {
				t.Errorf("got %q %v %v, want %q %v", cmd, opts, err, tc.cmd, tc.opts)
			}
		})
	}
}

// Tried: a scripted session on stdin: help, a comment, bad syntax, a bad temperature,
// a listing, a retrain, a blank line and a comment line, then EOF. Survives: each
// answer appears on stdout in order, the comment is the generator's text for the
// first seed with its footer, errors are plain, and the session ends cleanly at EOF.
func TestConsoleSession(t *testing.T) {
	gen := newFakeGen()
	b, err := New(DefaultConfig(), gen, Options{Seeds: rand.NewPCG(1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		`/help`,
		`/comment model:char temperature:0.7 prompt:"i think"`,
		`comment please`,
		`/comment temperature:warm`,
		``,
		`# a comment line`,
		`/models`,
		`/retrain model:word`,
		`/comment`,
	}, "\n")
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.ServeConsole(ctx, strings.NewReader(script), &out); err != nil {
		t.Fatalf("ServeConsole: %v", err)
	}
	seeds := seedsFrom(1, 2, 2)
	want := strings.Join([]string{
		consoleHelp,
		fakeText(GenerateRequest{Model: "char", Temperature: 0.7, Prompt: "i think", Seed: seeds[0]}),
		fmt.Sprintf("-# char v1 · temperature 0.7 · seed %d", seeds[0]),
		"error: bot: console syntax: commands start with / (try /help)",
		"The temperature option must be a number, like 0.8.",
		"**word** — word-lstm, enabled, version v3, trained 2026-11-26 12:00 UTC, held-out loss 4.250, corpus 15000 comments",
		"**char** — char-lstm, enabled, version v1, held-out loss 1.500, corpus 15000 comments",
		"**rnn** — rnn, disabled, version not trained yet",
		"",
		"[attachment word-loss.png, 17 bytes]",
		"Fine-tuning **word** now; I'll report here when it ends.",
		"Fine-tune of **word** finished: version v4 promoted, held-out loss 4.10 → 4.02",
		fakeText(GenerateRequest{Model: "word", Temperature: 0.8, Seed: seeds[1]}),
		fmt.Sprintf("-# word v3 · temperature 0.8 · seed %d", seeds[1]),
	}, "\n") + "\n"
	if got := out.String(); got != want {
		t.Errorf("console output:\n%s\nwant:\n%s", got, want)
	}
}

// Tried: cancelling the context while the console waits for input. Survives:
// ServeConsole returns the context's error instead of hanging on stdin.
func TestConsoleCancel(t *testing.T) {
	b, err := New(DefaultConfig(), newFakeGen(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.ServeConsole(ctx, r, io.Discard) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeConsole did not return after cancel")
	}
}

// ExampleBot_ServeConsole shows a console session: what `go run .` serves when no
// Discord token is set.
func ExampleBot_ServeConsole() {
	gen := newFakeGen()
	b, err := New(DefaultConfig(), gen, Options{Seeds: rand.NewPCG(1, 2)})
	if err != nil {
		fmt.Println(err)
		return
	}
	in := strings.NewReader(`/comment model:word temperature:0.5 prompt:"i think" length:4
/comment model:rnn
/comment temperature:3
`)
	if err := b.ServeConsole(context.Background(), in, os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// word: i think best comment this comment
	// -# word v3 · temperature 0.5 · seed 6929898338442718
	// The model "rnn" is switched off right now. Enabled: word, char.
	// Temperature 3 is out of range: use a number from 0.1 to 2.
}

// Issue 12: when the generator marks a default model (the best by bits per
// character, or the configured one), /comment without a model uses it rather
// than the first enabled one, and /models says where each version came from,
// its bits per character, its last fine-tune and which model is the default.
// A default that is disabled is passed over for the first enabled model.
func TestConsoleDefaultModelAndOrigin(t *testing.T) {
	gen := newFakeGen()
	gen.models[0].Origin = "pretrained on fortunes and the project's own threads (9000 steps)"
	gen.models[0].BitsPerChar, gen.models[0].ScoredOn = 2.41, 120
	gen.models[1].Origin, gen.models[1].LastFineTune = "fine-tuned on 491 comments (from v1)", "promoted 2026-12-03 10:00, learned 100% of 12,345 fresh tokens"
	gen.models[1].BitsPerChar, gen.models[1].ScoredOn = 2.02, 120
	gen.models[1].Default, gen.models[1].DefaultWhy = true, "lowest held-out bits per character"
	b, err := New(DefaultConfig(), gen, Options{Seeds: rand.NewPCG(1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.ServeConsole(ctx, strings.NewReader("/comment\n/models\n"), &out); err != nil {
		t.Fatal(err)
	}
	seeds := seedsFrom(1, 2, 1)
	for _, want := range []string{
		fmt.Sprintf("-# char v1 · temperature 0.8 · seed %d", seeds[0]),
		"**word** — word-lstm, enabled, version v3 (pretrained on fortunes and the project's own threads (9000 steps)), trained 2026-11-26 12:00 UTC, 2.410 bits/char on 120 held-out comments",
		"**char** — char-lstm, enabled, version v1 (fine-tuned on 491 comments (from v1)), 2.020 bits/char on 120 held-out comments, held-out loss 1.500, corpus 15000 comments; last fine-tune promoted 2026-12-03 10:00, learned 100% of 12,345 fresh tokens — **default** for /comment (lowest held-out bits per character)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("console output lacks %q:\n%s", want, out.String())
		}
	}

	gen.setEnabled("char", false)
	out.Reset()
	if err := b.ServeConsole(ctx, strings.NewReader("/comment\n"), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "-# word v3 ·") {
		t.Errorf("with the default disabled, /comment did not fall back to the first enabled model:\n%s", out.String())
	}
}
