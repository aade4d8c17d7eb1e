package server

import (
	"embed"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/ubgo/ubgo/store"
)

// The server's own texts, one go-i18n message file per language (locales/<lang>.json). A
// language without a file gets English.
//
//go:embed locales/*.json
var localeFiles embed.FS

// Message IDs of locales/*.json.
const (
	msgBadRequest           = "BadRequest"
	msgNeedAuth             = "NeedAuth"
	msgAccessDeny           = "AccessDeny"
	msgNotFound             = "NotFound"
	msgMethodNotAllowed     = "MethodNotAllowed"
	msgTooLarge             = "RequestEntityTooLarge"
	msgUnsupportedMediaType = "UnsupportedMediaType"
	msgInternal             = "InternalServerError"
	msgNotImplemented       = "NotImplemented"
	msgUnavailable          = "ServiceUnavailable"
)

var statusMessages = map[int]string{
	http.StatusBadRequest:            msgBadRequest,
	http.StatusUnauthorized:          msgNeedAuth,
	http.StatusForbidden:             msgAccessDeny,
	http.StatusNotFound:              msgNotFound,
	http.StatusMethodNotAllowed:      msgMethodNotAllowed,
	http.StatusRequestEntityTooLarge: msgTooLarge,
	http.StatusUnsupportedMediaType:  msgUnsupportedMediaType,
	http.StatusInternalServerError:   msgInternal,
	http.StatusNotImplemented:        msgNotImplemented,
	http.StatusServiceUnavailable:    msgUnavailable,
}

// statusMessage is the message ID of a status's generic text.
func statusMessage(status int) string {
	if id, ok := statusMessages[status]; ok {
		return id
	}
	if status >= 500 {
		return msgInternal
	}
	return msgBadRequest
}

// catalog holds every server text in every language of the application, localized once at
// startup so that answering an error costs two map lookups.
type catalog struct {
	def   string
	texts map[string]map[string]string // language → message ID → text
}

func newCatalog(langs []string, def string) (*catalog, error) {
	b := i18n.NewBundle(language.English)
	files, err := fs.Glob(localeFiles, "locales/*.json")
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range files {
		mf, err := b.LoadMessageFileFS(localeFiles, f)
		if err != nil {
			return nil, fmt.Errorf("server messages %s: %w", path.Base(f), err)
		}
		if mf.Tag == language.English {
			for _, m := range mf.Messages {
				ids = append(ids, m.ID)
			}
		}
	}
	c := &catalog{def: def, texts: map[string]map[string]string{}}
	for _, lang := range append([]string{"en", def}, langs...) {
		if c.texts[lang] != nil {
			continue
		}
		loc := i18n.NewLocalizer(b, lang)
		m := make(map[string]string, len(ids))
		for _, id := range ids {
			t, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id})
			if err != nil {
				return nil, fmt.Errorf("server message %s in %s: %w", id, lang, err)
			}
			m[id] = t
		}
		c.texts[lang] = m
	}
	return c, nil
}

// text is the message id in lang, falling back to the default language, then to English.
func (c *catalog) text(lang, id string) string {
	for _, l := range [...]string{lang, c.def, "en"} {
		if t, ok := c.texts[l][id]; ok {
			return t
		}
	}
	return id
}

// requestLang is the language of a request's texts (reference §7.1): the session's
// uData.lang (the user's language), then the session's Lang, then — for requests without
// a session language — a supported ?lang=, then the best supported match of
// Accept-Language, then the application's default language.
func (s *Server) requestLang(r *http.Request, sess *store.Session) string {
	if sess != nil {
		if l, ok := sess.UData["lang"].(string); ok && s.dom.SupportsLang(l) {
			return l
		}
		if sess.Lang != "" && s.dom.SupportsLang(sess.Lang) {
			return sess.Lang
		}
	}
	if l := r.URL.Query().Get("lang"); l != "" && s.dom.SupportsLang(l) {
		return l
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		if l := matchLang(h, s.dom.Languages); l != "" {
			return l
		}
	}
	return s.dom.DefaultLang
}

// matchLang returns the first language of an Accept-Language header (in q order) that is
// in supported, comparing the whole tag first and then its base language ("uk-UA" → "uk").
func matchLang(header string, supported []string) string {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return ""
	}
	for _, t := range tags {
		if s := t.String(); slices.Contains(supported, s) {
			return s
		}
		if base, conf := t.Base(); conf != language.No && slices.Contains(supported, base.String()) {
			return base.String()
		}
	}
	return ""
}

// fallbackCatalog serves requests that did not pass through a Server. The message files are
// embedded, so a failure here is a build mistake that every test run shows.
var fallbackCatalog = func() *catalog {
	c, err := newCatalog(nil, "en")
	if err != nil {
		panic(err)
	}
	return c
}()
