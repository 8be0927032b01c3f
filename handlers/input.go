package handlers

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of typed answers, in characters.
const (
	maxNameRunes     = 200
	maxPositionRunes = 200
	maxEmailRunes    = 254
)

// inputError names the locale key that explains why an answer was refused;
// limit, when set, is the number the (plural) message speaks of.
type inputError struct {
	key   string
	limit int
}

func (e *inputError) Error() string { return e.key }

// cleanText trims an answer and refuses empty, oversized, broken or
// control-character text. Everything else, emoji and right-to-left scripts
// included, is kept byte for byte.
func cleanText(s string, maxRunes int) (string, *inputError) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", &inputError{key: "input.empty"}
	case !utf8.ValidString(s):
		return "", &inputError{key: "input.invalid"}
	case utf8.RuneCountInString(s) > maxRunes:
		return "", &inputError{key: "input.too_long", limit: maxRunes}
	}
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) || isBidiOverride(r) {
			return "", &inputError{key: "input.control"}
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

// message is the refusal in the session's language.
func (e *inputError) message(s *session) string {
	if e.limit > 0 {
		return s.plural(e.key, e.limit)
	}
	return s.t(e.key)
}

func cleanName(s string) (string, *inputError) {
	s, err := cleanText(s, maxNameRunes)
	if err != nil {
		return "", err
	}
	if !strings.ContainsFunc(s, unicode.IsLetter) {
		return "", &inputError{key: "input.name_letters"}
	}
	return s, nil
}

func cleanPosition(s string) (string, *inputError) { return cleanText(s, maxPositionRunes) }

// cleanEmail accepts a bare address such as ivanova@school.ru.
func cleanEmail(s string) (string, *inputError) {
	s, err := cleanText(s, maxEmailRunes)
	if err != nil {
		return "", err
	}
	addr, perr := mail.ParseAddress(s)
	if perr != nil || addr.Address != s || addr.Name != "" {
		return "", &inputError{key: "input.email"}
	}
	_, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", &inputError{key: "input.email"}
	}
	return s, nil
}
