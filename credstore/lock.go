package credstore

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a waiting Lock tries the lock file again. flock
// has no blocking wait that a context can interrupt, so waiting is polling;
// waiters inside one process queue on a channel instead and do not poll.
const lockRetry = 10 * time.Millisecond

// semaphores is a set of named, context-aware mutexes. Entries live only
// while someone holds or waits for them.
type semaphores struct {
	mu sync.Mutex
	m  map[string]*semaphore
}

type semaphore struct {
	ch   chan struct{}
	refs int
}

// acquire takes the mutex called key, waiting until ctx ends.
func (s *semaphores) acquire(ctx context.Context, key string) (release func(), err error) {
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[string]*semaphore)
	}
	e := s.m[key]
	if e == nil {
		e = &semaphore{ch: make(chan struct{}, 1)}
		s.m[key] = e
	}
	e.refs++
	s.mu.Unlock()

	if err := ctx.Err(); err != nil {
		s.drop(key, e)
		return nil, err
	}
	select {
	case e.ch <- struct{}{}:
	case <-ctx.Done():
		s.drop(key, e)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-e.ch
			s.drop(key, e)
		})
	}, nil
}

func (s *semaphores) drop(key string, e *semaphore) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(s.m, key)
	}
}

// processLocks serialises, inside this process, everyone who locks the same
// lock file — whichever store value they go through — before they contend
// for the file lock itself.
var processLocks semaphores

// lockFile takes the exclusive lock on the sidecar lock file at path: first
// the in-process mutex for path, then the flock(2)/LockFileEx lock on the
// file, which excludes other processes. The lock file is created 0600 if
// missing and never removed (removing it would let two holders lock two
// different files). The returned function releases both; calling it again
// does nothing.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	key, err := filepath.Abs(path)
	if err != nil {
		key = filepath.Clean(path)
	}
	release, err := processLocks.acquire(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("credstore: lock %s: %w", path, err)
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err == nil && !ok {
		err = ctx.Err()
	}
	if err != nil {
		release()
		return nil, fmt.Errorf("credstore: lock %s: %w", path, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// LOCK_UN on a descriptor we hold does not fail in practice;
			// if it did, exiting would drop the lock.
			_ = fl.Unlock()
			release()
		})
	}, nil
}
