package console

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// newsPages are the composer, the live progress of a broadcast with its
// Stop button, and its report: the bot's /news, in a browser.
func (c *Console) newsPages() pageGroup {
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /news", Need: access.ActPublish, Handle: c.newsCompose},
			{Pattern: "POST /news", Need: access.ActPublish, MaxBody: newsMaxBody, Handle: c.newsSubmit},
			{Pattern: "GET /news/count", Need: access.ActPublish, Handle: c.newsCount},
			{Pattern: "GET /news/{id}", Need: access.ActPublish, Handle: c.newsShow},
			{Pattern: "GET /news/{id}/file", Need: access.ActPublish, Handle: c.newsFile},
			{Pattern: "GET /news/uploads/{id}/file", Need: access.ActPublish, Handle: c.newsUpload},
			{Pattern: "POST /news/{id}/stop", Need: access.ActPublish, Handle: c.newsStop},
		},
		Nav: []NavItem{{Path: "/news", Key: "console.nav_news", Need: access.ActPublish}},
	}
}

// Audit actions of the news pages.
const (
	auditNewsSend     = "news_send"
	auditNewsSchedule = "news_schedule"
	auditNewsStop     = "news_stop"
)

const (
	// sentListed is how many of the latest broadcasts the composer lists.
	sentListed = 20
	// reachPerPage is how many organisations a report's page lists.
	reachPerPage = 50
	// atLayout is the value of an <input type="datetime-local">.
	atLayout = "2006-01-02T15:04"
	// markupSlack lets the tags of a text at its limit through the
	// textarea's own bound; the server counts the text without them.
	markupSlack = 4 * news.MaxText
)

// option is a radio button of the composer: its value and its label's key.
type option struct {
	Value, Key string
	Checked    bool
}

// The audience's choices, labelled as the bot labels them.
var (
	roleOptions  = []option{{Value: string(news.RolesAll), Key: "news.roles_all"}, {Value: string(news.RolesActivists), Key: "news.roles_activists"}, {Value: string(news.RolesLeadership), Key: "news.roles_leaders"}}
	whereOptions = []option{{Value: string(news.WhereBoth), Key: "news.where_both"}, {Value: string(news.WherePrivate), Key: "news.where_private"}, {Value: string(news.WhereChats), Key: "news.where_chats"}}
	modeOptions  = []option{{Value: "direct", Key: "news.mode_direct"}, {Value: "relay", Key: "news.mode_relay"}}
	// actionOptions are the kinds of action a news item may carry, none
	// first, labelled as the bot labels them.
	actionOptions = []option{{Value: "", Key: "news.action_kind_none"}, {Value: string(storage.ActionMeeting), Key: "news.action_kind_meeting"},
		{Value: string(storage.ActionOnline), Key: "news.action_kind_online"}, {Value: string(storage.ActionSignature), Key: "news.action_kind_signature"}}
)

// modeValue is the mode's radio button value.
func modeValue(relay bool) string {
	if relay {
		return "relay"
	}
	return "direct"
}

// checked is opts with value's option checked.
func checked(opts []option, value string) []option {
	out := slices.Clone(opts)
	for i := range out {
		out[i].Checked = out[i].Value == value
	}
	return out
}

// choice is an organisation one level below the sender, to narrow to.
type choice struct {
	ID      int64
	Name    string
	Checked bool
}

// composeData is the composer: the draft as typed, whom it reaches, and
// the latest broadcasts of the sender.
type composeData struct {
	Senders  []storage.Org
	Org      storage.Org
	Children []choice
	Text     string
	Roles    []option
	Where    []option
	Mode     []option
	// Public: supporters of the organisations get the item too.
	Public bool
	At     string
	Zone   string
	// Counted fingerprints the audience Count was counted for.
	Counted string
	Count   string
	Preview template.HTML
	// File is the photo or document that goes with the draft, uploaded
	// before; FileKinds how a file chosen now goes.
	File        *fileLine
	FileKinds   []option
	MaxFile     int
	MaxFileText string
	// FileTooBig is what the page's script says of a file over MaxFile.
	FileTooBig string
	// Error says what is wrong with the draft; Notice what to check.
	Error, Notice string
	Sent          []sentLine
	MaxText       int
	MaxMarkup     int
	// The action the item carries, as typed.
	ActionKinds                        []option
	ActionTitle, ActionAt, ActionPlace string
	MaxActionTitle, MaxActionPlace     int
}

type sentLine struct {
	ID           int64
	When, Status string
	Snippet      string
	File         bool
}

// draftForm is the composer's fields as sent.
type draftForm struct {
	draft    news.Draft
	text     string // as typed, with its tags
	at       string
	counted  string
	fileKind string // how a file uploaded now goes
	// The action's fields as typed; kind "" is none.
	actionKind, actionTitle, actionAt, actionPlace string
}

// readDraft reads the composer's fields; the text is read apart
// (parseMarkup), as counting needs none.
func readDraft(rq *Request) (draftForm, error) {
	if err := rq.ParseForm(); err != nil {
		return draftForm{}, &pageError{status: http.StatusBadRequest, key: "console.news_bad_form"}
	}
	f := rq.Form
	orgID, err := strconv.ParseInt(f.Get("org"), 10, 64)
	if err != nil {
		return draftForm{}, &pageError{status: http.StatusBadRequest, key: "console.news_bad_form"}
	}
	d := news.Draft{OrgID: orgID, Roles: news.Roles(f.Get("roles")), Where: news.Where(f.Get("where")), Relay: f.Get("mode") == "relay",
		Public: f.Get("public") == "1"}
	for _, v := range f["orgs"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return draftForm{}, &pageError{status: http.StatusBadRequest, key: "console.news_bad_form"}
		}
		if !slices.Contains(d.Orgs, id) {
			d.Orgs = append(d.Orgs, id)
		}
	}
	slices.Sort(d.Orgs)
	if v := f.Get("file_id"); v != "" {
		if d.FileID, err = strconv.ParseInt(v, 10, 64); err != nil || d.FileID <= 0 {
			return draftForm{}, &pageError{status: http.StatusBadRequest, key: "console.news_bad_form"}
		}
	}
	return draftForm{draft: d, text: f.Get("text"), at: strings.TrimSpace(f.Get("at")), counted: f.Get("counted"), fileKind: f.Get("file_kind"),
		actionKind: f.Get("action_kind"), actionTitle: strings.TrimSpace(f.Get("action_title")), actionAt: strings.TrimSpace(f.Get("action_at")),
		actionPlace: strings.TrimSpace(f.Get("action_place"))}, nil
}

// audienceKey fingerprints a draft's audience, so that a draft is sent
// only to the audience whose count its author saw.
func audienceKey(d news.Draft) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%v|%s|%s|%t|%t", d.OrgID, d.Orgs, d.Roles, d.Where, d.Relay, d.Public)
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// reachText says whom a draft reaches, in the bot's words.
func reachText(rq *Request, p news.Preview) string {
	if p.Chats == 0 {
		return rq.Plural("news.reach_people_only", p.People)
	}
	return rq.Plural("news.reach_people", p.People) + " " + rq.Plural("news.reach_chats", p.Chats)
}

// zoneOf is an organisation's time zone, the programme's by default.
func zoneOf(o storage.Org) *time.Location {
	if o.TimeZone != "" {
		if loc, err := time.LoadLocation(o.TimeZone); err == nil {
			return loc
		}
	}
	loc, err := time.LoadLocation(storage.DefaultTimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// composer fills the composer for a draft: the sender's choices, whom the
// draft reaches, and its latest broadcasts.
func (c *Console) composer(rq *Request, f draftForm) (composeData, error) {
	ctx, by := rq.Context(), rq.Session.Actor
	p, err := c.cfg.News.Preview(ctx, by, f.draft)
	if err != nil {
		return composeData{}, err
	}
	d := composeData{
		Senders: c.cfg.News.SenderOrgs(by), Org: p.Org, Text: f.text, At: f.at, Zone: zoneOf(p.Org).String(),
		Roles: checked(roleOptions, string(f.draft.Roles)), Where: checked(whereOptions, string(f.draft.Where)),
		Mode: checked(modeOptions, modeValue(f.draft.Relay)), Public: f.draft.Public,
		// The author is not among them, as in the bot.
		Counted: audienceKey(f.draft), Count: reachText(rq, p) + " " + rq.T("news.author_excluded"),
		MaxText: news.MaxText, MaxMarkup: markupSlack,
		FileKinds: checked(fileKindOptions, f.fileKind), MaxFile: news.MaxFileBytes, MaxFileText: fileSize(rq, news.MaxFileBytes),
		FileTooBig:  rq.T("console.news_file_too_big", "Max", fileSize(rq, news.MaxFileBytes)),
		ActionKinds: checked(actionOptions, f.actionKind), ActionTitle: f.actionTitle, ActionAt: f.actionAt, ActionPlace: f.actionPlace,
		MaxActionTitle: news.MaxActionTitle, MaxActionPlace: news.MaxActionPlace,
	}
	if f.draft.FileID != 0 {
		file, err := c.cfg.News.File(ctx, by, f.draft.FileID)
		if err != nil {
			return composeData{}, err
		}
		d.File = newFileLine(rq, file)
	}
	for _, o := range p.Children {
		d.Children = append(d.Children, choice{ID: o.ID, Name: o.Name, Checked: slices.Contains(f.draft.Orgs, o.ID)})
	}
	sent, err := c.cfg.News.Sent(ctx, by, p.Org.ID, sentListed)
	if err != nil {
		return composeData{}, err
	}
	loc := zoneOf(p.Org)
	for _, b := range sent {
		d.Sent = append(d.Sent, sentLine{ID: b.ID, When: b.CreatedAt.In(loc).Format("02.01.2006 15:04"),
			Status: rq.T(statusKey(b.Status)), Snippet: snippet(b.Text, 80), File: b.FileID != 0})
	}
	return d, nil
}

// snippet is the start of a text, on one line.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// statusKey names a broadcast's status.
func statusKey(s storage.BroadcastStatus) string {
	switch s {
	case storage.BroadcastScheduled:
		return "console.news_status_scheduled"
	case storage.BroadcastSending:
		return "console.news_status_sending"
	case storage.BroadcastDone:
		return "console.news_status_done"
	case storage.BroadcastCancelled:
		return "console.news_status_cancelled"
	}
	return "console.news_status_failed"
}

// newsCompose shows an empty draft of the chosen sender (?org=), its
// whole subtree counted.
func (c *Console) newsCompose(w http.ResponseWriter, rq *Request) error {
	senders := c.cfg.News.SenderOrgs(rq.Session.Actor)
	org := senders[0].ID
	if v := rq.URL.Query().Get("org"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errNotFound
		}
		org = id
	}
	d, err := c.composer(rq, draftForm{draft: news.Draft{OrgID: org}})
	if err != nil {
		return err
	}
	return c.render(w, rq, http.StatusOK, "news/compose", d)
}

// newsCount counts a draft's audience for the composer's script, which
// shows it as the audience changes.
func (c *Console) newsCount(w http.ResponseWriter, rq *Request) error {
	f, err := readDraft(rq)
	if err != nil {
		return err
	}
	p, err := c.cfg.News.Preview(rq.Context(), rq.Session.Actor, f.draft)
	if errors.Is(err, news.ErrAudience) || errors.Is(err, news.ErrInvalid) {
		return &pageError{status: http.StatusUnprocessableEntity, key: "console.news_bad_audience"}
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{
		"count": reachText(rq, p) + " " + rq.T("news.author_excluded"), "counted": audienceKey(f.draft),
	})
}

// newsSubmit previews, sends or schedules a draft (the button pressed:
// action). Nothing is sent unless the draft is whole and its author saw
// the count of the very audience it goes to; a file that comes with any
// of these is stored first (draftFile).
func (c *Console) newsSubmit(w http.ResponseWriter, rq *Request) error {
	f, err := readDraft(rq)
	if err != nil {
		return err
	}
	action := rq.PostFormValue("action")
	// again shows the draft with a message, counted anew.
	again := func(status int, errText, notice string) error {
		d, err := c.composer(rq, f)
		if errors.Is(err, news.ErrAudience) || errors.Is(err, news.ErrInvalid) {
			// The audience itself is wrong: show the sender's defaults.
			f.draft = news.Draft{OrgID: f.draft.OrgID, FileID: f.draft.FileID}
			d, err = c.composer(rq, f)
			errText = rq.T("console.news_bad_audience")
		}
		if err != nil {
			return err
		}
		d.Error, d.Notice = errText, notice
		if text, format, bad := parseMarkup(f.text, news.MaxText); bad == nil {
			d.Preview = formatHTML(text, format)
		}
		return c.render(w, rq, status, "news/compose", d)
	}
	status, refused, err := c.draftFile(rq, &f)
	if err != nil {
		return err
	}
	if refused != "" {
		return again(status, refused, "")
	}
	text, format, bad := parseMarkup(f.text, news.MaxText)
	if bad != nil && !(bad.empty() && f.draft.FileID != 0) {
		return again(http.StatusUnprocessableEntity, bad.message(rq), "")
	}
	f.draft.Text, f.draft.Format = text, format
	if refused := c.draftAction(rq, &f); refused != "" {
		return again(http.StatusUnprocessableEntity, refused, "")
	}
	switch action {
	case "send", "schedule":
	default:
		return again(http.StatusOK, "", "")
	}
	switch _, err := c.cfg.News.Preview(rq.Context(), rq.Session.Actor, f.draft); {
	case errors.Is(err, news.ErrAudience), errors.Is(err, news.ErrInvalid):
		return again(http.StatusUnprocessableEntity, rq.T("console.news_bad_audience"), "")
	case err != nil:
		return err
	}
	if f.counted != audienceKey(f.draft) {
		return again(http.StatusConflict, "", rq.T("console.news_count_changed"))
	}
	var at *time.Time
	if action == "schedule" {
		org, err := c.cfg.News.SenderOrg(rq.Context(), rq.Session.Actor, f.draft.OrgID)
		if err != nil {
			return err
		}
		t, err := time.ParseInLocation(atLayout, f.at, zoneOf(org))
		if err != nil {
			return again(http.StatusUnprocessableEntity, rq.T("console.news_bad_time"), "")
		}
		at = &t
	}
	by := rq.Session.Actor
	b, err := c.cfg.News.Create(rq.Context(), by, f.draft, at)
	switch {
	case errors.Is(err, news.ErrBadTime) && f.draft.Action != nil && (!f.draft.Action.At.After(c.clock()) || at != nil && !f.draft.Action.At.After(*at)):
		return again(http.StatusUnprocessableEntity, rq.T("news.action_past"), "")
	case errors.Is(err, news.ErrBadTime):
		return again(http.StatusUnprocessableEntity, rq.T("console.news_bad_time"), "")
	case errors.Is(err, news.ErrAudience), errors.Is(err, news.ErrInvalid):
		return again(http.StatusUnprocessableEntity, rq.T("console.news_bad_audience"), "")
	case err != nil:
		return err
	}
	record := "broadcast:" + strconv.FormatInt(b.ID, 10)
	if at != nil {
		if err := rq.Audit(auditNewsSchedule, b.OrgID, record); err != nil {
			return err
		}
		redirect(w, rq, "/news/"+strconv.FormatInt(b.ID, 10))
		return nil
	}
	if err := rq.Audit(auditNewsSend, b.OrgID, record); err != nil {
		return err
	}
	// A build that failed shows on the progress page, and its author has
	// been told in the bot.
	if err := c.cfg.News.Start(rq.Context(), by, b); err != nil && !errors.Is(err, news.ErrBuildFailed) {
		return err
	}
	redirect(w, rq, "/news/"+strconv.FormatInt(b.ID, 10))
	return nil
}

// draftAction reads the action of the composer's fields into the draft,
// its time in the sender's zone, or says what is wrong with it.
func (c *Console) draftAction(rq *Request, f *draftForm) string {
	if f.actionKind == "" {
		return ""
	}
	kind := storage.ActionKind(f.actionKind)
	if !kind.Valid() {
		return rq.T("console.news_bad_form")
	}
	if news.CheckActionTitle(f.actionTitle) != nil {
		return rq.Plural("news.action_bad_title", news.MaxActionTitle)
	}
	org, err := c.cfg.News.SenderOrg(rq.Context(), rq.Session.Actor, f.draft.OrgID)
	if err != nil {
		return rq.T("console.news_bad_audience")
	}
	at, err := time.ParseInLocation(atLayout, f.actionAt, zoneOf(org))
	if now := c.clock(); err != nil || !at.After(now) || at.After(now.AddDate(1, 0, 0)) {
		return rq.T("console.news_action_bad_time")
	}
	if err := news.CheckActionPlace(kind, f.actionPlace); err != nil {
		if errors.Is(err, news.ErrActionLink) {
			return rq.T("news.action_bad_link")
		}
		return rq.Plural("news.action_bad_place", news.MaxActionPlace)
	}
	a := storage.Action{Kind: kind, Title: f.actionTitle, At: at, Place: f.actionPlace}
	if !news.ActionFits(f.draft.Text, a) {
		return rq.T("news.action_too_long")
	}
	f.draft.Action = &a
	return ""
}

// progressData is a broadcast's progress page.
type progressData struct {
	ID     int64
	Org    string
	Status string
	Relay  bool
	Final  bool
	// Waiting: it has not started, so it has no figures yet.
	Waiting bool
	// Refresh is how often, in seconds, its script reloads the progress.
	Refresh   int
	Stoppable bool
	Scheduled string
	Zone      string
	Reach     string
	Text      template.HTML
	Report    news.Report
	Done      int
	Percent   int
	Reached   []news.OrgReach
	// Page of Last of the organisations; Prev and Next are 0 when none.
	Page, Last, Prev, Next int
	Latency                []latencyLine
	Message                string
	// File is the photo or document that goes with the item.
	File *fileLine
	// Action is the action the item carries and its answers; nil for none.
	Action *actionLine
}

// actionLine is an item's action on its progress page.
type actionLine struct {
	Title, When, Place string
	Signature          bool
	Tally              news.ActionTally
}

type latencyLine struct {
	Depth, Orgs int
	Median, Max string
}

// idOf reads a path's {id}; anything but a positive number is not found.
func idOf(rq *Request) (int64, error) {
	id, err := strconv.ParseInt(rq.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound
	}
	return id, nil
}

// pageOf reads ?page=, 1 when absent or wrong.
func pageOf(q url.Values) int {
	if p, err := strconv.Atoi(q.Get("page")); err == nil && p > 0 {
		return p
	}
	return 1
}

// duration says how long something took, in hours and minutes.
func duration(rq *Request, d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	return rq.T("console.news_duration", "Hours", m/60, "Minutes", m%60)
}

// newsShow is a broadcast's progress and report. Its script reloads the
// progress part while the broadcast runs; without it, the reload link does.
func (c *Console) newsShow(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	p, err := c.cfg.News.Follow(rq.Context(), rq.Session.Actor, id)
	if err != nil {
		return err
	}
	b, r := p.Broadcast, p.Report
	d := progressData{ID: b.ID, Org: r.Org, Status: rq.T(statusKey(b.Status)), Relay: b.Mode == storage.ModeRelay, Final: p.Final,
		Stoppable: b.Status == storage.BroadcastScheduled || b.Status == storage.BroadcastSending,
		Text:      formatHTML(b.Text, b.Format), Report: r, Done: r.Delivered + r.Failed + r.Unreachable}
	switch {
	case r.Audience > 0:
		d.Percent = d.Done * 100 / r.Audience
	case p.Final:
		d.Percent = 100
	}
	if p.File != nil {
		d.File = newFileLine(rq, *p.File)
	}
	if a := b.Action; a != nil && r.Action != nil {
		d.Action = &actionLine{Title: a.Title, When: a.At.In(zoneOf(p.Sender)).Format("02.01.2006 15:04"), Place: a.Place,
			Signature: a.Kind == storage.ActionSignature, Tally: *r.Action}
	}
	d.Refresh = 2
	if b.Status == storage.BroadcastScheduled {
		d.Waiting, d.Refresh = true, 10
		people, chats, err := c.cfg.News.Reach(rq.Context(), b)
		if err != nil {
			return err
		}
		d.Reach = reachText(rq, news.Preview{People: people, Chats: chats})
		if b.ScheduledAt != nil {
			loc := zoneOf(p.Sender)
			d.Scheduled, d.Zone = b.ScheduledAt.In(loc).Format("02.01.2006 15:04"), loc.String()
		}
	}
	q := rq.URL.Query()
	d.Page, d.Last = pageOf(q), max(1, (len(r.ByOrg)+reachPerPage-1)/reachPerPage)
	d.Page = min(d.Page, d.Last)
	if d.Page > 1 {
		d.Prev = d.Page - 1
	}
	if d.Page < d.Last {
		d.Next = d.Page + 1
	}
	d.Reached = r.ByOrg[min((d.Page-1)*reachPerPage, len(r.ByOrg)):min(d.Page*reachPerPage, len(r.ByOrg))]
	for _, l := range r.RelayLevels {
		d.Latency = append(d.Latency, latencyLine{Depth: l.Depth, Orgs: l.Orgs, Median: duration(rq, l.Median), Max: duration(rq, l.Max)})
	}
	switch {
	case q.Has("stopped"):
		n, _ := strconv.Atoi(q.Get("stopped"))
		d.Message = rq.Plural("news.stopped", n, "ID", b.ID)
	case q.Has("over"):
		d.Message = rq.T("news.already_over", "ID", b.ID)
	}
	return c.render(w, rq, http.StatusOK, "news/progress", d)
}

// newsStop stops a broadcast, by the bot's use case: scheduled, it never
// starts; sending, what is still queued is dropped.
func (c *Console) newsStop(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	p, err := c.cfg.News.Follow(rq.Context(), rq.Session.Actor, id)
	if err != nil {
		return err
	}
	n, err := c.cfg.News.Stop(rq.Context(), rq.Session.Actor, id)
	path := "/news/" + strconv.FormatInt(id, 10)
	switch {
	case errors.Is(err, storage.ErrConflict):
		redirect(w, rq, path+"?over=1")
		return nil
	case err != nil:
		return err
	}
	if err := rq.Audit(auditNewsStop, p.Broadcast.OrgID, "broadcast:"+strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	redirect(w, rq, path+"?stopped="+strconv.Itoa(n))
	return nil
}
