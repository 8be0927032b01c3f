package console

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// inboxPages are the hot-line inbox: the questions a person may answer,
// filtered and a page at a time, each with its thread and the bot's
// actions (take, reply, hand up, close), which reach the member in their
// messenger; new questions and members' replies are announced on the
// page as they come (inboxEvents).
func (c *Console) inboxPages() pageGroup {
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /inbox", Handle: c.inboxList},
			{Pattern: "GET /inbox/events", Passive: true, Handle: c.inboxEvents},
			{Pattern: "GET /inbox/{id}", Handle: c.inboxCase},
			{Pattern: "GET /inbox/{id}/files/{message}/{n}", Handle: c.inboxFile},
			{Pattern: "POST /inbox/{id}/take", Handle: c.inboxTake},
			{Pattern: "POST /inbox/{id}/reply", Handle: c.inboxReply},
			{Pattern: "POST /inbox/{id}/up", Handle: c.inboxHandUp},
			{Pattern: "POST /inbox/{id}/close", Handle: c.inboxClose},
		},
		Nav: []NavItem{{Path: "/inbox", Key: "console.nav_inbox", Shown: c.answersSomewhere}},
	}
}

// answersSomewhere reports whether the person may answer questions
// anywhere: a chair, the Union's staff, or a named responder, whom no role
// action names.
func (c *Console) answersSomewhere(rq *Request) bool {
	roots, err := c.cfg.Hotline.AnswerRoots(rq.Context(), rq.Session.Actor)
	if err != nil {
		c.logger.WarnContext(rq.Context(), "load responder rights for the navigation", "err", err)
		return false
	}
	return len(roots) > 0
}

// Audit actions of the inbox.
const (
	auditTicketTake   = "ticket_take"
	auditTicketAnswer = "ticket_answer"
	auditTicketUp     = "ticket_hand_up"
	auditTicketClose  = "ticket_close"
	auditTicketFile   = "ticket_file"
)

// inboxPageSize is how many questions a page of the inbox lists.
const inboxPageSize = 50

// inboxStatuses are the choices of the status filter: unclosed first,
// the default.
var inboxStatuses = []struct {
	value, key string
	statuses   []storage.TicketStatus
}{
	{"", "console.inbox_status_unclosed", hotline.Unclosed},
	{"open", "console.inbox_status_open", []storage.TicketStatus{storage.TicketOpen}},
	{"taken", "console.inbox_status_taken", []storage.TicketStatus{storage.TicketTaken}},
	{"closed", "console.inbox_status_closed", []storage.TicketStatus{storage.TicketClosed}},
	{"all", "console.inbox_status_all", nil},
}

// filterOption is a choice of a filter.
type filterOption struct {
	Value, Label string
	Selected     bool
}

// inboxData is a page of the inbox with its filters.
type inboxData struct {
	Orgs, Statuses, Topics []filterOption
	Overdue, Mine          bool
	Rows                   []inboxRow
	// Filtered is set when the list is narrowed beyond the default.
	Filtered bool
	// Older is the next page's address, Newest the first page's when this
	// is a later one; "" when there is none.
	Older, Newest string
	// Since is the newest message when the page was made: the live notice
	// announces what comes after it.
	Since int64
	// ByOrgHint tells what an org's link in a row does.
	ByOrgHint string
}

// inboxRow is a question in the list.
type inboxRow struct {
	ID         int64
	Topic      string
	Org        string
	Age, Asked string
	Clock      string
	Late       bool
	Status     string
	TakenBy    string
	ByOrg      string // the list narrowed to the question's org
}

// inboxFilter reads the list's filters from the query; a value no form
// offers is a bad request.
func inboxFilter(rq *Request, topics []hotline.Topic) (hotline.InboxFilter, error) {
	q := rq.URL.Query()
	bad := &pageError{status: http.StatusBadRequest, key: "console.error_bad_request"}
	f := hotline.InboxFilter{Topic: q.Get("topic"), Overdue: q.Get("overdue") == "1", Mine: q.Get("mine") == "1", Limit: inboxPageSize + 1}
	found := false
	for _, s := range inboxStatuses {
		if s.value == q.Get("status") {
			f.Statuses, found = s.statuses, true
		}
	}
	if !found {
		return f, bad
	}
	if f.Topic != "" {
		known := false
		for _, t := range topics {
			known = known || t.ID == f.Topic
		}
		if !known {
			return f, bad
		}
	}
	var err error
	if f.Under, err = optionalID(q.Get("org")); err != nil {
		return f, err
	}
	if f.After, err = optionalID(q.Get("after")); err != nil {
		return f, err
	}
	return f, nil
}

// inboxList lists the questions the person may answer, newest first, as
// the filters narrow them.
func (c *Console) inboxList(w http.ResponseWriter, rq *Request) error {
	ctx, by := rq.Context(), rq.Session.Actor
	settings := c.cfg.Hotline.Settings()
	f, err := inboxFilter(rq, settings.Topics)
	if err != nil {
		return err
	}
	since, err := c.cfg.Hotline.LastInboxEvent(ctx)
	if err != nil {
		return err
	}
	tickets, err := c.cfg.Hotline.Inbox(ctx, by, f)
	if err != nil {
		return err
	}
	orgs, err := c.cfg.Hotline.InboxOrgs(ctx, by)
	if err != nil {
		return err
	}
	q := rq.URL.Query()
	d := inboxData{Overdue: f.Overdue, Mine: f.Mine, Since: since, ByOrgHint: rq.T("console.inbox_by_org"),
		Filtered: f.Under != 0 || f.Topic != "" || f.Overdue || f.Mine || q.Get("status") != ""}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, filterOption{Value: strconv.FormatInt(o.ID, 10), Label: o.Name, Selected: o.ID == f.Under})
	}
	if f.Under != 0 && !slicesContainsOrg(orgs, storage.Org{ID: f.Under}) {
		// An org further down, chosen from a row: the service let it in.
		under, err := c.cfg.Store.Org(ctx, f.Under)
		if err != nil {
			return fmt.Errorf("find org %d: %w", f.Under, err)
		}
		d.Orgs = append(d.Orgs, filterOption{Value: strconv.FormatInt(under.ID, 10), Label: under.Name, Selected: true})
	}
	for _, s := range inboxStatuses {
		d.Statuses = append(d.Statuses, filterOption{Value: s.value, Label: rq.T(s.key), Selected: s.value == q.Get("status")})
	}
	// The supporters' topic is asked too, though no member picks it.
	for _, id := range append(topicIDs(settings.Topics), hotline.TopicJoining) {
		d.Topics = append(d.Topics, filterOption{Value: id, Label: topicName(rq, settings, id), Selected: id == f.Topic})
	}
	now, names := c.clock(), newNames(c, rq)
	// Loading a zone reads a file: once per zone a page.
	zones := map[string]*time.Location{}
	for i, t := range tickets {
		if i == inboxPageSize {
			next := maps.Clone(q)
			next.Set("after", strconv.FormatInt(tickets[i-1].ID, 10))
			d.Older = "/inbox?" + next.Encode()
			break
		}
		zone, ok := zones[t.Org.TimeZone]
		if !ok {
			zone = zoneOf(t.Org)
			zones[t.Org.TimeZone] = zone
		}
		row := inboxRow{ID: t.ID, Topic: topicName(rq, settings, t.Topic), Org: t.Org.Name,
			Age: rq.T("console.inbox_ago", "Span", span(rq, now.Sub(t.CreatedAt))), Asked: t.CreatedAt.In(zone).Format("02.01.2006 15:04"),
			Status: rq.T(ticketStatusKey(t.Ticket)), TakenBy: names.person(t.AssigneeID)}
		row.Clock, row.Late = slaClock(rq, t.Ticket, now)
		byOrg := url.Values{"org": {strconv.FormatInt(t.OrgID, 10)}}
		if s := q.Get("status"); s != "" {
			byOrg.Set("status", s)
		}
		row.ByOrg = "/inbox?" + byOrg.Encode()
		d.Rows = append(d.Rows, row)
	}
	if f.After != 0 {
		first := maps.Clone(q)
		first.Del("after")
		d.Newest = "/inbox?" + first.Encode()
	}
	if err := names.err; err != nil {
		return err
	}
	return c.render(w, rq, http.StatusOK, "inbox/list", d)
}

// names looks up the names of the staff a page shows, each once; the
// first failure is kept for the page to return.
type names struct {
	c       *Console
	rq      *Request
	persons map[int64]string
	err     error
}

func newNames(c *Console, rq *Request) *names {
	return &names{c: c, rq: rq, persons: map[int64]string{0: ""}}
}

// person is a staff member's name, "" for nobody; an erased person shows
// as such.
func (n *names) person(id int64) string {
	if name, ok := n.persons[id]; ok {
		return name
	}
	name, err := n.c.auditName(n.rq, n.persons, id)
	if err != nil && n.err == nil {
		n.err = err
	}
	return name
}

// topicIDs are the ids of topics.
func topicIDs(topics []hotline.Topic) []string {
	ids := make([]string, len(topics))
	for i, t := range topics {
		ids[i] = t.ID
	}
	return ids
}

// topicName names a topic in the page's language: the built-in ones from
// the locales, the deployment's own by their names.
func topicName(rq *Request, s hotline.Settings, id string) string {
	if hotline.IsBuiltin(id) {
		return rq.T("topic." + id)
	}
	if t, ok := s.Topic(id); ok && t.Names[rq.Lang] != "" {
		return t.Names[rq.Lang]
	}
	return id
}

// ticketStatusKey names where a question stands, as the bot does.
func ticketStatusKey(t storage.Ticket) string {
	switch {
	case t.Status == storage.TicketClosed:
		return "ticket.status_closed"
	case t.FirstResponseAt != nil:
		return "ticket.status_answered"
	case t.Status == storage.TicketTaken:
		return "ticket.status_taken"
	}
	return "ticket.status_open"
}

// slaClock is a question's first-response clock: the time left, how late
// it is (late), or when the first answer came; "" once closed unanswered.
func slaClock(rq *Request, t storage.Ticket, now time.Time) (clock string, late bool) {
	switch {
	case t.FirstResponseAt != nil && t.FirstResponseAt.After(t.DueAt):
		return rq.T("console.inbox_answered_late", "Span", span(rq, t.FirstResponseAt.Sub(t.DueAt))), false
	case t.FirstResponseAt != nil:
		return rq.T("console.inbox_answered_in_time"), false
	case t.Status == storage.TicketClosed:
		return "", false
	case now.Before(t.DueAt):
		return rq.T("console.inbox_due_in", "Span", span(rq, t.DueAt.Sub(now))), false
	}
	return rq.T("console.inbox_overdue_by", "Span", span(rq, now.Sub(t.DueAt))), true
}

// span says a duration roughly: minutes within the hour, hours within two
// days, days beyond.
func span(rq *Request, d time.Duration) string {
	switch {
	case d < time.Hour:
		return rq.Plural("console.inbox_minutes", max(1, int(d/time.Minute)))
	case d < 48*time.Hour:
		return rq.Plural("console.inbox_hours", int(d/time.Hour))
	}
	return rq.Plural("console.inbox_days", int(d/(24*time.Hour)))
}

// caseData is a question's page: the question, its thread and what the
// person may do with it.
type caseData struct {
	ID                          int64
	Topic, Member, Org, Level   string
	Asked, Clock, Status, Share string
	Late                        bool
	TakenBy                     string
	Unreachable                 bool
	Thread                      []threadLine
	// Closed shows the outcome instead of the actions.
	Closed           bool
	ClosedAt, Rating string
	RatingComment    string
	CanTake, CanUp   bool
	// Done says what the last action did; Error why the reply was refused,
	// Reply the reply as typed then.
	Done, Error, Reply string
	// Ref names this reply form, so that the same answer sent twice reaches
	// the member once.
	Ref     string
	MaxText int
	Since   int64
}

// threadLine is one message of the thread.
type threadLine struct {
	ID         int64
	FromMember bool
	Who, At    string
	Text       string
	Files      []threadFile
}

// threadFile is a file of a message, by its label and where it opens: a
// photo in a tab of its own, anything else as a download.
type threadFile struct {
	Label, URL string
	Photo      bool
}

// inboxDone are the confirmations a redirect may ask the question's page
// to show.
var inboxDone = map[string]string{
	"taken":          "console.inbox_done_taken",
	"taken_by":       "console.inbox_done_taken_by",
	"answered":       "console.inbox_done_answered",
	"saved":          "console.inbox_done_saved",
	"up":             "console.inbox_done_up",
	"top":            "console.inbox_done_top",
	"nobody_above":   "console.inbox_done_nobody_above",
	"moved":          "console.inbox_done_moved",
	"closed":         "console.inbox_done_closed",
	"closed_unrated": "console.inbox_done_closed_unrated",
	"closed_already": "console.inbox_done_closed_already",
}

func (c *Console) inboxCase(w http.ResponseWriter, rq *Request) error {
	return c.showCase(w, rq, http.StatusOK, "", "")
}

// showCase renders a question's page; a refused reply comes back with its
// reason and its text as typed.
func (c *Console) showCase(w http.ResponseWriter, rq *Request, status int, errText, reply string) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	ctx := rq.Context()
	since, err := c.cfg.Hotline.LastInboxEvent(ctx)
	if err != nil {
		return err
	}
	cs, err := c.cfg.Hotline.Case(ctx, rq.Session.Actor, id)
	if err != nil {
		return err
	}
	settings := c.cfg.Hotline.Settings()
	t, zone, names := cs.Ticket, zoneOf(cs.MemberOrg), newNames(c, rq)
	d := caseData{ID: t.ID, Topic: topicName(rq, settings, t.Topic), Member: cs.MemberName, Org: cs.MemberOrg.Name, Level: cs.Level.Name,
		Asked: t.CreatedAt.In(zone).Format("02.01.2006 15:04"), Status: rq.T(ticketStatusKey(t)), Share: rq.T("ask.no"),
		TakenBy: names.person(t.AssigneeID), Unreachable: !cs.Reachable && t.Status != storage.TicketClosed,
		Closed: t.Status == storage.TicketClosed, CanTake: t.Status == storage.TicketOpen, CanUp: cs.Level.ParentID != 0,
		Error: errText, Reply: reply, Ref: newRef(), MaxText: hotline.MaxText, Since: since}
	if d.Member == "" {
		d.Member = rq.T("ticket.anonymous")
	}
	if t.ShareName {
		d.Share = rq.T("ask.yes")
	}
	d.Clock, d.Late = slaClock(rq, t, c.clock())
	if t.ClosedAt != nil {
		d.ClosedAt = t.ClosedAt.In(zone).Format("02.01.2006 15:04")
	}
	if t.Rating > 0 {
		d.Rating, d.RatingComment = rq.T("console.inbox_rating", "Rating", t.Rating), t.RatingComment
	}
	for _, m := range cs.Thread {
		l := threadLine{ID: m.ID, FromMember: m.FromMember, Who: d.Member, At: m.At.In(zone).Format("02.01.2006 15:04"), Text: m.Text}
		switch {
		case m.FromMember:
		case m.AuthorID == 0: // a responder since erased
			l.Who = rq.T("console.audit_erased")
		default:
			l.Who = names.person(m.AuthorID)
		}
		for i, a := range m.Attachments {
			l.Files = append(l.Files, threadFile{Label: fileLabel(rq, a), URL: fmt.Sprintf("/inbox/%d/files/%d/%d", t.ID, m.ID, i), Photo: a.Kind == storage.FilePhoto})
		}
		d.Thread = append(d.Thread, l)
	}
	if err := names.err; err != nil {
		return err
	}
	if key, ok := inboxDone[rq.URL.Query().Get("done")]; ok {
		d.Done = rq.T(key, "ID", t.ID, "Level", cs.Level.Name, "Name", d.TakenBy)
	}
	return c.render(w, rq, status, "inbox/case", d)
}

// fileLabel names an attachment by its kind and name.
func fileLabel(rq *Request, a storage.Attachment) string {
	switch {
	case a.Kind == "photo":
		return rq.T("console.inbox_file_photo")
	case a.Name != "":
		return rq.T("console.inbox_file_named", "Name", a.Name)
	}
	return rq.T("console.inbox_file")
}

// fileFailures are the pages of a file the messenger did not give.
var fileFailures = []struct {
	err error
	pe  *pageError
}{
	{hotline.ErrNotConnected, &pageError{status: http.StatusServiceUnavailable, key: "console.inbox_file_not_connected"}},
	{storage.ErrFileTooBig, &pageError{status: http.StatusBadGateway, key: "console.inbox_file_too_big"}},
	{storage.ErrFileGone, &pageError{status: http.StatusBadGateway, key: "console.inbox_file_gone"}},
	{hotline.ErrFileUnavailable, &pageError{status: http.StatusBadGateway, key: "console.inbox_file_unavailable"}},
}

// inboxFile downloads a file of a question's thread from its messenger,
// for those who may open the question, and serves it as a news file is
// served, once the download is in the audit log: it is a member's.
func (c *Console) inboxFile(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	msg, err := strconv.ParseInt(rq.PathValue("message"), 10, 64)
	if err != nil || msg <= 0 {
		return errNotFound
	}
	n, err := strconv.Atoi(rq.PathValue("n"))
	if err != nil || n < 0 {
		return errNotFound
	}
	ctx := rq.Context()
	t, f, err := c.cfg.Hotline.CaseFile(ctx, rq.Session.Actor, id, msg, n)
	for _, ff := range fileFailures {
		if errors.Is(err, ff.err) {
			c.logger.WarnContext(ctx, "download a file of a ticket", "ticket", id, "message", msg, "file", n, "err", err)
			return ff.pe
		}
	}
	if err != nil {
		return err
	}
	if err := rq.Audit(auditTicketFile, t.OrgID, fmt.Sprintf("ticket:%d:message:%d:file:%d", t.ID, msg, n)); err != nil {
		return err
	}
	fallback := fmt.Sprintf("ticket-%d-%d-%d", t.ID, msg, n+1)
	return serveFile(w, safeFileName(f.Name, fallback), f.Kind == storage.FilePhoto, f.Data)
}

// newRef is a fresh name for a reply form.
func newRef() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return hex.EncodeToString(b)
}

// refPattern is the shape of newRef's names.
var refPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// caseAction checks that the person may act on the question of the URL,
// as the use case will again, and returns it for the audit log.
func (c *Console) caseAction(rq *Request) (storage.Ticket, error) {
	id, err := idOf(rq)
	if err != nil {
		return storage.Ticket{}, err
	}
	return c.cfg.Hotline.TicketToAnswer(rq.Context(), rq.Session.Actor, id)
}

// caseDone sends the browser back to the question with what happened.
func caseDone(w http.ResponseWriter, rq *Request, id int64, done string) {
	redirect(w, rq, fmt.Sprintf("/inbox/%d?done=%s", id, done))
}

func (c *Console) inboxTake(w http.ResponseWriter, rq *Request) error {
	t, err := c.caseAction(rq)
	if err != nil {
		return err
	}
	_, err = c.cfg.Hotline.Take(rq.Context(), rq.Session.Actor, t.ID)
	var taken *hotline.TakenError
	switch {
	case errors.As(err, &taken):
		caseDone(w, rq, t.ID, "taken_by")
		return nil
	case errors.Is(err, storage.ErrTicketClosed):
		caseDone(w, rq, t.ID, "closed_already")
		return nil
	case err != nil:
		return err
	}
	if err := rq.Audit(auditTicketTake, t.OrgID, fmt.Sprintf("ticket:%d", t.ID)); err != nil {
		return err
	}
	caseDone(w, rq, t.ID, "taken")
	return nil
}

// inboxReply answers the member as the bot's Reply does: an open question
// becomes the person's, the answer goes to the member's messenger and
// stays in their thread even when it cannot reach them.
func (c *Console) inboxReply(w http.ResponseWriter, rq *Request) error {
	t, err := c.caseAction(rq)
	if err != nil {
		return err
	}
	typed := rq.PostFormValue("text")
	text, bad := cleanPlain(typed, hotline.MaxText)
	if bad != nil {
		return c.showCase(w, rq, http.StatusUnprocessableEntity, bad.message(rq), typed)
	}
	ref := rq.PostFormValue("ref")
	if !refPattern.MatchString(ref) {
		ref = newRef()
	}
	ctx, by := rq.Context(), rq.Session.Actor
	if _, err := c.cfg.Hotline.BeginAnswer(ctx, by, t.ID); errors.Is(err, storage.ErrTicketClosed) {
		caseDone(w, rq, t.ID, "closed_already")
		return nil
	} else if err != nil {
		return err
	}
	reached, err := c.cfg.Hotline.Answer(ctx, by, t.ID, hotline.Message{Text: text}, "console:"+ref)
	if errors.Is(err, storage.ErrTicketClosed) {
		caseDone(w, rq, t.ID, "closed_already")
		return nil
	}
	if err != nil {
		return err
	}
	if err := rq.Audit(auditTicketAnswer, t.OrgID, fmt.Sprintf("ticket:%d", t.ID)); err != nil {
		return err
	}
	if !reached {
		caseDone(w, rq, t.ID, "saved")
		return nil
	}
	caseDone(w, rq, t.ID, "answered")
	return nil
}

func (c *Console) inboxHandUp(w http.ResponseWriter, rq *Request) error {
	t, err := c.caseAction(rq)
	if err != nil {
		return err
	}
	_, err = c.cfg.Hotline.HandUp(rq.Context(), rq.Session.Actor, t.ID)
	switch {
	case errors.Is(err, hotline.ErrTopLevel):
		caseDone(w, rq, t.ID, "top")
		return nil
	case errors.Is(err, hotline.ErrNobodyAbove):
		caseDone(w, rq, t.ID, "nobody_above")
		return nil
	case errors.Is(err, storage.ErrConflict):
		caseDone(w, rq, t.ID, "moved")
		return nil
	case errors.Is(err, storage.ErrTicketClosed):
		caseDone(w, rq, t.ID, "closed_already")
		return nil
	case err != nil:
		return err
	}
	if err := rq.Audit(auditTicketUp, t.OrgID, fmt.Sprintf("ticket:%d", t.ID)); err != nil {
		return err
	}
	caseDone(w, rq, t.ID, "up")
	return nil
}

// inboxClose closes the question and asks the member for a rating, as the
// bot's Close does; a rating request that could not reach them is said so.
func (c *Console) inboxClose(w http.ResponseWriter, rq *Request) error {
	t, err := c.caseAction(rq)
	if err != nil {
		return err
	}
	ctx := rq.Context()
	closed, err := c.cfg.Hotline.Close(ctx, rq.Session.Actor, t.ID)
	switch {
	case errors.Is(err, storage.ErrTicketClosed):
		caseDone(w, rq, t.ID, "closed_already")
		return nil
	case err != nil && closed.Status != storage.TicketClosed:
		return err
	case err != nil:
		c.logger.WarnContext(ctx, "ask for a rating", "ticket", t.ID, "err", err)
	}
	reachable, rerr := c.cfg.Hotline.MemberReachable(ctx, closed)
	if rerr != nil {
		return rerr
	}
	done := "closed"
	if err != nil || !reachable {
		done = "closed_unrated"
	}
	if err := rq.Audit(auditTicketClose, t.OrgID, fmt.Sprintf("ticket:%d", t.ID)); err != nil {
		return err
	}
	caseDone(w, rq, t.ID, done)
	return nil
}

// The event stream: how often it looks for news, how long one lives before
// the browser opens the next (after the last event it got), and how many
// may be open at once, as each holds a connection of the server's.
const (
	streamPoll  = 2 * time.Second
	streamLife  = 5 * time.Minute
	streamRetry = 5 * time.Second
	maxStreams  = 32
	streamBatch = 100
)

// inboxEvents streams server-sent events to an open inbox page: "question"
// for a new question, "reply" for a member's reply, each with the ticket's
// number, among those the person may answer, after the message the
// browser saw last (Last-Event-ID, else ?after=, else now). It looks every
// streamPoll, ends with an "ended" event when the session ends, and when
// the browser goes or the server stops.
func (c *Console) inboxEvents(w http.ResponseWriter, rq *Request) error {
	ctx := rq.Context()
	after, err := optionalID(rq.Header.Get("Last-Event-ID"))
	if err == nil && after == 0 {
		after, err = optionalID(rq.URL.Query().Get("after"))
	}
	if err != nil {
		return err
	}
	if after == 0 {
		if after, err = c.cfg.Hotline.LastInboxEvent(ctx); err != nil {
			return err
		}
	}
	// Rights first, so that a refusal is a page of its own.
	evs, err := c.cfg.Hotline.InboxEvents(ctx, rq.Session.Actor, after, streamBatch)
	if err != nil {
		return err
	}
	if c.streams.Add(1) > maxStreams {
		c.streams.Add(-1)
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusServiceUnavailable)
		return nil
	}
	defer c.streams.Add(-1)
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for pages: a stream lives
	// longer. A recorder in tests supports neither, which is fine there.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Now().Add(streamLife + time.Minute))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", streamRetry.Milliseconds()); err != nil {
		return nil
	}
	tick := time.NewTicker(streamPoll)
	defer tick.Stop()
	end := time.NewTimer(streamLife)
	defer end.Stop()
	for {
		for _, e := range evs {
			kind := "reply"
			if e.First {
				kind = "question"
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: {\"ticket\":%d}\n\n", e.MessageID, kind, e.TicketID); err != nil {
				return nil
			}
			after = e.MessageID
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.stop:
			return nil
		case <-end.C:
			return nil
		case <-tick.C:
		}
		s, err := c.cfg.SignIn.Alive(ctx, rq.Session.Secret)
		if err == nil {
			evs, err = c.cfg.Hotline.InboxEvents(ctx, s.Actor, after, streamBatch)
		}
		if err != nil {
			// The session ended, the right went, or the store failed: the
			// page is told to stop; a reload shows why.
			c.logger.InfoContext(ctx, "inbox events end", "err", err)
			_, _ = fmt.Fprint(w, "event: ended\ndata: {}\n\n")
			_ = rc.Flush()
			return nil
		}
	}
}
