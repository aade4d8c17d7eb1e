package store

import "context"

// gate admits at most cap(g) holders at a time, in the order they arrive.
//
// database/sql hands a freed connection to a random waiter. Under overload (more requests
// in flight than connections) that makes waiting a lottery: most requests get a
// connection at once, a few wait through many turns, and the p99 latency grows far past
// the median. A gate as wide as the pool in front of it means nobody waits inside
// database/sql, and the waiting becomes first come, first served: Go queues the senders
// blocked on a channel in order and a freed place goes to the longest waiting.
type gate chan struct{}

func newGate(n int) gate { return make(gate, n) }

// enter waits for a place. It fails, without taking one, when ctx ends first.
func (g gate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	default:
	}
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// leave gives a place back, to the longest waiting enter if there is one.
func (g gate) leave() { <-g }
