package ubql

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// Compiled plans are cached by request shape: everything that decides the SQL text, and
// nothing else. Values are not part of it, except for their kind where the SQL depends on
// it (null compares with IS NULL, an empty in list is a constant) and options.limit,
// which the SQL holds as a number; an in list is bound as one argument whatever its
// length. Names of where items count only when
// logicalPredicates or joinAs refer to them.
//
// The cache keeps two generations of at most MaxCachedPlans/2 shapes each: lookups try
// the current one, then the previous one (promoting a hit), and a full current generation
// replaces the previous one. That bounds memory like an LRU would, for the price of a map
// lookup, and keeps reads under a shared lock.
type planCache struct {
	mu           sync.RWMutex
	cur, old     map[string]*plan
	hits, misses atomic.Uint64
}

// CacheStats are counters of a Compiler's plan cache.
type CacheStats struct {
	Hits, Misses uint64
	Plans        int // shapes currently cached
}

// CacheStats returns the counters of the compiled-SQL cache.
func (c *Compiler) CacheStats() CacheStats {
	c.cache.mu.RLock()
	defer c.cache.mu.RUnlock()
	return CacheStats{Hits: c.cache.hits.Load(), Misses: c.cache.misses.Load(), Plans: len(c.cache.cur) + len(c.cache.old)}
}

func (pc *planCache) get(key []byte) *plan {
	pc.mu.RLock()
	p := pc.cur[string(key)]
	promote := false
	if p == nil {
		p = pc.old[string(key)]
		promote = p != nil
	}
	pc.mu.RUnlock()
	if p == nil {
		pc.misses.Add(1)
		return nil
	}
	pc.hits.Add(1)
	if promote {
		pc.put(string(key), p)
	}
	return p
}

func (pc *planCache) put(key string, p *plan) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.cur == nil {
		pc.cur = map[string]*plan{}
	}
	if len(pc.cur) >= MaxCachedPlans/2 {
		pc.old, pc.cur = pc.cur, make(map[string]*plan, MaxCachedPlans/2)
	}
	pc.cur[key] = p
}

type keyBuf struct{ b []byte }

var keyPool = sync.Pool{New: func() any { return &keyBuf{b: make([]byte, 0, 512)} }}

// appendKey writes the cache key of compiling req under opt. Strings are length-prefixed,
// so that no two shapes share a key.
func appendKey(b []byte, req *Request, opt *CompileOptions) []byte {
	b = appendKeyStr(b, opt.Dialect.Name())
	b = appendKeyStr(b, effectiveLang(opt))
	b = appendKeyStr(b, opt.DefaultLang)
	b = appendKeyStrs(b, opt.Langs)
	if opt.External {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return appendShape(b, req)
}

func appendShape(b []byte, r *Request) []byte {
	b = appendKeyStr(b, r.Entity)
	b = appendKeyStrs(b, r.FieldList)
	named := len(r.LogicalPredicates) > 0 || len(r.JoinAs) > 0
	b = binary.AppendUvarint(b, uint64(len(r.WhereList)))
	for i := range r.WhereList {
		w := &r.WhereList[i]
		if named {
			b = appendKeyStr(b, w.Name)
		}
		b = appendKeyStr(b, w.Expression)
		b = appendKeyStr(b, string(w.Condition))
		b = append(b, valueKind(w))
		if isSubquery(w) {
			b = appendKeyStr(b, w.SubQueryType)
			b = appendShape(b, w.SubQuery)
		}
	}
	b = appendKeyStrs(b, r.LogicalPredicates)
	b = appendKeyStrs(b, r.JoinAs)
	b = binary.AppendUvarint(b, uint64(len(r.OrderList)))
	for _, o := range r.OrderList {
		b = appendKeyStr(b, o.Expression)
		b = appendKeyStr(b, o.Order)
	}
	b = appendKeyStrs(b, r.GroupList)
	var flags byte
	if r.ID != nil {
		flags |= 1
	}
	if r.Options.Start > 0 {
		flags |= 2
	}
	if r.Options.Limit > 0 {
		flags |= 4
	}
	if r.Options.TotalRequired {
		flags |= 8
	}
	b = append(b, flags)
	if r.Options.Limit > 0 {
		b = binary.AppendUvarint(b, uint64(r.Options.Limit)) // written into the SQL
	}
	return b
}

// valueKind is the part of a where operand the SQL depends on.
func valueKind(w *WhereItem) byte {
	v, has := operand(w)
	switch {
	case !has:
		return '-'
	case v == nil:
		return 'n'
	case isEmptyList(v):
		return 'e'
	}
	return 'v'
}

func appendKeyStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendKeyStrs(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendKeyStr(b, s)
	}
	return b
}
