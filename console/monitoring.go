package console

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/chart"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// monitoringPages are the monitoring report with its charts and
// downloads, the targets, and the contact base: the bot's /monitoring and
// the command line's report, target and export, in a browser.
func (c *Console) monitoringPages() pageGroup {
	shown := &shownReports{byKey: map[shownKey]shownReport{}}
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /monitoring", Need: access.ActMonitoring, Handle: func(w http.ResponseWriter, rq *Request) error {
				return c.monitoringReport(w, rq, shown)
			}},
			{Pattern: "GET /monitoring/norms.png", Need: access.ActMonitoring, Handle: func(w http.ResponseWriter, rq *Request) error {
				return c.monitoringChart(w, rq, shown)
			}},
			{Pattern: "GET /monitoring/orgs.png", Need: access.ActMonitoring, Handle: func(w http.ResponseWriter, rq *Request) error {
				return c.monitoringChart(w, rq, shown)
			}},
			{Pattern: "GET /monitoring.csv", Need: access.ActMonitoring, Handle: c.monitoringFile},
			{Pattern: "GET /monitoring.xlsx", Need: access.ActMonitoring, Handle: c.monitoringFile},
			{Pattern: "GET /monitoring/targets", Need: access.ActMonitoring, Handle: c.targetsView},
			{Pattern: "POST /monitoring/targets", Need: access.ActSetTargets, Handle: c.targetsSet},
			{Pattern: "GET /contacts.csv", Need: access.ActContacts, Handle: c.contactsFile},
			{Pattern: "GET /contacts.xlsx", Need: access.ActContacts, Handle: c.contactsFile},
		},
		Nav: []NavItem{{Path: "/monitoring", Key: "console.nav_monitoring", Need: access.ActMonitoring}},
	}
}

// Audit actions of the monitoring pages: the downloads are exports of
// what the hub knows, recorded as changes are.
const (
	auditMonitoringExport = "monitoring_export"
	auditContactsExport   = "contacts_export"
	auditTargetSet        = "target_set"
)

// orgsPerPage is how many organisations a page of the report lists: as
// many as its chart draws, so that the chart shows the rows beneath it.
const orgsPerPage = chart.MaxBars

// normKeys name the norms, as the bot names them.
var normKeys = map[string]string{
	surveys.NormInfoworker:  "norm.infoworker",
	surveys.NormSolidarnost: "norm.solidarnost",
	surveys.NormBudget:      "norm.budget",
	surveys.NormBoard:       "norm.board",
	surveys.NormChannels:    "norm.channels",
}

// decimal writes a number with at most one decimal, with a comma in
// Russian.
func decimal(rq *Request, v float64) string {
	out := strings.TrimSuffix(strconv.FormatFloat(v, 'f', 1, 64), ".0")
	if rq.Lang == "ru" {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// number writes a number as typed, every decimal kept, with a comma in
// Russian: a target shown is the target stored.
func number(rq *Request, v float64) string {
	out := strconv.FormatFloat(v, 'f', -1, 64)
	if rq.Lang == "ru" {
		out = strings.Replace(out, ".", ",", 1)
	}
	return out
}

// percentText is a share as shown: "58,3 %".
func percentText(rq *Request, v float64) string {
	return rq.T("console.mon_percent", "Value", decimal(rq, v))
}

// reportQuery is what a report's address asks for: the organisation whose
// subtree is reported (the person's highest by default) and the period
// ("" for this year), checked by the use case.
type reportQuery struct {
	org    storage.Org
	period string
	page   int // from 0
}

// readReportQuery reads ?org=CODE&period=2026&page=2; a period may also
// come from the selector's year and month fields.
func (c *Console) readReportQuery(rq *Request) (reportQuery, error) {
	q := rq.URL.Query()
	act := rq.Session.Actor
	out := reportQuery{period: q.Get("period"), page: listPage(rq)}
	if out.period == "" && q.Get("year") != "" {
		out.period = q.Get("year")
		if m := q.Get("month"); m != "" {
			out.period += "-" + m
		}
	}
	if code := q.Get("org"); code != "" {
		org, err := c.cfg.Monitoring.ReportOrg(rq.Context(), act, code)
		if err != nil {
			return out, err
		}
		out.org = org
		return out, nil
	}
	roots := act.Orgs(access.ActMonitoring)
	if len(roots) == 0 {
		return out, access.ErrForbidden
	}
	// The highest of the person's organisations: the fewest steps from the root.
	out.org = slices.MinFunc(roots, func(a, b storage.Org) int {
		return strings.Count(a.Path, "/") - strings.Count(b.Path, "/")
	})
	return out, nil
}

// report builds the report a query asks for; a period that is none is a
// bad request.
func (c *Console) report(rq *Request, q reportQuery) (monitoring.Report, error) {
	r, err := c.cfg.Monitoring.ReportFor(rq.Context(), rq.Session.Actor, q.org, q.period)
	if errors.Is(err, monitoring.ErrInvalid) {
		return r, &pageError{status: http.StatusBadRequest, key: "console.mon_bad_period"}
	}
	return r, err
}

// reportLink is the address of a report's page or file with the same
// organisation and period.
func reportLink(path string, org storage.Org, period string, more ...string) string {
	v := url.Values{"org": {org.Code}, "period": {period}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set(more[i], more[i+1])
	}
	return path + "?" + v.Encode()
}

// shownReports keep, for a minute, the reports pages were drawn from, so
// that their charts, which the browser asks for right after, draw the very
// figures of the tables beneath them without reading them all again. Each
// request is checked for its rights first; the files downloaded are read
// anew.
type shownReports struct {
	mu    sync.Mutex
	byKey map[shownKey]shownReport
}

type shownKey struct {
	person, org int64
	period      string
}

type shownReport struct {
	r  monitoring.Report
	at time.Time
}

// How long and how many reports are kept for their charts.
const (
	shownFor    = time.Minute
	shownAtMost = 64
)

func (s *shownReports) get(k shownKey, now time.Time) (monitoring.Report, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byKey[k]
	return e.r, ok && now.Sub(e.at) < shownFor
}

func (s *shownReports) put(k shownKey, r monitoring.Report, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, e := range s.byKey {
		if now.Sub(e.at) >= shownFor || len(s.byKey) >= shownAtMost {
			delete(s.byKey, key)
		}
	}
	s.byKey[k] = shownReport{r: r, at: now}
}

// scopeOption is an organisation in the report's selector.
type scopeOption struct {
	Code, Label string
	Selected    bool
}

// scopeOptions are the organisations whose report the person may read,
// indented by their depth below the first.
func (c *Console) scopeOptions(rq *Request, selected storage.Org) ([]scopeOption, error) {
	scopes, err := c.cfg.Monitoring.Scopes(rq.Context(), rq.Session.Actor)
	if err != nil {
		return nil, err
	}
	top := math.MaxInt
	for _, o := range scopes {
		top = min(top, strings.Count(o.Path, "/"))
	}
	out := make([]scopeOption, 0, len(scopes)+1)
	for _, o := range scopes {
		out = append(out, scopeOption{Code: o.Code, Label: strings.Repeat("  ", strings.Count(o.Path, "/")-top) + o.Name,
			Selected: o.ID == selected.ID})
	}
	if !slices.ContainsFunc(out, func(s scopeOption) bool { return s.Selected }) {
		out = append(out, scopeOption{Code: selected.Code, Label: selected.Name, Selected: true})
	}
	return out, nil
}

// periodChoice is an option of the period selector.
type periodChoice struct {
	Value, Label string
	Selected     bool
}

// periodChoices are the years to choose from (this one and four before,
// and the one shown) and the months (or the whole year).
func (c *Console) periodChoices(rq *Request, org storage.Org, period string) (years, months []periodChoice) {
	now := c.clock().In(zoneOf(org)).Year()
	year, month, _ := strings.Cut(period, "-")
	shown, _ := strconv.Atoi(year)
	for y := now; y >= now-4; y-- {
		years = append(years, periodChoice{Value: strconv.Itoa(y), Label: strconv.Itoa(y), Selected: y == shown})
	}
	if shown > now || (shown > 0 && shown < now-4) {
		years = append(years, periodChoice{Value: year, Label: year, Selected: true})
	}
	months = append(months, periodChoice{Label: rq.T("console.mon_whole_year"), Selected: month == ""})
	for i, key := range monthKeys {
		v := fmt.Sprintf("%02d", i+1)
		months = append(months, periodChoice{Value: v, Label: rq.T(key), Selected: v == month})
	}
	return years, months
}

// monthKeys name the months, January first.
var monthKeys = [12]string{"console.mon_month_01", "console.mon_month_02", "console.mon_month_03", "console.mon_month_04",
	"console.mon_month_05", "console.mon_month_06", "console.mon_month_07", "console.mon_month_08", "console.mon_month_09",
	"console.mon_month_10", "console.mon_month_11", "console.mon_month_12"}

// normRow is a norm's line of the report: the share of the surveyed
// organisations meeting it, now and before.
type normRow struct {
	Name, Share, Count, Before, Change string
	// Trend is "up", "down" or "" for the change's colour.
	Trend string
}

// normCell is an organisation's standing on one norm.
type normCell struct {
	Mark, Text, Value string
	Class             string
}

// orgLine is an organisation's row of the report.
type orgLine struct {
	Name, Link, Score, Trend string
	Answered                 bool
	Cells                    []normCell
}

// reportData is the report's page.
type reportData struct {
	Org            storage.Org
	Period, Before string
	Scopes         []scopeOption
	Years, Months  []periodChoice
	Response       string
	Empty          bool
	NormNames      []string
	Norms          []normRow
	NormsChart     string
	Orgs           []orgLine
	OrgsChart      string
	Page, Last     int
	Prev, Next     string
	CSV, XLSX      string
	Targets        string
	Contacts       []download
	// What the hub observed of the subtree, from a snapshot taken in the
	// background: its rows and time, or pending while the first is taken.
	Observed        []observedRow
	ObservedAt      string
	ObservedPending bool
}

// observedRow is an observed indicator now and before, and against the
// org's target when it has one.
type observedRow struct {
	Name, Now, Before string
	Target, Result    string
	Class             string // pass, fail or nodata; "" without a target
}

// download is a file to take away, as linked.
type download struct{ Href, Label string }

// monitoringReport shows the report of the organisation chosen and its
// subtree in a period, with the previous period for the trend.
func (c *Console) monitoringReport(w http.ResponseWriter, rq *Request, shown *shownReports) error {
	q, err := c.readReportQuery(rq)
	if err != nil {
		return err
	}
	r, err := c.report(rq, q)
	if err != nil {
		return err
	}
	shown.put(shownKey{person: rq.Session.PersonID, org: q.org.ID, period: r.Period}, r, c.clock())
	d := reportData{Org: q.org, Period: r.Period, Before: r.Previous, Empty: len(r.Orgs) == 0,
		CSV: reportLink("/monitoring.csv", q.org, r.Period), XLSX: reportLink("/monitoring.xlsx", q.org, r.Period),
		Targets: reportLink("/monitoring/targets", q.org, r.Period)}
	if d.Scopes, err = c.scopeOptions(rq, q.org); err != nil {
		return err
	}
	d.Years, d.Months = c.periodChoices(rq, q.org, r.Period)
	d.Response = rq.Plural("console.mon_response", r.Surveyed, "Answered", r.Answered, "Rate", percentText(rq, r.ResponseRate),
		"Before", r.Previous, "Previous", percentText(rq, r.PrevResponseRate))
	if r.PrevSurveyed == 0 {
		d.Response = rq.Plural("console.mon_response_first", r.Surveyed, "Answered", r.Answered, "Rate", percentText(rq, r.ResponseRate),
			"Before", r.Previous)
	}
	if rq.Session.Actor.Can(access.ActContacts, q.org) {
		for _, f := range []struct{ ext, key string }{{"xlsx", "console.mon_contacts_xlsx"}, {"csv", "console.mon_contacts_csv"}} {
			d.Contacts = append(d.Contacts, download{Href: "/contacts." + f.ext + "?" + url.Values{"org": {q.org.Code}}.Encode(),
				Label: rq.T(f.key)})
		}
	}
	for _, n := range r.Norms {
		d.NormNames = append(d.NormNames, rq.T(normKeys[n.Norm]))
		d.Norms = append(d.Norms, normLine(rq, n))
	}
	if err := c.observedRows(rq, q, &d); err != nil {
		return err
	}
	if d.Empty {
		return c.render(w, rq, http.StatusOK, "monitoring/report", d)
	}
	d.NormsChart = reportLink("/monitoring/norms.png", q.org, r.Period)
	d.Last = (len(r.Orgs) + orgsPerPage - 1) / orgsPerPage
	page := min(q.page, d.Last-1)
	d.Page = page + 1
	if page > 0 {
		d.Prev = reportLink("/monitoring", q.org, r.Period, "page", strconv.Itoa(page))
	}
	if page+1 < d.Last {
		d.Next = reportLink("/monitoring", q.org, r.Period, "page", strconv.Itoa(page+2))
	}
	d.OrgsChart = reportLink("/monitoring/orgs.png", q.org, r.Period, "page", strconv.Itoa(page+1))
	for _, o := range orgsPage(r.Orgs, page) {
		d.Orgs = append(d.Orgs, orgReportLine(rq, o, r))
	}
	return c.render(w, rq, http.StatusOK, "monitoring/report", d)
}

// observedRows fills what the hub observed of the subtree from the
// latest snapshot, asking for a new one when it is stale.
func (c *Console) observedRows(rq *Request, q reportQuery, d *reportData) error {
	snap, ok, err := c.cfg.Monitoring.ObservedSnapshotFor(rq.Context(), rq.Session.Actor, q.org, q.period)
	if err != nil {
		return err
	}
	if !ok {
		d.ObservedPending = true
		return nil
	}
	d.ObservedAt = rq.T("console.mon_seen_at", "At", snap.At.In(zoneOf(q.org)).Format("02.01.2006 15:04"))
	value := func(ind monitoring.ObservedIndicator, o monitoring.Observed) string {
		v, ok := ind.Value(o)
		switch {
		case !ok:
			return rq.T("console.mon_no_data")
		case strings.HasSuffix(ind.Name, "_percent"):
			return percentText(rq, v)
		case strings.HasSuffix(ind.Name, "_hours"):
			return rq.T("console.mon_hours", "N", decimal(rq, v))
		}
		return decimal(rq, v)
	}
	for _, ind := range monitoring.ObservedIndicators {
		row := observedRow{Name: rq.T(ind.Key), Now: value(ind, snap.Now), Before: value(ind, snap.Before)}
		for _, t := range snap.Now.Targets {
			if t.Indicator != ind.Name {
				continue
			}
			row.Target = number(rq, t.Target)
			switch {
			case !t.Known:
				row.Result, row.Class = rq.T("console.mon_no_data"), "nodata"
			case t.Pass:
				row.Result, row.Class = rq.T("console.mon_seen_pass"), "pass"
			default:
				row.Result, row.Class = rq.T("console.mon_seen_fail"), "fail"
			}
		}
		d.Observed = append(d.Observed, row)
	}
	return nil
}

// orgsPage is page (from 0) of the report's organisations, worst first.
func orgsPage(orgs []monitoring.OrgReport, page int) []monitoring.OrgReport {
	from := min(max(page, 0)*orgsPerPage, len(orgs))
	return orgs[from:min(from+orgsPerPage, len(orgs))]
}

// normLine shows a norm's share now and before, and the change.
func normLine(rq *Request, n monitoring.NormSummary) normRow {
	row := normRow{Name: rq.T(normKeys[n.Norm]), Share: "—", Before: "—", Change: "—"}
	now, okNow := n.Share()
	before, okBefore := n.PrevShare()
	if okNow {
		row.Share = percentText(rq, now)
		row.Count = rq.T("console.mon_norm_count", "Passed", n.Passed, "Count", n.Passed+n.Failed+n.NoData)
	}
	if okBefore {
		row.Before = percentText(rq, before)
	}
	if okNow && okBefore {
		row.Change, row.Trend = change(rq, now-before)
	}
	return row
}

// change says how a figure moved: "+5 п. п." with its direction.
func change(rq *Request, diff float64) (text, trend string) {
	diff = math.Round(diff*10) / 10
	switch {
	case diff > 0:
		return rq.T("console.mon_change_up", "Value", decimal(rq, diff)), "up"
	case diff < 0:
		return rq.T("console.mon_change_down", "Value", decimal(rq, -diff)), "down"
	}
	return rq.T("console.mon_change_none"), ""
}

// orgReportLine shows an organisation's norms met or not, its score and
// how many it met before.
func orgReportLine(rq *Request, o monitoring.OrgReport, r monitoring.Report) orgLine {
	l := orgLine{Name: o.Name, Answered: o.Answered, Score: percentText(rq, o.Percent()),
		Link: "/monitoring?" + url.Values{"org": {o.Code}, "period": {r.Period}}.Encode()}
	switch {
	case o.PrevPassed < 0:
		l.Trend = rq.T("console.mon_trend_new", "Before", r.Previous)
	default:
		l.Trend = rq.T("console.mon_trend", "Before", o.PrevPassed, "Now", o.Passed, "Previous", r.Previous)
	}
	for _, res := range o.Results {
		cell := normCell{Mark: "—", Text: rq.T("console.mon_no_data"), Class: "nodata"}
		if res.Known {
			cell.Value = rq.T("console.mon_value", "Value", decimal(rq, res.Value), "Target", number(rq, res.Target))
			cell.Mark, cell.Text, cell.Class = "✗", rq.T("console.mon_failed"), "fail"
			if res.Pass {
				cell.Mark, cell.Text, cell.Class = "✓", rq.T("console.mon_passed"), "pass"
			}
		}
		l.Cells = append(l.Cells, cell)
	}
	return l
}

// monitoringChart draws the report's chart as PNG: each norm's share of
// organisations meeting it (norms.png), or the share of norms each
// organisation of a page of the report meets (orgs.png), each with the
// previous period underneath.
func (c *Console) monitoringChart(w http.ResponseWriter, rq *Request, shown *shownReports) error {
	q, err := c.readReportQuery(rq)
	if err != nil {
		return err
	}
	r, ok := shown.get(shownKey{person: rq.Session.PersonID, org: q.org.ID, period: q.period}, c.clock())
	if !ok {
		if r, err = c.report(rq, q); err != nil {
			return err
		}
	}
	var bars []chart.Bar
	if strings.HasSuffix(rq.URL.Path, "/norms.png") {
		for _, n := range r.Norms {
			now, ok := n.Share()
			if !ok {
				continue
			}
			b := chart.Bar{Label: rq.T(normKeys[n.Norm]), Percent: now}
			if before, ok := n.PrevShare(); ok {
				b.Previous = &before
			}
			bars = append(bars, b)
		}
	} else {
		for _, o := range orgsPage(r.Orgs, q.page) {
			b := chart.Bar{Label: o.Name, Percent: o.Percent()}
			if o.PrevPassed >= 0 && len(o.Results) > 0 {
				before := 100 * float64(o.PrevPassed) / float64(len(o.Results))
				b.Previous = &before
			}
			bars = append(bars, b)
		}
	}
	png, err := chart.Compliance(bars)
	if errors.Is(err, chart.ErrNoBars) {
		return errNotFound
	}
	if err != nil {
		return fmt.Errorf("draw the monitoring chart: %w", err)
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(png)
	return nil
}

// File formats of the downloads.
var fileTypes = map[string]string{
	"csv":  "text/csv; charset=utf-8",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// sendFile writes table as a download in the format of the address's
// extension, once the export is in the audit log.
func sendFile(w http.ResponseWriter, rq *Request, name, sheetName string, table [][]string, audit func(ext string) error) error {
	ext := rq.URL.Path[strings.LastIndexByte(rq.URL.Path, '.')+1:]
	var buf bytes.Buffer
	var err error
	if ext == "xlsx" {
		err = sheet.WriteXLSX(&buf, sheetName, table)
	} else {
		err = sheet.WriteExcelCSV(&buf, table)
	}
	if err != nil {
		return err
	}
	if err := audit(ext); err != nil {
		return err
	}
	w.Header().Set("Content-Type", fileTypes[ext])
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + ext}))
	_, _ = w.Write(buf.Bytes())
	return nil
}

// monitoringFile downloads the report's organisations, as the command
// line's report writes them.
func (c *Console) monitoringFile(w http.ResponseWriter, rq *Request) error {
	q, err := c.readReportQuery(rq)
	if err != nil {
		return err
	}
	// A file may take the half second that what the hub observed costs
	// over the Union: it carries those columns too, as the command line's.
	r, err := c.cfg.Monitoring.ObservedReportFor(rq.Context(), rq.Session.Actor, q.org, q.period)
	if errors.Is(err, monitoring.ErrInvalid) {
		return &pageError{status: http.StatusBadRequest, key: "console.mon_bad_period"}
	}
	if err != nil {
		return err
	}
	return sendFile(w, rq, "monitoring-"+q.org.Code+"-"+r.Period, "monitoring", r.Table(), func(ext string) error {
		return rq.Audit(auditMonitoringExport, q.org.ID, ext+":"+r.Period)
	})
}

// contactsFile downloads the contact base of an organisation's subtree,
// as the command line's export writes it.
func (c *Console) contactsFile(w http.ResponseWriter, rq *Request) error {
	code := rq.URL.Query().Get("org")
	if code == "" {
		return &pageError{status: http.StatusBadRequest, key: "console.error_bad_request"}
	}
	org, contacts, err := c.cfg.Monitoring.ContactsFor(rq.Context(), rq.Session.Actor, code)
	if err != nil {
		return err
	}
	return sendFile(w, rq, "contacts-"+org.Code, "contacts", monitoring.ContactTable(contacts), func(ext string) error {
		return rq.Audit(auditContactsExport, org.ID, ext+":"+org.Code)
	})
}

// targetLine is a norm's target as the targets page shows it.
type targetLine struct {
	Norm, Name, Default, Value, From string
}

// belowLine is a target set for an organisation below.
type belowLine struct {
	Org, Code, Norm, Value, Default string
}

// targetsData is the targets page.
type targetsData struct {
	Org           storage.Org
	Period        string
	Scopes        []scopeOption
	Years, Months []periodChoice
	Norms         []targetLine
	Below         []belowLine
	CanSet        bool
	Done, Error   string
	Report        string
	Prev, Next    string
}

// targetsView shows the targets in force for an organisation in a period
// and those set below it.
func (c *Console) targetsView(w http.ResponseWriter, rq *Request) error {
	q, err := c.readReportQuery(rq)
	if err != nil {
		return err
	}
	d, err := c.targetsPage(rq, q)
	if err != nil {
		return err
	}
	if key, ok := targetDone[rq.URL.Query().Get("done")]; ok {
		d.Done = rq.T(key)
	}
	return c.render(w, rq, http.StatusOK, "monitoring/targets", d)
}

// targetDone are the confirmations the targets page may show.
var targetDone = map[string]string{"set": "console.mon_target_set"}

// targetsPage fills the targets page; a period that is none is a bad
// request.
func (c *Console) targetsPage(rq *Request, q reportQuery) (targetsData, error) {
	if q.period == "" {
		q.period = strconv.Itoa(c.clock().In(zoneOf(q.org)).Year())
	}
	s, err := c.cfg.Monitoring.TargetsFor(rq.Context(), rq.Session.Actor, q.org.Code, q.period, q.page)
	if errors.Is(err, monitoring.ErrInvalid) {
		return targetsData{}, &pageError{status: http.StatusBadRequest, key: "console.mon_bad_period"}
	}
	if err != nil {
		return targetsData{}, err
	}
	d := targetsData{Org: s.Org, Period: s.Period, CanSet: s.CanSet, Report: reportLink("/monitoring", s.Org, s.Period)}
	if d.Scopes, err = c.scopeOptions(rq, s.Org); err != nil {
		return d, err
	}
	d.Years, d.Months = c.periodChoices(rq, s.Org, s.Period)
	for _, n := range s.Norms {
		l := targetLine{Norm: n.Norm, Name: indicatorName(rq, n.Norm), Default: number(rq, n.Default), Value: number(rq, n.Value),
			From: rq.T("console.mon_target_default")}
		if n.Observed {
			l.Default = "—"
		}
		switch {
		case n.None:
			l.Value, l.From = "", rq.T("console.mon_target_none")
		case n.From == nil:
		case n.From.ID == s.Org.ID:
			l.From = rq.T("console.mon_target_own")
		default:
			l.From = rq.T("console.mon_target_from", "Org", n.From.Name)
		}
		d.Norms = append(d.Norms, l)
	}
	for _, t := range s.Below {
		l := belowLine{Org: t.Org.Name, Code: t.Org.Code, Norm: indicatorName(rq, t.Target.Indicator),
			Value: number(rq, t.Target.Value), Default: number(rq, t.Default)}
		if _, observed := monitoring.ObservedIndicatorNamed(t.Target.Indicator); observed {
			l.Default = "—"
		}
		d.Below = append(d.Below, l)
	}
	if q.page > 0 {
		d.Prev = reportLink("/monitoring/targets", s.Org, s.Period, "page", strconv.Itoa(q.page))
	}
	if s.More {
		d.Next = reportLink("/monitoring/targets", s.Org, s.Period, "page", strconv.Itoa(q.page+2))
	}
	return d, nil
}

// indicatorName names a norm or an observed indicator for people.
func indicatorName(rq *Request, name string) string {
	if ind, ok := monitoring.ObservedIndicatorNamed(name); ok {
		return rq.T(ind.Key)
	}
	return rq.T(normKeys[name])
}

// targetsSet sets an organisation's target for a norm in a period, by
// the use case that checks the person may (its chair, or one above).
func (c *Console) targetsSet(w http.ResponseWriter, rq *Request) error {
	code, period, norm := rq.PostFormValue("org"), rq.PostFormValue("period"), rq.PostFormValue("norm")
	typed := strings.TrimSpace(rq.PostFormValue("value"))
	value, err := strconv.ParseFloat(strings.Replace(typed, ",", ".", 1), 64)
	if err != nil {
		value = math.NaN() // refused below, after the rights
	}
	t, org, err := c.cfg.Monitoring.SetTargetFor(rq.Context(), rq.Session.Actor, code, period, norm, value)
	var bad *monitoring.InvalidError
	if errors.As(err, &bad) {
		if bad.Field != "value" {
			return &pageError{status: http.StatusBadRequest, key: "console.error_bad_request"}
		}
		d, err := c.targetsPage(rq, reportQuery{org: org, period: period})
		if err != nil {
			return err
		}
		d.Error = rq.T("console.mon_target_bad", "Value", typed)
		return c.render(w, rq, http.StatusUnprocessableEntity, "monitoring/targets", d)
	}
	if err != nil {
		return err
	}
	if err := rq.Audit(auditTargetSet, org.ID, "target:"+t.Period+":"+t.Indicator); err != nil {
		return err
	}
	redirect(w, rq, reportLink("/monitoring/targets", org, t.Period, "done", "set"))
	return nil
}

// zoneDate is a time as a date and time in an organisation's zone.
func zoneDate(t time.Time, org storage.Org) string {
	return t.In(zoneOf(org)).Format("02.01.2006 15:04")
}
