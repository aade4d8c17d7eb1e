package ubql

// Request is one UBQL item: a call of an entity method with its parameters (reference §4.2).
//
// Values (WhereItem.Value, ExecParams, Extra) are plain JSON values: nil, bool, int64 for
// integer literals that fit into int64, float64 for other numbers, string, []any and
// map[string]any.
type Request struct {
	Entity            string
	Method            string
	FieldList         []string
	WhereList         []WhereItem // in the order the client wrote them
	LogicalPredicates []string
	JoinAs            []string
	OrderList         []OrderItem
	GroupList         []string
	Options           Options
	ExecParams        map[string]any // insert/update/delete values; nil when absent
	ID                *int64         // top-level ID: select one row by primary key
	Misc              Misc
	// Extra holds every other top-level key, unchanged. Custom methods read them (ctx.mParams)
	// and the response echoes them.
	Extra map[string]any

	// FieldListSet reports whether the request had a "fieldList" key at all (an insert
	// without one returns no row; with an empty one it echoes "fieldList": []).
	FieldListSet bool
}

// WhereItem is one named condition of whereList.
type WhereItem struct {
	Name       string // the whereList key; "c1", "c2", ... for items added without a name
	Expression string
	Condition  Condition
	Value      any  // the operand; for the v1 form, the first value of "values"
	HasValue   bool // the item had a "value" key (the v2 form)
	// Values is the v1 "values" object as sent, kept so the response can echo it.
	Values map[string]any
	// SubQueryType (in, notIn, exists, notExists) and SubQuery for the subquery condition.
	// The decoders put the operand, a UBQL object, into SubQuery; with the v2 form Value is
	// then nil (the echo writes SubQuery back as "value").
	SubQueryType string
	SubQuery     *Request
}

// Condition is a where condition name as the server understands it.
type Condition string

// The where conditions of reference §4.2.
const (
	Equal        Condition = "equal"
	NotEqual     Condition = "notEqual"
	More         Condition = "more"
	MoreEqual    Condition = "moreEqual"
	Less         Condition = "less"
	LessEqual    Condition = "lessEqual"
	Like         Condition = "like"
	NotLike      Condition = "notLike"
	StartWith    Condition = "startWith"
	NotStartWith Condition = "notStartWith"
	IsNull       Condition = "isNull"
	NotIsNull    Condition = "notIsNull"
	In           Condition = "in"
	NotIn        Condition = "notIn"
	SubQuery     Condition = "subquery"
	Custom       Condition = "custom"
	Match        Condition = "match"
)

// OrderItem is one orderList entry.
type OrderItem struct {
	Expression string
	Order      string // "asc" or "desc"
}

// Options are paging and counting options.
type Options struct {
	Start         int
	Limit         int // 0: no limit
	TotalRequired bool
	Set           bool // the request had an "options" object (echoed back)
}

// Misc are the top-level flags of reference §4.2 ("__allowSelectSafeDeleted", ...).
type Misc struct {
	AllowSelectSafeDeleted bool   // __allowSelectSafeDeleted
	SkipOptimisticLock     bool   // __skipOptimisticLock
	SkipSelectAfterInsert  bool   // __skipSelectAfterInsert
	SkipSelectAfterUpdate  bool   // __skipSelectAfterUpdate
	SkipSelectBeforeUpdate bool   // __skipSelectBeforeUpdate
	SkipRls                bool   // __skipRls (server-side only)
	SkipAclRls             bool   // __skipAclRls (server-side only)
	UseReplica             bool   // __useReplica
	DisableCache           bool   // __mip_disablecache
	RecordHistory          bool   // __mip_recordhistory
	RecordHistoryAll       bool   // __mip_recordhistory_all
	OnDate                 string // __mip_ondate
	LockType               string // lockType
	AlsNeed                bool   // alsNeed
	Version                string // version (cached entities)
}

// Response is the answer to one Request: the request echoed back (possibly changed by the
// method, e.g. a generated execParams.ID) plus the result.
type Response struct {
	Request       *Request
	ResultData    *ResultData // nil: no "resultData" key
	TotalRecCount *int64      // __totalRecCount, when options.totalRequired
	// Result holds other keys a method adds to the response (custom methods write into
	// ctx.mParams; "version", "resultLock", "resultAls", ...).
	Result map[string]any
}

// ResultData is the tabular result of a select (or of insert/update with a fieldList).
// Data cells hold nil, bool, int64, float64, string, time.Time (written as ISO-8601 UTC),
// json.RawMessage (written as is: Json attributes) or []byte.
type ResultData struct {
	Fields      []string
	Data        [][]any
	NotModified bool // {"notModified": true}: the client's cached version is current
}
