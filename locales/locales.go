// Package locales holds every user-facing text of UnionHub in Russian (the
// default) and English, with CLDR plural rules, embedded in the binary.
package locales

import (
	"embed"
	"fmt"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Languages the catalogs cover; the first is the default.
var Languages = []string{"ru", "en"}

// Default is the language used when a person's is unknown or unsupported.
const Default = "ru"

// ConsentVersion identifies the text of the personal-data consent
// ("consent.text"); bump it whenever that text changes in any language, so
// every recorded consent names the exact text the person saw.
const ConsentVersion = "2026-11-26"

//go:embed *.yaml
var files embed.FS

// Catalog translates keys into texts.
type Catalog struct {
	bundle *i18n.Bundle
	mu     sync.Mutex
	cache  map[string]*i18n.Localizer
}

// Load parses the embedded catalogs.
func Load() (*Catalog, error) {
	b := i18n.NewBundle(language.Russian)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	for _, lang := range Languages {
		if _, err := b.LoadMessageFileFS(files, lang+".yaml"); err != nil {
			return nil, fmt.Errorf("load locale %s: %w", lang, err)
		}
	}
	return &Catalog{bundle: b, cache: map[string]*i18n.Localizer{}}, nil
}

// Normalize maps a client's language tag to a supported language.
func Normalize(tag string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	base, _, _ = strings.Cut(base, "_")
	for _, l := range Languages {
		if base == l {
			return l
		}
	}
	return Default
}

func (c *Catalog) localizer(lang string) *i18n.Localizer {
	lang = Normalize(lang)
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.cache[lang]
	if !ok {
		l = i18n.NewLocalizer(c.bundle, lang, Default)
		c.cache[lang] = l
	}
	return l
}

// T returns the text of key in lang with data filled in. kv lists template
// fields as name, value pairs. A missing key yields the key itself, which the
// catalog test makes impossible in practice.
func (c *Catalog) T(lang, key string, kv ...any) string {
	return c.localize(lang, key, nil, kv)
}

// Plural is T with the plural form chosen by count, which is also available
// to the template as .Count.
func (c *Catalog) Plural(lang, key string, count int, kv ...any) string {
	return c.localize(lang, key, count, append(kv, "Count", count))
}

func (c *Catalog) localize(lang, key string, count any, kv []any) string {
	data := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		data[fmt.Sprint(kv[i])] = kv[i+1]
	}
	s, err := c.localizer(lang).Localize(&i18n.LocalizeConfig{MessageID: key, TemplateData: data, PluralCount: count})
	if err != nil {
		return key
	}
	return s
}
