// Package domain loads an application's metadata and builds the immutable domain.
//
// Load reads every model's *.meta and *.meta.<lang> files, merges files of the same name
// across models in model order, runs the models' metadata transformation hooks (through a
// function the caller passes in, so that this package does not depend on a JavaScript
// engine), applies the core transformations every UnityBase server applies, validates each
// entity against the entity JSON schema, checks cross references, and returns a *Domain.
//
// A *Domain is immutable after Load returns: nothing in this package changes it, callers
// must not modify its values, and it may be shared between goroutines without locking. A
// configuration change builds a new Domain.
//
// Every problem is reported with the file, the line and column, the entity and the JSON
// path it concerns; Load collects all problems it can find before it fails.
package domain

import (
	"slices"
)

// Domain is the built application metadata.
type Domain struct {
	Models      []*Model  // in load order
	Entities    []*Entity // in load order: by model, then by entity name
	DefaultLang string
	Languages   []string // supported languages; DefaultLang first
	Warnings    []*Error // non-fatal findings

	modelByName  map[string]*Model
	entityByName map[string]*Entity
}

// Model is one model of the application.
type Model struct {
	Name       string
	Path       string // folder on disk, or "builtin:<NAME>"
	Order      int    // position in the load order, from 0
	Version    string
	ModuleName string
	PublicPath string
	IsPublic   bool // browser-only model: no entities
	Builtin    bool
	HookFile   string // the model's _hookMetadataTransformation.js, "" if none
	Entities   []*Entity
}

// Entity is one entity, merged across models, transformed and validated.
type Entity struct {
	Name                 string
	Model                *Model
	Caption              string
	CaptionSingular      string
	Description          string
	Documentation        string
	DescriptionAttribute string
	ConnectionName       string // "" means the default connection
	CacheType            CacheType
	SQLAlias             string
	DSType               DSType
	Attributes           []*Attribute // in metadata order; ID first, mixin attributes last
	Mixins               Mixins
	Mapping              []EntityMapping
	DBKeys               map[string]any
	DBExtensions         map[string]any
	CustomSettings       map[string]any
	PrivateSettings      map[string]any
	OverriddenBy         []string // later models whose files were merged into this entity
	IsManyManyRef        bool     // a link table generated for a Many attribute
	Files                []string // the *.meta files the entity was merged from, in model order
	// I18n holds the texts of each supported language other than what the meta file itself
	// says; see Caption for the entity's own text.
	I18n map[string]*EntityI18n
	// Meta is the merged and transformed metadata as plain JSON values, the form that
	// getDomainInfo and tools serve. Read only.
	Meta map[string]any

	attrByName map[string]*Attribute
}

// EntityI18n are the localized texts of an entity in one language.
type EntityI18n struct {
	Caption         string                    `json:"caption,omitempty"`
	CaptionSingular string                    `json:"captionSingular,omitempty"`
	Description     string                    `json:"description,omitempty"`
	Documentation   string                    `json:"documentation,omitempty"`
	Attributes      map[string]*AttributeI18n `json:"attributes,omitempty"`
}

// AttributeI18n are the localized texts of an attribute in one language.
type AttributeI18n struct {
	Caption       string `json:"caption,omitempty"`
	Description   string `json:"description,omitempty"`
	Documentation string `json:"documentation,omitempty"`
}

// Attribute is one entity attribute.
type Attribute struct {
	Name                string
	Entity              *Entity
	DataType            DataType
	Caption             string
	Description         string
	Documentation       string
	AllowNull           bool
	IsUnique            bool
	AllowSort           bool
	DefaultView         bool
	ReadOnly            bool
	IsMultiLang         bool
	GenerateFK          bool
	CascadeDelete       bool
	DefaultValue        string
	HasDefault          bool
	Size                int
	Precision           int
	Scale               int
	AssociatedEntity    string
	Association         *Entity // resolved AssociatedEntity for Entity and Many attributes
	AssociationAttr     string
	AssociationManyData string
	EnumGroup           string
	StoreName           string // Document: the blob store, resolved to the default store when empty
	Restrictions        *Restrictions
	Mapping             []AttributeMapping
	CustomSettings      map[string]any
	PrivateSettings     map[string]any
	Implicit            bool // added by the server (ID or a mixin attribute), not written in a meta file
}

// Restrictions limit which roles may insert, select or update an attribute through external calls.
type Restrictions struct {
	Insert, Select, Update []string // role names; "Nobody" denies everyone
	ReplaceBy              string
}

// AttributeMapping is a per-dialect column or expression for an attribute.
type AttributeMapping struct {
	Dialect        string `json:"name"`
	ExpressionType string `json:"expressionType,omitempty"` // Field or Expression
	Expression     string `json:"expression,omitempty"`
}

// EntityMapping is a per-dialect table mapping.
type EntityMapping struct {
	Dialect     string `json:"name"`
	SelectName  string `json:"selectName,omitempty"`
	ExecName    string `json:"execName,omitempty"`
	PKGenerator string `json:"pkGenerator,omitempty"`
}

// CacheType is the client caching contract of an entity.
type CacheType string

// Cache types.
const (
	CacheNone          CacheType = "None"
	CacheEntity        CacheType = "Entity"
	CacheSessionEntity CacheType = "SessionEntity"
	CacheSession       CacheType = "Session"
)

// DSType says where an entity's data lives.
type DSType string

// Data source types.
const (
	DSNormal   DSType = "Normal"   // a table managed by migrations
	DSExternal DSType = "External" // a table or view managed elsewhere
	DSSystem   DSType = "System"   // added by the server
	DSVirtual  DSType = "Virtual"  // no table; methods implemented in code
)

// Model returns the model named name, or nil.
func (d *Domain) Model(name string) *Model { return d.modelByName[name] }

// Entity returns the entity named name, or nil. Names are case-sensitive, as in UnityBase.
func (d *Domain) Entity(name string) *Entity { return d.entityByName[name] }

// AttributeCount is the number of attributes of all entities.
func (d *Domain) AttributeCount() int {
	n := 0
	for _, e := range d.Entities {
		n += len(e.Attributes)
	}
	return n
}

// Attribute returns the attribute named name, or nil.
func (e *Entity) Attribute(name string) *Attribute { return e.attrByName[name] }

// HasMixin reports whether the entity has the named mixin enabled.
func (e *Entity) HasMixin(name string) bool { return e.Mixins.Enabled(name) }

// IsUnity reports whether the entity is the parent (unity) of other entities, i.e. carries mi_unityEntity.
func (e *Entity) IsUnity() bool { return e.attrByName["mi_unityEntity"] != nil }

// Caption returns the entity caption in lang, falling back to the meta file's own text.
func (e *Entity) CaptionIn(lang string) string {
	if t := e.I18n[lang]; t != nil && t.Caption != "" {
		return t.Caption
	}
	return e.Caption
}

// CaptionIn returns the attribute caption in lang, falling back to the meta file's own text.
func (a *Attribute) CaptionIn(lang string) string {
	if t := a.Entity.I18n[lang]; t != nil {
		if at := t.Attributes[a.Name]; at != nil && at.Caption != "" {
			return at.Caption
		}
	}
	return a.Caption
}

// SupportsLang reports whether lang is one of the domain's languages.
func (d *Domain) SupportsLang(lang string) bool { return slices.Contains(d.Languages, lang) }
