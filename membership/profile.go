package membership

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Limits of a person's fields, in characters.
const (
	MaxNameRunes     = 200
	MaxPositionRunes = 200
	MaxEmailRunes    = 254
)

// InputError is a refused value: Key is the locale key that explains why,
// Limit the number a plural message speaks of (0 for none).
type InputError struct {
	Key   string
	Limit int
}

func (e *InputError) Error() string { return "refuse input: " + e.Key }

// CleanText trims typed text and refuses it empty, oversized, broken or
// with control characters. Everything else, emoji and right-to-left scripts
// included, is kept byte for byte.
func CleanText(s string, maxRunes int) (string, *InputError) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &InputError{Key: "input.empty"}
	case !utf8.ValidString(s):
		return "", &InputError{Key: "input.invalid"}
	case utf8.RuneCountInString(s) > maxRunes:
		return "", &InputError{Key: "input.too_long", Limit: maxRunes}
	}
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || isBidiOverride(r) {
			return "", &InputError{Key: "input.control"}
		}
	}
	return s, nil
}

// isBidiOverride spots the embedding, override and isolate controls that can
// make a name display reversed to the leaders who read it. The plain
// direction marks (U+200E, U+200F) stay: right-to-left names need them.
func isBidiOverride(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// Field is a profile field a person gives and edits.
type Field string

// The fields; only the name cannot be cleared.
const (
	FieldName          Field = "name"
	FieldPosition      Field = "position"
	FieldWorkEmail     Field = "work_email"
	FieldPersonalEmail Field = "personal_email"
)

// ParseField reads a field's name.
func ParseField(s string) (Field, bool) {
	switch f := Field(s); f {
	case FieldName, FieldPosition, FieldWorkEmail, FieldPersonalEmail:
		return f, true
	}
	return "", false
}

// Clearable reports whether the field may be left empty.
func (f Field) Clearable() bool { return f != FieldName }

// NeedsConsent reports whether giving the field asks a consent of its own
// first: a personal address does, unless the person keeps one already.
func (f Field) NeedsConsent(p storage.Person) bool {
	return f == FieldPersonalEmail && p.PersonalEmail == ""
}

// Clean checks a typed value of the field and returns it as kept.
func (f Field) Clean(v string) (string, *InputError) {
	switch f {
	case FieldName:
		v, bad := CleanText(v, MaxNameRunes)
		if bad != nil {
			return "", bad
		}
		if !strings.ContainsFunc(v, unicode.IsLetter) {
			return "", &InputError{Key: "input.name_letters"}
		}
		return v, nil
	case FieldPosition:
		return CleanText(v, MaxPositionRunes)
	}
	return cleanEmail(v)
}

// cleanEmail accepts a bare address such as ivanova@school.ru.
func cleanEmail(s string) (string, *InputError) {
	s, bad := CleanText(s, MaxEmailRunes)
	if bad != nil {
		return "", bad
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return "", &InputError{Key: "input.email"}
	}
	_, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", &InputError{Key: "input.email"}
	}
	return s, nil
}

func (f Field) patch(v string) storage.ProfilePatch {
	switch f {
	case FieldName:
		return storage.ProfilePatch{FullName: &v}
	case FieldPosition:
		return storage.ProfilePatch{Position: &v}
	case FieldWorkEmail:
		return storage.ProfilePatch{WorkEmail: &v}
	}
	return storage.ProfilePatch{PersonalEmail: &v}
}

// ErrConsentNeeded refuses a personal address given without its consent.
var ErrConsentNeeded = errors.New("a personal address needs its consent")

// Edit changes one field of the acting person's profile.
type Edit struct {
	Field Field
	// Value is the new value as typed; "" clears the field.
	Value string
	// ConsentAt is when the person agreed, just before typing it, to give a
	// personal address; ConsentVersion and Locale name the text they read.
	ConsentAt      time.Time
	ConsentVersion string
	Locale         string
}

// EditProfile stores a field of the acting person. A personal address is
// kept only with its consent: giving one records the consent, clearing one
// withdraws it. A refused value is an *InputError and changes nothing.
func (s *Service) EditProfile(ctx context.Context, by access.Actor, e Edit) (storage.Person, error) {
	if _, ok := ParseField(string(e.Field)); !ok {
		return storage.Person{}, fmt.Errorf("edit profile: unknown field %q", e.Field)
	}
	value := e.Value
	switch {
	case value == "" && !e.Field.Clearable():
		return storage.Person{}, &InputError{Key: "input.empty"}
	case value != "":
		var bad *InputError
		if value, bad = e.Field.Clean(value); bad != nil {
			return storage.Person{}, bad
		}
	}
	p, err := s.store.Person(ctx, by.PersonID)
	if err != nil {
		return storage.Person{}, fmt.Errorf("load person: %w", err)
	}
	if p.ErasedAt != nil {
		return storage.Person{}, fmt.Errorf("edit profile of person %d: %w", p.ID, storage.ErrNotFound)
	}
	if e.Field == FieldPersonalEmail {
		if value != "" && e.ConsentAt.IsZero() && e.Field.NeedsConsent(p) {
			return storage.Person{}, ErrConsentNeeded
		}
		consent := storage.Consent{PersonID: p.ID, Kind: storage.ConsentPersonalEmail,
			Version: e.ConsentVersion, Locale: e.Locale, Accepted: value != "", At: s.clock()}
		if value != "" && !e.ConsentAt.IsZero() {
			consent.At = e.ConsentAt
		}
		// Changing a kept address stands on the consent already given.
		if value == "" || !e.ConsentAt.IsZero() {
			if err := s.store.RecordConsent(ctx, consent); err != nil {
				return storage.Person{}, fmt.Errorf("record consent: %w", err)
			}
		}
	}
	p, err = s.store.UpdateProfile(ctx, p.ID, e.Field.patch(value))
	if err != nil {
		return storage.Person{}, fmt.Errorf("update profile: %w", err)
	}
	return p, nil
}

// SetLocale keeps the language the acting person reads the bot in.
func (s *Service) SetLocale(ctx context.Context, by access.Actor, locale string) (storage.Person, error) {
	p, err := s.store.UpdateProfile(ctx, by.PersonID, storage.ProfilePatch{Locale: &locale})
	if err != nil {
		return storage.Person{}, fmt.Errorf("update locale: %w", err)
	}
	return p, nil
}
