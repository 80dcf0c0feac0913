package deploy

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"commentbot/config"
)

// What the manifests may assume about the program (issue 9). Part 2 implements the
// roles; when it exports their list, use it here instead.
var roles = map[string]bool{"all": true, "serve": true, "train": true}

// Paths of the health port (metrics.listen): alive and ready for traffic.
const (
	livePath  = "/healthz"
	readyPath = "/readyz"
)

// binary is the program's path in the image (the repo's Dockerfile).
const binary = "/usr/local/bin/commentbot"

// secretName is the Secret the Kubernetes pods read; secretKeys are the keys
// kubernetes/README.md documents (true: required by some role).
const secretName = "commentbot"

var secretKeys = map[string]bool{
	"COMMENTBOT_STORE_URL": true,
	"DISCORD_TOKEN":        true,
	"DISCORD_APP_ID":       true,
	"DISCORD_PUBLIC_KEY":   true,
	"REDDIT_CLIENT_ID":     false,
	"REDDIT_CLIENT_SECRET": false,
	"REDDIT_USERNAME":      false,
	"REDDIT_PASSWORD":      false,
}

// needs lists the environment each role needs besides COMMENTBOT_CONFIG.
var needs = map[string][]string{
	"serve": {"COMMENTBOT_STORE_URL", "DISCORD_TOKEN", "DISCORD_APP_ID", "DISCORD_PUBLIC_KEY"},
	"train": {"COMMENTBOT_STORE_URL", "DISCORD_TOKEN", "DISCORD_APP_ID"},
}

// shutdownBudget is how long `run` gives its parts to stop after SIGTERM (cli/run.go).
const shutdownBudget = 30

// ports are the fleet config's listeners.
type ports struct{ http, metrics int }

// fleetConfig parses a fleet config file's text with the program's own parser, which
// refuses unknown keys, and returns it with its ports.
func fleetConfig(t *testing.T, what, text string) (config.Config, ports) {
	t.Helper()
	c, err := config.Parse(strings.NewReader(text))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return c, ports{http: port(t, what+": bot.http_listen", c.Bot.HTTPListen), metrics: port(t, what+": metrics.listen", c.Metrics.Listen)}
}

func port(t *testing.T, what, hostport string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	n, perr := strconv.Atoi(p)
	if err != nil || perr != nil || n <= 0 {
		t.Fatalf("%s = %q: want host:port with a port", what, hostport)
	}
	return n
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestImageBinary: the path the health checks run is where the Dockerfile puts the binary.
func TestImageBinary(t *testing.T) {
	if df := readFile(t, "../Dockerfile"); !strings.Contains(df, "COPY --from=build /out/commentbot "+binary) {
		t.Errorf("the Dockerfile does not install the binary at %s", binary)
	}
}

// TestSecretKeysDocumented: kubernetes/README.md names every key of the Secret.
func TestSecretKeysDocumented(t *testing.T) {
	readme := readFile(t, "kubernetes/README.md")
	for k := range secretKeys {
		if !strings.Contains(readme, "`"+k+"`") {
			t.Errorf("kubernetes/README.md does not document the Secret key %s", k)
		}
	}
}
