package domain

import "fmt"

// DataType is an attribute data type.
type DataType string

// The 17 UnityBase data types.
const (
	String   DataType = "String"
	Int      DataType = "Int"
	BigInt   DataType = "BigInt"
	Float    DataType = "Float"
	Currency DataType = "Currency"
	Boolean  DataType = "Boolean"
	DateTime DataType = "DateTime"
	Text     DataType = "Text"
	ID       DataType = "ID"
	EntityT  DataType = "Entity"
	Document DataType = "Document"
	Many     DataType = "Many"
	Enum     DataType = "Enum"
	BLOB     DataType = "BLOB"
	Date     DataType = "Date"
	TimeLog  DataType = "TimeLog"
	JSON     DataType = "Json"
)

// DataTypes lists every data type in the order UnityBase documents them.
var DataTypes = []DataType{String, Int, BigInt, Float, Currency, Boolean, DateTime, Text, ID, EntityT,
	Document, Many, Enum, BLOB, Date, TimeLog, JSON}

// Valid reports whether t is one of the 17 data types.
func (t DataType) Valid() bool {
	for _, x := range DataTypes {
		if x == t {
			return true
		}
	}
	return false
}

// Sortable reports whether values of t can be ordered by the database.
func (t DataType) Sortable() bool { return t != Text && t != Document && t != Many }

// HasColumn reports whether an attribute of this type is stored in a column of its own table.
func (t DataType) HasColumn() bool { return t != Many }

// Mixins are the typed mixin options of an entity. A nil pointer means the mixin is absent or
// disabled ("enabled": false).
type Mixins struct {
	MStorage     *MStorage     `json:"mStorage,omitempty"`
	Audit        *Audit        `json:"audit,omitempty"`
	Unity        *Unity        `json:"unity,omitempty"`
	Tree         *Tree         `json:"tree,omitempty"`
	DataHistory  *DataHistory  `json:"dataHistory,omitempty"`
	RLS          *RLS          `json:"rls,omitempty"`
	AclRls       *AclRls       `json:"aclRls,omitempty"`
	Als          *Als          `json:"als,omitempty"`
	Fts          *Fts          `json:"fts,omitempty"`
	SoftLock     *SoftLock     `json:"softLock,omitempty"`
	Multitenancy *Multitenancy `json:"multitenancy,omitempty"`
	// Other holds enabled mixins ubgo has no typed options for (clobTruncate, fsStorage,
	// mixins registered by models), with their raw options.
	Other map[string]map[string]any `json:"other,omitempty"`
}

// Enabled reports whether the named mixin is present and enabled.
func (m *Mixins) Enabled(name string) bool {
	switch name {
	case "mStorage":
		return m.MStorage != nil
	case "audit":
		return m.Audit != nil
	case "unity":
		return m.Unity != nil
	case "tree":
		return m.Tree != nil
	case "dataHistory":
		return m.DataHistory != nil
	case "rls":
		return m.RLS != nil
	case "aclRls":
		return m.AclRls != nil
	case "als":
		return m.Als != nil
	case "fts":
		return m.Fts != nil
	case "softLock":
		return m.SoftLock != nil
	case "multitenancy":
		return m.Multitenancy != nil
	}
	_, ok := m.Other[name]
	return ok
}

// MStorage stores the entity in a database table and provides the CRUD methods.
type MStorage struct {
	SimpleAudit bool `json:"simpleAudit"`
	SafeDelete  bool `json:"safeDelete"`
}

// Audit records insert/update/delete in uba_auditTrail.
type Audit struct {
	ParentEntity     string `json:"parentEntity,omitempty"`
	ParentIdentifier string `json:"parentIdentifier,omitempty"`
}

// Unity makes the entity share its ID with a parent entity.
type Unity struct {
	Entity        string            `json:"entity"`
	AttributeList []string          `json:"attributeList,omitempty"`
	Mapping       map[string]string `json:"mapping,omitempty"`
	Defaults      map[string]any    `json:"defaults,omitempty"`
}

// Tree keeps a materialized path of a self-referencing hierarchy.
type Tree struct {
	ParentAttr    string `json:"parentAttr"`
	PathAttr      string `json:"pathAttr"`
	PathDelimiter string `json:"pathDelimiter"`
}

// DataHistory keeps row versions valid in time periods.
type DataHistory struct {
	HistoryType string `json:"historyType"`
}

// RLS adds row-level filters computed by a server function.
type RLS struct {
	Func       string `json:"func,omitempty"`
	Expression string `json:"expression,omitempty"`
}

// AclRls filters rows by an access control list entity.
type AclRls struct {
	SameAs            string   `json:"sameAs,omitempty"`
	UseUnityName      bool     `json:"useUnityName,omitempty"`
	OnEntities        []string `json:"onEntities,omitempty"`
	EntityConnectAttr string   `json:"entityConnectAttr,omitempty"`
	SelectionRule     string   `json:"selectionRule,omitempty"`
	SkipIfFn          string   `json:"skipIfFn,omitempty"`
	SubjectIDsFn      string   `json:"subjectIDsFn,omitempty"`
}

// Als is attribute-level security by state and role.
type Als struct {
	StateAttrName  string `json:"stateAttrName,omitempty"`
	StateEnumGroup string `json:"stateEnumGroup,omitempty"`
	Optimistic     bool   `json:"optimistic"`
}

// Fts is full-text search.
type Fts struct {
	DataProvider      string         `json:"dataProvider,omitempty"`
	Scope             string         `json:"scope,omitempty"`
	ConnectionName    string         `json:"connectionName,omitempty"`
	IndexedAttributes []string       `json:"indexedAttributes,omitempty"`
	Options           map[string]any `json:"options,omitempty"`
}

// SoftLock provides pessimistic record locks.
type SoftLock struct {
	LockIdentifier string `json:"lockIdentifier"`
	LockEntity     string `json:"lockEntity,omitempty"`
}

// Multitenancy separates rows by tenant.
type Multitenancy struct {
	RLSRule string `json:"rlsRule,omitempty"`
}

// Error is a metadata problem located in a file.
type Error struct {
	File      string // the file the user wrote, "" when the problem has no single file
	Line, Col int    // 1-based; 0 when unknown
	Entity    string
	Pointer   string // JSON pointer inside the entity's merged metadata
	Msg       string
}

func (e *Error) Error() string {
	s := ""
	if e.File != "" {
		s = e.File
		if e.Line > 0 {
			s += fmt.Sprintf(":%d:%d", e.Line, e.Col)
		}
		s += ": "
	}
	if e.Entity != "" {
		s += "entity " + e.Entity
		if e.Pointer != "" {
			s += " " + e.Pointer
		}
		s += ": "
	} else if e.Pointer != "" {
		s += e.Pointer + ": "
	}
	return s + e.Msg
}
