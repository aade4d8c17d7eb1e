package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ubgo/ubgo/store/dialect"
)

// Change notification: code that caches what it read from some entities (the access
// matrix from uba_els, sessions' roles from uba_userrole, ...) subscribes with OnCommit and
// is told, after a transaction commits, which of those entities it wrote. A transaction
// that fails or rolls back tells nobody.
//
// Several processes may serve one PostgreSQL database. There a transaction that writes an
// entity watched in its own process also sends a NOTIFY on the channel of the connection's schema, inside
// the transaction (PostgreSQL delivers it only if the transaction commits), and every
// store that has subscribers LISTENs on that channel over a dedicated connection and tells
// its own subscribers. The listener reconnects when its connection breaks; since
// notifications sent meanwhile are lost, after every (re)connection the subscribers are
// told that all their entities may have changed. Every server process is expected to run
// the same subscriptions (a process that watches nothing announces nothing). Processes
// sharing a SQLite file are not notified of each other's writes.
//
// Writes count when they go through the store's mStorage methods (and what they cascade
// to); raw SQL run through Tx.Writer must call Tx.Touch for the entities it changes.

// CommitFunc is told which of the entities it subscribed to a committed transaction
// wrote, in this process or (PostgreSQL) in another one. It runs in the goroutine that
// committed, or in the listener's, so it must be safe for concurrent use and should be
// quick: a commit returns to its caller only after the local subscribers ran.
type CommitFunc func(ctx context.Context, entities []string)

// ListenRetry is the first delay before the change listener reconnects; it doubles up to
// a minute while the database stays unreachable.
var ListenRetry = time.Second

type subscription struct {
	entities []string
	fn       CommitFunc
}

type notifier struct {
	s      *Store
	origin string // this store's identity in NOTIFY payloads, to skip its own

	mu      sync.Mutex
	subs    atomic.Pointer[[]*subscription]
	watched atomic.Pointer[map[string]bool]
	started bool
	closed  bool
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newNotifier(s *Store) *notifier {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := &notifier{s: s, origin: hex.EncodeToString(b[:])}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n
}

// OnCommit subscribes fn to committed writes of the given entities and returns the
// function that ends the subscription. On PostgreSQL the first subscription starts the
// listener for the other processes' writes.
func (s *Store) OnCommit(entities []string, fn CommitFunc) (cancel func()) {
	n := s.notify
	sub := &subscription{entities: slices.Clone(entities), fn: fn}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.setSubs(append(n.current(), sub))
	if !n.started && !n.closed {
		n.started = true
		n.startListeners()
	}
	return func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.setSubs(slices.DeleteFunc(slices.Clone(n.current()), func(x *subscription) bool { return x == sub }))
	}
}

func (n *notifier) current() []*subscription {
	if p := n.subs.Load(); p != nil {
		return *p
	}
	return nil
}

// setSubs publishes a new subscriber list and the set of watched entities; n.mu is held.
func (n *notifier) setSubs(subs []*subscription) {
	w := map[string]bool{}
	for _, sub := range subs {
		for _, e := range sub.entities {
			w[e] = true
		}
	}
	n.subs.Store(&subs)
	n.watched.Store(&w)
}

func (n *notifier) watches(entity string) bool {
	p := n.watched.Load()
	return p != nil && (*p)[entity]
}

// touch records that the transaction wrote entity, when someone watches it.
func (tx *Tx) touch(entity string) {
	if !tx.s.notify.watches(entity) || slices.Contains(tx.touched, entity) {
		return
	}
	tx.touched = append(tx.touched, entity)
}

// Touch records that the transaction changed the rows of an entity through raw SQL, so
// that OnCommit subscribers hear of it.
func (tx *Tx) Touch(entity string) { tx.touch(entity) }

// publish sends the NOTIFY of the written entities inside the transaction of each
// PostgreSQL connection they live on.
func (n *notifier) publish(tx *Tx) error {
	byConn := map[*Conn][]string{}
	for _, name := range tx.touched {
		e := n.s.Domain.Entity(name)
		if e == nil {
			continue
		}
		c := n.s.ConnOf(e)
		if c.Dialect.Name() == dialect.PostgreSQL && tx.txs[c] != nil {
			byConn[c] = append(byConn[c], name)
		}
	}
	for c, names := range byConn {
		payload := n.origin + " " + strings.Join(names, ",")
		if _, err := tx.txs[c].ExecContext(context.Background(), "SELECT pg_notify($1, $2)", channelName(c.Schema), payload); err != nil {
			return fmt.Errorf("notify %s of changes to %s: %w", c.Name, strings.Join(names, ", "), err)
		}
	}
	return nil
}

// deliver calls the subscribers of any of the entities. A panicking subscriber is logged
// and does not stop the others.
func (n *notifier) deliver(ctx context.Context, entities []string) {
	for _, sub := range n.current() {
		var mine []string
		for _, e := range entities {
			if slices.Contains(sub.entities, e) {
				mine = append(mine, e)
			}
		}
		if len(mine) == 0 {
			continue
		}
		func() {
			defer func() {
				if x := recover(); x != nil {
					n.s.log.Error("commit subscriber panicked", "entities", mine, "panic", x, "stack", string(debug.Stack()))
				}
			}()
			sub.fn(ctx, mine)
		}()
	}
}

// channelName is the NOTIFY channel of a schema (at most 63 bytes, PostgreSQL's limit).
func channelName(schema string) string {
	name := "ubgo_" + schema
	if len(name) > 63 {
		sum := sha256.Sum256([]byte(schema))
		name = "ubgo_" + hex.EncodeToString(sum[:12])
	}
	return name
}

// startListeners starts one listener per PostgreSQL connection; n.mu is held.
func (n *notifier) startListeners() {
	for _, c := range n.s.Conns {
		if c.Dialect.Name() != dialect.PostgreSQL {
			continue
		}
		cc, ok := n.s.connCfg[c]
		if !ok {
			continue
		}
		cfg, _, err := PostgresConfig(cc)
		if err != nil {
			n.s.log.Error("change listener: connection settings", "connection", c.Name, "err", err)
			continue
		}
		cfg.RuntimeParams["application_name"] = n.listenerName()
		n.wg.Add(1)
		go n.listen(c, cfg)
	}
}

// listenerName is the application_name of the listener's connection (pg_stat_activity).
func (n *notifier) listenerName() string { return "ubgo change listener " + n.origin }

// listen keeps a LISTEN connection on c's channel until the store closes.
func (n *notifier) listen(c *Conn, cfg *pgx.ConnConfig) {
	defer n.wg.Done()
	delay := ListenRetry
	for {
		err := n.listenOnce(c, cfg, func() { delay = ListenRetry })
		if n.ctx.Err() != nil {
			return
		}
		n.s.log.Warn("change listener lost its connection; reconnecting", "connection", c.Name, "err", err, "retry", delay)
		t := time.NewTimer(delay)
		select {
		case <-n.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, time.Minute)
	}
}

func (n *notifier) listenOnce(c *Conn, cfg *pgx.ConnConfig, connected func()) error {
	ctx := n.ctx
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.Close(cctx)
	}()
	channel := channelName(c.Schema)
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	connected()
	n.s.log.Debug("change listener connected", "connection", c.Name, "channel", channel)
	// Anything may have changed while nobody listened.
	n.deliver(ctx, n.watchedOn(c))
	for {
		msg, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		origin, list, _ := strings.Cut(msg.Payload, " ")
		if origin == n.origin || list == "" {
			continue
		}
		n.deliver(ctx, strings.Split(list, ","))
	}
}

// watchedOn lists the watched entities whose data lives on c.
func (n *notifier) watchedOn(c *Conn) []string {
	var out []string
	if p := n.watched.Load(); p != nil {
		for name := range *p {
			if e := n.s.Domain.Entity(name); e != nil && n.s.ConnOf(e) == c {
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out
}

// close stops the listeners and waits for them.
func (n *notifier) close() {
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
}
