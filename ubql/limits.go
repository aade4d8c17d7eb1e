package ubql

// Limits on requests. They protect the server from requests that are expensive to parse,
// compile or run, and keep bound parameter counts below every database's limit. Breaking
// one is an *Error (HTTP 400) whose message names the limit.
const (
	// MaxBatchItems is the largest number of items in one /ubql batch.
	MaxBatchItems = 1000
	// MaxJSONDepth is the deepest nesting of JSON arrays and objects a request may have.
	// A subquery costs about four levels, so MaxNesting subqueries fit comfortably.
	MaxJSONDepth = 64
	// MaxWhereItems is the largest number of whereList items of one request (a subquery
	// counts its own) and of logicalPredicates.
	MaxWhereItems = 200
	// MaxInList is the largest number of values of an in/notIn list. Lists are bound as one
	// parameter, so this limits memory and query time rather than parameter counts.
	MaxInList = 10000
	// MaxJoinDepth is the longest chain of joins one attribute path may walk
	// ("a.b.c.d" walks three).
	MaxJoinDepth = 6
	// MaxPageSize is the largest explicit options.limit. A request without a limit is not
	// capped here: the caller decides whether it may read a whole table.
	MaxPageSize = 10000
	// MaxFieldListItems is the largest number of items of fieldList, orderList and
	// groupList, each.
	MaxFieldListItems = 500
	// MaxExpressionLength is the longest expression string (a fieldList item, a where
	// expression, a logical predicate, ...), in bytes.
	MaxExpressionLength = 3500
	// MaxNesting is the deepest nesting of subquery conditions.
	MaxNesting = 4
	// MaxExpressionDepth is the deepest nesting of parentheses, function calls and
	// operators inside one expression.
	MaxExpressionDepth = 32
	// MaxCachedPlans bounds the compiled-SQL cache of a Compiler (number of request
	// shapes kept).
	MaxCachedPlans = 4096
)
