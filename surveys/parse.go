package surveys

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"

	"github.com/unionhub/unionhub/storage"
)

// Limits of a survey file.
const (
	// DefaultMaxLen is a text answer's limit when the file sets none.
	DefaultMaxLen = 1000
	// A Telegram message holds 4096 characters; the answer is echoed back in one.
	maxMaxLen = 4000
	// VK inline keyboards hold 10 buttons; four stay free for done, back,
	// skip and keep.
	maxOptions = 6
	// The most a VK button label shows.
	maxOptionText   = 40
	maxQuestionText = 1000
	maxTitle        = 100
	maxUnit         = 20
	maxQuestions    = 100
	// A typo such as "300d" for "30d" should not leave a survey open for years.
	maxDeadline = 366 * 24 * time.Hour
)

// DefaultSchedule is the name of a schedule that gives none.
const DefaultSchedule = "default"

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)
	langPattern = regexp.MustCompile(`^[a-z]{2,3}$`)
	yamlLine    = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
)

// Known fields of each YAML mapping, in the order messages list them.
var (
	surveyFields    = []string{"id", "title", "questions", "schedules"}
	questionFields  = []string{"id", "type", "text", "required", "min", "max", "unit", "integer", "options", "max_len", "if", "indicator"}
	optionFields    = []string{"id", "text"}
	conditionFields = []string{"question", "equals"}
	scheduleFields  = []string{"name", "cron", "org", "levels", "roles", "deadline", "reminders", "results"}
)

//go:embed *.yaml
var builtinFiles embed.FS

// Builtin returns the built-in surveys embedded from this directory's *.yaml,
// sorted by id. It panics only if the embedded files are invalid, which a
// test rules out.
func Builtin() []Survey {
	entries, err := builtinFiles.ReadDir(".")
	if err != nil {
		panic(fmt.Sprintf("read builtin surveys: %v", err))
	}
	var out []Survey
	seen := map[string]string{}
	for _, e := range entries {
		data, err := builtinFiles.ReadFile(e.Name())
		if err != nil {
			panic(fmt.Sprintf("read builtin survey: %v", err))
		}
		s, err := Parse(e.Name(), data)
		if err != nil {
			panic(fmt.Sprintf("parse builtin survey: %v", err))
		}
		if other, dup := seen[s.ID]; dup {
			panic(fmt.Sprintf("builtin surveys %s and %s share the id %q", other, e.Name(), s.ID))
		}
		seen[s.ID] = e.Name()
		out = append(out, s)
	}
	sortByID(out)
	return out
}

// Load returns Builtin plus every *.yaml and *.yml in dir; dir "" gives
// only the builtin ones, and a missing directory is an error, not a silent
// fallback to them. A file whose id is a builtin's replaces it, so a
// deployment may customise the annual survey.
// Hidden files (".name.yaml", editors' leftovers) are skipped. Every broken
// file is reported, not just the first.
func Load(dir string) ([]Survey, error) {
	builtin := Builtin()
	if dir == "" {
		return builtin, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read survey dir: %w", err)
	}
	var errs []error
	own := map[string]Survey{}
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read survey: %w", err))
			continue
		}
		s, err := Parse(path, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := own[s.ID]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: survey id %q is also used at %s:%d", path, s.line, s.ID, prev.Source, prev.line))
			continue
		}
		own[s.ID] = s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	out := make([]Survey, 0, len(builtin)+len(own))
	for _, s := range builtin {
		if _, replaced := own[s.ID]; !replaced {
			out = append(out, s)
		}
	}
	for _, s := range own {
		out = append(out, s)
	}
	sortByID(out)
	return out, nil
}

func sortByID(s []Survey) {
	sort.Slice(s, func(i, j int) bool { return s[i].ID < s[j].ID })
}

// Parse reads one survey file; name is for messages and becomes Source.
// Every problem is reported, each as "name:line: ...".
func Parse(name string, data []byte) (Survey, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return Survey{}, fmt.Errorf("%s:1: empty file: a survey is needed", name)
		}
		return Survey{}, yamlError(name, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return Survey{}, fmt.Errorf("%s:%d: a second document: one survey per file", name, extra.Line)
	case !errors.Is(err, io.EOF):
		return Survey{}, yamlError(name, data, err)
	}
	p := &parser{name: name}
	s := p.survey(doc.Content[0])
	if len(p.errs) > 0 {
		return Survey{}, errors.Join(p.errs...)
	}
	s.Source = name
	return s, nil
}

// yamlError puts the file name before the line of a syntax error, the way
// every other message reads.
func yamlError(name string, data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], m[2])
	}
	// An unclosed quote or bracket is only noticed at the end.
	if strings.Contains(msg, "end of stream") {
		return fmt.Errorf("%s:%d: %s", name, bytes.Count(bytes.TrimRight(data, "\n"), []byte("\n"))+1, msg)
	}
	return fmt.Errorf("%s: %s", name, msg)
}

type parser struct {
	name string
	errs []error
}

// fail reports a problem at n's line; ctx names the item, such as `question "q3"`.
func (p *parser) fail(n *yaml.Node, ctx, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if ctx != "" {
		msg = ctx + ": " + msg
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, n.Line, msg))
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// fields checks that n is a mapping of known keys, each given once, and
// returns the values by key; null values count as absent. It returns nil when
// n is not a mapping.
func (p *parser) fields(n *yaml.Node, ctx, what string, known []string) map[string]*yaml.Node {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.fail(n, ctx, "%s must be a mapping", what)
		return nil
	}
	out := map[string]*yaml.Node{}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		switch {
		case !slices.Contains(known, k.Value):
			p.fail(k, ctx, "unknown field %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
		case seen[k.Value]:
			p.fail(k, ctx, "field %q is given twice", k.Value)
		case !isNull(v):
			out[k.Value] = v
		}
		seen[k.Value] = true
	}
	return out
}

func (p *parser) scalar(n *yaml.Node, ctx, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		p.fail(n, ctx, "%s must be a single value", field)
		return "", false
	}
	return n.Value, true
}

func (p *parser) id(n *yaml.Node, ctx, field string) string {
	v, ok := p.scalar(n, ctx, field)
	if !ok {
		return ""
	}
	if !idPattern.MatchString(v) {
		p.fail(n, ctx, "%s %q must be 1 to 40 characters of a-z, 0-9, _ and -", field, v)
		return ""
	}
	return v
}

func (p *parser) boolean(n *yaml.Node, ctx, field string) bool {
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		p.fail(n, ctx, "%s must be true or false", field)
	}
	return b
}

func (p *parser) number(n *yaml.Node, ctx, field string) *float64 {
	var f float64
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&f) != nil ||
		math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(n, ctx, "%s must be a number", field)
		return nil
	}
	return &f
}

func (p *parser) list(n *yaml.Node, ctx, field string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.fail(n, ctx, "%s must be a list", field)
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

// text reads a {ru: ..., en: ...} mapping; parent is where a missing text is reported.
func (p *parser) text(parent, n *yaml.Node, ctx, field string, required bool, maxLen int) Text {
	if n == nil {
		if required {
			p.fail(parent, ctx, "missing %s", field)
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, ctx, "%s must be a mapping of language to text, like {ru: ..., en: ...}", field)
		return nil
	}
	t := Text{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		lang := k.Value
		switch {
		case !langPattern.MatchString(lang):
			p.fail(k, ctx, "%s: %q is not a language code like ru or en", field, lang)
			continue
		case t[lang] != "":
			p.fail(k, ctx, "%s.%s is given twice", field, lang)
			continue
		}
		s, ok := p.scalar(v, ctx, field+"."+lang)
		if !ok {
			continue
		}
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			p.fail(v, ctx, "%s.%s is empty", field, lang)
		case !utf8.ValidString(s):
			p.fail(v, ctx, "%s.%s is not valid UTF-8", field, lang)
		case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0:
			p.fail(v, ctx, "%s.%s contains control characters", field, lang)
		case utf8.RuneCountInString(s) > maxLen:
			p.fail(v, ctx, "%s.%s is longer than %d characters", field, lang, maxLen)
		default:
			t[lang] = s
		}
	}
	// A ru key whose text was refused is reported already.
	if _, ok := t["ru"]; !ok && !hasKey(n, "ru") {
		p.fail(n, ctx, "%s needs a ru text", field)
	}
	return t
}

// peek returns the scalar under key, so that messages about a mapping's
// other fields can name it before its fields are read.
func peek(n *yaml.Node, key string) string {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := deref(n.Content[i+1]); n.Content[i].Value == key && v.Kind == yaml.ScalarNode && idPattern.MatchString(v.Value) {
			return v.Value
		}
	}
	return ""
}

func hasKey(mapping *yaml.Node, key string) bool {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return true
		}
	}
	return false
}

func (p *parser) survey(root *yaml.Node) Survey {
	var s Survey
	f := p.fields(root, "", "a survey", surveyFields)
	if f == nil {
		return s
	}
	s.line = root.Line
	if n := f["id"]; n == nil {
		p.fail(root, "", "missing survey id")
	} else {
		s.ID = p.id(n, "", "survey id")
		s.line = n.Line
	}
	s.Title = p.text(root, f["title"], "", "title", true, maxTitle)

	var conds []*yaml.Node // the "if" of each question, nil for none
	if n := f["questions"]; n == nil {
		p.fail(root, "", "no questions")
	} else if items := p.list(n, "", "questions"); items != nil {
		if len(items) == 0 {
			p.fail(n, "", "no questions")
		}
		if len(items) > maxQuestions {
			p.fail(n, "", "%d questions, more than %d", len(items), maxQuestions)
		}
		firstAt := map[string]int{}
		fedBy := map[string]string{}
		for i, item := range items {
			q, cond, ok := p.question(item, i)
			if !ok {
				continue
			}
			if line, dup := firstAt[q.ID]; dup {
				p.fail(item, "", "duplicate question id %q (also at line %d)", q.ID, line)
				continue
			}
			firstAt[q.ID] = item.Line
			if q.Indicator != "" {
				if other, dup := fedBy[q.Indicator]; dup {
					p.fail(item, fmt.Sprintf("question %q", q.ID), "indicator %q is already fed by question %q", q.Indicator, other)
				}
				fedBy[q.Indicator] = q.ID
			}
			s.Questions = append(s.Questions, q)
			conds = append(conds, cond)
		}
	}
	for i, cond := range conds {
		if cond != nil {
			p.condition(&s, i, cond)
		}
	}

	if n := f["schedules"]; n != nil {
		names := map[string]int{}
		for _, item := range p.list(n, "", "schedules") {
			sc, ok := p.schedule(item)
			if !ok {
				continue
			}
			if line, dup := names[sc.Name]; dup {
				p.fail(item, "", "duplicate schedule name %q (also at line %d)", sc.Name, line)
				continue
			}
			names[sc.Name] = item.Line
			s.Schedules = append(s.Schedules, sc)
		}
	}
	return s
}

// question reads the i-th question; the "if" node is checked once every
// question is known. ok is false when the question has no usable id.
func (p *parser) question(n *yaml.Node, i int) (q Question, cond *yaml.Node, ok bool) {
	ctx := fmt.Sprintf("question %d", i+1)
	if id := peek(n, "id"); id != "" {
		ctx = fmt.Sprintf("question %q", id)
	}
	f := p.fields(n, ctx, "a question", questionFields)
	if f == nil {
		return q, nil, false
	}
	if v := f["id"]; v == nil {
		p.fail(n, ctx, "missing id")
	} else if q.ID = p.id(v, ctx, "id"); q.ID != "" {
		ctx = fmt.Sprintf("question %q", q.ID)
	}
	typeOK := false // so that an unknown type is reported once, not again by each field
	if v := f["type"]; v == nil {
		p.fail(n, ctx, "missing type (one of %s)", typeList())
	} else if t, ok := p.scalar(v, ctx, "type"); ok {
		q.Type = Type(t)
		if typeOK = slices.Contains(types, q.Type); !typeOK {
			p.fail(v, ctx, "unknown type %q (one of %s)", t, typeList())
		}
	}
	q.Text = p.text(n, f["text"], ctx, "text", true, maxQuestionText)
	if v := f["required"]; v != nil {
		q.Required = p.boolean(v, ctx, "required")
	}

	only := func(field string, t ...Type) bool {
		v := f[field]
		if v == nil {
			return false
		}
		if typeOK && !slices.Contains(t, q.Type) {
			p.fail(v, ctx, "%s is only for %s questions, not %s", field, joinTypes(t), q.Type)
			return false
		}
		return true
	}
	if only("min", Number) {
		q.Min = p.number(f["min"], ctx, "min")
	}
	if only("max", Number) {
		q.Max = p.number(f["max"], ctx, "max")
	}
	if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
		p.fail(f["min"], ctx, "min %v is greater than max %v", *q.Min, *q.Max)
	}
	if only("unit", Number) {
		q.Unit = p.text(n, f["unit"], ctx, "unit", true, maxUnit)
	}
	if only("integer", Number) {
		q.Integer = p.boolean(f["integer"], ctx, "integer")
	}
	if only("max_len", FreeText) {
		v := f["max_len"]
		if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&q.MaxLen) != nil || q.MaxLen < 1 || q.MaxLen > maxMaxLen {
			p.fail(v, ctx, "max_len must be a whole number from 1 to %d", maxMaxLen)
		}
	}
	if q.Type == FreeText && q.MaxLen == 0 {
		q.MaxLen = DefaultMaxLen
	}
	if only("options", Single, Multi) {
		q.Options = p.options(f["options"], ctx)
	} else if (q.Type == Single || q.Type == Multi) && f["options"] == nil {
		p.fail(n, ctx, "a %s question needs options", q.Type)
	}
	if v := f["indicator"]; v != nil {
		if ind, ok := p.scalar(v, ctx, "indicator"); ok {
			want, known := indicatorTypes[ind]
			switch {
			case !known:
				p.fail(v, ctx, "unknown indicator %q (one of %s)", ind, strings.Join(Indicators, ", "))
			case typeOK && q.Type != want:
				p.fail(v, ctx, "indicator %q needs a %s question, not %s", ind, want, q.Type)
			default:
				q.Indicator = ind
			}
		}
	}
	if v := f["if"]; v != nil {
		cf := p.fields(v, ctx, "if", conditionFields)
		if cf != nil {
			q.If = &Condition{}
			for _, field := range conditionFields {
				if cf[field] == nil {
					p.fail(v, ctx, "if: missing %s", field)
					q.If = nil
				}
			}
			if q.If != nil {
				q.If.Question, _ = p.scalar(cf["question"], ctx, "if.question")
				q.If.Equals, _ = p.scalar(cf["equals"], ctx, "if.equals")
				cond = v
			}
		}
	}
	return q, cond, q.ID != ""
}

func (p *parser) options(n *yaml.Node, ctx string) []Option {
	items := p.list(n, ctx, "options")
	if items == nil {
		return nil
	}
	if len(items) < 2 || len(items) > maxOptions {
		p.fail(n, ctx, "%d options: between 2 and %d are needed", len(items), maxOptions)
	}
	var opts []Option
	firstAt := map[string]int{}
	for i, item := range items {
		octx := fmt.Sprintf("%s: option %d", ctx, i+1)
		if id := peek(item, "id"); id != "" {
			octx = fmt.Sprintf("%s: option %q", ctx, id)
		}
		f := p.fields(item, octx, "an option", optionFields)
		if f == nil {
			continue
		}
		var o Option
		if v := f["id"]; v == nil {
			p.fail(item, octx, "missing id")
		} else if o.ID = p.id(v, octx, "id"); o.ID != "" {
			octx = fmt.Sprintf("%s: option %q", ctx, o.ID)
			// People may type an option's number, which must not read as another option's id.
			if strings.Trim(o.ID, "0123456789") == "" {
				p.fail(v, octx, "an option id needs a letter, since numbers stand for positions")
			}
			if line, dup := firstAt[o.ID]; dup {
				p.fail(v, octx, "duplicate option id (also at line %d)", line)
			}
			firstAt[o.ID] = v.Line
		}
		o.Text = p.text(item, f["text"], octx, "text", true, maxOptionText)
		opts = append(opts, o)
	}
	return opts
}

// condition checks the "if" of question i against the questions before it.
func (p *parser) condition(s *Survey, i int, n *yaml.Node) {
	q := s.Questions[i]
	ctx := fmt.Sprintf("question %q", q.ID)
	c := q.If
	ref := s.Index(c.Question)
	switch {
	case ref < 0:
		p.fail(n, ctx, "if: unknown question %q", c.Question)
		return
	case ref >= i:
		p.fail(n, ctx, "if: question %q is not earlier; a condition refers to an earlier question", c.Question)
		return
	}
	r := s.Questions[ref]
	switch r.Type {
	case YesNo:
		if c.Equals != Yes && c.Equals != No {
			p.fail(n, ctx, "if: equals %q must be yes or no for the yes_no question %q", c.Equals, r.ID)
		}
	case Single, Multi:
		if _, ok := r.Option(c.Equals); !ok {
			p.fail(n, ctx, "if: equals %q is not an option of question %q", c.Equals, r.ID)
		}
	default:
		p.fail(n, ctx, "if: question %q is %s; a condition needs a yes_no, single or multi question", r.ID, r.Type)
	}
}

func (p *parser) schedule(n *yaml.Node) (Schedule, bool) {
	sc := Schedule{Name: DefaultSchedule}
	ctx := "schedule"
	if name := peek(n, "name"); name != "" || !hasKey(deref(n), "name") {
		ctx = fmt.Sprintf("schedule %q", cmp.Or(name, DefaultSchedule))
	}
	f := p.fields(n, ctx, "a schedule", scheduleFields)
	if f == nil {
		return sc, false
	}
	ok := true
	if v := f["name"]; v != nil {
		if sc.Name = p.id(v, ctx, "name"); sc.Name == "" {
			ok = false
		}
	}
	ctx = fmt.Sprintf("schedule %q", sc.Name)
	if v := f["cron"]; v == nil {
		p.fail(n, ctx, "missing cron")
	} else if spec, isScalar := p.scalar(v, ctx, "cron"); isScalar {
		// Five fields only: a TZ= prefix or @every would bypass the org's time zone.
		if len(strings.Fields(spec)) != 5 {
			p.fail(v, ctx, "cron %q must have 5 fields: minute hour day month weekday", spec)
		} else if _, err := cron.ParseStandard(spec); err != nil {
			p.fail(v, ctx, "invalid cron %q: %v", spec, err)
		} else {
			sc.Cron = strings.Join(strings.Fields(spec), " ")
		}
	}
	if v := f["org"]; v != nil {
		if code, isScalar := p.scalar(v, ctx, "org"); isScalar {
			if code != "" && !storage.ValidOrgCode(code) {
				p.fail(v, ctx, "org %q is not an org code", code)
			}
			sc.Org, sc.OrgLine = code, v.Line
		}
	}
	sc.Levels = enumList(p, f["levels"], ctx, "levels", storage.Level.Valid, []storage.Level{storage.LevelPrimary},
		storage.LevelUnion, storage.LevelBranch, storage.LevelPrimary)
	// Surveys are for the union's members: a supporter answers none.
	memberRole := func(r storage.Role) bool { return r.Valid() && r != storage.RoleSupporter }
	sc.Roles = enumList(p, f["roles"], ctx, "roles", memberRole, []storage.Role{storage.RoleInfoworker, storage.RoleChair},
		storage.MemberRoles()...)
	sc.Results = enumList(p, f["results"], ctx, "results", memberRole, []storage.Role{storage.RoleChair, storage.RoleInfoworker},
		storage.MemberRoles()...)
	if v := f["deadline"]; v == nil {
		p.fail(n, ctx, "missing deadline, like 30d")
	} else {
		sc.Deadline = p.duration(v, ctx, "deadline")
	}
	if v := f["reminders"]; v != nil {
		var prev time.Duration
		for _, item := range p.list(v, ctx, "reminders") {
			d := p.duration(item, ctx, "reminder")
			switch {
			case d == 0:
			case sc.Deadline > 0 && d >= sc.Deadline:
				p.fail(item, ctx, "reminder %s is not before the deadline %s", item.Value, f["deadline"].Value)
			case d <= prev:
				p.fail(item, ctx, "reminder %s does not come after the one before it", item.Value)
			}
			prev = max(prev, d)
			sc.Reminders = append(sc.Reminders, d)
		}
	}
	return sc, ok
}

// enumList reads a list of levels or roles; a field left out gives def.
func enumList[T ~string](p *parser, n *yaml.Node, ctx, field string, valid func(T) bool, def []T, known ...T) []T {
	if n == nil {
		return def
	}
	items := p.list(n, ctx, field)
	if items == nil {
		return def
	}
	if len(items) == 0 {
		p.fail(n, ctx, "%s: at least one is needed", field)
	}
	var out []T
	for _, item := range items {
		v, ok := p.scalar(item, ctx, field)
		if !ok {
			continue
		}
		switch t := T(v); {
		case !valid(t):
			p.fail(item, ctx, "%s: unknown %q (one of %s)", field, v, joinStrings(known))
		case slices.Contains(out, t):
			p.fail(item, ctx, "%s: %q is listed twice", field, v)
		default:
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) duration(n *yaml.Node, ctx, field string) time.Duration {
	v, ok := p.scalar(n, ctx, field)
	if !ok {
		return 0
	}
	d, err := ParseDuration(v)
	switch {
	case err != nil:
		p.fail(n, ctx, "%s: %v", field, err)
		return 0
	case d <= 0:
		p.fail(n, ctx, "%s %q must be longer than zero", field, v)
		return 0
	case d > maxDeadline:
		p.fail(n, ctx, "%s %q is longer than a year", field, v)
		return 0
	}
	return d
}

// ParseDuration reads a duration in days, hours and minutes, like "14d",
// "36h", "90m" or "1d12h": time.ParseDuration knows no days.
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("bad duration %q: use a number with d, h or m, like 14d, 36h or 90m", s)
	rest := strings.TrimSpace(s)
	var d time.Duration
	if days, after, ok := strings.Cut(rest, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || days == "" || strings.Trim(days, "0123456789") != "" || n > 3660 {
			return 0, bad
		}
		d, rest = time.Duration(n)*24*time.Hour, after
		if rest == "" {
			return d, nil
		}
	}
	if rest == "" || rest[0] < '0' || rest[0] > '9' {
		return 0, bad
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, bad
	}
	return d + r, nil
}

func typeList() string { return joinTypes(types) }

func joinTypes(t []Type) string { return joinStrings(t) }

func joinStrings[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
