package model

import (
	"os/exec"
	"strings"
	"testing"
)

// TestModelImportsNoIO: the model works on token ids, so it links no
// store, no network client and no tokenizer. go list -deps names every
// package the model's non-test build pulls in (for each build tag set the
// repository uses); none may be a database, an HTTP stack, SQLite or
// go-reddit, and the only project packages are the model's own and the
// leaf package tokens.
func TestModelImportsNoIO(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed to list the model's dependencies: %v", err)
	}
	forbidden := []string{"database/sql", "net/http", "modernc.org/", "github.com/vartanbeno/go-reddit", "golang.org/x/oauth2"}
	for _, tags := range []string{"", "purego", "openblas"} {
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps -tags %q: %v\n%s", tags, err, out)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps -tags %q listed %d packages: %q", tags, len(deps), deps)
		}
		for _, d := range deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f) {
					t.Errorf("tags %q: the model depends on %s", tags, d)
				}
			}
			if strings.HasPrefix(d, "commentbot/") && d != "commentbot/tokens" && !strings.HasPrefix(d, "commentbot/model") {
				t.Errorf("tags %q: the model imports the project's %s", tags, d)
			}
		}
	}
}
