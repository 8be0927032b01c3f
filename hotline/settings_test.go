package hotline

import (
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/storage"
)

func TestDeadlineCountsWorkingHoursInTheOrgsZone(t *testing.T) {
	t.Parallel()
	sakhalin, err := time.LoadLocation("Asia/Sakhalin")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultSettings() // 24 working hours, Mon–Fri 09:00–18:00
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, sakhalin)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct{ start, want string }{
		{"2026-11-23 10:00", "2026-11-25 16:00"}, // Monday: 8 + 9 + 7 hours
		{"2026-11-27 17:00", "2026-12-02 14:00"}, // Friday evening: 1 + 9 + 9 + 5
		{"2026-11-28 12:00", "2026-12-02 15:00"}, // Saturday: from Monday 09:00
		{"2026-11-23 07:30", "2026-11-25 15:00"}, // before opening
		{"2026-11-23 18:00", "2026-11-26 15:00"}, // at closing: from Tuesday
	}
	for _, tt := range tests {
		got := c.Deadline(at(tt.start).UTC(), sakhalin)
		if want := at(tt.want); !got.Equal(want) {
			t.Errorf("Deadline(%s) = %s, want %s", tt.start, got.In(sakhalin).Format("2006-01-02 15:04 Mon"), tt.want)
		}
	}
	c.FirstResponseHours = 1
	if got, want := c.Deadline(at("2026-11-23 17:30").UTC(), sakhalin), at("2026-11-24 09:30"); !got.Equal(want) {
		t.Errorf("an hour from 17:30 = %s, want the next morning 09:30", got.In(sakhalin))
	}
}

func TestExampleHotlineFileParses(t *testing.T) {
	t.Parallel()
	c, err := LoadSettings("../examples/hotline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Topic("housing"); !ok || !c.HandsUp(storage.LevelPrimary, "legal") {
		t.Fatalf("example hot line %+v", c)
	}
}

func TestParseSettings(t *testing.T) {
	t.Parallel()
	c, err := ParseSettings("hotline.yaml", strings.NewReader(`
topics:
  - id: wages
  - id: housing
    names: {ru: Жильё, en: Housing}
  - id: legal
first_response_hours: 8
working_hours: 08:30-17:00
working_days: [1, 2, 3, 4, 5, 6]
hand_up:
  - {topic: legal, from: primary}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Topics) != 3 || c.FirstResponseHours != 8 || !c.HandsUp(storage.LevelPrimary, "legal") || c.HandsUp(storage.LevelBranch, "legal") {
		t.Fatalf("parsed %+v", c)
	}
	for _, bad := range []struct{ text, want string }{
		{"topics: []", "topics"},
		{"topics: [{id: a1, names: {ru: а, en: a}}, {id: a2, names: {ru: а, en: a}}, {id: a3, names: {ru: а, en: a}}, {id: a4, names: {ru: а, en: a}}, {id: a5, names: {ru: а, en: a}}, {id: a6, names: {ru: а, en: a}}, {id: a7, names: {ru: а, en: a}}, {id: a8, names: {ru: а, en: a}}, {id: a9, names: {ru: а, en: a}}, {id: a10, names: {ru: а, en: a}}, {id: a11, names: {ru: а, en: a}}]", "between 1 and 10"},
		{"topics: [{id: long, names: {ru: Очень длинное название темы горячей линии профсоюза, en: x}}]", "longer than 40"},
		{"topics: [{id: wages}, {id: wages}]", "twice"},
		{"topics: [{id: housing}]", "names.ru"},
		{"topics: [{id: 'a:b'}]", "colons"},
		{"first_response_hours: 0", "first_response_hours"},
		{"working_hours: 18:00-09:00", "working_hours"},
		{"working_days: [0]", "working_days"},
		{"hand_up: [{topic: tax, from: primary}]", "unknown topic"},
		{"hand_up: [{topic: legal, from: region}]", "unknown level"},
		{"colour: red", "colour"},
	} {
		if _, err := ParseSettings("h.yaml", strings.NewReader(bad.text)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want it to mention %q", bad.text, err, bad.want)
		}
	}
}
