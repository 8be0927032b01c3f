package surveys

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Locale keys of refused answers.
const (
	ErrNumber  = "survey.err.number"       // not a number
	ErrMin     = "survey.err.min"          // Args: "min", the bound as text
	ErrMax     = "survey.err.max"          // Args: "max", the bound as text
	ErrInteger = "survey.err.integer"      // a count must be whole
	ErrWhole   = "survey.err.whole_number" // not a number where a whole one is asked
	ErrTooLong = "survey.err.too_long"     // Args: "max", the limit in characters (int)
	ErrEmpty   = "survey.err.empty"        // nothing given
	ErrDate    = "survey.err.date"         // not a date DD.MM.YYYY
	ErrOption  = "survey.err.option"       // Args: "count", the number of options (int)
)

// AnswerError is a refused answer: Key is a locale key, Args alternate
// names and values for its template.
type AnswerError struct {
	Key  string
	Args []any
}

func (e *AnswerError) Error() string {
	if len(e.Args) == 0 {
		return "refuse answer: " + e.Key
	}
	return fmt.Sprintf("refuse answer: %s %v", e.Key, e.Args)
}

func refuse(key string, args ...any) error { return &AnswerError{Key: key, Args: args} }

// Dates outside this range are typos, not meetings.
const minYear, maxYear = 1900, 2100

// 15 digits is all a float64 holds exactly.
const maxDigits = 15

var (
	numberPattern  = regexp.MustCompile(`^[+-]?[0-9]+([.,][0-9]+)?$`)
	groupedPattern = regexp.MustCompile(`^[+-]?[0-9]{1,3}([ \x{a0}\x{202f}\x{2009}][0-9]{3})+([.,][0-9]+)?$`)

	yesWords = []string{"yes", "y", "да", "д"}
	noWords  = []string{"no", "n", "нет", "н"}
)

// ParseAnswer normalises typed or chosen input into the stored value, or
// refuses it with an *AnswerError. Every type first drops invalid UTF-8,
// control characters other than newline and tab (NUL included: PostgreSQL
// text refuses it), bidirectional embedding, override and isolate controls
// (they garble the report around the answer) and BOMs, then trims spaces.
// These are stripped, not refused, because they arrive invisibly with text
// pasted from documents; emoji, joiners and RTL letters stay.
func ParseAnswer(q Question, input string) (string, error) {
	s := clean(input)
	if s == "" {
		return "", refuse(ErrEmpty)
	}
	switch q.Type {
	case YesNo:
		w := strings.ToLower(strings.TrimRight(s, ".!"))
		switch {
		case slices.Contains(yesWords, w):
			return Yes, nil
		case slices.Contains(noWords, w):
			return No, nil
		}
		return "", refuse(ErrOption, "count", 2)
	case Number:
		return parseNumber(q, s)
	case Single:
		id, ok := optionID(q, s)
		if !ok {
			return "", refuse(ErrOption, "count", len(q.Options))
		}
		return id, nil
	case Multi:
		chosen := map[string]bool{}
		for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || unicode.IsSpace(r) }) {
			id, ok := optionID(q, tok)
			if !ok {
				return "", refuse(ErrOption, "count", len(q.Options))
			}
			chosen[id] = true
		}
		var ids []string
		for _, o := range q.Options {
			if chosen[o.ID] {
				ids = append(ids, o.ID)
			}
		}
		if len(ids) == 0 {
			return "", refuse(ErrEmpty)
		}
		return strings.Join(ids, ","), nil
	case FreeText:
		limit := q.MaxLen
		if limit <= 0 {
			limit = DefaultMaxLen
		}
		if utf8.RuneCountInString(s) > limit {
			return "", refuse(ErrTooLong, "max", limit)
		}
		return s, nil
	case Date:
		return parseDate(s)
	}
	return "", fmt.Errorf("parse answer: question %q has unknown type %q", q.ID, q.Type)
}

func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r), r == '\ufeff',
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func parseNumber(q Question, s string) (string, error) {
	s = strings.ReplaceAll(strings.ToLower(s), "\u2212", "-") // the typographic minus
	s = trimUnit(q, s)
	if groupedPattern.MatchString(s) {
		s = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, s)
	}
	notNumber := ErrNumber
	if q.Integer {
		notNumber = ErrWhole // its example must not offer a fraction
	}
	if !numberPattern.MatchString(s) || digits(s) > maxDigits {
		return "", refuse(notNumber)
	}
	v, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return "", refuse(notNumber)
	}
	v += 0 // -0 becomes 0
	switch {
	case q.Integer && v != math.Trunc(v):
		return "", refuse(ErrInteger)
	case q.Min != nil && v < *q.Min:
		return "", refuse(ErrMin, "min", FormatNumber(*q.Min))
	case q.Max != nil && v > *q.Max:
		return "", refuse(ErrMax, "max", FormatNumber(*q.Max))
	}
	return FormatNumber(v), nil
}

func digits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// trimUnit drops the question's unit typed after the number, in any
// language, with or without its abbreviation dot; s is lower case.
func trimUnit(q Question, s string) string {
	var units []string
	for _, u := range q.Unit {
		u = strings.ToLower(u)
		units = append(units, u, strings.TrimSuffix(u, "."))
	}
	// Longest first, so that "экз." goes whole rather than leaving the dot.
	slices.SortFunc(units, func(a, b string) int { return len(b) - len(a) })
	for _, u := range units {
		if u != "" && strings.HasSuffix(s, u) {
			return strings.TrimSpace(strings.TrimSuffix(s, u))
		}
	}
	return s
}

// FormatNumber is the stored form of a number: a dot, no exponent, no trailing zeros.
func FormatNumber(v float64) string {
	return strconv.FormatFloat(v+0, 'f', -1, 64)
}

// optionID resolves an option by id, by its 1-based number or by its text in any language.
func optionID(q Question, s string) (string, bool) {
	if o, ok := q.Option(strings.ToLower(s)); ok {
		return o.ID, true
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n >= 1 && n <= len(q.Options) {
			return q.Options[n-1].ID, true
		}
		return "", false
	}
	for _, o := range q.Options {
		for _, t := range o.Text {
			if strings.EqualFold(t, s) {
				return o.ID, true
			}
		}
	}
	return "", false
}

func parseDate(s string) (string, error) {
	for _, layout := range []string{"2.1.2006", "2006-01-02"} {
		t, err := time.Parse(layout, s)
		if err == nil && t.Year() >= minYear && t.Year() <= maxYear {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", refuse(ErrDate)
}

// Display renders a stored value for people in lang: yes/no through yesNo
// (nil shows the stored word), options by their text, numbers with a decimal
// comma in Russian and the unit, dates as DD.MM.YYYY. A value the question no
// longer knows, such as a removed option, shows as stored. Empty stays empty.
func Display(q Question, value, lang string, yesNo func(bool) string) string {
	if value == "" {
		return ""
	}
	switch q.Type {
	case YesNo:
		if yesNo != nil && (value == Yes || value == No) {
			return yesNo(value == Yes)
		}
	case Number:
		if lang == "ru" {
			value = strings.Replace(value, ".", ",", 1)
		}
		switch unit := q.Unit.T(lang); unit {
		case "":
		case "%":
			value += unit
		default:
			value += " " + unit
		}
	case Single:
		if o, ok := q.Option(value); ok {
			return o.Text.T(lang)
		}
	case Multi:
		ids := strings.Split(value, ",")
		texts := make([]string, len(ids))
		for i, id := range ids {
			texts[i] = id
			if o, ok := q.Option(id); ok {
				texts[i] = o.Text.T(lang)
			}
		}
		return strings.Join(texts, ", ")
	case Date:
		if t, err := time.Parse(time.DateOnly, value); err == nil {
			return t.Format("02.01.2006")
		}
	}
	return value
}
