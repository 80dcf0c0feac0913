package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"commentbot/internal/fakereddit"
)

// The ingest command against a fake Reddit, through the real go-reddit client: a first
// run stores the comments, a second adds nothing, an unknown subreddit is an error that
// names it and loses nothing.
func TestIngestCommand(t *testing.T) {
	srv := fakereddit.New(t)
	var cs []fakereddit.Comment
	for i := range 150 {
		cs = append(cs, fakereddit.Comment{ID: fmt.Sprintf("c%03d", i), Author: "someone",
			Body: fmt.Sprintf("Comment number %d says something new.", i), Score: 1,
			Created: time.Unix(1_780_000_000+int64(i), 0)})
	}
	srv.AddComments("cooking", cs...)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgPath, fmt.Appendf(nil, "data_dir: %s\nreddit:\n  subreddits: [cooking]\n  base_url: %q\n  token_url: %q\n  timeout: 2s\n",
		filepath.Join(dir, "data"), srv.BaseURL(), srv.TokenURL()), 0o644)

	code, out, errs := run(t, "", "ingest", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "150 new") {
		t.Fatalf("first ingest: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = run(t, "", "ingest", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, " 0 new") {
		t.Fatalf("second ingest added comments: exit %d\n%s\n%s", code, out, errs)
	}
	code, _, errs = run(t, "", "ingest", "--config", cfgPath, "--subreddit", "nosuchsub")
	if code != 1 || !strings.Contains(errs, "nosuchsub") {
		t.Errorf("unknown subreddit: exit %d, stderr %q", code, errs)
	}
	code, out, _ = run(t, "", "corpus", "stats", "--config", cfgPath)
	if code != 0 || !regexpLine(out, "comments", "150") {
		t.Errorf("store after the failed run: exit %d\n%s", code, out)
	}
}
