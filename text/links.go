package text

import "strings"

// maxLinkTarget bounds the bytes a link target is searched for its closing
// parenthesis, so that text full of "[a](" stays linear to clean. URLs longer
// than this are rare (browsers stop near 2,000 characters).
const maxLinkTarget = 4096

// replaceLinks replaces every inline markdown link [text](target) in p by
// the text a reader sees. The text may hold brackets ("[[Contact
// creator]](…)" reads "[Contact creator]") and links of its own; the target
// may hold balanced parentheses, spaces, an <angle-bracketed> URL and a
// "title" or 'title'. A target whose parentheses do not balance ends at its
// first ")", as Reddit's renderer ends it. Old-style spoilers
// [label](/s "hidden text") keep their hidden text (see spoilerText).
// Backslash escapes must already be protected (cleanInline does that), so
// an escaped "\)" neither opens nor closes anything.
func replaceLinks(p string) string {
	if !strings.Contains(p, "](") {
		return p
	}
	closing := matchBrackets(p)
	var b strings.Builder
	last := 0
	for i := 0; i < len(p); i++ {
		j, ok := closing[i]
		if !ok || j+1 >= len(p) || p[j+1] != '(' || i < last {
			continue
		}
		end, target, title, ok := scanLinkTarget(p, j+2)
		if !ok {
			continue
		}
		b.WriteString(p[last:i])
		text := replaceLinks(p[i+1 : j])
		if isSpoilerTarget(target) {
			text = spoilerText(text, title)
		}
		b.WriteString(text)
		last = end
		i = end - 1
	}
	if last == 0 {
		return p
	}
	b.WriteString(p[last:])
	return b.String()
}

// matchBrackets maps the index of each "[" that has a matching "]" to the
// index of that "]", nesting counted.
func matchBrackets(p string) map[int]int {
	m := make(map[int]int)
	var open []int
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '[':
			open = append(open, i)
		case ']':
			if n := len(open); n > 0 {
				m[open[n-1]] = i
				open = open[:n-1]
			}
		}
	}
	return m
}

// scanLinkTarget reads a link target starting at p[start] (just after the
// "("). It returns the index after the closing ")", the target and the
// title, or ok false when the parenthesis is never closed on its line.
func scanLinkTarget(p string, start int) (end int, target, title string, ok bool) {
	limit := min(len(p), start+maxLinkTarget)
	if nl := strings.IndexByte(p[start:limit], '\n'); nl >= 0 {
		limit = start + nl
	}
	line := p[start:limit]
	i := len(line) - len(strings.TrimLeft(line, " \t"))
	if i < len(line) && line[i] == '<' {
		// <URL with spaces>, then an optional title.
		if k := strings.IndexByte(line[i:], '>'); k >= 0 {
			if n, title, ok := closeAfterTarget(line, i+k+1); ok {
				return start + n, line[i+1 : i+k], title, true
			}
		}
	}
	depth := 0
	for k := i; k < len(line); k++ {
		switch c := line[k]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ')':
			return start + k + 1, strings.TrimSpace(line[i:k]), "", true
		case (c == ' ' || c == '\t') && k+1 < len(line) && (line[k+1] == '"' || line[k+1] == '\''):
			if n, title, ok := closeAfterTarget(line, k); ok {
				return start + n, strings.TrimSpace(line[i:k]), title, true
			}
		}
	}
	// Unbalanced: the target ends at its first ")".
	if k := strings.IndexByte(line[i:], ')'); k >= 0 {
		return start + i + k + 1, strings.TrimSpace(line[i : i+k]), "", true
	}
	return 0, "", "", false
}

// closeAfterTarget reads what may follow a target at line[k]: spaces, an
// optional "title" or 'title' (which may hold parentheses), spaces and the
// closing ")". It returns the index after the ")" and the title.
func closeAfterTarget(line string, k int) (end int, title string, ok bool) {
	rest := strings.TrimLeft(line[k:], " \t")
	k = len(line) - len(rest)
	if rest != "" && (rest[0] == '"' || rest[0] == '\'') {
		q := rest[0]
		// The title ends at the first matching quote followed by ")".
		for e := 1; e < len(rest); e++ {
			if rest[e] != q {
				continue
			}
			after := strings.TrimLeft(rest[e+1:], " \t")
			if strings.HasPrefix(after, ")") {
				return len(line) - len(after) + 1, rest[1:e], true
			}
		}
		return 0, "", false
	}
	if strings.HasPrefix(rest, ")") {
		return k + 1, "", true
	}
	return 0, "", false
}

// isSpoilerTarget reports the link targets of Reddit's old spoiler syntax:
// [label](/s "hidden text"), also #s, /spoiler and #spoiler.
func isSpoilerTarget(target string) bool {
	switch strings.ToLower(target) {
	case "/s", "#s", "/spoiler", "#spoiler":
		return true
	}
	return false
}

// spoilerText is what an old-style spoiler reads as: its label, then its
// hidden text; a label that only says "spoiler" gives way to the text.
func spoilerText(label, hidden string) string {
	hidden = strings.TrimSpace(hidden)
	switch strings.ToLower(strings.Trim(label, " *_~^")) {
	case "", "s", "spoiler", "spoilers":
		if hidden != "" {
			return hidden
		}
	}
	if hidden == "" {
		return label
	}
	return label + " " + hidden
}
