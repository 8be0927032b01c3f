package hotline

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/unionhub/unionhub/storage"
)

// Settings are the deployment's hot-line data: topics, response target,
// working hours and which topics an organisation hands up. Routing is data:
// change the file, not the code.
type Settings struct {
	Topics []Topic `yaml:"topics"`
	// FirstResponseHours is the first-response target in working hours.
	FirstResponseHours int `yaml:"first_response_hours"`
	// WorkingHours is "09:00-18:00" in each organisation's time zone.
	WorkingHours string `yaml:"working_hours"`
	// WorkingDays are ISO weekdays, 1 = Monday.
	WorkingDays []int `yaml:"working_days"`
	// HandUp lists topics that an org of a level sends straight to its parent,
	// such as legal help to the branch lawyer.
	HandUp []HandUpRule `yaml:"hand_up"`

	start, end time.Duration // parsed WorkingHours, since midnight
}

// Topic is a hot-line subject. Built-in ids take their names from the
// locales; a deployment's own topics name themselves in each language.
type Topic struct {
	ID    string            `yaml:"id"`
	Names map[string]string `yaml:"names"`
}

// HandUpRule sends Topic from orgs of level From to their parent.
type HandUpRule struct {
	Topic string        `yaml:"topic"`
	From  storage.Level `yaml:"from"`
}

// maxTopicName is the longest topic name: a VK button label.
const maxTopicName = 40

// builtinTopics are the programme's topics, in the order a member sees them;
// the front ends name them in each language.
var builtinTopics = []string{"wages", "employment", "conditions", "safety", "benefits", "legal", "other"}

// TopicJoining is "joining the union": the one topic a supporter asks
// about, and only a supporter. It is always there, outside the topics a
// member picks from, and is routed as every topic is.
const TopicJoining = "joining"

// IsBuiltin reports whether id is one of the programme's topics, named by
// the front ends rather than by the deployment's file.
func IsBuiltin(id string) bool { return id == TopicJoining || slices.Contains(builtinTopics, id) }

// DefaultSettings are the programme's hot line: its topics, a first answer
// within 24 working hours, Monday to Friday 09:00–18:00.
func DefaultSettings() Settings {
	c := Settings{FirstResponseHours: 24, WorkingHours: "09:00-18:00", WorkingDays: []int{1, 2, 3, 4, 5}}
	for _, id := range builtinTopics {
		c.Topics = append(c.Topics, Topic{ID: id})
	}
	if err := c.validate(); err != nil {
		panic(err) // the default is a constant
	}
	return c
}

// LoadSettings reads a hot-line file; fields it leaves out keep the
// defaults.
func LoadSettings(path string) (Settings, error) {
	f, err := os.Open(path)
	if err != nil {
		return Settings{}, fmt.Errorf("open hot-line config: %w", err)
	}
	defer f.Close()
	return ParseSettings(path, f)
}

// ParseSettings reads a hot-line file from r; name is for messages.
func ParseSettings(name string, r io.Reader) (Settings, error) {
	c := DefaultSettings()
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Settings{}, fmt.Errorf("%s: %w", name, err)
	}
	if err := c.validate(); err != nil {
		return Settings{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func (c *Settings) validate() error {
	var errs []error
	// Ten topics fill the five two-button rows of a topic picker.
	if len(c.Topics) == 0 || len(c.Topics) > 10 {
		errs = append(errs, fmt.Errorf("topics: between 1 and 10 needed, got %d", len(c.Topics)))
	}
	seen := map[string]bool{}
	for _, t := range c.Topics {
		switch {
		case t.ID == "" || len(t.ID) > 24 || strings.ContainsAny(t.ID, ": "):
			errs = append(errs, fmt.Errorf("topic %q: an id of up to 24 characters without spaces or colons is needed", t.ID))
		case t.ID == TopicJoining:
			errs = append(errs, fmt.Errorf("topic %q is the supporters' own, always there: it is not listed", t.ID))
		case seen[t.ID]:
			errs = append(errs, fmt.Errorf("topic %q is listed twice", t.ID))
		case !IsBuiltin(t.ID) && (t.Names["ru"] == "" || t.Names["en"] == ""):
			errs = append(errs, fmt.Errorf("topic %q: a topic of this deployment needs names.ru and names.en", t.ID))
		}
		for lang, name := range t.Names {
			if utf8.RuneCountInString(name) > maxTopicName {
				errs = append(errs, fmt.Errorf("topic %q: names.%s is longer than %d characters, the most a VK button shows", t.ID, lang, maxTopicName))
			}
		}
		seen[t.ID] = true
	}
	if c.FirstResponseHours < 1 || c.FirstResponseHours > 24*30 {
		errs = append(errs, fmt.Errorf("first_response_hours: %d is not between 1 and 720", c.FirstResponseHours))
	}
	from, to, ok := strings.Cut(c.WorkingHours, "-")
	start, err1 := time.Parse("15:04", strings.TrimSpace(from))
	end, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil || !start.Before(end) {
		errs = append(errs, fmt.Errorf("working_hours: %q is not like 09:00-18:00", c.WorkingHours))
	} else {
		c.start = time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute
		c.end = time.Duration(end.Hour())*time.Hour + time.Duration(end.Minute())*time.Minute
	}
	if len(c.WorkingDays) == 0 {
		errs = append(errs, errors.New("working_days: at least one day is needed"))
	}
	for _, d := range c.WorkingDays {
		if d < 1 || d > 7 {
			errs = append(errs, fmt.Errorf("working_days: %d is not an ISO weekday (1 = Monday … 7 = Sunday)", d))
		}
	}
	for _, r := range c.HandUp {
		if !seen[r.Topic] && r.Topic != TopicJoining {
			errs = append(errs, fmt.Errorf("hand_up: unknown topic %q", r.Topic))
		}
		if !r.From.Valid() {
			errs = append(errs, fmt.Errorf("hand_up: unknown level %q", r.From))
		}
	}
	return errors.Join(errs...)
}

// Topic returns the topic with id, if the deployment has it; every
// deployment has TopicJoining.
func (c Settings) Topic(id string) (Topic, bool) {
	if id == TopicJoining {
		return Topic{ID: TopicJoining}, true
	}
	for _, t := range c.Topics {
		if t.ID == id {
			return t, true
		}
	}
	return Topic{}, false
}

// HandsUp reports whether an org of level sends topic straight up.
func (c Settings) HandsUp(level storage.Level, topic string) bool {
	for _, r := range c.HandUp {
		if r.From == level && r.Topic == topic {
			return true
		}
	}
	return false
}

// Deadline returns when a first response is due for a ticket arriving at
// start, counting only working hours in loc.
func (c Settings) Deadline(start time.Time, loc *time.Location) time.Time {
	left := time.Duration(c.FirstResponseHours) * time.Hour
	t := start.In(loc)
	for {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		open, shut := day.Add(c.start), day.Add(c.end)
		if c.workingDay(t.Weekday()) && t.Before(shut) {
			if t.Before(open) {
				t = open
			}
			if avail := shut.Sub(t); left <= avail {
				return t.Add(left).UTC()
			} else {
				left -= avail
			}
		}
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
	}
}

func (c Settings) workingDay(d time.Weekday) bool {
	iso := int(d)
	if iso == 0 {
		iso = 7
	}
	for _, w := range c.WorkingDays {
		if w == iso {
			return true
		}
	}
	return false
}
