package ubql

// Path is an attribute path an expression refers to, as the compiler resolves it.
type Path struct {
	// Segments are the attribute names from the request's entity on; a segment may carry
	// a cast, "attr@entity", which names the entity the next segment is looked up in.
	Segments []string
	// Master marks "[{master}.path]": the path starts at the outer request of a subquery.
	Master bool
}

// Paths parses a fieldList, whereList, orderList or groupList expression with the
// compiler's own parser and returns the attribute paths it refers to, in the order they
// are written. plain reports that the expression is a single path and nothing else
// ("name", "[mi_owner.name]"), so its result column holds that attribute's value.
//
// The security layer uses it to find which attributes a client request reads (attribute
// restrictions). An expression the parser rejects is an error; the compiler rejects it
// too, so such a request never reaches the database.
func Paths(expr string) (paths []Path, plain bool, err error) {
	n, e := parseExpr(expr)
	if e != nil {
		return nil, false, &Error{Item: -1, Code: CodeInvalidData, Status: 400, Msg: e.msg}
	}
	_, plain = n.(*pathNode)
	walkPaths(n, func(p *pathNode) {
		paths = append(paths, Path{Segments: p.segs, Master: p.master})
	})
	return paths, plain, nil
}

// walkPaths calls fn for every path node of the tree n.
func walkPaths(n node, fn func(*pathNode)) {
	switch n := n.(type) {
	case *pathNode:
		fn(n)
	case *callNode:
		for _, a := range n.args {
			walkPaths(a, fn)
		}
	case *unaryNode:
		walkPaths(n.x, fn)
	case *binNode:
		walkPaths(n.l, fn)
		walkPaths(n.r, fn)
	case *isNullNode:
		walkPaths(n.x, fn)
	case *likeNode:
		walkPaths(n.x, fn)
		walkPaths(n.pat, fn)
	case *inNode:
		walkPaths(n.x, fn)
		for _, a := range n.list {
			walkPaths(a, fn)
		}
	case *betweenNode:
		walkPaths(n.x, fn)
		walkPaths(n.lo, fn)
		walkPaths(n.hi, fn)
	}
}
