// Package leader elects one process among several to do what only one may do at a time
// (the active trainer; a CLI command that writes models). An Elector has two
// implementations behind one interface:
//
//   - PG: a PostgreSQL session-level advisory lock (pg_try_advisory_lock), held on a
//     dedicated connection. The server frees it when that session ends, so a holder
//     killed with SIGKILL frees it at once (its socket closes), and a holder whose
//     machine vanishes frees it when the server's TCP keepalives give up on the session
//     (about 11 s: the lock connection sets tcp_keepalives_idle=5, _interval=2, _count=3).
//   - File: an flock(2) on a file, for processes on one machine sharing the embedded
//     SQLite store. The kernel frees it when the holder's process dies.
//
// Standbys retry every Options.Poll (2 s), so a standby takes over at most one poll
// (plus a reconnect) after the lock is freed. The holder checks its lock every
// Options.Check (2 s: a keepalive query on the lock connection, or that the lock file is
// still the one it locked) and, when that fails, cancels the context it handed out
// before it lets the lock go. Leadership ends in the holder's process within
// Check+Timeout of losing it; for the time in between two processes may each believe
// they lead, so a write that must never overlap also checks a fencing condition in its
// own transaction.
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// An Elector takes and holds leadership.
type Elector interface {
	// Acquire blocks until this process leads, or ctx ends (the error is then ctx's,
	// with the last failure that kept it from trying, if any). ctx bounds the
	// leadership too, so pass the context of the work, not an attempt's timeout. held
	// is cancelled when leadership ends: lost (context.Cause wraps ErrLost), released
	// (ErrReleased), or ctx done. release gives leadership up and returns once the lock
	// is let go; it is idempotent and must be called.
	Acquire(ctx context.Context) (held context.Context, release func(), err error)
	// TryAcquire is Acquire without waiting: an error wrapping ErrHeld, naming the
	// holder when it is known, says another process leads.
	TryAcquire(ctx context.Context) (held context.Context, release func(), err error)
}

var (
	// ErrHeld: another process holds the leadership.
	ErrHeld = errors.New("leader: held by another process")
	// ErrLost: the holder could no longer confirm its lock (connection lost, lock
	// file removed) and gave leadership up.
	ErrLost = errors.New("leader: leadership lost")
	// ErrReleased: release was called.
	ErrReleased = errors.New("leader: released")
)

// Options tune an Elector; zero fields take the defaults.
type Options struct {
	Poll    time.Duration // between a standby's attempts; default 2s
	Check   time.Duration // between the holder's checks of its lock; default 2s
	Timeout time.Duration // for one attempt, check or connection; default 3s
	Log     *slog.Logger  // default: discard
}

func (o Options) withDefaults() Options {
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
	if o.Check <= 0 {
		o.Check = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// maxBackoff bounds the wait between attempts that failed with an error (the store
// unreachable), which doubles from Poll.
const maxBackoff = 10 * time.Second

// A lock is one attempt at leadership: what the implementations provide.
type lock interface {
	// try takes the lock if it is free: ok false with a nil error means another
	// holds it. An error is a failure to ask (connection, file system).
	try(ctx context.Context) (ok bool, err error)
	// holder describes who holds the lock, "" when unknown.
	holder(ctx context.Context) string
	// check returns an error once this holder can no longer confirm the lock.
	check(ctx context.Context) error
	// unlock gives the lock up (best effort) and frees what the attempt keeps.
	unlock()
	// token describes the lock once held, for fencing (see Token).
	token() Token
}

// A Token is one held leadership. The held context carries the tokens of every
// leadership it was derived from (Tokens), so that a write made under them can
// check, inside its own transaction, that each is still held: a fence against the
// moments when a holder that lost its lock has not noticed yet.
type Token struct {
	Name string // the election's name
	// Key and Session identify a PostgreSQL advisory lock: its key and the backend
	// pid of the session that holds it (pg_locks.pid). Session is 0 for a file lock.
	Key     int64
	Session uint32
	check   func() error // a file lock's own check; nil for PostgreSQL
}

// Check confirms a file lock is still held (its path still names the locked file).
// A PostgreSQL token returns nil: only the database can tell, in the writer's
// transaction (pg_locks where pid = Session).
func (t Token) Check() error {
	if t.check == nil {
		return nil
	}
	return t.check()
}

type tokensKey struct{}

// Tokens returns the tokens of the leaderships ctx was derived from, outermost first.
func Tokens(ctx context.Context) []Token {
	ts, _ := ctx.Value(tokensKey{}).([]Token)
	return ts
}

func withToken(ctx context.Context, t Token) context.Context {
	outer := Tokens(ctx)
	ts := make([]Token, 0, len(outer)+1)
	ts = append(append(ts, outer...), t)
	return context.WithValue(ctx, tokensKey{}, ts)
}

// acquire runs the election loop over l: once when wait is false.
func acquire(ctx context.Context, l lock, o Options, wait bool) (context.Context, func(), error) {
	delay, lastErr, toldHolder := o.Poll, error(nil), false
	for {
		tctx, cancel := context.WithTimeout(ctx, o.Timeout)
		ok, err := l.try(tctx)
		cancel()
		switch {
		case ok:
			o.Log.Info("leader: acquired")
			held, release := hold(ctx, l, o)
			return held, release, nil
		case err != nil && !wait:
			l.unlock()
			return nil, nil, err
		case err != nil:
			lastErr = err
			o.Log.Warn("leader: cannot reach the lock; retrying", "in", delay, "err", err)
		case !wait:
			who := holderOf(ctx, l, o)
			l.unlock()
			return nil, nil, fmt.Errorf("%w: %s", ErrHeld, who)
		default:
			delay, lastErr = o.Poll, nil
			if !toldHolder {
				o.Log.Info("leader: standing by", "holder", holderOf(ctx, l, o), "poll", o.Poll)
				toldHolder = true
			}
		}
		select {
		case <-ctx.Done():
			l.unlock()
			if lastErr != nil {
				return nil, nil, fmt.Errorf("leader: %w (last attempt: %w)", ctx.Err(), lastErr)
			}
			return nil, nil, ctx.Err()
		case <-time.After(delay):
		}
		if lastErr != nil {
			delay = min(2*delay, maxBackoff)
		}
	}
}

func holderOf(ctx context.Context, l lock, o Options) string {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if who := l.holder(ctx); who != "" {
		return who
	}
	return "holder unknown"
}

// hold keeps the lock l until release, a failed check, or ctx's end; held is cancelled
// before the lock is given up.
func hold(ctx context.Context, l lock, o Options) (context.Context, func()) {
	held, cancel := context.WithCancelCause(withToken(ctx, l.token()))
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer l.unlock() // after cancel: nobody else leads while this process still does
		t := time.NewTicker(o.Check)
		defer t.Stop()
		for {
			select {
			case <-stop:
				cancel(ErrReleased)
				return
			case <-held.Done():
				o.Log.Info("leader: giving up", "cause", context.Cause(held))
				return
			case <-t.C:
				cctx, ccancel := context.WithTimeout(ctx, o.Timeout)
				err := l.check(cctx)
				ccancel()
				if err != nil {
					o.Log.Warn("leader: lost", "err", err)
					cancel(fmt.Errorf("%w: %w", ErrLost, err))
					return
				}
			}
		}
	}()
	var once sync.Once
	return held, func() {
		once.Do(func() { close(stop) })
		<-done
	}
}

// identity names this process for the other contenders: host and pid.
func identity() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}
