package monitoring

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// Period is a reporting period: a calendar year ("2026") or month
// ("2026-03") in the reported org's time zone.
type Period struct {
	Name     string
	From, To time.Time
}

// periodRule says which periods there are.
const periodRule = "use a year (2026) or a month (2026-03)"

// ParsePeriod reads "2026" or "2026-03" in loc.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	if y, err := strconv.Atoi(s); err == nil && len(s) == 4 {
		from := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		return Period{Name: s, From: from, To: from.AddDate(1, 0, 0)}, nil
	}
	if t, err := time.ParseInLocation("2006-01", s, loc); err == nil {
		return Period{Name: s, From: t, To: t.AddDate(0, 1, 0)}, nil
	}
	return Period{}, fmt.Errorf("period %q: %s", s, periodRule)
}

// Previous is the period of the same length just before p.
func (p Period) Previous() Period {
	if len(p.Name) == 4 {
		return Period{Name: strconv.Itoa(p.From.Year() - 1), From: p.From.AddDate(-1, 0, 0), To: p.From}
	}
	from := p.From.AddDate(0, -1, 0)
	return Period{Name: from.Format("2006-01"), From: from, To: p.From}
}

// OrgReport is one surveyed organisation's standing against the norms.
type OrgReport struct {
	Code     string           `json:"code"`
	Name     string           `json:"name"`
	Members  int              `json:"members"`
	Answered bool             `json:"answered"`
	Results  []surveys.Result `json:"results"`
	Passed   int              `json:"passed"`
	Failed   int              `json:"failed"`
	NoData   int              `json:"no_data"`
	// PrevPassed is Passed in the previous period, -1 when the org was not
	// surveyed then.
	PrevPassed int `json:"prev_passed"`
	// Observed is what the hub sees of the org's subtree in the period,
	// in an ObservedReport.
	Observed *Observed `json:"observed,omitempty"`
}

// Percent is the share of norms passed; a norm without data counts as not
// passed, so silence never looks like compliance.
func (o OrgReport) Percent() float64 {
	if n := len(o.Results); n > 0 {
		return 100 * float64(o.Passed) / float64(n)
	}
	return 0
}

// NormSummary counts a norm's outcomes over the subtree.
type NormSummary struct {
	Norm       string `json:"norm"`
	Passed     int    `json:"passed"`
	Failed     int    `json:"failed"`
	NoData     int    `json:"no_data"`
	PrevPassed int    `json:"prev_passed"`
	PrevFailed int    `json:"prev_failed"`
	PrevNoData int    `json:"prev_no_data"`
}

// Share is the percentage of the surveyed orgs that met the norm; an org
// without data counts as not meeting it. ok is false when none was surveyed.
func (n NormSummary) Share() (share float64, ok bool) {
	return percent(n.Passed, n.Passed+n.Failed+n.NoData)
}

// PrevShare is Share in the previous period.
func (n NormSummary) PrevShare() (share float64, ok bool) {
	return percent(n.PrevPassed, n.PrevPassed+n.PrevFailed+n.PrevNoData)
}

func percent(n, of int) (float64, bool) {
	if of == 0 {
		return 0, false
	}
	return 100 * float64(n) / float64(of), true
}

// Report is the programme's indicators for a subtree and period.
type Report struct {
	Org      string `json:"org"`
	Period   string `json:"period"`
	Previous string `json:"previous_period"`
	// Surveyed counts the orgs asked to answer (or reminded about their
	// board) in the period, Answered those that submitted a survey.
	Surveyed         int           `json:"surveyed"`
	Answered         int           `json:"answered"`
	ResponseRate     float64       `json:"response_rate"`
	PrevSurveyed     int           `json:"prev_surveyed"`
	PrevResponseRate float64       `json:"prev_response_rate"`
	Norms            []NormSummary `json:"norms"`
	// Orgs are the surveyed orgs, worst first.
	Orgs []OrgReport `json:"orgs"`
	// Observed is what the hub sees of the subtree in the period and in the
	// previous one; ObservedOrgs of each org of the subtree, by path. Only
	// an ObservedReport has them.
	Observed     *Observed  `json:"observed,omitempty"`
	PrevObserved *Observed  `json:"previous_observed,omitempty"`
	ObservedOrgs []Observed `json:"observed_orgs,omitempty"`
}

// orgFacts is what one period says about one org.
type orgFacts struct {
	facts surveys.Facts
	// targeted: a survey of the period asked the org; answered: it
	// confirmed its answers to one.
	targeted, answered bool
}

// Report evaluates every surveyed org of under's subtree in the period,
// with the previous period for the trend, as the operator reads it: the
// command line may read any subtree.
func (s *Service) Report(ctx context.Context, under storage.Org, p Period) (Report, error) {
	return s.report(ctx, under, p, false)
}

// ObservedReport is Report with what the hub observed of the subtree and
// each of its orgs (Observed). It reads every reachable membership and
// every question of the two periods: the command line's report, which may
// take a second over the Union, not a console page's.
func (s *Service) ObservedReport(ctx context.Context, under storage.Org, p Period) (Report, error) {
	return s.report(ctx, under, p, true)
}

func (s *Service) report(ctx context.Context, under storage.Org, p Period, observed bool) (Report, error) {
	st := s.store
	r := Report{Org: under.Code, Period: p.Name, Previous: p.Previous().Name}
	orgs, err := st.Orgs(ctx)
	if err != nil {
		return r, fmt.Errorf("list orgs: %w", err)
	}
	byID := map[int64]storage.Org{}
	for _, o := range orgs {
		byID[o.ID] = o
	}
	runs, err := st.SurveyRuns(ctx, "")
	if err != nil {
		return r, fmt.Errorf("list survey runs: %w", err)
	}
	sort.SliceStable(runs, func(i, k int) bool { return runs[i].FiredFor.After(runs[k].FiredFor) })
	// The two periods are read side by side, and what the hub observed in
	// each: a page waits for the slowest.
	var (
		before              map[int64]orgFacts
		seen, seenBefore    map[int64]*Observed
		beforeErr, seenErrs [2]error
		wg                  sync.WaitGroup
	)
	wg.Go(func() { before, beforeErr[0] = s.monitoringFacts(ctx, runs, under, byID, p.Previous()) })
	if observed {
		wg.Go(func() { seen, seenErrs[0] = s.observe(ctx, under, byID, p) })
		wg.Go(func() { seenBefore, seenErrs[1] = s.observe(ctx, under, byID, p.Previous()) })
	}
	now, err := s.monitoringFacts(ctx, runs, under, byID, p)
	wg.Wait()
	if err = errors.Join(err, beforeErr[0], seenErrs[0], seenErrs[1]); err != nil {
		return r, err
	}
	targets, err := targetsFor(ctx, st, byID, p.Name)
	if err != nil {
		return r, err
	}
	prevTargets, err := targetsFor(ctx, st, byID, p.Previous().Name)
	if err != nil {
		return r, err
	}
	for id, o := range seen {
		o.Targets = o.against(targets(byID[id]))
	}
	for id, o := range seenBefore {
		o.Targets = o.against(prevTargets(byID[id]))
	}
	if observed {
		r.Observed, r.PrevObserved = seen[under.ID], seenBefore[under.ID]
		for _, o := range seen {
			r.ObservedOrgs = append(r.ObservedOrgs, *o)
		}
		sort.Slice(r.ObservedOrgs, func(i, k int) bool { return r.ObservedOrgs[i].path < r.ObservedOrgs[k].path })
	}
	sums := map[string]*NormSummary{}
	for _, n := range surveys.Norms {
		r.Norms = append(r.Norms, NormSummary{Norm: n})
	}
	for i := range r.Norms {
		sums[r.Norms[i].Norm] = &r.Norms[i]
	}
	prevAnswered, prevTargeted := 0, 0
	for id, f := range before {
		if f.targeted {
			prevTargeted++
		}
		if f.answered {
			prevAnswered++
		}
		for _, res := range surveys.Evaluate(f.facts, prevTargets(byID[id])) {
			switch {
			case res.Known && res.Pass:
				sums[res.Norm].PrevPassed++
			case res.Known:
				sums[res.Norm].PrevFailed++
			default:
				sums[res.Norm].PrevNoData++
			}
		}
	}
	r.PrevSurveyed, r.PrevResponseRate = prevTargeted, rate(prevAnswered, prevTargeted)
	for id, f := range now {
		o := byID[id]
		om := OrgReport{Code: o.Code, Name: o.Name, Members: o.MemberCount, Answered: f.answered, PrevPassed: -1,
			Results: surveys.Evaluate(f.facts, targets(o)), Observed: seen[id]}
		for _, res := range om.Results {
			switch {
			case !res.Known:
				om.NoData++
				sums[res.Norm].NoData++
			case res.Pass:
				om.Passed++
				sums[res.Norm].Passed++
			default:
				om.Failed++
				sums[res.Norm].Failed++
			}
		}
		if pf, ok := before[id]; ok {
			om.PrevPassed = 0
			for _, res := range surveys.Evaluate(pf.facts, prevTargets(o)) {
				if res.Known && res.Pass {
					om.PrevPassed++
				}
			}
		}
		if f.targeted {
			r.Surveyed++
		}
		if f.answered {
			r.Answered++
		}
		r.Orgs = append(r.Orgs, om)
	}
	r.ResponseRate = rate(r.Answered, r.Surveyed)
	sort.Slice(r.Orgs, func(i, k int) bool {
		a, b := r.Orgs[i], r.Orgs[k]
		if a.Percent() != b.Percent() {
			return a.Percent() < b.Percent()
		}
		return a.Code < b.Code
	})
	return r, nil
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(int(1000*float64(n)/float64(of)+0.5)) / 10
}

// monitoringFacts gathers, per surveyed org of the subtree, its answers to
// the newest run of the period and its weekly board checks.
func (s *Service) monitoringFacts(ctx context.Context, runs []storage.SurveyRun, under storage.Org, byID map[int64]storage.Org, p Period) (map[int64]orgFacts, error) {
	out := map[int64]orgFacts{}
	fact := func(id int64) orgFacts {
		f, ok := out[id]
		if !ok {
			o := byID[id]
			f = orgFacts{facts: surveys.Facts{Level: o.Level, Members: o.MemberCount, Answers: map[string]string{}}}
		}
		return f
	}
	in := func(t storage.SurveyTarget) bool {
		o, ok := byID[t.OrgID]
		return ok && under.Contains(o)
	}
	// An org's facts come from the newest run of the period it answered,
	// else it counts as asked and silent: a newer run it has not answered
	// yet never hides answers it gave.
	for _, run := range runs {
		sv, known := s.Survey(run.SurveyID)
		if !known || run.FiredFor.Before(p.From) || !run.FiredFor.Before(p.To) {
			continue
		}
		rf, err := s.runFacts(ctx, run, sv.IndicatorQuestions(), func(t storage.SurveyTarget) bool { return t.SubmittedAt != nil && in(t) })
		if err != nil {
			return nil, err
		}
		for _, t := range rf.targets {
			if !in(t) || out[t.OrgID].answered {
				continue
			}
			f := fact(t.OrgID)
			f.targeted = true
			if t.SubmittedAt != nil {
				f.facts.Answers = sv.IndicatorAnswers(rf.answers[t.OrgID])
				f.answered = true
			}
			out[t.OrgID] = f
		}
	}
	tallies, err := s.boardTallies(ctx, under, byID, p)
	if err != nil {
		return nil, err
	}
	// A check exists only for a reminder that reached someone.
	for id, c := range tallies {
		f := fact(id)
		f.facts.BoardWeeks, f.facts.BoardAnswered, f.facts.BoardUpdated = c.Weeks, c.Answered, c.Updated
		out[id] = f
	}
	return out, nil
}

// targetsFor returns, per org, the period's targets set for it or for the
// nearest org above it that has one, norm by norm.
func targetsFor(ctx context.Context, st Store, byID map[int64]storage.Org, period string) (func(storage.Org) map[string]float64, error) {
	list, err := st.Targets(ctx, period)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	set := map[int64]map[string]float64{}
	for _, t := range list {
		if set[t.OrgID] == nil {
			set[t.OrgID] = map[string]float64{}
		}
		set[t.OrgID][t.Indicator] = t.Value
	}
	return func(o storage.Org) map[string]float64 {
		out := map[string]float64{}
		for id := o.ID; id != 0; id = byID[id].ParentID {
			for norm, v := range set[id] {
				if _, ok := out[norm]; !ok {
					out[norm] = v
				}
			}
			if _, ok := byID[id]; !ok {
				break
			}
		}
		return out
	}, nil
}

// TableHeader names the columns of Report.Table: one org per row, each
// norm as value, target and result columns.
func TableHeader() []string {
	h := []string{"org", "name", "members", "answered", "passed", "failed", "no_data", "percent", "prev_passed"}
	for _, n := range surveys.Norms {
		h = append(h, n+"_value", n+"_target", n+"_result")
	}
	return h
}

// ObservedHeader names Observed.Cells.
func ObservedHeader() []string {
	h := []string{"coverage_percent", "reachable", "supporters_reachable", "questions", "answered_on_time_percent", "first_answer_median_hours", "first_answer_p90_hours",
		"news_per_month", "relayed_news_published_percent", "relay_median_hours", "reach_percent", "link_opens_per_100_delivered", "shares_per_100_delivered",
		"actions", "participants_offline", "participants_online", "participants_attended", "maturity_score"}
	for _, part := range MaturityParts {
		h = append(h, "maturity_"+part+"_percent")
	}
	for _, ind := range ObservedIndicators {
		h = append(h, ind.Name+"_target", ind.Name+"_result")
	}
	return h
}

// Header is TableHeader, and ObservedHeader after it in an ObservedReport.
func (r Report) Header() []string {
	if r.Observed != nil {
		return append(TableHeader(), ObservedHeader()...)
	}
	return TableHeader()
}

// Row lays out the org under its report's Header: the results pass, fail
// (with the channels missing) or no_data, then what was observed, if it
// was; prev_passed is empty when the org was not surveyed before.
func (o OrgReport) Row() []string {
	prev := ""
	if o.PrevPassed >= 0 {
		prev = strconv.Itoa(o.PrevPassed)
	}
	row := []string{o.Code, o.Name, strconv.Itoa(o.Members), strconv.FormatBool(o.Answered), strconv.Itoa(o.Passed),
		strconv.Itoa(o.Failed), strconv.Itoa(o.NoData), strconv.FormatFloat(o.Percent(), 'f', 0, 64), prev}
	for _, res := range o.Results {
		value, result := "", "no_data"
		if res.Known {
			value, result = strconv.FormatFloat(res.Value, 'f', -1, 64), "fail"
			if res.Pass {
				result = "pass"
			}
			if len(res.Missing) > 0 {
				result += " (" + strings.Join(res.Missing, " ") + ")"
			}
		}
		row = append(row, value, strconv.FormatFloat(res.Target, 'f', -1, 64), result)
	}
	if o.Observed != nil {
		row = append(row, o.Observed.Cells()...)
	}
	return row
}

// Cells lays out what was observed under the last columns of TableHeader,
// each empty when there is no data.
func (o Observed) Cells() []string {
	pct := func(v float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	median, p90 := "", ""
	if m, p, ok := o.FirstAnswer(); ok {
		median, p90 = strconv.FormatFloat(m.Hours(), 'f', 1, 64), strconv.FormatFloat(p.Hours(), 'f', 1, 64)
	}
	relay := ""
	if o.RelayPublished > 0 {
		relay = strconv.FormatFloat(o.RelayMedian.Hours(), 'f', 1, 64)
	}
	actions, offline, online, attended := "", "", "", ""
	if off, on, were, ok := o.Participation(); ok {
		actions, offline, online, attended = strconv.Itoa(o.Actions), strconv.Itoa(off), strconv.Itoa(on), strconv.Itoa(were)
	}
	opens, shares, engaged := o.Engagement()
	cells := []string{pct(o.Coverage()), strconv.Itoa(o.Reachable), strconv.Itoa(o.Supporters), strconv.Itoa(o.Asked), pct(o.OnTimeShare()), median, p90,
		pct(o.NewsPerMonth()), pct(o.RelayShare()), relay, pct(o.Reach()), pct(opens, engaged), pct(shares, engaged),
		actions, offline, online, attended, pct(o.MaturityScore, o.MaturityOrgs > 0)}
	for _, part := range MaturityParts {
		cells = append(cells, pct(o.MaturityPart(part)))
	}
	for _, ind := range ObservedIndicators {
		target, result := o.targetCells(ind.Name)
		cells = append(cells, target, result)
	}
	return cells
}

// Table is the report's organisations as a file's rows, header first: the
// same columns wherever the report is downloaded, the command line or the
// console.
func (r Report) Table() [][]string {
	table := make([][]string, 0, len(r.Orgs)+1)
	table = append(table, r.Header())
	for _, o := range r.Orgs {
		table = append(table, o.Row())
	}
	return table
}

// ReportOrg finds, by code, an organisation whose monitoring the actor
// reads: storage.ErrNotFound for an unknown code, access.ErrForbidden for
// one beside or above theirs.
func (s *Service) ReportOrg(ctx context.Context, by access.Actor, code string) (storage.Org, error) {
	org, err := s.store.OrgByCode(ctx, code)
	if err != nil {
		return org, fmt.Errorf("load org %q: %w", code, err)
	}
	if !by.Can(access.ActMonitoring, org) {
		return org, fmt.Errorf("read the monitoring of org %d: %w", org.ID, access.ErrForbidden)
	}
	return org, nil
}

// Scopes are the organisations whose report the actor may read, as a
// choice of which to show: the roots of their subtrees and every upper
// level below them, a subtree after its root (a primary's standing is a
// row of its higher org's report, or its own as a root).
func (s *Service) Scopes(ctx context.Context, by access.Actor) ([]storage.Org, error) {
	roots := by.Orgs(access.ActMonitoring)
	if len(roots) == 0 {
		return nil, nil
	}
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	var out []storage.Org
	for _, o := range orgs {
		if by.Can(access.ActMonitoring, o) && (o.Level != storage.LevelPrimary || slices.ContainsFunc(roots, func(r storage.Org) bool { return r.ID == o.ID })) {
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Path < out[k].Path })
	return out, nil
}

// ReportFor is the report of org's subtree that the actor may read: for a
// period named "2026" or "2026-03" in the org's time zone, or "" for the
// current year there.
func (s *Service) ReportFor(ctx context.Context, by access.Actor, org storage.Org, period string) (Report, error) {
	return s.reportFor(ctx, by, org, period, false)
}

// ObservedReportFor is ReportFor with what the hub observed: the bot's
// report, which may take the half second that reading a year of the
// Union's records costs.
func (s *Service) ObservedReportFor(ctx context.Context, by access.Actor, org storage.Org, period string) (Report, error) {
	return s.reportFor(ctx, by, org, period, true)
}

func (s *Service) reportFor(ctx context.Context, by access.Actor, org storage.Org, period string, observed bool) (Report, error) {
	p, err := s.periodFor(by, org, period)
	if err != nil {
		return Report{}, err
	}
	return s.report(ctx, org, p, observed)
}

// periodFor checks that by may read org's monitoring and reads period in
// the org's zone: this year when empty.
func (s *Service) periodFor(by access.Actor, org storage.Org, period string) (Period, error) {
	if !by.Can(access.ActMonitoring, org) {
		return Period{}, fmt.Errorf("read the monitoring of org %d: %w", org.ID, access.ErrForbidden)
	}
	if period == "" {
		period = strconv.Itoa(s.clock().In(zone(org)).Year())
	}
	p, err := ParsePeriod(period, zone(org))
	if err != nil {
		return Period{}, &InvalidError{Field: "period", Value: period, Rule: periodRule}
	}
	return p, nil
}
