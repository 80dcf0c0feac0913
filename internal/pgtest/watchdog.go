package pgtest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// watchdogScript waits for EOF on its standard input (the test process closed it, or
// died), then stops the server whose postmaster.pid is in $1/data (SIGINT: fast
// shutdown; SIGKILL after 10 s) and removes $1. It ignores the signals a terminal or
// go test sends, so that it outlives the test process.
const watchdogScript = `trap '' INT TERM HUP QUIT
dir=$1
cat >/dev/null
pidfile="$dir/data/postmaster.pid"
if [ -f "$pidfile" ]; then
	pid=$(head -n 1 "$pidfile")
	if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then
		i=0
		while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
		kill -KILL "$pid" 2>/dev/null
	fi
fi
rm -rf "$dir"
`

// startWatchdog starts the watchdog of s.dir; s.lifeline is its standard input.
func (s *Server) startWatchdog() error {
	r, w, err := os.Pipe() // close-on-exec: no other child inherits the write end
	if err != nil {
		return fmt.Errorf("pgtest: watchdog pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "pgtest-watchdog", s.dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("pgtest: starting the watchdog: %w", err)
	}
	s.watchdog, s.lifeline = cmd, w
	return nil
}
