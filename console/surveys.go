package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// surveyPages are the surveys: their schedules, the runs over the
// person's subtree with who answered and who has not, an organisation's
// answers, "run now" and "remind now": the bot's survey desk, in a
// browser.
func (c *Console) surveyPages() pageGroup {
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /surveys", Need: access.ActMonitoring, Handle: c.surveyList},
			{Pattern: "GET /surveys/{id}", Need: access.ActMonitoring, Handle: c.surveyRuns},
			{Pattern: "POST /surveys/{id}/run", Need: access.ActMonitoring, Handle: c.surveyRunNow},
			{Pattern: "GET /surveys/runs/{run}", Need: access.ActMonitoring, Handle: c.surveyRun},
			{Pattern: "GET /surveys/runs/{run}/orgs/{org}", Need: access.ActMonitoring, Handle: c.surveyAnswers},
			{Pattern: "POST /surveys/runs/{run}/remind", Need: access.ActMonitoring, Handle: c.surveyRemind},
		},
		Nav: []NavItem{{Path: "/surveys", Key: "console.nav_surveys", Need: access.ActMonitoring}},
	}
}

// Audit actions of the survey pages.
const (
	auditSurveyRun    = "survey_run"
	auditSurveyRemind = "survey_remind"
)

// targetsPerPage is how many organisations a page of a run lists.
const targetsPerPage = 50

// durationText says a schedule's duration in days, or hours when it is
// no whole number of days.
func durationText(rq *Request, d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return rq.Plural("console.surveys_days", int(d/(24*time.Hour)))
	}
	return rq.Plural("console.surveys_hours", int(d/time.Hour))
}

// scheduleLine is a schedule as the surveys page describes it.
type scheduleLine struct {
	Name, Cron, Root, Levels, Roles, Deadline, Reminders string
}

// deskLine is a survey's newest run over one of the person's upper-level
// organisations, with "run now".
type deskLine struct {
	OrgID      int64
	Org        string
	Newest     string // "" when it never ran there
	Run, Runs  string // the newest run's page, and the list of runs
	RunConfirm string
}

// surveyCard is a survey on the surveys page.
type surveyCard struct {
	ID, Title string
	Questions int
	Schedules []scheduleLine
	Desk      []deskLine
}

// surveysData is the surveys page.
type surveysData struct {
	Surveys []surveyCard
	// NoDesk: the person follows no upper level's surveys, only answers
	// for their organisation in the bot.
	NoDesk bool
}

// surveyList lists the deployment's surveys, the schedules that concern
// the person's organisations, and for each upper-level organisation of
// theirs the newest run with "run now".
func (c *Console) surveyList(w http.ResponseWriter, rq *Request) error {
	ctx, act := rq.Context(), rq.Session.Actor
	schedules, err := c.cfg.Monitoring.Schedules(ctx, act)
	if err != nil {
		return err
	}
	desk, err := c.cfg.Monitoring.Desk(ctx, act)
	if err != nil {
		return err
	}
	d := surveysData{NoDesk: len(monitoring.DeskOrgs(act)) == 0}
	for _, sv := range c.cfg.Monitoring.Surveys() {
		card := surveyCard{ID: sv.ID, Title: sv.Title.T(rq.Lang), Questions: len(sv.Questions)}
		for _, l := range schedules {
			if l.Survey.ID == sv.ID {
				card.Schedules = append(card.Schedules, scheduleText(rq, l))
			}
		}
		for _, l := range desk {
			if l.Survey.ID != sv.ID {
				continue
			}
			dl := deskLine{OrgID: l.Org.ID, Org: l.Org.Name,
				Runs:       "/surveys/" + url.PathEscape(sv.ID) + "?" + url.Values{"org": {strconv.FormatInt(l.Org.ID, 10)}}.Encode(),
				RunConfirm: rq.T("console.surveys_run_confirm", "Title", card.Title, "Org", l.Org.Name)}
			if l.Newest != nil {
				dl.Newest = rq.Plural("console.surveys_newest", l.Total, "Opened", zoneDate(l.Newest.FiredFor, l.Org),
					"Answered", l.Answered, "Status", rq.T(runStatusKey(*l.Newest, c.clock())))
				dl.Run = runLink(l.Newest.ID, l.Org.ID)
			}
			card.Desk = append(card.Desk, dl)
		}
		d.Surveys = append(d.Surveys, card)
	}
	return c.render(w, rq, http.StatusOK, "surveys/list", d)
}

// scheduleText describes a schedule in the page's language.
func scheduleText(rq *Request, l monitoring.ScheduleLine) scheduleLine {
	sc := l.Schedule
	out := scheduleLine{Name: sc.Name, Cron: sc.Cron, Root: l.Root.Name, Deadline: durationText(rq, sc.Deadline),
		Reminders: rq.T("console.surveys_no_reminders")}
	var levels, roles, reminders []string
	for _, lv := range sc.Levels {
		levels = append(levels, rq.T(levelKeys[lv]))
	}
	for _, r := range sc.Roles {
		roles = append(roles, rq.T("role."+string(r)))
	}
	for _, r := range sc.Reminders {
		reminders = append(reminders, durationText(rq, r))
	}
	out.Levels, out.Roles = strings.Join(levels, ", "), strings.Join(roles, ", ")
	if len(reminders) > 0 {
		out.Reminders = strings.Join(reminders, ", ")
	}
	return out
}

// runStatusKey names where a run stands: taking answers, or over.
func runStatusKey(run storage.SurveyRun, now time.Time) string {
	if run.Status == storage.RunOpen && now.Before(run.Deadline) {
		return "console.surveys_status_open"
	}
	return "console.surveys_status_closed"
}

// runLink is a run's page as followed from an organisation.
func runLink(runID, orgID int64) string {
	return "/surveys/runs/" + strconv.FormatInt(runID, 10) + "?" + url.Values{"org": {strconv.FormatInt(orgID, 10)}}.Encode()
}

// deskChoice is one of the person's upper-level organisations to follow
// a survey's runs in.
type deskChoice struct {
	ID       int64
	Name     string
	Selected bool
}

// runLine is a run in a survey's list.
type runLine struct {
	ID                                int64
	Opened, Deadline, Status, Counted string
	Link                              string
}

// runsData is a survey's runs over an organisation's subtree.
type runsData struct {
	ID, Title  string
	Org        storage.Org
	Orgs       []deskChoice
	Runs       []runLine
	RunConfirm string
	Prev, Next string
}

// surveyRuns lists a survey's runs that concern the subtree of one of
// the person's upper-level organisations (?org=, the first by default),
// newest first, each counted within that subtree.
func (c *Console) surveyRuns(w http.ResponseWriter, rq *Request) error {
	act := rq.Session.Actor
	sv, ok := c.cfg.Monitoring.Survey(rq.PathValue("id"))
	if !ok {
		return errNotFound
	}
	orgID, err := optionalID(rq.URL.Query().Get("org"))
	if err != nil {
		return err
	}
	desks := monitoring.DeskOrgs(act)
	if orgID == 0 {
		if len(desks) == 0 {
			return access.ErrForbidden
		}
		orgID = desks[0].ID
	}
	page := listPage(rq)
	runs, more, err := c.cfg.Monitoring.RunsFor(rq.Context(), act, sv.ID, orgID, page)
	if err != nil {
		return err
	}
	d := runsData{ID: sv.ID, Title: sv.Title.T(rq.Lang)}
	for _, o := range desks {
		d.Orgs = append(d.Orgs, deskChoice{ID: o.ID, Name: o.Name, Selected: o.ID == orgID})
		if o.ID == orgID {
			d.Org = o
		}
	}
	if d.Org.ID == 0 { // an upper level below the person's own
		org, err := c.cfg.Store.Org(rq.Context(), orgID)
		if err != nil {
			return err
		}
		d.Org = org
		d.Orgs = append(d.Orgs, deskChoice{ID: org.ID, Name: org.Name, Selected: true})
	}
	d.RunConfirm = rq.T("console.surveys_run_confirm", "Title", d.Title, "Org", d.Org.Name)
	now := c.clock()
	for _, p := range runs {
		d.Runs = append(d.Runs, runLine{ID: p.Run.ID, Opened: zoneDate(p.Run.FiredFor, d.Org), Deadline: zoneDate(p.Run.Deadline, d.Org),
			Status: rq.T(runStatusKey(p.Run, now)), Counted: rq.Plural("console.surveys_counted", p.Total, "Answered", p.Answered),
			Link: runLink(p.Run.ID, orgID)})
	}
	link := func(p int) string {
		return "/surveys/" + url.PathEscape(sv.ID) + "?" + url.Values{"org": {strconv.FormatInt(orgID, 10)}, "page": {strconv.Itoa(p)}}.Encode()
	}
	if page > 0 {
		d.Prev = link(page)
	}
	if more {
		d.Next = link(page + 2)
	}
	return c.render(w, rq, http.StatusOK, "surveys/runs", d)
}

// surveyRunNow starts a survey now over the subtree of one of the
// person's upper-level organisations, or shows the run already open over
// it.
func (c *Console) surveyRunNow(w http.ResponseWriter, rq *Request) error {
	orgID, err := strconv.ParseInt(rq.PostFormValue("org"), 10, 64)
	if err != nil || orgID <= 0 {
		return &pageError{status: http.StatusBadRequest, key: "console.error_bad_request"}
	}
	st, err := c.cfg.Monitoring.RunNow(rq.Context(), rq.Session.Actor, rq.PathValue("id"), orgID)
	switch {
	case errors.Is(err, monitoring.ErrNoSurvey), errors.Is(err, monitoring.ErrNoSchedule):
		return errNotFound
	case err != nil:
		return err
	case !st.New:
		redirect(w, rq, runLink(st.Run.ID, st.Org.ID)+"&running=1")
		return nil
	}
	if err := rq.Audit(auditSurveyRun, st.Org.ID, "survey_run:"+strconv.FormatInt(st.Run.ID, 10)); err != nil {
		return err
	}
	redirect(w, rq, runLink(st.Run.ID, st.Org.ID)+"&started="+strconv.Itoa(st.Targets))
	return nil
}

// runRow is an organisation asked in a run, as its page lists it.
type runRow struct {
	Org, Code, Status, Told string
	Answered                bool
	Notices                 int
	Answers                 string
}

// filterLink is one of a list's filters.
type filterLink struct {
	Label, Href string
	Current     bool
}

// runData is a run's page.
type runData struct {
	ID                         int64
	Title, Org                 string
	OrgID                      int64
	Opened, Deadline, Status   string
	Counted                    string
	CanRemind                  bool
	RemindConfirm              string
	Messages                   []string
	Filters                    []filterLink
	Rows                       []runRow
	Page, Last, PrevPage, Next int
	Show                       string
}

// runFilters are the views of a run's organisations: all of them (those
// waiting first), those waiting, those that answered.
var runFilters = []struct{ value, key string }{
	{"", "console.surveys_show_all"}, {"waiting", "console.surveys_show_waiting"}, {"answered", "console.surveys_show_answered"},
}

// surveyRun shows where a run stands in the subtree of one of the
// person's upper-level organisations: who answered, who has not, and
// "remind now" while it takes answers.
func (c *Console) surveyRun(w http.ResponseWriter, rq *Request) error {
	runID, err := strconv.ParseInt(rq.PathValue("run"), 10, 64)
	if err != nil || runID <= 0 {
		return errNotFound
	}
	q := rq.URL.Query()
	orgID, err := optionalID(q.Get("org"))
	if err != nil {
		return err
	}
	p, err := c.cfg.Monitoring.Status(rq.Context(), rq.Session.Actor, runID, orgID)
	if err != nil {
		return err
	}
	now := c.clock()
	open := p.Run.Status == storage.RunOpen && now.Before(p.Run.Deadline)
	d := runData{ID: p.Run.ID, Title: p.Survey.Title.T(rq.Lang), Org: p.Org.Name, OrgID: p.Org.ID,
		Opened: zoneDate(p.Run.FiredFor, p.Org), Deadline: zoneDate(p.Run.Deadline, p.Org), Status: rq.T(runStatusKey(p.Run, now)),
		Counted: rq.Plural("console.surveys_counted", p.Total, "Answered", p.Answered), CanRemind: open && len(p.Waiting) > 0,
		RemindConfirm: rq.Plural("console.surveys_remind_confirm", len(p.Waiting)), Show: q.Get("show")}
	d.Messages = runMessages(rq, q)
	base := url.Values{"org": {strconv.FormatInt(p.Org.ID, 10)}}
	for _, f := range runFilters {
		v := url.Values{"org": base["org"]}
		if f.value != "" {
			v.Set("show", f.value)
		}
		d.Filters = append(d.Filters, filterLink{Label: rq.T(f.key), Href: "/surveys/runs/" + strconv.FormatInt(p.Run.ID, 10) + "?" + v.Encode(),
			Current: f.value == d.Show})
	}
	targets := slices.Clone(p.Targets)
	switch d.Show {
	case "waiting":
		targets = slices.DeleteFunc(targets, func(t monitoring.TargetState) bool { return t.SubmittedAt != nil })
	case "answered":
		targets = slices.DeleteFunc(targets, func(t monitoring.TargetState) bool { return t.SubmittedAt == nil })
	default:
		d.Show = ""
		slices.SortStableFunc(targets, func(a, b monitoring.TargetState) int {
			return boolOrder(a.SubmittedAt != nil) - boolOrder(b.SubmittedAt != nil)
		})
	}
	d.Last = max(1, (len(targets)+targetsPerPage-1)/targetsPerPage)
	d.Page = min(listPage(rq)+1, d.Last)
	if d.Page > 1 {
		d.PrevPage = d.Page - 1
	}
	if d.Page < d.Last {
		d.Next = d.Page + 1
	}
	for _, t := range targets[(d.Page-1)*targetsPerPage : min(d.Page*targetsPerPage, len(targets))] {
		row := runRow{Org: t.Org.Name, Code: t.Org.Code, Notices: t.RemindersSent, Answered: t.SubmittedAt != nil, Status: rq.T("console.surveys_waiting"),
			Answers: "/surveys/runs/" + strconv.FormatInt(p.Run.ID, 10) + "/orgs/" + strconv.FormatInt(t.Org.ID, 10)}
		if t.SubmittedAt != nil {
			row.Status = rq.T("console.surveys_answered_at", "When", zoneDate(*t.SubmittedAt, t.Org))
		}
		if t.NoticedAt != nil {
			row.Told = zoneDate(*t.NoticedAt, t.Org)
		}
		d.Rows = append(d.Rows, row)
	}
	return c.render(w, rq, http.StatusOK, "surveys/run", d)
}

func boolOrder(b bool) int {
	if b {
		return 1
	}
	return 0
}

// runMessages are what a redirect to a run's page asks it to say: a run
// started or found open, or what "remind now" did, counted.
func runMessages(rq *Request, q url.Values) []string {
	n := func(k string) int {
		v, _ := strconv.Atoi(q.Get(k))
		return max(v, 0)
	}
	var out []string
	switch {
	case q.Has("started"):
		out = append(out, rq.Plural("console.surveys_started", n("started")))
	case q.Has("running"):
		out = append(out, rq.T("console.surveys_running"))
	case q.Has("closed"):
		out = append(out, rq.T("console.surveys_remind_closed"))
	case q.Has("waiting") && n("waiting") == 0:
		out = append(out, rq.T("console.surveys_remind_none"))
	case q.Has("waiting"):
		if n("sent") == 0 {
			out = append(out, rq.T("console.surveys_reminded_nobody_now"))
		} else {
			out = append(out, rq.Plural("console.surveys_reminded", n("sent")))
		}
		for _, r := range []struct{ count, key string }{
			{"recent", "console.surveys_reminded_recent"}, {"nobody", "console.surveys_reminded_nobody"}, {"failed", "console.surveys_reminded_failed"},
		} {
			if n(r.count) > 0 {
				out = append(out, rq.Plural(r.key, n(r.count)))
			}
		}
	}
	return out
}

// surveyRemind reminds, now, the organisations of the subtree that have
// not answered a run, and says on the run's page what it did.
func (c *Console) surveyRemind(w http.ResponseWriter, rq *Request) error {
	runID, err := strconv.ParseInt(rq.PathValue("run"), 10, 64)
	if err != nil || runID <= 0 {
		return errNotFound
	}
	orgID, err := strconv.ParseInt(rq.PostFormValue("org"), 10, 64)
	if err != nil || orgID <= 0 {
		return &pageError{status: http.StatusBadRequest, key: "console.error_bad_request"}
	}
	r, err := c.cfg.Monitoring.RemindNow(rq.Context(), rq.Session.Actor, runID, orgID)
	if errors.Is(err, storage.ErrClosed) {
		redirect(w, rq, runLink(runID, orgID)+"&closed=1")
		return nil
	}
	if err != nil {
		return err
	}
	if err := rq.Audit(auditSurveyRemind, r.Org.ID, "survey_run:"+strconv.FormatInt(r.Run.ID, 10)); err != nil {
		return err
	}
	v := url.Values{}
	for k, n := range map[string]int{"waiting": r.Waiting, "sent": r.Sent, "recent": r.Recent, "nobody": r.Nobody, "failed": r.Failed} {
		v.Set(k, strconv.Itoa(n))
	}
	redirect(w, rq, runLink(r.Run.ID, r.Org.ID)+"&"+v.Encode())
	return nil
}

// answerLine is a question with the organisation's answer.
type answerLine struct {
	Question, Answer string
	// Missing: no answer given (yet); Skipped: left out on purpose.
	Missing, Skipped bool
}

// answersData is an organisation's answers to a run.
type answersData struct {
	Title, Org, Status, Back string
	Lines                    []answerLine
}

// surveyAnswers shows an organisation's answers to a run, the questions
// its answers leave out aside.
func (c *Console) surveyAnswers(w http.ResponseWriter, rq *Request) error {
	runID, err := strconv.ParseInt(rq.PathValue("run"), 10, 64)
	if err != nil || runID <= 0 {
		return errNotFound
	}
	orgID, err := strconv.ParseInt(rq.PathValue("org"), 10, 64)
	if err != nil || orgID <= 0 {
		return errNotFound
	}
	s, err := c.cfg.Monitoring.AnswersOf(rq.Context(), rq.Session.Actor, runID, orgID)
	if err != nil {
		return err
	}
	d := answersData{Title: s.Survey.Title.T(rq.Lang), Org: s.Org.Name, Status: rq.T("console.surveys_unconfirmed"),
		Back: "/surveys/runs/" + strconv.FormatInt(runID, 10)}
	if s.Target.SubmittedAt != nil {
		d.Status = rq.T("console.surveys_confirmed", "When", zoneDate(*s.Target.SubmittedAt, s.Org))
	}
	yesNo := func(yes bool) string {
		if yes {
			return rq.T("console.surveys_yes")
		}
		return rq.T("console.surveys_no")
	}
	for _, q := range s.Survey.Questions {
		if !s.Survey.Applies(q, s.Answers) {
			continue
		}
		v, given := s.Answers[q.ID]
		l := answerLine{Question: q.Text.T(rq.Lang), Answer: surveys.Display(q, v, rq.Lang, yesNo), Missing: !given, Skipped: given && v == ""}
		d.Lines = append(d.Lines, l)
	}
	return c.render(w, rq, http.StatusOK, "surveys/answers", d)
}
