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

	"github.com/bwmarrin/discordgo"
)

// consoleHelp is printed by /help.
const consoleHelp = `commands:
  /comment [model:NAME] [temperature:T] [prompt:"TEXT"] [length:N]   write one comment
  /models                                                            list the models
  /retrain model:NAME                                                fine-tune a model now
  /help                                                              this text
values with spaces go in double quotes; \" and \\ escape inside them. End with EOF (Ctrl-D).`

// ServeConsole serves commands typed one per line on in, such as
//
//	/comment model:char temperature:0.7 prompt:"i think"
//
// and prints the answers on out, until EOF (nil) or ctx ends (ctx's error, wrapped).
// The console operator is trusted: no cooldowns, and moderator commands are allowed.
// Commands run one at a time, in order.
func (b *Bot) ServeConsole(ctx context.Context, in io.Reader, out io.Writer) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	c := &consoleResponder{out: out}
	for {
		var line string
		select {
		case <-ctx.Done():
			return fmt.Errorf("bot: console: %w", ctx.Err())
		case err := <-readErr:
			if err != nil {
				return fmt.Errorf("bot: console: read: %w", err)
			}
			return nil
		case line = <-lines:
		}
		line = strings.TrimSpace(line)
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

// consoleResponder prints answers; deferral prints nothing.
type consoleResponder struct {
	mu  sync.Mutex
	out io.Writer
}

func (c *consoleResponder) print(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintln(c.out, s)
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
