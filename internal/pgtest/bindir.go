package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNotInstalled: the PostgreSQL server binaries (initdb, postgres) were not found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL server not installed (initdb and postgres not found)")

// EnvBinDir names a directory holding initdb and postgres, overriding the search.
const EnvBinDir = "COMMENTBOT_PG_BINDIR"

// EnvSkip set to 1 turns a missing server into a skip instead of a failure (not under CI=true).
const EnvSkip = "COMMENTBOT_SKIP_PG"

// InstallHint says how to get the binaries.
const InstallHint = "install Debian's postgresql package (apt-get install postgresql; .ci/run does)"

// BinDir finds the directory of initdb and postgres: $COMMENTBOT_PG_BINDIR when set,
// else pg_config --bindir, else the newest /usr/lib/postgresql/<version>/bin, else the
// PATH. Debian keeps them off the PATH, in the versioned directory.
func BinDir() (string, error) {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		if !hasServer(dir) {
			return "", fmt.Errorf("%w in %s=%s", ErrNotInstalled, EnvBinDir, dir)
		}
		return dir, nil
	}
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(versioned, func(i, j int) bool { return version(versioned[i]) > version(versioned[j]) })
	candidates = append(candidates, versioned...)
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("%w: looked in pg_config --bindir, /usr/lib/postgresql/*/bin and the PATH", ErrNotInstalled)
}

// version is the major version in /usr/lib/postgresql/<version>/bin, 0 if none.
func version(bin string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(bin)))
	return v
}

func hasServer(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
