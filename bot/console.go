package bot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// consoleHelp is printed by /help.
const consoleHelp = `commands:
  /comment [model:NAME] [temperature:T] [prompt:"TEXT"] [length:N]   write one comment
  /models                                                            list the models
  /retrain model:NAME                                                fine-tune a model now
  /help                                                              this text
values with spaces go in double quotes; \" and \\ escape inside them. End with EOF (Ctrl-D).`

// MaxConsoleLine is the longest console line read, in bytes: a longer one is refused
// with a message and the console reads on after it.
const MaxConsoleLine = 64 << 10

// consoleLine is one line read from the console: its text, or its length when it was
// longer than MaxConsoleLine (then text is empty).
type consoleLine struct {
	text    string
	tooLong int
}

// ServeConsole serves commands typed one per line on in, such as
//
//	/comment model:char temperature:0.7 prompt:"i think"
//
// and prints the answers on out, until EOF (nil) or ctx ends (ctx's error, wrapped).
// The console operator is trusted: no cooldowns, and moderator commands are allowed.
// Commands run one at a time, in order. A line over MaxConsoleLine is refused and
// skipped; control characters in what is printed are shown escaped (\x1b), never
// sent to the terminal.
func (b *Bot) ServeConsole(ctx context.Context, in io.Reader, out io.Writer) error {
	lines := make(chan consoleLine)
	readErr := make(chan error, 1)
	go func() { readErr <- readConsole(ctx, in, lines) }()
	c := &consoleResponder{out: out}
	for {
		var l consoleLine
		select {
		case <-ctx.Done():
			return fmt.Errorf("bot: console: %w", ctx.Err())
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("bot: console: read: %w", err)
			}
			return nil
		case l = <-lines:
		}
		if l.tooLong > 0 {
			c.print(fmt.Sprintf("error: that line has %d bytes; lines are at most %d. Ignored it.", l.tooLong, MaxConsoleLine))
			continue
		}
		line := strings.TrimSpace(l.text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cmd, opts, err := parseConsoleLine(line)
		switch {
		case err != nil:
			c.print(fmt.Sprintf("error: %v (try /help)", err))
			continue
		case cmd == CmdHelp:
			c.print(consoleHelp)
			continue
		}
		if !b.begin() {
			c.print("error: the bot is shutting down")
			return fmt.Errorf("bot: console: %w", ErrShutdown)
		}
		b.handle(ctx, invocation{id: "console", command: cmd, options: opts, userID: "console",
			channelID: "console", inGuild: true, perms: discordgo.PermissionAdministrator, trusted: true}, c)
		b.inflight.Done()
	}
}

// readConsole sends the lines of in to lines until EOF (nil), a read error, or ctx
// ends. It holds at most MaxConsoleLine bytes of a line: the rest of a longer line is
// read and dropped, and the line is sent as tooLong.
func readConsole(ctx context.Context, in io.Reader, lines chan<- consoleLine) error {
	br := bufio.NewReaderSize(in, 16<<10)
	var buf []byte
	n := 0
	for {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		if n <= MaxConsoleLine+2 { // room for "\r\n"
			buf = append(buf, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(frag) > 0 || err == nil {
			size := n
			if err == nil { // not the newline, nor a carriage return before it
				size--
				if len(buf) == n && n >= 2 && buf[n-2] == '\r' {
					size--
				}
			}
			l := consoleLine{tooLong: size}
			if size <= MaxConsoleLine {
				l = consoleLine{text: strings.TrimRight(string(buf), "\r\n")}
			}
			select {
			case lines <- l:
			case <-ctx.Done():
				return nil
			}
			buf, n = buf[:0], 0
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
	}
}

// consoleResponder prints answers; deferral prints nothing.
type consoleResponder struct {
	mu  sync.Mutex
	out io.Writer
}

func (c *consoleResponder) print(s string) {
	s = terminalSafe(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.out, s)
}

// terminalSafe returns s with every control character but newline and tab written
// as an escape (\x1b, \u009b) and invalid UTF-8 as U+FFFD, so that echoed input or
// generated text cannot move the cursor, recolour or retitle the operator's terminal.
func terminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) && r != '\n' && r != '\t' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var sb strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\n' || r == '\t' || !unicode.IsControl(r):
			sb.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&sb, "\\x%02x", r)
		default:
			fmt.Fprintf(&sb, "\\u%04x", r)
		}
	}
	return sb.String()
}

func (c *consoleResponder) respond(_ context.Context, r reply) error {
	var sb strings.Builder
	sb.WriteString(r.content)
	for _, f := range r.files {
		n, _ := io.Copy(io.Discard, f.Reader)
		fmt.Fprintf(&sb, "\n[attachment %s, %d bytes]", f.Name, n)
	}
	c.print(sb.String())
	return nil
}

func (c *consoleResponder) deferAnswer(context.Context, bool) error { return nil }

func (c *consoleResponder) followup(ctx context.Context, r reply) error { return c.respond(ctx, r) }

// errConsoleSyntax is wrapped by every console parse error.
var errConsoleSyntax = errors.New("bot: console syntax")

// parseConsoleLine parses `/name key:value key:"quoted value"` into the command name
// and its options (all values are strings; numbers are parsed by the handler).
func parseConsoleLine(line string) (string, map[string]any, error) {
	if !strings.HasPrefix(line, "/") {
		return "", nil, fmt.Errorf("%w: commands start with /", errConsoleSyntax)
	}
	rs := []rune(line[1:])
	pos := 0
	word := func(stop func(rune) bool) string {
		start := pos
		for pos < len(rs) && !stop(rs[pos]) {
			pos++
		}
		return string(rs[start:pos])
	}
	cmd := strings.ToLower(word(unicode.IsSpace))
	if cmd == "" {
		return "", nil, fmt.Errorf("%w: missing command name after /", errConsoleSyntax)
	}
	opts := map[string]any{}
	for {
		for pos < len(rs) && unicode.IsSpace(rs[pos]) {
			pos++
		}
		if pos == len(rs) {
			return cmd, opts, nil
		}
		key := word(func(r rune) bool { return r == ':' || unicode.IsSpace(r) })
		if pos == len(rs) || rs[pos] != ':' || key == "" {
			return "", nil, fmt.Errorf("%w: expected option:value, got %q", errConsoleSyntax, key)
		}
		pos++ // ':'
		var val string
		if pos < len(rs) && rs[pos] == '"' {
			pos++
			var sb strings.Builder
			closed := false
			for pos < len(rs) {
				r := rs[pos]
				pos++
				if r == '\\' && pos < len(rs) {
					sb.WriteRune(rs[pos])
					pos++
					continue
				}
				if r == '"' {
					closed = true
					break
				}
				sb.WriteRune(r)
			}
			if !closed {
				return "", nil, fmt.Errorf("%w: unterminated quote in %s", errConsoleSyntax, key)
			}
			if pos < len(rs) && !unicode.IsSpace(rs[pos]) {
				return "", nil, fmt.Errorf("%w: text after the closing quote of %s", errConsoleSyntax, key)
			}
			val = sb.String()
		} else {
			val = word(unicode.IsSpace)
		}
		key = strings.ToLower(key)
		if _, dup := opts[key]; dup {
			return "", nil, fmt.Errorf("%w: option %s given twice", errConsoleSyntax, key)
		}
		opts[key] = val
	}
}
