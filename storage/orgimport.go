package storage

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
)

// Limits of an imported org's fields.
const (
	MaxOrgCodeLen  = 64
	MaxOrgNameLen  = 300
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
// reported, each naming its source line; stored orgs absent from the file stay.
func PlanImport(existing []Org, in []OrgInput) (ImportPlan, error) {
	var errs []error
	fail := func(src, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", src, fmt.Sprintf(format, args...)))
	}

	stored := make(map[string]Org, len(existing))
	codeByID := make(map[int64]string, len(existing))
	for _, o := range existing {
		stored[o.Code] = o
		codeByID[o.ID] = o.Code
	}

	// The first line of each code wins; later duplicates only report.
	inputs := make([]OrgInput, 0, len(in))
	firstAt := map[string]string{}
	for _, o := range in {
		if o.TimeZone == "" {
			o.TimeZone = DefaultTimeZone
		}
		ok := validateOrgInput(o, fail)
		if o.Code == "" || !ValidOrgCode(o.Code) {
			continue
		}
		if src, dup := firstAt[o.Code]; dup {
			fail(o.Source, "duplicate code %q (also at %s)", o.Code, src)
			continue
		}
		firstAt[o.Code] = o.Source
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

	for _, o := range inputs {
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
			fail(o.Source, "parent code %q of %q is neither in the file nor in the database", o.ParentCode, o.Code)
			continue
		}
		if parent.level == LevelPrimary {
			fail(o.Source, "parent %q of %q is a primary org, which cannot have children", o.ParentCode, o.Code)
		}
	}
	errs = append(errs, primariesWithStoredChildren(tree, inputs)...)
	errs = append(errs, cycles(tree, inputs)...)
	if len(errs) > 0 {
		return ImportPlan{}, errors.Join(errs...)
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
	}
	if !o.Level.Valid() {
		bad("unknown level %q for %q (want %s, %s or %s)", o.Level, o.Code, LevelUnion, LevelBranch, LevelPrimary)
	}
	if o.MemberCount < 0 {
		bad("negative member count %d for %q", o.MemberCount, o.Code)
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
func primariesWithStoredChildren(tree map[string]*planOrg, inputs []OrgInput) []error {
	children := map[string][]string{}
	for _, n := range tree {
		if n.in == nil && n.parent != "" {
			children[n.parent] = append(children[n.parent], n.code)
		}
	}
	var errs []error
	for _, o := range inputs {
		if kids := children[o.Code]; o.Level == LevelPrimary && len(kids) > 0 {
			slices.Sort(kids)
			errs = append(errs, fmt.Errorf("%s: primary org %q cannot have children, but the database has %s under it",
				o.Source, o.Code, strings.Join(kids, ", ")))
		}
	}
	return errs
}

// cycles reports each parent cycle once, at the first file line on it.
func cycles(tree map[string]*planOrg, inputs []OrgInput) []error {
	line := make(map[string]int, len(inputs))
	for i, o := range inputs {
		line[o.Code] = i
	}
	var errs []error
	done := map[string]bool{}
	for _, o := range inputs {
		var chain []string
		onChain := map[string]int{}
		for code := o.Code; code != "" && !done[code]; code = tree[code].parent {
			if i, seen := onChain[code]; seen {
				errs = append(errs, cycleError(o.Source, chain[i:], line, inputs))
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
	return errs
}

// cycleError names the codes of a cycle, starting at its first file line;
// from is the line whose chain led into it, for a cycle among stored orgs only.
func cycleError(from string, cycle []string, line map[string]int, inputs []OrgInput) error {
	first := -1
	for i, c := range cycle {
		if l, ok := line[c]; ok && (first < 0 || l < line[cycle[first]]) {
			first = i
		}
	}
	if first < 0 {
		return fmt.Errorf("%s: stored parent cycle: %s -> %s", from, strings.Join(cycle, " -> "), cycle[0])
	}
	ordered := append(slices.Clone(cycle[first:]), cycle[:first]...)
	return fmt.Errorf("%s: parent cycle: %s -> %s",
		inputs[line[ordered[0]]].Source, strings.Join(ordered, " -> "), ordered[0])
}
