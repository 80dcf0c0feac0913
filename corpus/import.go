package corpus

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"commentbot/text"
)

// MaxRecordBytes is the largest CSV record or NDJSON line an importer
// accepts (1 MiB; a Reddit comment is at most 10,000 characters, ≤ 40 kB).
// A larger one refuses the file with ErrRecordTooLarge after reading at most
// MaxRecordBytes plus a few KiB of it, so a 10 MB field never sits in memory.
const MaxRecordBytes = 1 << 20

// csvReadAhead bounds how far encoding/csv's 4 KiB bufio.Reader may read past
// the record it is parsing.
const csvReadAhead = 8 << 10

// Errors an import can wrap in an *ImportError.
var (
	ErrEmptyFile      = errors.New("corpus: empty file")
	ErrNoBodyColumn   = errors.New("corpus: no body column")
	ErrInvalidUTF8    = errors.New("corpus: invalid UTF-8")
	ErrRecordTooLarge = errors.New("corpus: record too large")
	ErrMalformed      = errors.New("corpus: malformed record")
	ErrUnknownFormat  = errors.New("corpus: unknown import format")
)

// An ImportError says where and why a file was refused.
type ImportError struct {
	File   string // name the reader was given
	Line   int    // 1-based line where the bad record starts (or the bad field is)
	Reason string // what is wrong, for a person
	Err    error  // one of the Err… sentinels above, or the parser's error
}

func (e *ImportError) Error() string {
	return fmt.Sprintf("corpus: import %s:%d: %s", e.File, e.Line, e.Reason)
}

func (e *ImportError) Unwrap() error { return e.Err }

// Format is an import file format.
type Format string

// Import formats.
const (
	// FormatCSV is a CSV file with a header row naming a body column; id (or
	// name), subreddit, author, score and created_utc columns are read when
	// present, any other column is ignored.
	FormatCSV Format = "csv"
	// FormatNDJSON is one Reddit comment object per line, as Reddit's API and
	// public dumps write them: id or name, subreddit, author, body, score,
	// created_utc (number or string). Blank lines are skipped.
	FormatNDJSON Format = "ndjson"
)

// FormatOf picks the format from a file name: .csv, or .ndjson / .jsonl /
// .json for NDJSON.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".ndjson", ".jsonl", ".json":
		return FormatNDJSON, nil
	}
	return "", fmt.Errorf("%w: %q (want .csv, .ndjson, .jsonl or .json)", ErrUnknownFormat, path)
}

// SyntheticID returns the id given to a comment that has none:
// "h1_" + the first 16 hex digits of sha256(body), body as read from the
// file (before cleaning), so importing the same file again adds nothing.
func SyntheticID(body string) string {
	sum := sha256.Sum256([]byte(body))
	return "h1_" + hex.EncodeToString(sum[:8])
}

// fullname turns a Reddit name or id into a fullname: name when given, else
// id, prefixed with "t1_" unless it already has a type prefix such as
// "t1_" or the synthetic "h1_" (a lower-case letter, a digit, "_").
func fullname(name, id string) string {
	if name != "" {
		return name
	}
	if id == "" {
		return ""
	}
	if len(id) > 3 && id[0] >= 'a' && id[0] <= 'z' && id[1] >= '0' && id[1] <= '9' && id[2] == '_' {
		return id
	}
	return "t1_" + id
}

// secondsTime converts Unix seconds (possibly fractional) to a UTC time.
func secondsTime(sec float64) (time.Time, error) {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 1e11 {
		return time.Time{}, fmt.Errorf("time %v outside 1970..5138", sec)
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), nil
}

// ReadComments reads r in format f and calls fn for each comment in file
// order (see ReadCSV, ReadNDJSON).
func ReadComments(ctx context.Context, r io.Reader, name string, f Format, fn func(Comment) error) error {
	switch f {
	case FormatCSV:
		return ReadCSV(ctx, r, name, fn)
	case FormatNDJSON:
		return ReadNDJSON(ctx, r, name, fn)
	}
	return fmt.Errorf("%w: %q", ErrUnknownFormat, f)
}

// capReader refuses to read more than limit bytes past mark(), the input
// offset where the record being parsed starts.
type capReader struct {
	r     io.Reader
	n     int64
	mark  func() int64
	limit int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n-c.mark() > c.limit {
		return 0, ErrRecordTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// csvColumns are the header columns ReadCSV reads; -1 when absent.
type csvColumns struct {
	body, id, name, subreddit, author, score, created int
}

// ReadCSV reads a CSV file with a header row and calls fn for each row in
// file order. Columns are found by header name, case-insensitively, a UTF-8
// byte order mark before the header is ignored: body (required), id or name,
// subreddit, author, score (integer), created_utc (Unix seconds). A row
// without an id gets SyntheticID(body). Fields are returned as written
// (cleaning is the caller's); quoted fields may hold newlines and doubled
// quotes (RFC 4180).
//
// It stops at the first problem with an *ImportError naming name, the line
// and the reason: an empty file, no body column, a quote that is never
// closed or a stray one, a row with a different number of fields, invalid
// UTF-8, a record above MaxRecordBytes, a bad score or time. An error
// returned by fn stops the read and is returned unchanged.
func ReadCSV(ctx context.Context, r io.Reader, name string, fn func(Comment) error) error {
	lim := &capReader{r: r, limit: MaxRecordBytes + csvReadAhead}
	cr := &csvReader{r: csv.NewReader(lim), name: name, nextLine: 1}
	lim.mark = cr.r.InputOffset
	cr.r.ReuseRecord = true
	cols, err := cr.header()
	if err != nil {
		return err
	}
	cr.nextLine = 2
	start := cr.r.InputOffset()
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := cr.r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return cr.readErr(err)
		}
		line, _ := cr.r.FieldPos(0)
		if size := cr.r.InputOffset() - start; size > MaxRecordBytes {
			return cr.bad(line, ErrRecordTooLarge, "record of %d bytes, larger than %d", size, MaxRecordBytes)
		}
		start = cr.r.InputOffset()
		last := len(rec) - 1
		lastLine, _ := cr.r.FieldPos(last)
		cr.nextLine = lastLine + strings.Count(rec[last], "\n") + 1
		c, err := cr.comment(rec, cols)
		if err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
}

// csvReader is ReadCSV's state: the parser, the file's name and the line
// where the next record starts, for errors without a position.
type csvReader struct {
	r        *csv.Reader
	name     string
	names    []string // the header's column names
	nextLine int
}

// bad is an *ImportError at line.
func (cr *csvReader) bad(line int, err error, format string, args ...any) error {
	return &ImportError{File: cr.name, Line: line, Reason: fmt.Sprintf(format, args...), Err: err}
}

// readErr turns an error of the CSV parser into an *ImportError.
func (cr *csvReader) readErr(err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, ErrRecordTooLarge):
		return cr.bad(cr.nextLine, ErrRecordTooLarge, "record larger than %d bytes", MaxRecordBytes)
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrQuote):
		return cr.bad(pe.StartLine, fmt.Errorf("%w: %w", ErrMalformed, pe.Err),
			"quoted field of the record starting here is not closed properly (%v, at line %d, column %d)", pe.Err, pe.Line, pe.Column)
	case errors.As(err, &pe):
		return cr.bad(pe.Line, fmt.Errorf("%w: %w", ErrMalformed, pe.Err), "%v (column %d)", pe.Err, pe.Column)
	}
	return cr.bad(cr.nextLine, err, "read: %v", err)
}

// header reads the header row and finds the columns ReadCSV reads.
func (cr *csvReader) header() (csvColumns, error) {
	cols := csvColumns{-1, -1, -1, -1, -1, -1, -1}
	header, err := cr.r.Read()
	if err == io.EOF {
		return cols, cr.bad(1, ErrEmptyFile, "empty file: no header row")
	}
	if err != nil {
		return cols, cr.readErr(err)
	}
	cr.names = make([]string, len(header))
	for i, h := range header {
		if i == 0 {
			h = strings.TrimPrefix(h, "\uFEFF")
		}
		if !utf8.ValidString(h) {
			return cols, cr.bad(1, ErrInvalidUTF8, "header column %d is not valid UTF-8", i+1)
		}
		cr.names[i] = h
		for _, c := range []struct {
			key string
			dst *int
		}{{"body", &cols.body}, {"id", &cols.id}, {"name", &cols.name}, {"subreddit", &cols.subreddit},
			{"author", &cols.author}, {"score", &cols.score}, {"created_utc", &cols.created}} {
			if strings.EqualFold(strings.TrimSpace(h), c.key) && *c.dst < 0 {
				*c.dst = i
			}
		}
	}
	if cols.body < 0 {
		return cols, cr.bad(1, ErrNoBodyColumn, "no body column in header %q", strings.Join(cr.names, ","))
	}
	return cols, nil
}

// comment makes the Comment of one record: fields as written, a synthetic
// id when the record has none, the score and time checked.
func (cr *csvReader) comment(rec []string, cols csvColumns) (Comment, error) {
	for i, f := range rec {
		if !utf8.ValidString(f) {
			l, col := cr.r.FieldPos(i)
			return Comment{}, cr.bad(l, ErrInvalidUTF8, "field %q (column %d) is not valid UTF-8", cr.names[i], col)
		}
	}
	field := func(i int) string {
		if i < 0 {
			return ""
		}
		return rec[i]
	}
	c := Comment{
		ID:        fullname(field(cols.name), strings.TrimSpace(field(cols.id))),
		Subreddit: field(cols.subreddit),
		Author:    field(cols.author),
		Body:      rec[cols.body],
	}
	if c.ID == "" {
		c.ID = SyntheticID(c.Body)
	}
	if s := strings.TrimSpace(field(cols.score)); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			l, _ := cr.r.FieldPos(cols.score)
			return Comment{}, cr.bad(l, ErrMalformed, "score %q is not an integer", s)
		}
		c.Score = int(v)
	}
	if s := strings.TrimSpace(field(cols.created)); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err == nil {
			c.Created, err = secondsTime(v)
		}
		if err != nil {
			l, _ := cr.r.FieldPos(cols.created)
			return Comment{}, cr.bad(l, ErrMalformed, "created_utc %q is not Unix seconds", s)
		}
	}
	return c, nil
}

// flexNumber is a JSON number that dumps sometimes write as a string
// ("created_utc": "1438387200"); null and "" read as absent.
type flexNumber struct {
	v   float64
	set bool
}

func (f *flexNumber) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("not a number: %s", b)
	}
	f.v, f.set = v, true
	return nil
}

// redditObject is the part of a Reddit comment object that is read.
type redditObject struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Subreddit  string     `json:"subreddit"`
	Author     string     `json:"author"`
	Body       *string    `json:"body"`
	Score      flexNumber `json:"score"`
	CreatedUTC flexNumber `json:"created_utc"`
}

// ReadNDJSON reads one Reddit comment object per line and calls fn for each
// in file order. The fullname is name, else "t1_" + id, else
// SyntheticID(body). Blank lines are skipped; unknown fields are ignored.
//
// It stops at the first problem with an *ImportError naming name, the line
// and the reason: a file without any object, a line that is not a JSON
// object, invalid UTF-8, no body field, a score that is not an integer, a
// bad created_utc, a line above MaxRecordBytes. An error returned by fn
// stops the read and is returned unchanged.
func ReadNDJSON(ctx context.Context, r io.Reader, name string, fn func(Comment) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxRecordBytes+1) // +1: the newline
	bad := func(line int, err error, format string, args ...any) error {
		return &ImportError{File: name, Line: line, Reason: fmt.Sprintf(format, args...), Err: err}
	}
	line, objects := 0, 0
	for sc.Scan() {
		line++
		if line%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if !utf8.Valid(b) {
			return bad(line, ErrInvalidUTF8, "line is not valid UTF-8")
		}
		if b[0] != '{' {
			return bad(line, ErrMalformed, "not a JSON object: %.40q", b)
		}
		var o redditObject
		if err := json.Unmarshal(b, &o); err != nil {
			return bad(line, fmt.Errorf("%w: %w", ErrMalformed, err), "broken JSON: %v", err)
		}
		if o.Body == nil {
			return bad(line, ErrMalformed, "object has no body field")
		}
		c := Comment{ID: fullname(o.Name, o.ID), Subreddit: o.Subreddit, Author: o.Author, Body: *o.Body}
		if c.ID == "" {
			c.ID = SyntheticID(c.Body)
		}
		if o.Score.set {
			if v := o.Score.v; v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
				return bad(line, ErrMalformed, "score %v is not an integer", v)
			}
			c.Score = int(o.Score.v)
		}
		if o.CreatedUTC.set {
			t, err := secondsTime(o.CreatedUTC.v)
			if err != nil {
				return bad(line, ErrMalformed, "created_utc: %v", err)
			}
			c.Created = t
		}
		objects++
		if err := fn(c); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return bad(line+1, ErrRecordTooLarge, "line longer than %d bytes", MaxRecordBytes)
		}
		return bad(line+1, err, "read: %v", err)
	}
	if objects == 0 {
		return bad(max(line, 1), ErrEmptyFile, "empty file: no comment objects")
	}
	return nil
}

// FileSource returns a Source that reads the file at path (format by
// FormatOf) each time it is called, without cleaning.
func FileSource(path string) (Source, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, fn func(Comment) error) error {
		fh, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("corpus: read %s: %w", path, err)
		}
		defer fh.Close()
		return ReadComments(ctx, bufio.NewReaderSize(fh, 64<<10), path, f, fn)
	}, nil
}

// SliceSource returns a Source over cs, in order.
func SliceSource(cs []Comment) Source {
	return func(ctx context.Context, fn func(Comment) error) error {
		for _, c := range cs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
}

// CleanSource returns a Source of the comments of src that rules keep,
// cleaned.
func CleanSource(src Source, rules text.CleanRules) Source {
	return func(ctx context.Context, fn func(Comment) error) error {
		return src(ctx, func(c Comment) error {
			kept, why := Clean(c, rules)
			if why != "" {
				return nil
			}
			return fn(kept)
		})
	}
}
