package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"commentbot/config"
	"commentbot/scheduler/runs"
)

// UnloadableError says that no version of a model on disk can serve: each one failed
// to decode or did not match the config (Check). Errs holds one error per version.
type UnloadableError struct {
	Name string
	Errs []error
}

func (e *UnloadableError) Error() string {
	return fmt.Sprintf("scheduler: no checkpoint of %s can serve: %v", e.Name, errors.Join(e.Errs...))
}

// Unwrap returns the per-version errors.
func (e *UnloadableError) Unwrap() []error { return e.Errs }

// loadVersion decodes version v of mc.Name and checks it against mc.
func (s *Scheduler) loadVersion(ctx context.Context, mc config.ModelConfig, v int) (Model, VersionInfo, error) {
	m, err := s.repo.Load(ctx, s.engine, mc.Name, v)
	if err != nil {
		return nil, VersionInfo{Version: v}, err
	}
	info, err := s.repo.Info(ctx, mc.Name, v)
	if err != nil {
		info = VersionInfo{Version: v}
	}
	if err := Check(mc, info, m); err != nil {
		return nil, info, err
	}
	return m, info, nil
}

// LoadVersion loads version v of name (0: the live one) for a command that samples
// or evaluates it, checked against the config in force like every load.
func (s *Scheduler) LoadVersion(ctx context.Context, name string, v int) (Model, int, error) {
	cfg := s.Config()
	mc, ok := cfg.Model(name)
	if !ok {
		return nil, 0, fmt.Errorf("%w: %q", ErrUnknownModel, name)
	}
	if v == 0 {
		live, err := s.repo.Live(ctx, name)
		if err != nil {
			return nil, 0, err
		}
		v = live
	}
	m, _, err := s.loadVersion(ctx, mc, v)
	return m, v, err
}

// loadBest loads the live version of mc, else the newest version that loads and
// matches the config (which it then makes live), so that one damaged or foreign file
// never keeps a model offline. ErrNoLive: there is no version; *UnloadableError: none
// can serve.
func (s *Scheduler) loadBest(ctx context.Context, mc config.ModelConfig) (Model, VersionInfo, error) {
	name := mc.Name
	v, err := s.repo.Live(ctx, name)
	if err != nil && !errors.Is(err, ErrNoLive) {
		return nil, VersionInfo{}, err
	}
	list, err := s.repo.List(ctx, name)
	if err != nil {
		return nil, VersionInfo{}, err
	}
	candidates := []int{}
	if v > 0 {
		candidates = append(candidates, v)
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Version != v {
			candidates = append(candidates, list[i].Version)
		}
	}
	if len(candidates) == 0 {
		return nil, VersionInfo{}, fmt.Errorf("%w: %s", ErrNoLive, name)
	}
	var errs []error
	for _, c := range candidates {
		if ctx.Err() != nil {
			return nil, VersionInfo{}, ctx.Err()
		}
		m, info, err := s.loadVersion(ctx, mc, c)
		if err != nil {
			errs = append(errs, err)
			s.log.Warn("checkpoint refused", "model", name, "version", c, "err", err)
			continue
		}
		if c != v && s.Leading() {
			if err := s.repo.SetLive(ctx, name, c, v); err != nil {
				return nil, VersionInfo{}, err
			}
			s.log.Warn("made the newest usable version live", "model", name, "version", c, "live_file_named", v)
		}
		return m, info, nil
	}
	return nil, VersionInfo{}, &UnloadableError{Name: name, Errs: errs}
}

// loadLive loads the best version of mc (loadBest) and publishes it.
func (s *Scheduler) loadLive(ctx context.Context, mc config.ModelConfig) error {
	m, info, err := s.loadBest(ctx, mc)
	if err != nil {
		return err
	}
	info.Live = true
	s.publish(mc.Name, info.Version, info, m)
	return nil
}

// Trouble is what keeps a model from serving the checkpoints its files name, as
// /models shows it.
type Trouble struct {
	// SetAside is where a lineage none of whose versions could serve was moved.
	SetAside string
	// Refused is the version the live file names that was not loaded (0 = none).
	Refused int
	Reason  string
	At      time.Time
	stamp   string // of the refused checkpoint file, to try again once it changes
}

// Trouble returns the last trouble of name in this process, if any.
func (s *Scheduler) Trouble(name string) (Trouble, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trouble[name]
	return t, ok
}

// setAside moves a lineage none of whose versions can serve out of the way (kept on
// disk, see Repo.SetAside) so that a new one trains; it is logged, recorded as a run
// and remembered for /models.
func (s *Scheduler) setAside(ctx context.Context, name string, cause error) error {
	now := s.now()
	dst, err := s.repo.SetAside(ctx, name, now)
	if err != nil {
		s.log.Error("cannot set the unusable lineage aside", "model", name, "err", err, "cause", cause)
		return err
	}
	s.mu.Lock()
	s.trouble[name] = Trouble{SetAside: dst, Reason: cause.Error(), At: now}
	s.mu.Unlock()
	s.log.Error("no checkpoint of the model can serve: its lineage is set aside (kept on disk) and a new one trains",
		"model", name, "moved_to", dst, "err", cause)
	s.record(runs.Run{Job: JobSetAside, Model: name, Started: now, Ended: now, Outcome: runs.OutcomeError,
		Detail: fmt.Sprintf("moved to %s: %v", dst, cause)})
	return nil
}
