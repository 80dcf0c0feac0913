// Package pgtest starts a real PostgreSQL server for tests: Debian's postgresql
// package (its versioned bin directory, found through pg_config --bindir or
// /usr/lib/postgresql/*/bin; COMMENTBOT_PG_BINDIR overrides), a cluster made by initdb
// in a temporary directory, listening on 127.0.0.1 on a free port with its Unix socket
// in that directory. The superuser "pgtest" has a random password (scram-sha-256 over
// TCP), so a URL without it is refused as it would be in production.
//
// One server per test:
//
//	srv := pgtest.Start(t)              // stopped and removed when t ends
//	url := srv.Database(t)              // a fresh database, dropped when t ends
//
// One server per test binary (started by the first test that asks for it):
//
//	var pg pgtest.Shared
//	func TestMain(m *testing.M) { code := m.Run(); pg.Close(); os.Exit(code) }
//	func TestX(t *testing.T)    { url := pg.Database(t) }
//
// Stop and Start restart the server on the same port, keeping its data (a fault test's
// "PostgreSQL restarted under load").
//
// When the binaries are missing, Start and Shared fail the test with a message that says
// how to install them; only COMMENTBOT_SKIP_PG=1 turns that into a skip (with the same
// message), and never under CI=true.
//
// Running as root, the server runs as the "postgres" user the package creates (initdb
// and postgres refuse to run as root): the temporary directory is handed to that user.
//
// Cleanup when the test binary dies: every server has a watchdog, a small sh process in
// its own process group whose standard input is a pipe held by the test process. The
// kernel closes that pipe however the test process ends (Close, a failed test, a panic,
// go test's timeout, SIGKILL), and the watchdog then stops the server (SIGINT, then
// SIGKILL after 10 s) and removes the directory. Close takes the same path, so it is
// exercised by every test. What it cannot cover: a SIGKILL of the watchdog itself, or the
// end of the whole container or machine; then a server and its directory (pgtest-*
// under os.TempDir) may be left behind.
package pgtest
