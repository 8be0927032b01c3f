package membership_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/membership"
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
		{strings.Repeat("Я", membership.MaxNameRunes), strings.Repeat("Я", membership.MaxNameRunes), ""},
		{"Анна\x00Иванова", "", "input.control"},
		{"Анна\nИванова", "", "input.control"},
		{"Ан\u0085на", "", "input.control"},
		{"Анна \u202Eавонави", "", "input.control"}, // a right-to-left override spoofs the name
		{"\u2067Анна\u2069", "", "input.control"},
		{"12345 !!!", "", "input.name_letters"},
		{"\xff\xfe", "", "input.invalid"},
	}
	for _, tt := range tests {
		got, err := membership.FieldName.Clean(tt.in)
		switch {
		case tt.errKey == "" && err != nil:
			t.Errorf("Clean(%q) refused: %s", tt.in, err.Key)
		case tt.errKey != "" && (err == nil || err.Key != tt.errKey):
			t.Errorf("Clean(%q) = %q, %v; want error %s", tt.in, got, err, tt.errKey)
		case tt.errKey == "" && got != tt.want:
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if _, err := membership.FieldName.Clean(strings.Repeat("Я", 5000)); err == nil || err.Limit != membership.MaxNameRunes {
		t.Errorf("a long name is refused with %+v, want the limit %d", err, membership.MaxNameRunes)
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
		for _, f := range []membership.Field{membership.FieldWorkEmail, membership.FieldPersonalEmail} {
			if _, err := f.Clean(in); (err == nil) != ok {
				t.Errorf("%s.Clean(%q) err = %v, want ok=%v", f, in, err, ok)
			}
		}
	}
}

func TestEditProfile(t *testing.T) {
	t.Parallel()
	consentAt := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		// personal is the personal address the person keeps before.
		personal string
		edit     membership.Edit
		want     error
		bad      string
		check    func(p storage.Person) bool
		// consent is the consent the edit records, if any.
		consent *storage.Consent
	}{
		{"a new name", "", membership.Edit{Field: membership.FieldName, Value: " Новое Имя "}, nil, "",
			func(p storage.Person) bool { return p.FullName == "Новое Имя" }, nil},
		{"the name cleared", "", membership.Edit{Field: membership.FieldName}, nil, "input.empty",
			func(p storage.Person) bool { return p.FullName == "Старое Имя" }, nil},
		{"a bad work address", "", membership.Edit{Field: membership.FieldWorkEmail, Value: "not-an-address"}, nil, "input.email",
			func(p storage.Person) bool { return p.WorkEmail == "old@school.ru" }, nil},
		{"the position cleared", "", membership.Edit{Field: membership.FieldPosition}, nil, "",
			func(p storage.Person) bool { return p.Position == "" }, nil},
		{"a personal address with its consent", "", membership.Edit{Field: membership.FieldPersonalEmail, Value: "new@mail.ru",
			ConsentAt: consentAt, ConsentVersion: "v2", Locale: "en"}, nil, "",
			func(p storage.Person) bool { return p.PersonalEmail == "new@mail.ru" },
			&storage.Consent{Kind: storage.ConsentPersonalEmail, Version: "v2", Locale: "en", Accepted: true, At: consentAt}},
		{"a personal address without its consent", "", membership.Edit{Field: membership.FieldPersonalEmail, Value: "new@mail.ru"},
			membership.ErrConsentNeeded, "", func(p storage.Person) bool { return p.PersonalEmail == "" }, nil},
		{"a kept personal address changed", "old@mail.ru", membership.Edit{Field: membership.FieldPersonalEmail, Value: "new@mail.ru"}, nil, "",
			func(p storage.Person) bool { return p.PersonalEmail == "new@mail.ru" }, nil},
		{"a personal address cleared withdraws its consent", "old@mail.ru", membership.Edit{Field: membership.FieldPersonalEmail,
			ConsentVersion: "v2", Locale: "ru"}, nil, "",
			func(p storage.Person) bool { return p.PersonalEmail == "" },
			&storage.Consent{Kind: storage.ConsentPersonalEmail, Version: "v2", Locale: "ru", At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			form := f.form("Старое Имя")
			form.Position, form.WorkEmail = "Учитель", "old@school.ru"
			if tt.personal != "" {
				form.PersonalEmail, form.PersonalConsentAt = tt.personal, f.now
			}
			form.OrgID, form.Role, form.InviteCode = f.org["school"].ID, storage.RoleMember, f.invite("school", storage.RoleMember, nil)
			app, err := f.svc.Register(f.ctx, form)
			if err != nil {
				t.Fatal(err)
			}
			before, err := f.db.Consents(f.ctx, app.Applicant.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.EditProfile(f.ctx, f.actor(app.Applicant.ID), tt.edit)
			var bad *membership.InputError
			switch {
			case tt.bad != "" && (!errors.As(err, &bad) || bad.Key != tt.bad):
				t.Fatalf("EditProfile = %v, want input refused with %s", err, tt.bad)
			case tt.bad == "" && (!errors.Is(err, tt.want) || (err != nil) != (tt.want != nil)):
				t.Fatalf("EditProfile = %v, want %v", err, tt.want)
			}
			p, err := f.db.Person(f.ctx, app.Applicant.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(p) {
				t.Fatalf("person after the edit: %+v", p)
			}
			after, err := f.db.Consents(f.ctx, app.Applicant.ID)
			if err != nil {
				t.Fatal(err)
			}
			var added []storage.Consent
			for _, c := range after {
				if !slices.Contains(before, c) {
					added = append(added, c)
				}
			}
			switch {
			case tt.consent == nil && len(added) != 0:
				t.Fatalf("the edit recorded consents %+v", added)
			case tt.consent != nil:
				want := *tt.consent
				want.PersonID = p.ID
				if len(added) != 1 || added[0] != want {
					t.Fatalf("the edit recorded %+v, want %+v", added, want)
				}
			}
		})
	}
}

func TestSetLocale(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p, act := f.join("school", storage.RoleMember, "Орлова Вера")
	got, err := f.svc.SetLocale(f.ctx, act, "en")
	if err != nil {
		t.Fatal(err)
	}
	if kept, _ := f.db.Person(f.ctx, p.ID); got.Locale != "en" || kept.Locale != "en" {
		t.Fatalf("locale %q, kept %q", got.Locale, kept.Locale)
	}
}
