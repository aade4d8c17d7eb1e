package domain

import (
	"encoding/json"
	"sort"
)

// The JSON form of a domain, printed by `ubgo domain --json`. Struct types keep the key order
// stable so that the output can be compared and diffed.

type domainJSONOut struct {
	DefaultLang string          `json:"defaultLang"`
	Languages   []string        `json:"languages"`
	Models      []modelJSONOut  `json:"models"`
	Entities    []entityJSONOut `json:"entities"`
}

type modelJSONOut struct {
	Name       string   `json:"name"`
	Path       string   `json:"path"`
	Order      int      `json:"order"`
	Version    string   `json:"version,omitempty"`
	ModuleName string   `json:"moduleName,omitempty"`
	Builtin    bool     `json:"builtin,omitempty"`
	IsPublic   bool     `json:"isPublic,omitempty"`
	HookFile   string   `json:"hook,omitempty"`
	Entities   []string `json:"entities"`
}

type entityJSONOut struct {
	Name                 string                 `json:"name"`
	ModelName            string                 `json:"modelName"`
	Caption              string                 `json:"caption"`
	CaptionSingular      string                 `json:"captionSingular,omitempty"`
	Description          string                 `json:"description,omitempty"`
	DSType               DSType                 `json:"dsType"`
	CacheType            CacheType              `json:"cacheType"`
	SQLAlias             string                 `json:"sqlAlias,omitempty"`
	ConnectionName       string                 `json:"connectionName,omitempty"`
	DescriptionAttribute string                 `json:"descriptionAttribute"`
	OverriddenBy         []string               `json:"overriddenBy,omitempty"`
	IsManyManyRef        bool                   `json:"isManyManyRef,omitempty"`
	Mixins               Mixins                 `json:"mixins"`
	Mapping              []EntityMapping        `json:"mapping,omitempty"`
	DBKeys               map[string]any         `json:"dbKeys,omitempty"`
	DBExtensions         map[string]any         `json:"dbExtensions,omitempty"`
	Attributes           []attributeJSONOut     `json:"attributes"`
	I18n                 map[string]*EntityI18n `json:"i18n,omitempty"`
}

type attributeJSONOut struct {
	Name                string             `json:"name"`
	DataType            DataType           `json:"dataType"`
	Caption             string             `json:"caption"`
	Description         string             `json:"description,omitempty"`
	AllowNull           bool               `json:"allowNull"`
	IsUnique            bool               `json:"isUnique,omitempty"`
	AllowSort           bool               `json:"allowSort"`
	DefaultView         bool               `json:"defaultView"`
	ReadOnly            bool               `json:"readOnly,omitempty"`
	IsMultiLang         bool               `json:"isMultiLang,omitempty"`
	DefaultValue        *string            `json:"defaultValue,omitempty"`
	Size                int                `json:"size,omitempty"`
	Precision           int                `json:"precision,omitempty"`
	Scale               int                `json:"scale,omitempty"`
	AssociatedEntity    string             `json:"associatedEntity,omitempty"`
	AssociationAttr     string             `json:"associationAttr,omitempty"`
	AssociationManyData string             `json:"associationManyData,omitempty"`
	GenerateFK          *bool              `json:"generateFK,omitempty"`
	CascadeDelete       bool               `json:"cascadeDelete,omitempty"`
	EnumGroup           string             `json:"enumGroup,omitempty"`
	StoreName           string             `json:"storeName,omitempty"`
	Restrictions        *Restrictions      `json:"restrictions,omitempty"`
	Mapping             []AttributeMapping `json:"mapping,omitempty"`
	CustomSettings      map[string]any     `json:"customSettings,omitempty"`
	Implicit            bool               `json:"implicit,omitempty"`
}

// MarshalJSON encodes the built domain (not the raw metadata) with a stable key order.
func (d *Domain) MarshalJSON() ([]byte, error) {
	out := domainJSONOut{DefaultLang: d.DefaultLang, Languages: d.Languages}
	for _, m := range d.Models {
		mo := modelJSONOut{Name: m.Name, Path: m.Path, Order: m.Order, Version: m.Version, ModuleName: m.ModuleName,
			Builtin: m.Builtin, IsPublic: m.IsPublic, HookFile: m.HookFile, Entities: []string{}}
		for _, e := range m.Entities {
			mo.Entities = append(mo.Entities, e.Name)
		}
		out.Models = append(out.Models, mo)
	}
	for _, e := range d.Entities {
		eo := entityJSONOut{Name: e.Name, ModelName: e.Model.Name, Caption: e.Caption, CaptionSingular: e.CaptionSingular,
			Description: e.Description, DSType: e.DSType, CacheType: e.CacheType, SQLAlias: e.SQLAlias,
			ConnectionName: e.ConnectionName, DescriptionAttribute: e.DescriptionAttribute, OverriddenBy: e.OverriddenBy,
			IsManyManyRef: e.IsManyManyRef, Mixins: e.Mixins, Mapping: e.Mapping, DBKeys: e.DBKeys,
			DBExtensions: e.DBExtensions, I18n: e.I18n}
		for _, a := range e.Attributes {
			ao := attributeJSONOut{Name: a.Name, DataType: a.DataType, Caption: a.Caption, Description: a.Description,
				AllowNull: a.AllowNull, IsUnique: a.IsUnique, AllowSort: a.AllowSort, DefaultView: a.DefaultView,
				ReadOnly: a.ReadOnly, IsMultiLang: a.IsMultiLang, Size: a.Size, Precision: a.Precision, Scale: a.Scale,
				AssociatedEntity: a.AssociatedEntity, AssociationAttr: a.AssociationAttr,
				AssociationManyData: a.AssociationManyData, CascadeDelete: a.CascadeDelete, EnumGroup: a.EnumGroup,
				StoreName: a.StoreName, Restrictions: a.Restrictions, Mapping: a.Mapping, CustomSettings: a.CustomSettings,
				Implicit: a.Implicit}
			if a.HasDefault {
				dv := a.DefaultValue
				ao.DefaultValue = &dv
			}
			if a.DataType == EntityT {
				fk := a.GenerateFK
				ao.GenerateFK = &fk
			}
			eo.Attributes = append(eo.Attributes, ao)
		}
		out.Entities = append(out.Entities, eo)
	}
	return json.Marshal(out)
}

// sortErrors orders findings by file and position so that reports are stable.
func sortErrors(errs []*Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i], errs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return a.Msg < b.Msg
	})
}
