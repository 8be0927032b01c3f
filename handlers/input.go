package handlers

import "github.com/unionhub/unionhub/membership"

// inputError names the locale key that explains why an answer was refused;
// limit, when set, is the number the (plural) message speaks of.
type inputError struct {
	key   string
	limit int
}

func (e *inputError) Error() string { return e.key }

// refusal is a domain's refused value as the conversations tell it.
func refusal(bad *membership.InputError) *inputError {
	if bad == nil {
		return nil
	}
	return &inputError{key: bad.Key, limit: bad.Limit}
}

// cleanText trims an answer and refuses empty, oversized, broken or
// control-character text, by the rule people's fields follow.
func cleanText(s string, maxRunes int) (string, *inputError) {
	v, bad := membership.CleanText(s, maxRunes)
	return v, refusal(bad)
}

// cleanField checks a typed value of a person's field.
func cleanField(f membership.Field, s string) (string, *inputError) {
	v, bad := f.Clean(s)
	return v, refusal(bad)
}

// message is the refusal in the session's language.
func (e *inputError) message(s *session) string {
	if e.limit > 0 {
		return s.plural(e.key, e.limit)
	}
	return s.t(e.key)
}
