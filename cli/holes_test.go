package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
)

// Tried, on the real binary serving the console with --data-dir overriding the file:
// a comment at temperature 1.5; then the file edited so that bot.max_temperature is
// 1.0, max_prompt_chars 5, the word filter masks "the", the log level is debug, and
// bot.http_listen is set; then a SIGHUP with the file unchanged. Survives: the reload
// log names each change with old and new value; http_listen is named as needing a
// restart, data_dir never is; temperature 1.5 and a long prompt are then refused, a
// comment comes back with "the" masked; the unchanged SIGHUP says nothing changed.
func TestBinaryReloadAppliesBotSection(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	elsewhere := filepath.Join(dir, "data")
	rewriteConfig(t, cfg, "data_dir: "+elsewhere, "data_dir: "+filepath.Join(dir, "not-used"))
	p := consoleUp(t, cfg, "--data-dir", elsewhere)
	p.answer("/comment model:word temperature:1.5", "word v1 · temperature 1.5", 30*time.Second)

	rewriteConfig(t, cfg, "bot:\n", "log_level: debug\nbot:\n  max_temperature: 1.0\n  max_prompt_chars: 5\n  word_filter: [the]\n  http_listen: 127.0.0.1:0\n")
	p.waitErr("config reloaded", 20*time.Second)
	reload := p.logLines("config reloaded")
	for _, want := range []string{"bot.max_temperature: 2 → 1", "bot.max_prompt_chars: 200 → 5", "bot.word_filter: [fuck", "log_level: \\\"info\\\" → \\\"debug\\\""} {
		if !strings.Contains(reload, want) {
			t.Errorf("reload log lacks %q:\n%s", want, reload)
		}
	}
	p.waitErr("do not apply now", 10*time.Second) // logged just after the applied changes
	if later := p.logLines("do not apply now"); !strings.Contains(later, "bot.http_listen") {
		t.Errorf("the restart-only change is not named:\n%s", p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "data_dir") && strings.Contains(p.logLines("WARN"), "data_dir") {
		t.Errorf("a reload warned about data_dir although --data-dir overrides it:\n%s", p.logLines("WARN"))
	}
	if out := p.answer("/comment model:word temperature:1.5", "\n", 10*time.Second); !strings.Contains(out, "Temperature 1.5 is out of range: use a number from 0.1 to 1") {
		t.Errorf("temperature 1.5 after max_temperature 1.0: %q", out)
	}
	if out := p.answer(`/comment prompt:"abcdefgh"`, "\n", 10*time.Second); !strings.Contains(out, "the limit is 5") {
		t.Errorf("8-character prompt after max_prompt_chars 5: %q", out)
	}
	for range 5 { // "the" is frequent in the sample; a few comments show the mask
		if out := p.answer("/comment model:word temperature:1", "-# word", 30*time.Second); strings.Contains(out, "[expletive]") {
			break
		} else if strings.Contains(strings.ToLower(out), " the ") {
			t.Fatalf("\"the\" not masked after the reload: %q", out)
		}
	}
	if !strings.Contains(p.stderr.String(), "level=DEBUG") {
		t.Errorf("log_level debug not applied: no debug line after the reload")
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP) // the file as it is: only the pending restart is repeated
	p.waitFor("a second restart warning", 10*time.Second, func() bool { return p.count("do not apply now") == 2 })
	if n := p.count(`msg="config reloaded"`); n != 1 {
		t.Errorf("%d reloads applied something, want 1", n)
	}
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}

// Tried, on the real binary: the char model configured with max_temperature 0.5 over
// a checkpoint trained under the default 2.0; /comment at 1.5 and at 0.4, and
// `generate` at 1.5. Survives: 1.5 is refused on the console and by generate, 0.4
// gets a comment.
func TestBinaryModelMaxTemperature(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	rewriteConfig(t, cfg, "    max_tokens: 80\n", "    max_tokens: 80\n    max_temperature: 0.5\n")
	p := consoleUp(t, cfg)
	if out := p.answer("/comment model:char temperature:1.5", "\n", 30*time.Second); !strings.Contains(out, "invalid temperature: 1.5 (want 0 < T ≤ 0.5") {
		t.Errorf("char at 1.5 with its max_temperature 0.5: %q", out)
	}
	p.answer("/comment model:char temperature:0.4", "char v1 · temperature 0.4", 30*time.Second)
	p.stop(30 * time.Second)
	g := startBinary(t, nil, "generate", "--config", cfg, "--model", "char", "--temperature", "1.5")
	if code := g.exit(30 * time.Second); code != 1 || !strings.Contains(g.stderr.String(), "≤ 0.5") {
		t.Errorf("generate at 1.5: exit %d, stderr %q", code, g.stderr.String())
	}
}

// truncateCheckpoints cuts every checkpoint of model in half.
func truncateCheckpoints(t *testing.T, dir, model string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "data", "models", model, "v*.ckpt"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return len(files)
}

// Tried, on the real binary: every checkpoint of the char model truncated, then a
// console start (waiting for the models, as by default) with /comment for each model
// and /models. Survives: the console starts, the word model answers from its v1, the
// char lineage is moved aside whole (named in the log and in /models) and a new char
// v1 trains and answers.
func TestBinaryDamagedLineageRecovers(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	if n := truncateCheckpoints(t, dir, "char"); n == 0 {
		t.Fatal("no char checkpoints to damage")
	}
	p := consoleUp(t, cfg)
	p.answer("/comment model:word", "word v1 ·", 30*time.Second)
	p.answer("/comment model:char", "char v1 ·", 30*time.Second)
	out := p.answer("/models", "**rnn**", 30*time.Second)
	asides, _ := filepath.Glob(filepath.Join(dir, "data", "models", "char.set-aside-*"))
	if len(asides) != 1 {
		t.Fatalf("set-aside directories: %v", asides)
	}
	name := filepath.Base(asides[0])
	if !strings.Contains(out, name) || !strings.Contains(p.logLines("set aside"), name) {
		t.Errorf("/models or the log do not name %s:\n%s\n%s", name, out, p.logLines("set aside"))
	}
	if kept, _ := filepath.Glob(filepath.Join(asides[0], "v*.ckpt")); len(kept) == 0 {
		t.Errorf("the set-aside lineage lost its checkpoints")
	}
	if code := p.stop(30 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// Tried: `commentbot train --model char` (not --full) over a char model whose every
// checkpoint is truncated. Survives: it sets the lineage aside, trains a new one and
// says so, exit 0.
func TestBinaryTrainOverDamagedLineage(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	truncateCheckpoints(t, dir, "char")
	p := startBinary(t, nil, "train", "--config", cfg, "--model", "char", "--steps", "2")
	if code := p.exit(60 * time.Second); code != 0 || !strings.Contains(p.stdout.String(), "char v1 is live (new lineage)") ||
		!strings.Contains(p.stderr.String(), "set aside") {
		t.Errorf("train over a damaged lineage: exit %d\n%s", code, p.stdout.String())
	}
}

// Tried, on the real binary: the word model's checkpoint copied into the char model's
// directory as v2, with char's live file naming it; a start on the console, /comment
// and /models; `generate --version 2` and `rollback --to 2`; then, while it serves,
// the live file pointed at v2 again and 12 s of the 5-second live-file sync.
// Survives: the char model serves its own v1 as char, the log names the refusal (kind
// and level), the commands refuse v2 with that reason, and the running bot warns
// about the live file once, not at every sync.
func TestBinaryForeignCheckpointRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	models := filepath.Join(dir, "data", "models")
	b, err := os.ReadFile(filepath.Join(models, "word", "v000001.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(models, "char", "v000002.ckpt"), b, 0o644))
	must(t, os.WriteFile(filepath.Join(models, "char", "live"), []byte("2\n"), 0o644))
	p := consoleUp(t, cfg)
	p.answer("/comment model:char", "char v1 ·", 30*time.Second)
	if out := p.answer("/models", "**rnn**", 10*time.Second); !strings.Contains(out, "**char** — char-lstm, enabled, version v1") {
		t.Errorf("/models: %s", out)
	}
	const why = "it is a word-lstm checkpoint and the config says char-lstm; its vocabulary is word-level and char-lstm needs char-level"
	if !strings.Contains(p.stderr.String(), why) {
		t.Errorf("the log does not say why v2 was refused")
	}
	must(t, os.WriteFile(filepath.Join(models, "char", "live"), []byte("2\n"), 0o644))
	time.Sleep(12 * time.Second)
	if n := p.count("the live file names a version that cannot serve"); n != 1 {
		t.Errorf("%d warnings about the live file in 12 s, want 1", n)
	}
	p.answer("/comment model:char", "char v1 ·", 30*time.Second)
	p.stop(30 * time.Second)
	for _, args := range [][]string{{"generate", "--model", "char", "--version", "2"}, {"rollback", "--model", "char", "--to", "2"}} {
		c := startBinary(t, nil, append(args, "--config", cfg)...)
		if code := c.exit(30 * time.Second); code != 1 || !strings.Contains(c.stderr.String(), "word-lstm checkpoint and the config says char-lstm") {
			t.Errorf("%v: exit %d, stderr %q", args, code, c.stderr.String())
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Tried, on the real binary's console: /models, a 2 MiB line, an unknown command
// carrying ESC and BEL, /models again, then EOF. Survives: the long line is refused
// with a message, both /models are answered, no control character reaches stdout, the
// bot exits 0 at EOF (the scheduler was never stopped by the line).
func TestBinaryConsoleLongLineAndControlCharacters(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	p := consoleUp(t, cfg)
	p.answer("/models", "**rnn**", 30*time.Second)
	p.answer(strings.Repeat("y", 2<<20), "lines are at most 65536", 30*time.Second)
	p.answer("/\x1b[2J\x07boom", "I don't know the command", 10*time.Second)
	p.answer("/models", "**rnn**", 10*time.Second)
	must(t, p.stdin.Close())
	if code := p.exit(30 * time.Second); code != 0 {
		t.Errorf("exit code %d at EOF", code)
	}
	for _, r := range p.stdout.String() {
		if r != '\n' && unicode.IsControl(r) {
			t.Fatalf("control character %U on stdout", r)
		}
	}
	if !strings.Contains(p.stdout.String(), `/\x1b[2j\x07boom`) {
		t.Errorf("the unknown command is not shown escaped:\n%s", p.stdout.String())
	}
}

// Tried, on the real binary: the rnn model trained, then disabled in the config.
// Survives: /models lists it as disabled with its version, not "not trained yet".
func TestBinaryModelsShowsDisabledVersion(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	p := consoleUp(t, cfg)
	out := p.answer("/models", "**rnn**", 30*time.Second)
	if !regexp.MustCompile(`\*\*rnn\*\* — rnn, disabled, version v1 \(trained from scratch\), trained `).MatchString(out) {
		t.Errorf("/models for the disabled rnn model:\n%s", out)
	}
	p.stop(30 * time.Second)
}

// Tried, on the real binary: a new model whose first training cannot succeed (a
// learning rate of 1e30 diverges) beside the trained ones, and the console's default
// wait for the models. Survives: once that training has failed the console serves the
// others and says why it stopped waiting; /comment on a trained model is answered.
func TestBinaryConsoleServesWhenAFirstTrainingFails(t *testing.T) {
	dir := t.TempDir()
	cfg := binConfig(t, dir, false)
	rewriteConfig(t, cfg, "  - name: rnn\n", "  - name: wild\n    kind: rnn\n    vocab_size: 300\n    embed: 8\n    hidden: [8]\n    learning_rate: 1e30\n    first_train_minutes: 0.02\n  - name: rnn\n")
	p := consoleUp(t, cfg)
	p.answer("/comment model:word", "word v1 ·", 30*time.Second)
	if !strings.Contains(p.stderr.String(), "first training failed") || !strings.Contains(p.stderr.String(), "Some models could not be trained") {
		t.Errorf("the log does not say the wild model failed and the console serves the others")
	}
	if out := p.answer("/comment model:wild", "\n", 10*time.Second); !strings.Contains(out, "its first training failed") {
		t.Errorf("/comment model:wild: %q", out)
	}
	p.stop(30 * time.Second)
}
