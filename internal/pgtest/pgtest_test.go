package pgtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// childEnv makes the test binary a helper process instead of running the tests.
const childEnv = "PGTEST_CHILD"

var shared Shared

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "hold" {
		holdServer()
		return
	}
	code := m.Run()
	if err := shared.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

// holdServer starts a server, prints its directory and postmaster pid, and waits to
// be killed.
func holdServer() {
	s, err := New(context.Background())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("up", s.Dir(), s.PID())
	select {}
}

func query(t *testing.T, url, sql string, args ...any) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var s string
	err = conn.QueryRow(ctx, sql, args...).Scan(&s)
	return s, err
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// TestStart: a server with password authentication keeps its data across Stop and
// Start, on the same port; Close stops it and removes its directory.
func TestStart(t *testing.T) {
	s := Start(t)
	db := s.Database(t)
	execSQL(t, db, "CREATE TABLE kept (v text)")
	if _, err := query(t, db, "INSERT INTO kept VALUES ('before restart') RETURNING v"); err != nil {
		t.Fatal(err)
	}
	if v, err := query(t, db, "SELECT current_setting('listen_addresses')"); err != nil || v != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, %v; want 127.0.0.1", v, err)
	}

	// The password is required over TCP, and PGPASSWORD supplies it.
	u, _ := url.Parse(db)
	u.User = url.User(Superuser)
	bare := u.String()
	t.Setenv("PGPASSWORD", "")
	if _, err := query(t, bare, "SELECT 'in'"); err == nil {
		t.Errorf("connecting without a password succeeded; want it refused")
	}
	t.Setenv("PGPASSWORD", s.Password())
	if v, err := query(t, bare, "SELECT 'in'"); err != nil || v != "in" {
		t.Errorf("with PGPASSWORD: %q, %v", v, err)
	}

	first := s.PID()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if alive(first) {
		t.Errorf("postmaster %d still alive after Stop", first)
	}
	if _, err := query(t, db, "SELECT 'x'"); err == nil {
		t.Errorf("a query succeeded while the server was stopped")
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if v, err := query(t, db, "SELECT v FROM kept"); err != nil || v != "before restart" {
		t.Errorf("after restart: %q, %v; want the row written before", v, err)
	}

	second := s.PID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(second) {
		t.Errorf("postmaster %d still alive after Close", second)
	}
	if _, err := os.Stat(s.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after Close: %v; want it removed", s.Dir(), err)
	}
}

// TestSharedDatabases: databases on the shared server are separate and dropped when
// their test ends.
func TestSharedDatabases(t *testing.T) {
	var names [2]string
	for i := range names {
		t.Run(fmt.Sprint("db", i), func(t *testing.T) {
			db := shared.Database(t)
			execSQL(t, db, "CREATE TABLE only_here (v int)")
			var err error
			if names[i], err = query(t, db, "SELECT current_database()"); err != nil {
				t.Fatal(err)
			}
		})
	}
	if names[0] == names[1] {
		t.Fatalf("two tests got the same database %q", names[0])
	}
	admin := shared.Server(t).URL("postgres")
	for _, name := range names {
		n, err := query(t, admin, "SELECT count(*)::text FROM pg_database WHERE datname = $1", name)
		if err != nil || n != "0" {
			t.Errorf("database %s after its test: count %s, %v; want dropped", name, n, err)
		}
	}
}

// TestKilledTestBinary: a test process that is SIGKILLed with a server running leaves
// neither the server nor its directory behind.
func TestKilledTestBinary(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=hold")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	var dir string
	var pid int
	if _, serr := fmt.Sscan(strings.TrimPrefix(line, "up "), &dir, &pid); err != nil || serr != nil || !strings.HasPrefix(line, "up ") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper said %q (%v)", line, err)
	}
	if !alive(pid) {
		t.Fatalf("the helper's postmaster %d is not running", pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for alive(pid) || exists(dir) {
		if time.Now().After(deadline) {
			t.Fatalf("30s after SIGKILL of the test process: postmaster %d alive %v, %s exists %v",
				pid, alive(pid), dir, exists(dir))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestMissingInstallation: without the binaries a test fails with the install hint,
// under CI=true even with COMMENTBOT_SKIP_PG=1; COMMENTBOT_SKIP_PG=1 alone skips it
// with a reason.
func TestMissingInstallation(t *testing.T) {
	cases := []struct {
		name     string
		env      []string
		wantFail bool
		want     string
	}{
		{"CI", []string{"CI=true", EnvSkip + "=1"}, true, "CI=true requires it"},
		{"plain", nil, true, "or set " + EnvSkip + "=1 to skip"},
		{"skip", []string{EnvSkip + "=1"}, false, "skipped because " + EnvSkip + "=1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestStart$", "-test.v")
			for _, kv := range os.Environ() {
				if k, _, _ := strings.Cut(kv, "="); k != "CI" && k != EnvSkip && k != EnvBinDir {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, EnvBinDir+"="+t.TempDir())
			cmd.Env = append(cmd.Env, c.env...)
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != c.wantFail {
				t.Errorf("exit %v, want failure %v\n%s", err, c.wantFail, out)
			}
			if !strings.Contains(string(out), c.want) || !strings.Contains(string(out), "not installed") {
				t.Errorf("output lacks %q and the cause:\n%s", c.want, out)
			}
			if !c.wantFail && !strings.Contains(string(out), "--- SKIP: TestStart") {
				t.Errorf("want TestStart reported as skipped:\n%s", out)
			}
		})
	}
}

// TestBinDir: the override must hold a server; the search finds the installed one.
func TestBinDir(t *testing.T) {
	t.Setenv(EnvBinDir, t.TempDir())
	if _, err := BinDir(); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("empty override: %v, want ErrNotInstalled", err)
	}
	t.Setenv(EnvBinDir, "")
	dir, err := BinDir()
	if err != nil {
		Unavailable(t, err)
	}
	if !hasServer(dir) {
		t.Errorf("BinDir() = %s without initdb and postgres", dir)
	}
}
