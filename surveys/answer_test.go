package surveys

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func ptr(f float64) *float64 { return &f }

var (
	qYesNo   = Question{ID: "yn", Type: YesNo}
	qCount   = Question{ID: "count", Type: Number, Min: ptr(0)}
	qSigned  = Question{ID: "signed", Type: Number}
	qBudget  = Question{ID: "budget", Type: Number, Min: ptr(0), Max: ptr(100), Unit: Text{"ru": "%", "en": "%"}}
	qCopies  = Question{ID: "copies", Type: Number, Min: ptr(0), Integer: true, Unit: Text{"ru": "экз.", "en": "copies"}}
	qFine    = Question{ID: "fine", Type: Number, Min: ptr(0.5), Max: ptr(1e6)}
	qSingle  = Question{ID: "single", Type: Single, Options: []Option{{"a", Text{"ru": "Первый", "en": "First"}}, {"b", Text{"ru": "Второй"}}, {"c", Text{"ru": "Третий"}}}}
	qMulti   = Question{ID: "multi", Type: Multi, Options: qSingle.Options}
	qText    = Question{ID: "text", Type: FreeText, MaxLen: 10}
	qLong    = Question{ID: "long", Type: FreeText, MaxLen: DefaultMaxLen}
	qUnlimit = Question{ID: "unset", Type: FreeText} // MaxLen 0 outside Parse means the default
	qDate    = Question{ID: "date", Type: Date}
)

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	refused := func(key string, args ...any) *AnswerError { return &AnswerError{Key: key, Args: args} }
	tests := []struct {
		name  string
		q     Question
		input string
		want  string
		err   *AnswerError
	}{
		{"yes ru", qYesNo, "Да", Yes, nil},
		{"no ru", qYesNo, " нет. ", No, nil},
		{"yes en", qYesNo, "YES", Yes, nil},
		{"no short", qYesNo, "n", No, nil},
		{"maybe", qYesNo, "может быть", "", refused(ErrOption, "count", 2)},
		{"yes_no empty", qYesNo, "  ", "", refused(ErrEmpty)},

		{"whole", qCount, "12", "12", nil},
		{"decimal point", qCount, "12.5", "12.5", nil},
		{"decimal comma", qCount, "12,5", "12.5", nil},
		{"spaces", qCount, " 7 ", "7", nil},
		{"trailing zeros", qCount, "12.50", "12.5", nil},
		{"zero fraction", qCount, "3,0", "3", nil},
		{"thousands", qCount, "1 200", "1200", nil},
		{"thousands nbsp", qCount, "12\u00a0345,5", "12345.5", nil},
		{"bad grouping", qCount, "1 20", "", refused(ErrNumber)},
		{"letters", qCount, "abc", "", refused(ErrNumber)},
		{"exponent", qCount, "1e9", "", refused(ErrNumber)},
		{"hex", qCount, "0x10", "", refused(ErrNumber)},
		{"nan", qCount, "NaN", "", refused(ErrNumber)},
		{"inf", qCount, "Inf", "", refused(ErrNumber)},
		{"two separators", qCount, "1,234.5", "", refused(ErrNumber)},
		{"too many digits", qCount, "12345678901234567", "", refused(ErrNumber)},
		{"arabic digits", qCount, "١٢", "", refused(ErrNumber)},
		{"negative below min", qCount, "-5", "", refused(ErrMin, "min", "0")},
		{"negative zero", qCount, "-0", "0", nil},
		{"number empty", qCount, "", "", refused(ErrEmpty)},
		{"percent unit-less", qCount, "100%", "", refused(ErrNumber)},
		{"signed", qSigned, "-5", "-5", nil},
		{"typographic minus", qSigned, "\u22125,5", "-5.5", nil},
		{"plus", qSigned, "+3", "3", nil},
		{"percent", qBudget, "100%", "100", nil},
		{"percent comma", qBudget, "4,9 %", "4.9", nil},
		{"above max", qBudget, "101", "", refused(ErrMax, "max", "100")},
		{"at max", qBudget, "100", "100", nil},
		{"copies unit", qCopies, "3 экз.", "3", nil},
		{"copies unit no dot", qCopies, "3экз", "3", nil},
		{"copies english", qCopies, "3 Copies", "3", nil},
		{"copies fraction", qCopies, "2,5", "", refused(ErrInteger)},
		{"copies letters", qCopies, "abc", "", refused(ErrWhole)}, // its example is whole
		{"bounds as text", qFine, "0.1", "", refused(ErrMin, "min", "0.5")},
		{"big bound as text", qFine, "2000000", "", refused(ErrMax, "max", "1000000")},

		{"option id", qSingle, "b", "b", nil},
		{"option id upper", qSingle, "B", "b", nil},
		{"option number", qSingle, "3", "c", nil},
		{"option zero", qSingle, "0", "", refused(ErrOption, "count", 3)},
		{"option beyond", qSingle, "4", "", refused(ErrOption, "count", 3)},
		{"option text", qSingle, "второй", "b", nil},
		{"option english text", qSingle, "first", "a", nil},
		{"unknown option", qSingle, "zzz", "", refused(ErrOption, "count", 3)},
		{"multi ids", qMulti, "c, a", "a,c", nil},
		{"multi numbers deduplicated", qMulti, "3 1 1", "a,c", nil},
		{"multi mixed", qMulti, "b;1", "a,b", nil},
		{"multi separators only", qMulti, " , ;", "", refused(ErrEmpty)},
		{"multi unknown", qMulti, "a, x", "", refused(ErrOption, "count", 3)},

		{"text trimmed", qText, "  привет  ", "привет", nil},
		{"text exactly max", qText, strings.Repeat("я", 10), strings.Repeat("я", 10), nil},
		{"text one over", qText, strings.Repeat("я", 11), "", refused(ErrTooLong, "max", 10)},
		{"huge text", qLong, strings.Repeat("x", 100000), "", refused(ErrTooLong, "max", DefaultMaxLen)},
		{"default max", qUnlimit, strings.Repeat("x", DefaultMaxLen+1), "", refused(ErrTooLong, "max", DefaultMaxLen)},
		{"text empty", qText, "", "", refused(ErrEmpty)},
		{"text blank", qText, " \n\t ", "", refused(ErrEmpty)},
		{"emoji", qLong, "👍🏽 ок 👨‍👩‍👧", "👍🏽 ок 👨‍👩‍👧", nil},
		{"nul stripped", qText, "a\x00b", "ab", nil},
		{"only nul", qText, "\x00\x00", "", refused(ErrEmpty)},
		{"rtl mark kept", qLong, "\u200fשלום", "\u200fשלום", nil},
		{"bidi override stripped", qLong, "\u202eevil\u202c", "evil", nil},
		{"bom stripped", qLong, "\ufeffтекст", "текст", nil},
		{"crlf", qLong, "one\r\ntwo\rthree", "one\ntwo\nthree", nil},
		{"tab kept", qLong, "a\tb", "a\tb", nil},
		{"escape stripped", qLong, "a\x1b[31mb", "a[31mb", nil},
		{"invalid utf-8", qLong, "\xffok", "ok", nil},

		{"date dotted", qDate, "15.01.2024", "2024-01-15", nil},
		{"date short", qDate, "5.1.2024", "2024-01-05", nil},
		{"date iso", qDate, "2024-01-15", "2024-01-15", nil},
		{"date spaces", qDate, " 29.02.2024 ", "2024-02-29", nil},
		{"date no leap", qDate, "29.02.2023", "", refused(ErrDate)},
		{"date day out of range", qDate, "31.04.2024", "", refused(ErrDate)},
		{"date slashes", qDate, "15/01/2024", "", refused(ErrDate)},
		{"date two-digit year", qDate, "15.01.24", "", refused(ErrDate)},
		{"date ancient", qDate, "01.01.1800", "", refused(ErrDate)},
		{"date words", qDate, "вчера", "", refused(ErrDate)},
		{"date empty", qDate, "", "", refused(ErrEmpty)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAnswer(tc.q, tc.input)
			if tc.err == nil {
				if err != nil || got != tc.want {
					t.Errorf("ParseAnswer(%q) = %q, %v; want %q", tc.input, got, err, tc.want)
				}
				return
			}
			var ae *AnswerError
			if !errors.As(err, &ae) {
				t.Fatalf("ParseAnswer(%q) = %q, %v; want %v", tc.input, got, err, tc.err)
			}
			if !strings.Contains(ae.Error(), tc.err.Key) {
				t.Errorf("Error() = %q lacks the key", ae.Error())
			}
			if ae.Key != tc.err.Key || !reflect.DeepEqual(ae.Args, tc.err.Args) {
				t.Errorf("ParseAnswer(%q) refused with %s %v, want %s %v", tc.input, ae.Key, ae.Args, tc.err.Key, tc.err.Args)
			}
		})
	}
}

func TestParseAnswerUnknownType(t *testing.T) {
	t.Parallel()
	_, err := ParseAnswer(Question{ID: "q", Type: "slider"}, "5")
	var ae *AnswerError
	if err == nil || errors.As(err, &ae) {
		t.Errorf("err = %v, want a programming error, not a refusal", err)
	}
}

func TestDisplay(t *testing.T) {
	t.Parallel()
	yesNo := func(b bool) string {
		if b {
			return "Да"
		}
		return "Нет"
	}
	tests := []struct {
		q           Question
		value, lang string
		want        string
	}{
		{qYesNo, Yes, "ru", "Да"},
		{qYesNo, No, "ru", "Нет"},
		{qCopies, "12", "ru", "12 экз."},
		{qCopies, "12", "en", "12 copies"},
		{qBudget, "4.9", "ru", "4,9%"},
		{qBudget, "4.9", "en", "4.9%"},
		{qCount, "1200", "ru", "1200"},
		{qSingle, "b", "en", "Второй"},
		{qSingle, "a", "en", "First"},
		{qSingle, "gone", "ru", "gone"},
		{qMulti, "a,c", "ru", "Первый, Третий"},
		{qDate, "2024-01-15", "en", "15.01.2024"},
		{qText, "привет", "en", "привет"},
		{qText, "", "ru", ""},
	}
	for _, tc := range tests {
		if got := Display(tc.q, tc.value, tc.lang, yesNo); got != tc.want {
			t.Errorf("Display(%s, %q, %s) = %q, want %q", tc.q.ID, tc.value, tc.lang, got, tc.want)
		}
	}
	if got := Display(qYesNo, Yes, "ru", nil); got != Yes {
		t.Errorf("Display without yesNo = %q", got)
	}
}

// Every stored value reads back as itself, so an edited answer round-trips.
func TestParseAnswerIdempotent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		q     Question
		input string
	}{{qBudget, "4,9 %"}, {qCopies, "3 экз."}, {qMulti, "3 1"}, {qDate, "5.1.2024"}, {qYesNo, "Да"}, {qText, " a\x00b "}} {
		first, err := ParseAnswer(c.q, c.input)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := ParseAnswer(c.q, first); err != nil || again != first {
			t.Errorf("%s: %q -> %q -> %q, %v", c.q.ID, c.input, first, again, err)
		}
	}
}
