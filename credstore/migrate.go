package credstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Migrate moves every credential from one store to another, for when the
// user switches storage mode. It locks each profile (in sorted order,
// through from.Lock) for the whole move so no refresh is lost in between,
// copies every profile, and only after all copies succeeded deletes them
// from the old store. If a copy fails, the copies already made are removed
// again (best effort) and the old store is left as it was. moved lists the
// profiles copied, sorted. Moving a store onto itself does nothing.
func Migrate(ctx context.Context, from, to Store) (moved []string, err error) {
	if sameStore(from, to) {
		return nil, nil
	}
	profiles, err := from.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("credstore: migrate: %w", err)
	}
	slices.Sort(profiles)
	for _, p := range profiles {
		unlock, err := from.Lock(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("credstore: migrate: %w", err)
		}
		defer unlock()
	}

	undo := func() {
		for _, p := range moved {
			_ = to.Delete(context.WithoutCancel(ctx), p)
		}
	}
	for _, p := range profiles {
		c, err := from.Get(ctx, p)
		if errors.Is(err, ErrNotFound) {
			continue // listed but unreadable (and warned about), or gone
		}
		if err == nil {
			err = to.Put(ctx, p, c)
		}
		if err != nil {
			undo()
			return nil, fmt.Errorf("credstore: migrate %q from %s to %s: %w", p, from.Name(), to.Name(), err)
		}
		moved = append(moved, p)
	}
	for _, p := range moved {
		if err := from.Delete(ctx, p); err != nil {
			return moved, fmt.Errorf("credstore: migrate: copied to %s, but could not remove %q from %s: %w", to.Name(), p, from.Name(), err)
		}
	}
	return moved, nil
}

// sameStore reports whether a and b keep their data in the same place.
func sameStore(a, b Store) bool {
	if t := reflect.TypeOf(a); t != nil && t.Comparable() && a == b {
		return true
	}
	type located interface{ location() string }
	la, ok1 := a.(located)
	lb, ok2 := b.(located)
	return ok1 && ok2 && la.location() == lb.location()
}
