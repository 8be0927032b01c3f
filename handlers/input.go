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

// inputError names the locale key that explains why an answer was refused.
type inputError struct {
	key string
	kv  []any
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
		return "", &inputError{key: "input.too_long", kv: []any{"Max", maxRunes}}
	}
	for _, r := range s {
		if unicode.Is(unicode.Cc, r) {
			return "", &inputError{key: "input.control"}
		}
	}
	return s, nil
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
