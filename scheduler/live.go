package scheduler

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"commentbot/config"
)

// Errors of the live set.
var (
	ErrUnknownModel = errors.New("scheduler: unknown model")
	ErrDisabled     = errors.New("scheduler: model is disabled")
	ErrNotReady     = errors.New("scheduler: model is not trained yet")
)

// Loaded is one live model version. It is immutable once published: a promotion
// publishes a new Loaded, it never edits one, so a reader holding it can keep
// generating from the old version while the swap happens.
type Loaded struct {
	Name     string
	Config   config.ModelConfig
	Version  int
	Info     VersionInfo
	Model    Model
	LoadedAt time.Time
}

// slot is one enabled model: its config and the live version (nil until trained).
type slot struct {
	cfg  config.ModelConfig
	live atomic.Pointer[Loaded]
}

// Live is the set of enabled models and their live versions. Readers (Get,
// Names) take no lock: the set is an immutable map behind an atomic pointer,
// replaced as a whole when models are enabled or disabled, and each model's live
// version is its own atomic pointer, swapped on promotion or rollback. So a
// /comment never waits for a promotion and holds nothing across a generation.
type Live struct {
	mu    sync.Mutex // serialises writers
	slots atomic.Pointer[map[string]*slot]
}

// NewLive returns an empty set.
func NewLive() *Live {
	l := &Live{}
	m := map[string]*slot{}
	l.slots.Store(&m)
	return l
}

// Get returns the live version of name: ErrUnknownModel when it is not in the
// config or disabled, ErrNotReady while it has no trained version yet.
func (l *Live) Get(name string) (*Loaded, error) {
	s, ok := (*l.slots.Load())[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownModel, name)
	}
	if p := s.live.Load(); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrNotReady, name)
}

// ModelState is one enabled model as the bot lists it.
type ModelState struct {
	Config config.ModelConfig
	Ready  bool
	Live   *Loaded // nil when not ready
}

// Models returns the enabled models, sorted by name.
func (l *Live) Models() []ModelState {
	m := *l.slots.Load()
	out := make([]ModelState, 0, len(m))
	for _, s := range m {
		p := s.live.Load()
		out = append(out, ModelState{Config: s.cfg, Ready: p != nil, Live: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Config.Name < out[j].Config.Name })
	return out
}

// Names returns the enabled models that are ready to serve, sorted.
func (l *Live) Names() []string {
	var out []string
	for _, s := range l.Models() {
		if s.Ready {
			out = append(out, s.Config.Name)
		}
	}
	return out
}

// Enabled reports whether name is in the set.
func (l *Live) Enabled(name string) bool {
	_, ok := (*l.slots.Load())[name]
	return ok
}

// configure makes the set hold exactly the given enabled models: slots of models
// no longer listed are dropped (their next Get fails), new ones start not ready,
// kept ones keep their live version (with the new config). It reports whether
// the set of names changed.
func (l *Live) configure(models []config.ModelConfig) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := *l.slots.Load()
	next := make(map[string]*slot, len(models))
	changed := false
	for _, mc := range models {
		s := &slot{cfg: mc}
		if o, ok := old[mc.Name]; ok {
			if p := o.live.Load(); p != nil {
				// Same version, new config (max_tokens, max_temperature…).
				cp := *p
				cp.Config = mc
				s.live.Store(&cp)
			}
		} else {
			changed = true
		}
		next[mc.Name] = s
	}
	if len(next) != len(old) {
		changed = true
	}
	l.slots.Store(&next)
	return changed
}

// publish makes ld the live version of its model; it is a no-op returning false
// when the model is not (or no longer) enabled.
func (l *Live) publish(ld *Loaded) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := (*l.slots.Load())[ld.Name]
	if !ok {
		return false
	}
	ld.Config = s.cfg
	s.live.Store(ld)
	return true
}
