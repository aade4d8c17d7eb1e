package synth

import (
	"strconv"
	"strings"
)

// entityMeta is the content of an *.meta file; field order is the output order.
type entityMeta struct {
	Caption              string      `json:"caption"`
	CaptionSingular      string      `json:"captionSingular"`
	Description          string      `json:"description"`
	SQLAlias             string      `json:"sqlAlias"`
	DescriptionAttribute string      `json:"descriptionAttribute"`
	Attributes           []attribute `json:"attributes"`
	Mixins               mixins      `json:"mixins"`
}

type mixins struct {
	MStorage mStorage `json:"mStorage"`
}

type mStorage struct {
	SimpleAudit bool `json:"simpleAudit"`
	SafeDelete  bool `json:"safeDelete,omitempty"`
}

type attribute struct {
	Name                string `json:"name"`
	DataType            string `json:"dataType"`
	Size                int    `json:"size,omitempty"`
	AssociatedEntity    string `json:"associatedEntity,omitempty"`
	AssociationManyData string `json:"associationManyData,omitempty"`
	EnumGroup           string `json:"enumGroup,omitempty"`
	Caption             string `json:"caption"`
	Description         string `json:"description,omitempty"`
	AllowNull           *bool  `json:"allowNull,omitempty"`
	IsUnique            bool   `json:"isUnique,omitempty"`
	IsMultiLang         bool   `json:"isMultiLang,omitempty"`
	DefaultValue        string `json:"defaultValue,omitempty"`

	ukCaption string // caption in the uk lang file
}

// langMeta is the content of a *.meta.<lang> file.
type langMeta struct {
	Caption     string     `json:"caption"`
	Description string     `json:"description"`
	Attributes  []langAttr `json:"attributes"`
}

type langAttr struct {
	Name    string `json:"name"`
	Caption string `json:"caption"`
}

type entity struct {
	k    int // 1-based number across all models
	name string
	meta entityMeta
}

var notNull = new(false)

// fillerTypes are cycled through for the ordinary attributes; the English and Ukrainian
// captions follow.
var fillerTypes = []struct{ dt, en, uk string }{
	{"String", "Text line", "Рядок"},
	{"Int", "Integer", "Ціле число"},
	{"BigInt", "Big integer", "Велике ціле"},
	{"Float", "Number", "Число"},
	{"Currency", "Amount", "Сума"},
	{"Boolean", "Flag", "Ознака"},
	{"DateTime", "Moment", "Момент"},
	{"Date", "Day", "День"},
	{"Text", "Notes", "Нотатки"},
	{"Json", "Data", "Дані"},
	{"Enum", "State", "Стан"},
}

// entity builds entity k. Its attributes, in order:
//
//   - code: String, unique, not null;
//   - name: String, multi-language, not null;
//   - ref: Entity referring to a smaller-numbered entity (uba_user for entity 1);
//   - attachment: Document in the default store, every 5th entity;
//   - links: Many to an earlier entity, link entity <entity>_links_link, every 7th entity;
//   - fillers up to opts.Attributes, cycling through fillerTypes (String sizes 10..255,
//     Enum in group SYNTH_STATE, some NOT NULL with a default value).
//
// If opts.Attributes is smaller than the number of special attributes, the special ones are
// still all written.
func (l *layout) entity(k int) *entity {
	name := l.entityName(k)
	model := l.modelName(l.modelOf(k))
	num := strconv.Itoa(k)
	e := &entity{k: k, name: name, meta: entityMeta{
		Caption:              "Synthetic entities " + num,
		CaptionSingular:      "Synthetic entity " + num,
		Description:          "Generated entity " + num + " of model " + model + " (benchmark data)",
		SQLAlias:             "s" + num, // no built-in alias has a digit
		DescriptionAttribute: "code",
		Mixins:               mixins{MStorage: mStorage{SimpleAudit: true, SafeDelete: k%10 == 0}},
	}}
	attrs := make([]attribute, 0, max(l.opts.Attributes, 5))
	attrs = append(attrs,
		attribute{Name: "code", DataType: "String", Size: 32, Caption: "Code", ukCaption: "Код",
			Description: "Unique code", AllowNull: notNull, IsUnique: true},
		attribute{Name: "name", DataType: "String", Size: 255, Caption: "Name", ukCaption: "Назва",
			AllowNull: notNull, IsMultiLang: true},
	)
	ref := "uba_user"
	if k > 1 {
		ref = l.entityName(k - 1 - (k*7919)%(k-1)) // in 1..k-1
	}
	attrs = append(attrs, attribute{Name: "ref", DataType: "Entity", AssociatedEntity: ref,
		Caption: "Reference", ukCaption: "Посилання"})
	if k%5 == 0 {
		attrs = append(attrs, attribute{Name: "attachment", DataType: "Document",
			Caption: "Attachment", ukCaption: "Вкладення"})
	}
	if k%7 == 0 {
		attrs = append(attrs, attribute{Name: "links", DataType: "Many",
			AssociatedEntity: l.entityName(k / 2), AssociationManyData: name + "_links_link",
			Caption: "Links", ukCaption: "Зв'язки"})
	}
	width := max(2, len(strconv.Itoa(l.opts.Attributes)))
	for j := len(attrs); j < l.opts.Attributes; j++ {
		ft := fillerTypes[(j+k)%len(fillerTypes)]
		pos := strconv.Itoa(j + 1)
		a := attribute{
			Name:      lowerFirst(ft.dt) + pad(j+1, width),
			DataType:  ft.dt,
			Caption:   ft.en + " " + pos,
			ukCaption: ft.uk + " " + pos,
		}
		required := (j+k)%3 == 0
		switch ft.dt {
		case "String":
			a.Size = 10 + (k*31+j*17)%246
			if required {
				a.AllowNull, a.DefaultValue = notNull, "-"
			}
		case "Int", "BigInt", "Float", "Currency":
			if required {
				a.AllowNull, a.DefaultValue = notNull, "0"
			}
		case "Boolean":
			a.AllowNull, a.DefaultValue = notNull, "0" // Boolean is always NOT NULL
		case "DateTime", "Date":
			if required {
				a.AllowNull, a.DefaultValue = notNull, "currentDate"
			}
		case "Enum":
			a.EnumGroup = EnumGroup
			if required {
				a.AllowNull, a.DefaultValue = notNull, "ACTIVE"
			}
		}
		attrs = append(attrs, a)
	}
	e.meta.Attributes = attrs
	return e
}

// localized returns the lang file of e for lang.
func (e *entity) localized(lang string) langMeta {
	num := strconv.Itoa(e.k)
	caption := func(a attribute) string { return "[" + lang + "] " + a.Caption }
	lm := langMeta{
		Caption:     "[" + lang + "] " + e.meta.Caption,
		Description: "[" + lang + "] " + e.meta.Description,
	}
	if lang == "uk" {
		caption = func(a attribute) string { return a.ukCaption }
		lm.Caption = "Синтетичні сутності " + num
		lm.Description = "Згенерована сутність " + num + " (дані для тестів продуктивності)"
	}
	lm.Attributes = make([]langAttr, len(e.meta.Attributes))
	for i, a := range e.meta.Attributes {
		lm.Attributes[i] = langAttr{Name: a.Name, Caption: caption(a)}
	}
	return lm
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }
