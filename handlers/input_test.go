package handlers

import (
	"reflect"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

func TestCleanName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, errKey string
	}{
		{"  Иванова Анна Петровна ", "Иванова Анна Петровна", ""},
		{"Анна 👩‍🔧 Иванова", "Анна 👩‍🔧 Иванова", ""}, // emoji with a zero-width joiner survives
		{"مرحبا بالعالم", "مرحبا بالعالم", ""},       // right-to-left text survives
		{"\u200fשרה כהן", "\u200fשרה כהן", ""},       // a right-to-left mark is a format character, kept
		{"", "", "input.empty"},
		{"   \n\t ", "", "input.empty"},
		{strings.Repeat("Я", 5000), "", "input.too_long"},
		{strings.Repeat("Я", maxNameRunes), strings.Repeat("Я", maxNameRunes), ""},
		{"Анна\x00Иванова", "", "input.control"},
		{"Анна\nИванова", "", "input.control"},
		{"Ан\u0085на", "", "input.control"},
		{"Анна \u202Eавонави", "", "input.control"}, // a right-to-left override spoofs the name
		{"\u2067Анна\u2069", "", "input.control"},
		{"12345 !!!", "", "input.name_letters"},
		{"\xff\xfe", "", "input.invalid"},
	}
	for _, tt := range tests {
		got, err := cleanName(tt.in)
		switch {
		case tt.errKey == "" && err != nil:
			t.Errorf("cleanName(%q) refused: %s", tt.in, err.key)
		case tt.errKey != "" && (err == nil || err.key != tt.errKey):
			t.Errorf("cleanName(%q) = %q, %v; want error %s", tt.in, got, err, tt.errKey)
		case tt.errKey == "" && got != tt.want:
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCleanEmail(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		"ivanova@school5.ru":               true,
		" a.b-c+tag@mail.example.org":      true,
		"Анна <anna@mail.ru>":              false,
		"anna@localhost":                   false,
		"anna@mail.":                       false,
		"anna":                             false,
		"anna@@mail.ru":                    false,
		"":                                 false,
		strings.Repeat("a", 250) + "@x.ru": false,
	} {
		if _, err := cleanEmail(in); (err == nil) != ok {
			t.Errorf("cleanEmail(%q) err = %v, want ok=%v", in, err, ok)
		}
	}
}

func TestCodes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		c := newInviteCode()
		if !looksLikeInviteCode(c) || seen[c] {
			t.Fatalf("invite code %q is malformed or repeated", c)
		}
		seen[c] = true
		l := newLinkCode()
		if len(l) != 8 || strings.Trim(l, linkAlphabet) != "" {
			t.Fatalf("link code %q uses letters outside the alphabet", l)
		}
	}
	if got := normalizeLinkCode(" abcd-efgh "); got != "ABCDEFGH" {
		t.Fatalf("normalizeLinkCode = %q", got)
	}
	if looksLikeInviteCode("Здравствуйте, я из школы") {
		t.Fatal("ordinary text taken for an invite code")
	}
}

func TestKeepFormatFollowsTheTrimmedText(t *testing.T) {
	t.Parallel()
	bold := func(off, n int) storage.Span { return storage.Span{Kind: storage.SpanBold, Offset: off, Length: n} }
	tests := []struct {
		name      string
		raw, text string
		in, want  []storage.Span
	}{
		{"untouched", "Сбор 📣", "Сбор 📣", []storage.Span{bold(5, 2)}, []storage.Span{bold(5, 2)}},
		{"leading space moves it left", "  Сбор", "Сбор", []storage.Span{bold(2, 4)}, []storage.Span{bold(0, 4)}},
		{"cut at the trimmed end", "Сбор  ", "Сбор", []storage.Span{bold(0, 6)}, []storage.Span{bold(0, 4)}},
		{"over trimmed space only: dropped", "Сбор  ", "Сбор", []storage.Span{bold(4, 2)}, nil},
		{"line ends changed: dropped", "a\r\nb", "a\nb", []storage.Span{bold(0, 1)}, nil},
		{"caption-less photo", "", "", []storage.Span{bold(0, 1)}, nil},
	}
	for _, tt := range tests {
		if got := keepFormat(tt.raw, tt.text, tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: keepFormat = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
