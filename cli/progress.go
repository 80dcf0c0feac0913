package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"commentbot/scheduler"
)

// progressView draws the training progress of every model on one terminal line
// (rewritten in place with \r). Off a terminal it prints nothing: the scheduler
// logs structured progress lines instead.
type progressView struct {
	w        io.Writer
	terminal bool

	mu     sync.Mutex
	models map[string]scheduler.TrainProgress
	last   time.Time
	closed bool
}

func newProgressView(w io.Writer, terminal bool) *progressView {
	return &progressView{w: w, terminal: terminal, models: map[string]scheduler.TrainProgress{}}
}

func (p *progressView) update(name string, tp scheduler.TrainProgress) {
	if !p.terminal {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.models[name] = tp
	if p.closed || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r%s\x1b[K", p.line(100))
}

// ready ends the line of models that finished.
func (p *progressView) ready(names []string) {
	if !p.terminal {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range names {
		if _, ok := p.models[n]; ok {
			delete(p.models, n)
			fmt.Fprintf(p.w, "\r\x1b[K%s ready\n", n)
		}
	}
}

// done stops drawing (the console takes the terminal).
func (p *progressView) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && !p.closed && len(p.models) > 0 {
		fmt.Fprintln(p.w)
	}
	p.closed = true
}

// line renders every model's progress: name, a bar of the elapsed share of the
// budget (from the ETA), then the run's figures as TrainProgress.String writes
// them everywhere (step, epoch, loss, held-out loss, speed, ETA).
func (p *progressView) line(width int) string {
	names := make([]string, 0, len(p.models))
	for n := range p.models {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		tp := p.models[n]
		frac := 0.0
		if total := tp.Elapsed + tp.ETA; total > 0 {
			frac = float64(tp.Elapsed) / float64(total)
		}
		const bar = 12
		full := int(frac*bar + 0.5)
		parts = append(parts, fmt.Sprintf("%s [%s%s] %3.0f%% %s", n, strings.Repeat("#", full), strings.Repeat("-", bar-full), 100*frac, tp))
	}
	l := strings.Join(parts, " | ")
	if r := []rune(l); len(r) > width*2 {
		l = string(r[:width*2])
	}
	return l
}
