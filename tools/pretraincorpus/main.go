// Command pretraincorpus turns the pretraining sources into one NDJSON file of
// comments that `commentbot train --data` reads:
//
//	go run ./tools/pretraincorpus --fortunes /usr/share/games/fortunes \
//	    --austen austen.txt --written tools/pretrain/written > pretrain.ndjson
//
// Sources (each optional):
//   - --fortunes DIR: Debian's fortunes package; every fortune (the text between
//     lines holding only "%") of every English file is one comment. Directories,
//     symlinks, *.dat index files, the art files and the Portuguese mario.*
//     files are skipped, as are fortunes that are mostly not letters (ASCII art).
//   - --austen FILE: Jane Austen's six novels as plain text (Debian's
//     r-cran-janeaustenr, exported by tools/pretrain/corpus.sh); every paragraph is
//     one comment, long ones cut at sentence ends into pieces of at most
//     maxChars; chapter and volume headings are dropped.
//   - --written DIR: the project's own Reddit-style threads (*.txt), each comment a
//     header line "@@ r/<subreddit> u/<user>[ new]" followed by its body.
//
// Ids are stable ("pt_<source>_<file>_<n>"), so the held-out split (a hash of the
// id) is the same on every run. Training reads a data file in order, so the
// comments are written in a fixed pseudo-random order (--shuffle-seed) that
// mixes the sources evenly through every epoch.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// maxChars is the longest comment written; the cleaner drops comments over 2000 runes.
const maxChars = 1500

type record struct {
	ID        string `json:"id"`
	Subreddit string `json:"subreddit"`
	Author    string `json:"author"`
	Body      string `json:"body"`
}

func main() {
	fortunes := flag.String("fortunes", "", "directory of Debian's fortunes files")
	austen := flag.String("austen", "", "plain-text file of Jane Austen's novels")
	written := flag.String("written", "", "directory of the project's @@-format threads")
	seed := flag.Uint64("shuffle-seed", 1, "seed of the output order")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	n, err := run(w, *fortunes, *austen, *written, *seed)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pretraincorpus:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "pretraincorpus: %d comments\n", n)
}

func run(w io.Writer, fortunes, austen, written string, seed uint64) (int, error) {
	var all []record
	emit := func(r record) error { all = append(all, r); return nil }
	if fortunes != "" {
		if err := readFortunes(fortunes, emit); err != nil {
			return 0, err
		}
	}
	if austen != "" {
		if err := readAusten(austen, emit); err != nil {
			return 0, err
		}
	}
	if written != "" {
		if err := readWritten(written, emit); err != nil {
			return 0, err
		}
	}
	if len(all) == 0 {
		return 0, errors.New("no comments: give --fortunes, --austen or --written")
	}
	rand.New(rand.NewPCG(seed, seed)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range all {
		if err := enc.Encode(r); err != nil {
			return 0, err
		}
	}
	return len(all), nil
}

// files lists the regular files of dir, sorted, that keep(name) accepts.
func files(dir string, keep func(string) bool) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && keep(e.Name()) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

func readFortunes(dir string, emit func(record) error) error {
	skip := map[string]bool{"art": true, "ascii-art": true}
	paths, err := files(dir, func(n string) bool {
		return !skip[n] && !strings.HasPrefix(n, "mario.") && filepath.Ext(n) == ""
	})
	if err != nil {
		return fmt.Errorf("fortunes: %w", err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("fortunes: no fortune files in %s", dir)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("fortunes: %w", err)
		}
		name := filepath.Base(p)
		for i, f := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n%\n") {
			f = strings.TrimSpace(strings.TrimSuffix(f, "\n%"))
			if !mostlyLetters(f) {
				continue
			}
			if err := emit(record{ID: fmt.Sprintf("pt_fortune_%s_%d", name, i), Subreddit: "fortunes", Author: "fortune", Body: f}); err != nil {
				return err
			}
		}
	}
	return nil
}

// mostlyLetters reports whether at least 60% of the non-space runes of s are
// letters (prose, not ASCII art or tables) and s has a few words.
func mostlyLetters(s string) bool {
	letters, other := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case !unicode.IsSpace(r):
			other++
		}
	}
	return letters >= 10 && letters*2 >= 3*other
}

var heading = regexp.MustCompile(`^(CHAPTER|Chapter|VOLUME|Volume)\b|^[A-Z0-9 .,&'-]+$`)

func readAusten(path string, emit func(record) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("austen: %w", err)
	}
	n := 0
	for _, para := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		para = strings.Join(strings.Fields(para), " ")
		if para == "" || heading.MatchString(para) {
			continue
		}
		for _, piece := range cut(para, maxChars) {
			n++
			if err := emit(record{ID: fmt.Sprintf("pt_austen_%d", n), Subreddit: "austen", Author: "austen", Body: piece}); err != nil {
				return err
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("austen: no paragraphs in %s", path)
	}
	return nil
}

// cut splits text into pieces of at most limit bytes, at sentence ends (". ",
// "! ", "? ", possibly after a closing quote) where it can and at spaces where
// it must.
func cut(text string, limit int) []string {
	var out []string
	for len(text) > limit {
		at := -1
		for i := limit - 1; i > limit/3; i-- {
			if text[i] == ' ' && i > 0 && strings.ContainsRune(".!?\"'", rune(text[i-1])) {
				at = i
				break
			}
		}
		if at < 0 {
			at = strings.LastIndexByte(text[:limit], ' ')
		}
		if at <= 0 {
			at = limit
		}
		out = append(out, strings.TrimSpace(text[:at]))
		text = strings.TrimSpace(text[at:])
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

var header = regexp.MustCompile(`^@@ r/([A-Za-z0-9_]+) u/([A-Za-z0-9_-]+)( new)?\s*$`)

func readWritten(dir string, emit func(record) error) error {
	paths, err := files(dir, func(n string) bool { return filepath.Ext(n) == ".txt" })
	if err != nil {
		return fmt.Errorf("written: %w", err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("written: no *.txt files in %s", dir)
	}
	for _, p := range paths {
		if err := readWrittenFile(p, emit); err != nil {
			return err
		}
	}
	return nil
}

func readWrittenFile(path string, emit func(record) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("written: %w", err)
	}
	base := strings.TrimSuffix(filepath.Base(path), ".txt")
	var cur *record
	var body []string
	n := 0
	flush := func() error {
		if cur == nil {
			return nil
		}
		cur.Body = strings.TrimSpace(strings.Join(body, "\n"))
		if cur.Body == "" {
			return fmt.Errorf("written: %s: comment %d has no body", path, n)
		}
		return emit(*cur)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "@@") {
			m := header.FindStringSubmatch(line)
			if m == nil {
				return fmt.Errorf("written: %s:%d: bad header %q", path, i+1, line)
			}
			if err := flush(); err != nil {
				return err
			}
			n++
			cur, body = &record{ID: fmt.Sprintf("pt_written_%s_%d", base, n), Subreddit: m[1], Author: m[2]}, nil
			continue
		}
		if cur == nil {
			if strings.TrimSpace(line) != "" {
				return fmt.Errorf("written: %s:%d: text before the first @@ header", path, i+1)
			}
			continue
		}
		body = append(body, strings.TrimRight(line, " \t\r"))
	}
	return flush()
}
