package store

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

// A full gate admits its waiters in the order they arrived, and a waiter whose context
// ends leaves the queue without taking a place.
func TestGateAdmitsInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newGate(2)
		for range 2 {
			if err := g.enter(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		admitted := make(chan int, 8)
		cancelled, cancel := context.WithCancel(context.Background())
		gaveUp := make(chan error, 1)
		for i := range 6 {
			if i == 2 { // a waiter in the middle of the queue gives up
				go func() { gaveUp <- g.enter(cancelled) }()
				synctest.Wait()
			}
			go func() {
				if err := g.enter(context.Background()); err != nil {
					t.Error(err)
					return
				}
				admitted <- i
			}()
			synctest.Wait() // i is queued before i+1 starts
		}
		cancel()
		if err := <-gaveUp; !errors.Is(err, context.Canceled) {
			t.Fatalf("the cancelled waiter: %v", err)
		}
		for want := range 6 {
			g.leave() // a place for the next waiter
			synctest.Wait()
			if got := <-admitted; got != want {
				t.Fatalf("admitted %d, want %d", got, want)
			}
		}
		if n := len(g); n != 2 {
			t.Fatalf("%d places taken, want 2", n)
		}
	})
}
