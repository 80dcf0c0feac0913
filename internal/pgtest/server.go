package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the role initdb creates; its password is Server.Password.
const Superuser = "pgtest"

// startTimeout bounds initdb and a server start (a loaded 2-core CI machine is slow).
const startTimeout = 60 * time.Second

// A Server is a PostgreSQL server running from a temporary directory.
type Server struct {
	bin      string              // directory of initdb and postgres
	dir      string              // everything: data/, the socket, server.log
	port     int                 // TCP port on 127.0.0.1, the same across restarts
	cred     *syscall.Credential // the server's user when the test runs as root; nil otherwise
	password string
	dbs      int // databases made by Database, for unique names

	mu      sync.Mutex
	running *exec.Cmd     // the postmaster, nil while stopped
	exited  chan struct{} // closed when running has exited

	watchdog *exec.Cmd
	lifeline *os.File // write end of the watchdog's stdin; closing it ends everything
	closed   sync.Once
	isClosed atomic.Bool
	closeErr error
}

// New makes a cluster in a new temporary directory and starts it. The error wraps
// ErrNotInstalled when the binaries are missing. Close stops and removes it.
func New(ctx context.Context) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{bin: bin, dir: dir, cred: cred}
	if err := s.startWatchdog(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := s.initdb(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	// The free port may be taken before postgres binds it: try another, twice.
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return nil, errors.Join(err, s.Close())
		}
		if err = s.Start(ctx); err == nil {
			return s, nil
		}
		if attempt == 3 || ctx.Err() != nil {
			return nil, errors.Join(err, s.Close())
		}
	}
}

// serverUser is the user the server runs as: nil (this process's) unless running as
// root, where it is the package's "postgres" user.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("%w: running as root needs the package's postgres user to run the server: %w", ErrNotInstalled, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// command runs name from the bin directory as the server's user.
func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	// Its own process group: a ^C to go test reaches the test binary, whose
	// watchdog then stops the server in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	return cmd
}

// initdb makes the cluster in dir/data with a password for Superuser.
func (s *Server) initdb(ctx context.Context) error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: handing %s to user postgres: %w", s.dir, err)
		}
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	s.password = hex.EncodeToString(pw)
	pwfile := filepath.Join(s.dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(s.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer os.Remove(pwfile)
	if s.cred != nil {
		if err := os.Chown(pwfile, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	cmd := s.command(ctx, "initdb", "-D", filepath.Join(s.dir, "data"), "-U", Superuser,
		"--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--no-locale", "--no-sync")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: initdb in %s (as uid %d; that user must be able to reach it): %w\n%s",
			s.dir, s.uid(), err, out.Bytes())
	}
	return nil
}

func (s *Server) uid() int {
	if s.cred == nil {
		return os.Geteuid()
	}
	return int(s.cred.Uid)
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the server (again, after Stop) on its port and waits until it accepts
// connections. Settings favour speed over durability: fsync is off, which loses
// nothing unless the machine itself crashes.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running != nil {
		return errors.New("pgtest: Start: the server is already running")
	}
	logf, err := os.OpenFile(filepath.Join(s.dir, "server.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	defer logf.Close() // the child has its own copy
	cmd := s.command(context.Background(), "postgres", "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "max_connections=200",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgtest: starting postgres: %w", err)
	}
	exited := make(chan struct{})
	s.running, s.exited = cmd, exited
	go func() {
		_ = cmd.Wait() // a fast shutdown's exit status is not an error worth reporting
		close(exited)
	}()
	if err := s.waitReady(ctx, exited); err != nil {
		s.stopLocked()
		return err
	}
	return nil
}

// waitReady connects until the server answers, it exits, or startTimeout passes.
func (s *Server) waitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.URL("postgres"))
		ccancel()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-exited:
			return fmt.Errorf("pgtest: postgres exited at start (port %d): %v\n%s", s.port, err, s.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("pgtest: postgres not ready on port %d: %w (last: %v)\n%s", s.port, ctx.Err(), err, s.LogTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down ("fast": open sessions are ended, their transactions
// rolled back) and waits for it; the data stays for Start. Stopping a stopped server
// does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked()
}

func (s *Server) stopLocked() error {
	if s.running == nil {
		return nil
	}
	cmd, exited := s.running, s.exited
	s.running = nil
	_ = cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("pgtest: postgres did not stop within 30s; killed\n%s", s.LogTail())
	}
	return nil
}

// Close stops the server and removes its directory (through the watchdog, the same
// path a killed test binary takes). It may be called more than once.
func (s *Server) Close() error {
	s.closed.Do(func() {
		s.isClosed.Store(true)
		s.closeErr = s.Stop()
		_ = s.lifeline.Close()
		if err := s.watchdog.Wait(); err != nil {
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("pgtest: watchdog: %w", err))
		}
		if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("pgtest: %s is still there after Close (%v)", s.dir, err))
		}
	})
	return s.closeErr
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Dir is the temporary directory that holds the cluster (removed by Close).
func (s *Server) Dir() string { return s.dir }

// Password is Superuser's password.
func (s *Server) Password() string { return s.password }

// URL is a postgres:// URL of database as Superuser, password included.
func (s *Server) URL(database string) string {
	u := s.URLWithoutPassword(database)
	pu, _ := url.Parse(u)
	pu.User = url.UserPassword(Superuser, s.password)
	return pu.String()
}

// URLWithoutPassword is URL without the password, for tests of PGPASSWORD.
func (s *Server) URLWithoutPassword(database string) string {
	u := url.URL{Scheme: "postgres", User: url.User(Superuser),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + database,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// PID is the postmaster's process id, 0 while stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running == nil {
		return 0
	}
	return s.running.Process.Pid
}

// LogTail is the end of the server's log, for error messages.
func (s *Server) LogTail() string {
	b, err := os.ReadFile(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
