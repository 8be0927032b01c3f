package storage

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
)

// Limits of an imported org's fields.
const (
	MaxOrgCodeLen = 64
	MaxOrgNameLen = 300
	// MaxMemberCount is the largest declared member count: what both
	// databases' INTEGER column holds.
	MaxMemberCount = math.MaxInt32
	orgCodeSymbols = "_.-"
)

// ImportPlan is what an import writes, decided by PlanImport before any write.
type ImportPlan struct {
	// Steps lists the orgs to create or update, every parent before its children.
	Steps     []ImportStep
	Unchanged int
}

// ImportStep creates (ID 0) or updates (ID of the stored org) one org.
type ImportStep struct {
	ID    int64
	Input OrgInput // validated, TimeZone filled in
}

// Result counts the plan's steps the way ImportOrgs reports them.
func (p ImportPlan) Result() ImportResult {
	r := ImportResult{Unchanged: p.Unchanged}
	for _, s := range p.Steps {
		if s.ID == 0 {
			r.Created++
		} else {
			r.Updated++
		}
	}
	return r
}

// planOrg is one node of the tree the import would leave: the stored orgs
// overlaid with the file's.
type planOrg struct {
	code   string
	parent string
	level  Level
	in     *OrgInput // nil for stored orgs the file does not mention
}

// PlanImport validates the file's orgs against each other and the stored tree
// and decides what to create, update or leave alone. Every violation is
// reported, each naming its source line, in the order of the file; stored orgs
// absent from the file stay.
func PlanImport(existing []Org, in []OrgInput) (ImportPlan, error) {
	var problems []problem
	fail := func(src, format string, args ...any) {
		problems = append(problems, problem{src: src, err: fmt.Errorf("%s: %s", src, fmt.Sprintf(format, args...))})
	}

	stored := make(map[string]Org, len(existing))
	storedFold := make(map[string]string, len(existing))
	codeByID := make(map[int64]string, len(existing))
	for _, o := range existing {
		stored[o.Code] = o
		storedFold[strings.ToLower(o.Code)] = o.Code
		codeByID[o.ID] = o.Code
	}

	// The first line of each code wins; later duplicates only report. Codes
	// that differ only in case are duplicates: people type them either way.
	inputs := make([]OrgInput, 0, len(in))
	firstAt := map[string]string{}
	type line struct{ code, src string }
	firstFold := map[string]line{}
	for _, o := range in {
		if o.TimeZone == "" {
			o.TimeZone = DefaultTimeZone
		}
		ok := validateOrgInput(o, fail)
		if o.Code == "" || !ValidOrgCode(o.Code) {
			continue
		}
		fold := strings.ToLower(o.Code)
		if first, dup := firstFold[fold]; dup {
			if first.code == o.Code {
				fail(o.Source, "duplicate code %q (also at %s)", o.Code, first.src)
			} else {
				fail(o.Source, "code %q differs only in case from %q at %s: codes must differ in more than case", o.Code, first.code, first.src)
			}
			continue
		}
		firstFold[fold] = line{o.Code, o.Source}
		firstAt[o.Code] = o.Source
		if other, clash := storedFold[fold]; clash && other != o.Code {
			fail(o.Source, "code %q differs only in case from %q in the database: codes must differ in more than case", o.Code, other)
			continue
		}
		if ok {
			inputs = append(inputs, o)
		}
	}

	tree := make(map[string]*planOrg, len(existing)+len(inputs))
	for _, o := range existing {
		tree[o.Code] = &planOrg{code: o.Code, parent: codeByID[o.ParentID], level: o.Level}
	}
	for i := range inputs {
		o := &inputs[i]
		tree[o.Code] = &planOrg{code: o.Code, parent: o.ParentCode, level: o.Level, in: o}
	}

	union, unionAt := "", ""
	for _, o := range existing {
		if tree[o.Code].level == LevelUnion {
			union, unionAt = o.Code, "in the database"
			break
		}
	}
	for _, o := range inputs {
		switch {
		case o.Level != LevelUnion || o.Code == union:
		case union == "":
			union, unionAt = o.Code, "at "+o.Source
		default:
			fail(o.Source, "second union %q: the tree has one root, the union %q %s", o.Code, union, unionAt)
		}
		switch {
		case o.Level == LevelUnion && o.ParentCode != "":
			fail(o.Source, "union %q cannot have a parent (%q)", o.Code, o.ParentCode)
		case o.Level != LevelUnion && o.ParentCode == "":
			fail(o.Source, "%s %q needs a parent: only a union can be a root", o.Level, o.Code)
		}
		if o.ParentCode == "" {
			continue
		}
		parent, known := tree[o.ParentCode]
		if !known {
			if _, mentioned := firstAt[o.ParentCode]; mentioned {
				continue // the parent's own line already reports why it is invalid
			}
			hint := ""
			if f, ok := firstFold[strings.ToLower(o.ParentCode)]; ok {
				hint = fmt.Sprintf(" (codes are case-sensitive: %q?)", f.code)
			} else if c, ok := storedFold[strings.ToLower(o.ParentCode)]; ok {
				hint = fmt.Sprintf(" (codes are case-sensitive: %q?)", c)
			}
			fail(o.Source, "parent code %q of %q is neither in the file nor in the database%s", o.ParentCode, o.Code, hint)
			continue
		}
		if parent.level == LevelPrimary {
			fail(o.Source, "parent %q of %q is a primary org, which cannot have children", o.ParentCode, o.Code)
		}
	}
	primariesWithStoredChildren(tree, inputs, fail)
	cycles(tree, inputs, fail)
	if len(problems) > 0 {
		return ImportPlan{}, joinInFileOrder(problems, in)
	}

	var plan ImportPlan
	placed := map[string]bool{}
	var place func(o *OrgInput)
	place = func(o *OrgInput) {
		if placed[o.Code] {
			return
		}
		placed[o.Code] = true
		if p := tree[o.ParentCode]; p != nil && p.in != nil {
			place(p.in)
		}
		cur, ok := stored[o.Code]
		switch {
		case !ok:
			plan.Steps = append(plan.Steps, ImportStep{Input: *o})
		case cur.Name == o.Name && codeByID[cur.ParentID] == o.ParentCode && cur.Level == o.Level &&
			cur.MemberCount == o.MemberCount && cur.TimeZone == o.TimeZone && cur.BoardCron == o.BoardCron:
			plan.Unchanged++
		default:
			plan.Steps = append(plan.Steps, ImportStep{ID: cur.ID, Input: *o})
		}
	}
	for i := range inputs {
		place(&inputs[i])
	}
	return plan, nil
}

// validateOrgInput reports every problem of one line on its own and whether there was none.
func validateOrgInput(o OrgInput, fail func(src, format string, args ...any)) bool {
	ok := true
	bad := func(format string, args ...any) {
		ok = false
		fail(o.Source, format, args...)
	}
	switch {
	case o.Code == "":
		bad("empty code")
	case !ValidOrgCode(o.Code):
		bad("code %q must be 1 to %d characters of A-Z, a-z, 0-9 and %q", o.Code, MaxOrgCodeLen, orgCodeSymbols)
	}
	switch {
	case strings.TrimSpace(o.Name) == "":
		bad("empty name for %q", o.Code)
	case !utf8.ValidString(o.Name):
		bad("name of %q is not valid UTF-8", o.Code)
	case utf8.RuneCountInString(o.Name) > MaxOrgNameLen:
		bad("name of %q is longer than %d characters", o.Code, MaxOrgNameLen)
	case strings.IndexFunc(o.Name, unicode.IsControl) >= 0:
		bad("name of %q contains control characters", o.Code)
	default:
		if r, ok := invisibleRune(o.Name); ok {
			bad("name of %q contains the invisible character U+%04X, which can disguise the name", o.Code, r)
		}
	}
	if !o.Level.Valid() {
		bad("unknown level %q for %q (want %s, %s or %s)", o.Level, o.Code, LevelUnion, LevelBranch, LevelPrimary)
	}
	switch {
	case o.MemberCount < 0:
		bad("negative member count %d for %q", o.MemberCount, o.Code)
	case o.MemberCount > MaxMemberCount:
		bad("member count %d for %q is above %d", o.MemberCount, o.Code, MaxMemberCount)
	}
	// "Local" depends on the machine, so it is no time zone for an org.
	if _, err := time.LoadLocation(o.TimeZone); err != nil || o.TimeZone == "Local" {
		bad("invalid time zone %q for %q", o.TimeZone, o.Code)
	}
	if err := validBoardCron(o.BoardCron); err != nil {
		bad("invalid board_reminder %q for %q: %v", o.BoardCron, o.Code, err)
	}
	return ok
}

// invisibleRune finds a character that shows nothing but changes how a name
// reads: bidi controls (U+202E turns "ZAO" into "OAZ"), zero-width spaces,
// soft hyphens, line and paragraph separators. Zero-width (non-)joiners stay
// allowed between letters, where some scripts need them.
func invisibleRune(name string) (rune, bool) {
	runes := []rune(name)
	for i, r := range runes {
		if !unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			continue
		}
		if (r == '\u200c' || r == '\u200d') && i > 0 && i+1 < len(runes) &&
			unicode.IsLetter(runes[i-1]) && unicode.IsLetter(runes[i+1]) {
			continue
		}
		return r, true
	}
	return 0, false
}

// weeklyRef is where validBoardCron starts counting fire times: fixed, so a check never flakes.
var weeklyRef = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// validBoardCron accepts "" (the default) or a standard cron schedule that
// fires once a week. The org's time zone applies, so a TZ prefix would only
// mislead (and the parser panics on one without a space); an @every interval
// is no weekly reminder.
func validBoardCron(spec string) error {
	if spec == "" {
		return nil
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return errors.New("no time zone prefix: the org's timezone applies")
	}
	if strings.HasPrefix(spec, "@every") {
		return errors.New("a schedule, not an interval")
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return err
	}
	// Counted in UTC, where no DST shift skews a week; Next gives the zero
	// time for a schedule that never fires, which fails the check too.
	prev := sched.Next(weeklyRef)
	for range 3 {
		next := sched.Next(prev)
		if next.Sub(prev) != 7*24*time.Hour {
			return errors.New("not weekly; the board is checked once a week, e.g. 0 10 * * 1")
		}
		prev = next
	}
	return nil
}

// ValidOrgCode reports whether code is 1 to MaxOrgCodeLen characters of
// A-Z, a-z, 0-9 and the symbols the import allows.
func ValidOrgCode(code string) bool {
	if code == "" || len(code) > MaxOrgCodeLen {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(orgCodeSymbols, r)) {
			return false
		}
	}
	return true
}

// primariesWithStoredChildren reports file primaries that stored orgs, absent
// from the file, still name as their parent.
func primariesWithStoredChildren(tree map[string]*planOrg, inputs []OrgInput, fail func(src, format string, args ...any)) {
	children := map[string][]string{}
	for _, n := range tree {
		if n.in == nil && n.parent != "" {
			children[n.parent] = append(children[n.parent], n.code)
		}
	}
	for _, o := range inputs {
		if kids := children[o.Code]; o.Level == LevelPrimary && len(kids) > 0 {
			slices.Sort(kids)
			fail(o.Source, "primary org %q cannot have children, but the database has %s under it", o.Code, strings.Join(kids, ", "))
		}
	}
}

// cycles reports each parent cycle once, at the first file line on it.
func cycles(tree map[string]*planOrg, inputs []OrgInput, fail func(src, format string, args ...any)) {
	line := make(map[string]int, len(inputs))
	for i, o := range inputs {
		line[o.Code] = i
	}
	done := map[string]bool{}
	for _, o := range inputs {
		var chain []string
		onChain := map[string]int{}
		for code := o.Code; code != "" && !done[code]; code = tree[code].parent {
			if i, seen := onChain[code]; seen {
				reportCycle(o.Source, chain[i:], line, inputs, fail)
				break
			}
			onChain[code] = len(chain)
			chain = append(chain, code)
			if tree[code] == nil {
				break
			}
		}
		for _, c := range chain {
			done[c] = true
		}
	}
}

// reportCycle names the codes of a cycle, starting at its first file line;
// from is the line whose chain led into it, for a cycle among stored orgs only.
func reportCycle(from string, cycle []string, line map[string]int, inputs []OrgInput, fail func(src, format string, args ...any)) {
	first := -1
	for i, c := range cycle {
		if l, ok := line[c]; ok && (first < 0 || l < line[cycle[first]]) {
			first = i
		}
	}
	if first < 0 {
		fail(from, "stored parent cycle: %s -> %s", strings.Join(cycle, " -> "), cycle[0])
		return
	}
	ordered := append(slices.Clone(cycle[first:]), cycle[:first]...)
	fail(inputs[line[ordered[0]]].Source, "parent cycle: %s -> %s", strings.Join(ordered, " -> "), ordered[0])
}

// problem is one violation and the source line it names.
type problem struct {
	src string
	err error
}

// ImportError is a rejected import: every problem, each naming its source
// line, in the order of the file.
type ImportError struct {
	Problems []error
}

func (e *ImportError) Error() string { return errors.Join(e.Problems...).Error() }

func (e *ImportError) Unwrap() []error { return e.Problems }

// joinInFileOrder lists the problems sorted by the file position of their
// line, so that the first ones reported are the first ones in the file.
func joinInFileOrder(problems []problem, in []OrgInput) error {
	pos := make(map[string]int, len(in))
	for i, o := range in {
		if _, seen := pos[o.Source]; !seen {
			pos[o.Source] = i
		}
	}
	slices.SortStableFunc(problems, func(a, b problem) int { return pos[a.src] - pos[b.src] })
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p.err
	}
	return &ImportError{Problems: errs}
}
