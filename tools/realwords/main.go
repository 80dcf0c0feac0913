// Command realwords reports the share of words in generated text that a
// dictionary knows — the real-word rate that the closing notes quote for the
// shipped models:
//
//	commentbot generate --model char --temperature 0.8 -n 100 --seed 11 | go run ./tools/realwords
//
// A word is a run of ASCII letters, possibly joined by apostrophes ("don't");
// a trailing possessive 's is stripped and the comparison ignores case. The
// dictionary (--dict, default Debian's wamerican list /usr/share/dict/words) holds
// one word a line. Lines of the input that start with "-#" (the footers
// `generate` prints) are ignored. It prints the words read, the words found and
// the rate, plus the most frequent unknown words.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
)

var wordRE = regexp.MustCompile(`[A-Za-z]+(?:'[A-Za-z]+)*`)

func main() {
	dictPath := flag.String("dict", "/usr/share/dict/words", "dictionary: one word a line (Debian's wamerican)")
	top := flag.Int("unknown", 10, "list this many of the most frequent unknown words")
	flag.Parse()
	dict, err := loadDict(*dictPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "realwords:", err)
		os.Exit(1)
	}
	r, err := count(os.Stdin, dict)
	if err != nil {
		fmt.Fprintln(os.Stderr, "realwords:", err)
		os.Exit(1)
	}
	fmt.Printf("words %d  real %d  rate %.1f%%\n", r.words, r.real, 100*r.rate())
	fmt.Printf("unknown: %s\n", strings.Join(r.topUnknown(*top), " "))
}

func loadDict(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dictionary: %w (apt-get install wamerican)", err)
	}
	defer f.Close()
	d := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			d[strings.ToLower(w)] = true
		}
	}
	return d, sc.Err()
}

type result struct {
	words, real int
	unknown     map[string]int
}

func (r result) rate() float64 {
	if r.words == 0 {
		return 0
	}
	return float64(r.real) / float64(r.words)
}

func (r result) topUnknown(n int) []string {
	ws := make([]string, 0, len(r.unknown))
	for w := range r.unknown {
		ws = append(ws, w)
	}
	sort.Slice(ws, func(i, j int) bool {
		if r.unknown[ws[i]] != r.unknown[ws[j]] {
			return r.unknown[ws[i]] > r.unknown[ws[j]]
		}
		return ws[i] < ws[j]
	})
	return ws[:min(n, len(ws))]
}

// count reads text and counts its words and those dict holds.
func count(in io.Reader, dict map[string]bool) (result, error) {
	r := result{unknown: map[string]int{}}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "-#") {
			continue
		}
		for _, w := range wordRE.FindAllString(line, -1) {
			w = strings.ToLower(w)
			w = strings.TrimSuffix(w, "'s")
			r.words++
			if dict[w] {
				r.real++
			} else {
				r.unknown[w]++
			}
		}
	}
	return r, sc.Err()
}
