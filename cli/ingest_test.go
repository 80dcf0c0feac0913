package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"commentbot/config"
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

// TestIngestSkipsBots: comments by bot accounts other than AutoModerator and
// comments carrying a bot's footer reach the fake Reddit's listing but not
// the store; the ingest output and the run record count them under their own
// skip reasons, with identifier figure names.
func TestIngestSkipsBots(t *testing.T) {
	srv := fakereddit.New(t)
	at := func(i int) time.Time { return time.Unix(1_780_000_000+int64(i), 0) }
	srv.AddComments("movies",
		fakereddit.Comment{ID: "h1", Author: "film_fan", Body: "Loved the score in this one.", Created: at(1)},
		fakereddit.Comment{ID: "b1", Author: "HollywoodBot", Body: "Box office: the film made 12 million.", Created: at(2)},
		fakereddit.Comment{ID: "b2", Author: "DRM_Removal_Bot", Body: "Here is a link without DRM.", Created: at(3)},
		fakereddit.Comment{ID: "b3", Author: "PoliticsModeratorBot", Body: "Please keep the discussion civil.", Created: at(4)},
		fakereddit.Comment{ID: "f1", Author: "helpful_converter", Body: "5 km is 3.1 miles.\n\n^(I am a bot, and this action was performed automatically.)", Created: at(5)},
		fakereddit.Comment{ID: "f2", Author: "tweet_mirror", Body: "The tweet says hi.\n\n^This ^message ^was ^created ^by ^a ^bot", Created: at(6)},
		fakereddit.Comment{ID: "h2", Author: "Talbot", Body: "My uncle worked on the set.", Created: at(7)},
	)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfgPath, fmt.Appendf(nil, "data_dir: %s\nreddit:\n  subreddits: [movies]\n  base_url: %q\n  token_url: %q\n  timeout: 2s\n",
		filepath.Join(dir, "data"), srv.BaseURL(), srv.TokenURL()), 0o644)

	code, out, errs := run(t, "", "ingest", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "2 new") || !strings.Contains(out, "bot_footer:2") || !strings.Contains(out, "bot_name:3") {
		t.Fatalf("ingest: exit %d, want 2 new and 5 bots skipped\n%s\n%s", code, out, errs)
	}
	st, err := openStore(t.Context(), mustLoad(t, cfgPath), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := st.Runs(t.Context(), "ingest", 1)
	st.Close()
	if err != nil || len(runs) != 1 {
		t.Fatalf("run records: %v, %v", runs, err)
	}
	f := runs[0].Figures
	if f["skipped_bot_name"] != 3 || f["skipped_bot_footer"] != 2 || f["new"] != 2 {
		t.Errorf("run figures %v: want skipped_bot_name 3, skipped_bot_footer 2, new 2", f)
	}
	for name := range f {
		if strings.ContainsAny(name, " -") {
			t.Errorf("figure name %q is not an identifier", name)
		}
	}
}

func mustLoad(t *testing.T, path string) config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
