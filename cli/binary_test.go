package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file run the real commentbot binary, built once from the module
// with `go build`, as an operator runs it: flags, a config file, the environment,
// stdin and signals. The models it serves come from a data directory trained once
// in-process (templateData) and copied for each test.

var (
	buildOnce sync.Once
	binDir    string // holds the binary and the template data
	binPath   string
	buildErr  error

	templateOnce sync.Once
	templateErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// commentbotBinary builds the binary (once per test process) and returns its path.
func commentbotBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "commentbot-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "commentbot")
		cmd := exec.Command("go", "build", "-o", binPath, "commentbot")
		cmd.Dir = ".." // the module root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// binModels are tinyModels with every model enabled and first trainings of a
// second, for the binary (which has no step budget).
const binModels = `  - name: word
    kind: word-lstm
    vocab_size: 300
    embed: 8
    hidden: [16]
    streams: 4
    steps: 8
    first_train_minutes: 0.02
  - name: char
    kind: char-lstm
    hidden: [16, 16]
    streams: 4
    steps: 16
    max_tokens: 80
    first_train_minutes: 0.02
  - name: rnn
    kind: rnn
    enabled: %v
    vocab_size: 300
    embed: 8
    hidden: [8]
    first_train_minutes: 0.02
`

// binConfig copies the trained template data under dir and writes a config for the
// binary over it: Reddit unreachable, no metrics listener, the rnn model enabled or
// not. It returns the config's path.
func binConfig(t *testing.T, dir string, rnn bool) string {
	t.Helper()
	templateOnce.Do(func() {
		commentbotBinary(t) // binDir
		if buildErr != nil {
			templateErr = buildErr
			return
		}
		tmpl := filepath.Join(binDir, "template")
		cfg := writeConfig(t, mkdir(t, tmpl), deadReddit(t), deadReddit(t)+"token", fmt.Sprintf(binModels, true))
		env := Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		templateErr = serve(ctx, common{configPath: cfg}, env, runOptions{trainSteps: 3, waitReady: true})
	})
	if templateErr != nil {
		t.Fatalf("template data: %v", templateErr)
	}
	if err := copyTree(filepath.Join(binDir, "template", "data"), filepath.Join(dir, "data")); err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, dir, deadReddit(t), deadReddit(t)+"token", fmt.Sprintf(binModels, rnn))
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyTree copies the regular files under src to dst.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}

// proc is one run of the binary.
type proc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	code           int
}

// startBinary starts the binary with args and only the given environment variables
// (besides PATH and HOME), so that nothing of the test's environment leaks in.
func startBinary(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(commentbotBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{t: t, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s\nstdout:\n%.4000s", strings.Join(args, " "), p.stderr.String(), p.stdout.String())
		}
	})
	return p
}

// waitFor polls cond until it holds, the process exits, or within passes.
func (p *proc) waitFor(what string, within time.Duration, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		select {
		case <-p.exited:
			if cond() {
				return
			}
			p.t.Fatalf("the binary exited (code %d) before %s", p.code, what)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %s within %v", what, within)
		}
	}
}

// waitErr waits for sub in stderr (the log).
func (p *proc) waitErr(sub string, within time.Duration) {
	p.t.Helper()
	p.waitFor(fmt.Sprintf("%q in the log", sub), within, func() bool { return strings.Contains(p.stderr.String(), sub) })
}

// send writes one console line.
func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("writing %.40q to stdin: %v", line, err)
	}
}

// exit waits for the process to end by itself and returns its exit code.
func (p *proc) exit(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(within):
		p.t.Fatalf("the binary still runs after %v", within)
		return -1
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop(within time.Duration) int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.exit(within)
}

// consoleUp starts `run` on the console over cfg and waits until it reads commands.
func consoleUp(t *testing.T, cfg string, extra ...string) *proc {
	t.Helper()
	p := startBinary(t, nil, append([]string{"run", "--config", cfg}, extra...)...)
	p.waitErr("serving the console", 60*time.Second)
	return p
}

// answer sends a console command and waits until stdout has grown by an answer
// holding want; it returns what was printed after the command.
func (p *proc) answer(cmd, want string, within time.Duration) string {
	p.t.Helper()
	before := len(p.stdout.String())
	p.send(cmd)
	p.waitFor(fmt.Sprintf("%q in the answer to %.60q", want, cmd), within, func() bool {
		return strings.Contains(p.stdout.String()[before:], want)
	})
	return p.stdout.String()[before:]
}

// count is the number of times sub occurs in the log.
func (p *proc) count(sub string) int { return strings.Count(p.stderr.String(), sub) }

// logLines are the log lines holding sub.
func (p *proc) logLines(sub string) string {
	var out []string
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
