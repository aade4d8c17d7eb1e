// Package els is entity-level security (reference §6.3): which roles may call which
// entity methods, from the rules of uba_els.
//
// A rule names a role, an entity mask, a method mask (see Mask) and a kind: A allows the
// matching methods to the role, C (complement) takes matching methods away from what the
// same role's A rules allow, D denies them to everybody who holds the role, whatever
// their other roles allow. A session may call method M of entity E when
//
//	M is a registered method of E
//	and one of its roles has an A rule matching (E, M) and no C rule of that same role matches
//	and none of its roles has a D rule matching (E, M).
//
// Everything else is denied. Disabled rules count for nothing.
//
// The Matrix is computed once from the rules and the registered methods of every
// entity, which are known only after the models' JavaScript is loaded: per role, one bit
// per (entity, method) pair for "allowed by this role" and one for "denied by this role".
// Allowed is then a map lookup and a few bit tests, without allocation. A Holder keeps
// the current Matrix for concurrent readers; Watch rebuilds it when uba_els or uba_role
// change, in this process or, on PostgreSQL, in another one.
//
// A rule whose mask does not parse is reported (Matrix.Problems, and by Load as a logged
// error naming the rule) and must never widen access: an A rule with a bad mask grants
// nothing; a C or D rule with a bad mask takes away (C) or denies (D) everything its
// other mask matches, or everything when both are bad.
package els

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// Rule kinds (uba_els.ruleType, enum UBA_RULETYPE).
const (
	Allow      = "A"
	Deny       = "D"
	Complement = "C"
)

// Rule is one uba_els row.
type Rule struct {
	ID         int64
	Code       string
	EntityMask string
	MethodMask string
	Type       string // Allow, Deny or Complement
	RoleID     int64
	Disabled   bool
}

// name identifies the rule in messages.
func (r Rule) name() string {
	if r.Code != "" {
		return fmt.Sprintf("rule %s (ID %d)", r.Code, r.ID)
	}
	return fmt.Sprintf("rule ID %d", r.ID)
}

// RuleError is a rule the matrix could not use as written.
type RuleError struct {
	Rule Rule
	Err  error
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("uba_els %s [%s %s.%s for role %d]: %v", e.Rule.name(), e.Rule.Type, e.Rule.EntityMask,
		e.Rule.MethodMask, e.Rule.RoleID, e.Err)
}

func (e *RuleError) Unwrap() error { return e.Err }

// Methods are the registered methods of each entity: the methods a client may call
// and ELS governs (jsvm.Program.Methods).
type Methods map[string][]string

// pairKey is one (entity, method); a struct of strings is a map key that costs no
// allocation to look up.
type pairKey struct{ entity, method string }

type bitset []uint64

func newBitset(n int) bitset      { return make(bitset, (n+63)/64) }
func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) andNot(c bitset) {
	for i := range b {
		b[i] &^= c[i]
	}
}
func (b bitset) count() (n int) {
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// roleBits is what one role contributes: the pairs it allows (A minus its own C) and the
// pairs it denies to whoever holds it (D).
type roleBits struct {
	grant, deny bitset
}

// Matrix is the access matrix of one generation of rules and methods. It is immutable
// and safe for concurrent use.
type Matrix struct {
	pairs    map[pairKey]int32
	entities []string            // sorted
	methods  map[string][]string // entity → methods, registration order
	roles    map[int64]*roleBits
	rules    []Rule
	problems []error
}

// Build computes the matrix of rules over the registered methods. Rules with malformed
// masks are applied as the package documentation says and reported by Problems.
func Build(rules []Rule, methods Methods) *Matrix {
	m := &Matrix{pairs: map[pairKey]int32{}, methods: map[string][]string{}, roles: map[int64]*roleBits{},
		rules: slices.Clone(rules)}
	for e := range methods {
		m.entities = append(m.entities, e)
	}
	slices.Sort(m.entities)
	// Pair indexes, entity by entity; firstPair[k] is the first pair of m.entities[k].
	firstPair := make([]int32, len(m.entities)+1)
	var n int32
	for k, e := range m.entities {
		firstPair[k] = n
		var list []string
		for _, meth := range methods[e] {
			key := pairKey{e, meth}
			if _, dup := m.pairs[key]; dup {
				continue
			}
			m.pairs[key] = n
			list = append(list, meth)
			n++
		}
		m.methods[e] = list
	}
	firstPair[len(m.entities)] = n

	type roleSets struct{ allow, compl, deny bitset }
	sets := map[int64]*roleSets{}
	for _, r := range rules {
		if r.Disabled {
			continue
		}
		kind := strings.ToUpper(strings.TrimSpace(r.Type))
		var target func(*roleSets) bitset
		switch kind {
		case Allow:
			target = func(s *roleSets) bitset { return s.allow }
		case Complement:
			target = func(s *roleSets) bitset { return s.compl }
		case Deny:
			target = func(s *roleSets) bitset { return s.deny }
		default:
			m.problems = append(m.problems, &RuleError{r, fmt.Errorf("unknown rule type %q (want A, D or C): the rule is ignored", r.Type)})
			continue
		}
		em, eErr := CompileMask(r.EntityMask)
		mm, mErr := CompileMask(r.MethodMask)
		if err := errors.Join(eErr, mErr); err != nil {
			if kind == Allow {
				m.problems = append(m.problems, &RuleError{r, fmt.Errorf("%w; the rule grants nothing", err)})
				continue
			}
			// A restriction that cannot be read restricts as much as it might mean.
			m.problems = append(m.problems, &RuleError{r, fmt.Errorf("%w; the rule applies to everything its other mask matches", err)})
			if eErr != nil {
				em, _ = CompileMask("*")
			}
			if mErr != nil {
				mm, _ = CompileMask("*")
			}
		}
		s := sets[r.RoleID]
		if s == nil {
			s = &roleSets{allow: newBitset(int(n)), compl: newBitset(int(n)), deny: newBitset(int(n))}
			sets[r.RoleID] = s
		}
		dst := target(s)
		for k, e := range m.entities {
			if !em.Match(e) {
				continue
			}
			for i, meth := range m.methods[e] {
				if mm.Match(meth) {
					dst.set(firstPair[k] + int32(i))
				}
			}
		}
	}
	for id, s := range sets {
		s.allow.andNot(s.compl)
		rb := &roleBits{}
		if s.allow.count() > 0 {
			rb.grant = s.allow
		}
		if s.deny.count() > 0 {
			rb.deny = s.deny
		}
		if rb.grant != nil || rb.deny != nil {
			m.roles[id] = rb
		}
	}
	return m
}

// Allowed reports whether a session holding roleIDs may call method of entity. It does
// not allocate.
func (m *Matrix) Allowed(roleIDs []int64, entity, method string) bool {
	if m == nil {
		return false
	}
	p, ok := m.pairs[pairKey{entity, method}]
	if !ok {
		return false
	}
	allowed := false
	for _, id := range roleIDs {
		rb := m.roles[id]
		if rb == nil {
			continue
		}
		if rb.deny != nil && rb.deny.has(p) {
			return false
		}
		if !allowed && rb.grant != nil && rb.grant.has(p) {
			allowed = true
		}
	}
	return allowed
}

// AllowedMethods lists the methods of entity a session holding roleIDs may call, in
// registration order.
func (m *Matrix) AllowedMethods(roleIDs []int64, entity string) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, meth := range m.methods[entity] {
		if m.Allowed(roleIDs, entity, meth) {
			out = append(out, meth)
		}
	}
	return out
}

// Registered reports whether method is a registered method of entity.
func (m *Matrix) Registered(entity, method string) bool {
	if m == nil {
		return false
	}
	_, ok := m.pairs[pairKey{entity, method}]
	return ok
}

// Rules returns the rules the matrix was built from.
func (m *Matrix) Rules() []Rule { return slices.Clone(m.rules) }

// Problems lists the rules that could not be applied as written (*RuleError).
func (m *Matrix) Problems() []error { return slices.Clone(m.problems) }
