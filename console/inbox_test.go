package console

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// hotlineNotes records what the hot line told people, as the bot's
// notifier would deliver it; a member in unreachable gets nothing.
type hotlineNotes struct {
	mu          sync.Mutex
	answers     []hotline.Answered
	moved       []hotline.Moved
	closed      []int64
	ratings     []int64
	unreachable map[int64]bool
}

func newHotlineNotes() *hotlineNotes { return &hotlineNotes{unreachable: map[int64]bool{}} }

func (n *hotlineNotes) reaches(t storage.Ticket) bool {
	return !n.unreachable[t.PersonID]
}

func (n *hotlineNotes) Serves(storage.Platform) bool                         { return true }
func (n *hotlineNotes) TicketWaiting(context.Context, hotline.Waiting) error { return nil }
func (n *hotlineNotes) TicketOverdue(context.Context, hotline.Overdue) error { return nil }
func (n *hotlineNotes) FollowUpAdded(context.Context, hotline.FollowUp) (bool, error) {
	return true, nil
}

func (n *hotlineNotes) TicketSolved(context.Context, storage.Ticket, int64) (bool, error) {
	return true, nil
}

func (n *hotlineNotes) TicketMoved(_ context.Context, m hotline.Moved) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.moved = append(n.moved, m)
	return n.reaches(m.Ticket), nil
}

func (n *hotlineNotes) TicketAnswered(_ context.Context, a hotline.Answered) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.reaches(a.Ticket) {
		return false, nil
	}
	n.answers = append(n.answers, a)
	return true, nil
}

func (n *hotlineNotes) TicketClosed(_ context.Context, t storage.Ticket) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = append(n.closed, t.ID)
}

func (n *hotlineNotes) RatingWanted(_ context.Context, t storage.Ticket) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ratings = append(n.ratings, t.ID)
	return n.reaches(t), nil
}

// hotlineTold is what the hot line told so far.
type hotlineTold struct {
	answers []hotline.Answered
	moved   []hotline.Moved
	closed  []int64
	ratings []int64
}

func (n *hotlineNotes) told() hotlineTold {
	n.mu.Lock()
	defer n.mu.Unlock()
	return hotlineTold{answers: append([]hotline.Answered(nil), n.answers...), moved: append([]hotline.Moved(nil), n.moved...),
		closed: append([]int64(nil), n.closed...), ratings: append([]int64(nil), n.ratings...)}
}

func (n *hotlineNotes) block(personID int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.unreachable[personID] = true
}

// inboxBed is a console with the test tree and a gymnasium beside the
// school, the chairs of each, and their members.
type inboxBed struct {
	*rig
	unionChair, eduChair, schoolChair, gymChair access.Actor
	teacher, pupil, nurse                       access.Actor
}

func newInboxBed(t *testing.T, opts ...func(o *rigOption)) *inboxBed {
	t.Helper()
	r := newRig(t, opts...)
	if _, err := r.db.ImportOrgs(r.ctx, []storage.OrgInput{{Code: "gym", Name: "Гимназия № 1", ParentCode: "edu", Level: storage.LevelPrimary}},
		r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return &inboxBed{rig: r,
		unionChair:  r.person("Союзова Ольга", "union", storage.RoleChair),
		eduChair:    r.person("Обкомов Олег", "edu", storage.RoleChair),
		schoolChair: r.person("Школьная Анна", "school", storage.RoleChair),
		gymChair:    r.person("Гимназов Иван", "gym", storage.RoleChair),
		teacher:     r.person("Учителева Мария", "school", storage.RoleMember),
		pupil:       r.person("Гимназистов Пётр", "gym", storage.RoleMember),
		nurse:       r.person("Медсестрова Нина", "health", storage.RoleMember),
	}
}

// ask asks as member, from their org, and returns the ticket's number.
func (b *inboxBed) ask(member access.Actor, topic, text string) int64 {
	b.t.Helper()
	asked, err := b.console.cfg.Hotline.Ask(b.ctx, member, hotline.Question{OrgID: member.Roles[0].Org.ID, Topic: topic,
		Message: hotline.Message{Text: text}})
	if err != nil {
		b.t.Fatal(err)
	}
	return asked.Ticket.ID
}

func (b *inboxBed) ticket(id int64) storage.Ticket {
	b.t.Helper()
	t, err := b.db.Ticket(b.ctx, id)
	if err != nil {
		b.t.Fatal(err)
	}
	return t
}

// audited lists the audit log's records of action.
func (b *inboxBed) audited(action string) []string {
	b.t.Helper()
	entries, err := b.db.Audit(b.ctx, storage.AuditQuery{Action: action, Limit: 100})
	if err != nil {
		b.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Record)
	}
	return out
}

// dontWant fails if the page holds any of parts.
func dontWant(t *testing.T, w *httptest.ResponseRecorder, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(w.Body.String(), p) {
			t.Fatalf("%q in the page:\n%s", p, w.Body)
		}
	}
}

func TestInboxListsWhatThePersonAnswers(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	wages := b.ask(b.teacher, "wages", "Почему не доплатили за классное руководство?")
	b.clock.Advance(time.Hour)
	legal := b.ask(b.pupil, "legal", "Законно ли сокращение?")
	other := b.ask(b.nurse, "wages", "Вопрос из другой отрасли")
	no := func(id int64) string { return fmt.Sprintf(`href="/inbox/%d"`, id) }

	edu := b.browser("192.0.2.1")
	edu.signIn(b.eduChair)
	home := edu.get("/")
	want(t, home, http.StatusOK, `href="/inbox"`, "Обращения", "2 открытых вопроса горячей линии")
	w := edu.get("/inbox")
	want(t, w, http.StatusOK, "Обращения на горячую линию", no(wages), no(legal), "Зарплата", "Юридическая помощь",
		"Школа № 5", "Гимназия № 1", "1 час назад", "ответ нужен через", "ждёт ответа", `data-events="/inbox/events?after=`,
		`src="/assets/inbox.js?v=`)
	dontWant(t, w, no(other), "Почему не доплатили")
	// Newest first.
	if strings.Index(w.Body.String(), no(legal)) > strings.Index(w.Body.String(), no(wages)) {
		t.Errorf("the older question is listed first:\n%s", w.Body)
	}

	school := b.browser("192.0.2.2")
	school.signIn(b.schoolChair)
	w = school.get("/inbox")
	want(t, w, http.StatusOK, no(wages))
	dontWant(t, w, no(legal), no(other))

	tests := []struct {
		name   string
		by     *browser
		query  string
		status int
		has    []int64
		hasnt  []int64
	}{
		{"one org", edu, "?org=" + fmt.Sprint(b.org("gym").ID), http.StatusOK, []int64{legal}, []int64{wages}},
		{"a topic", edu, "?topic=wages", http.StatusOK, []int64{wages}, []int64{legal}},
		{"closed", edu, "?status=closed", http.StatusOK, nil, []int64{wages, legal}},
		{"all statuses", edu, "?status=all", http.StatusOK, []int64{wages, legal}, nil},
		{"not yet overdue", edu, "?overdue=1", http.StatusOK, nil, []int64{wages, legal}},
		{"taken by me", edu, "?mine=1", http.StatusOK, nil, []int64{wages, legal}},
		{"another branch", edu, "?org=" + fmt.Sprint(b.org("health").ID), http.StatusForbidden, nil, nil},
		{"the sibling school", school, "?org=" + fmt.Sprint(b.org("gym").ID), http.StatusForbidden, nil, nil},
		{"the branch above", school, "?org=" + fmt.Sprint(b.org("edu").ID), http.StatusForbidden, nil, nil},
		{"no such org", edu, "?org=987654", http.StatusNotFound, nil, nil},
		{"an unknown status", edu, "?status=lost", http.StatusBadRequest, nil, nil},
		{"an unknown topic", edu, "?topic=gossip", http.StatusBadRequest, nil, nil},
		{"a bad cursor", edu, "?after=x", http.StatusBadRequest, nil, nil},
	}
	for _, tt := range tests {
		w := tt.by.get("/inbox" + tt.query)
		if w.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, w.Code, tt.status)
			continue
		}
		for _, id := range tt.has {
			if !strings.Contains(w.Body.String(), no(id)) {
				t.Errorf("%s: no № %d", tt.name, id)
			}
		}
		for _, id := range tt.hasnt {
			if strings.Contains(w.Body.String(), no(id)) {
				t.Errorf("%s: № %d listed", tt.name, id)
			}
		}
	}

	// Taken, and a day of working hours past due.
	want(t, edu.send(fmt.Sprintf("/inbox/%d/take", wages), nil), http.StatusSeeOther)
	b.clock.Advance(7 * 24 * time.Hour)
	edu = b.browser("192.0.2.3") // the session is long over
	edu.signIn(b.eduChair)
	w = edu.get("/inbox?mine=1")
	want(t, w, http.StatusOK, no(wages), "Обкомов Олег", "взято в работу")
	dontWant(t, w, no(legal))
	w = edu.get("/inbox?overdue=1")
	want(t, w, http.StatusOK, no(wages), no(legal), `class="late"`, "просрочено на")
}

func TestInboxPages(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	school := b.org("school").ID
	var first int64
	for i := range inboxPageSize + 5 {
		tk, err := b.db.CreateTicket(b.ctx, storage.Ticket{PersonID: b.teacher.PersonID, OrgID: school, LevelOrgID: school, Topic: "wages",
			CreatedAt: b.clock.Now(), DueAt: b.clock.Now().Add(time.Hour)}, storage.TicketMessage{Text: "?"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tk.ID
		}
	}
	br := b.browser("192.0.2.1")
	br.signIn(b.schoolChair)
	w := br.get("/inbox?topic=wages")
	want(t, w, http.StatusOK, fmt.Sprintf(`href="/inbox/%d"`, first+inboxPageSize+4), `rel="next"`)
	if n := strings.Count(w.Body.String(), `<tr`); n != inboxPageSize+1 {
		t.Fatalf("%d rows on the first page, want %d and the head", n-1, inboxPageSize)
	}
	dontWant(t, w, fmt.Sprintf(`href="/inbox/%d"`, first+4))
	older := fmt.Sprintf("/inbox?after=%d&amp;topic=wages", first+5)
	if !strings.Contains(w.Body.String(), older) {
		t.Fatalf("no link to the older page %q:\n%s", older, w.Body)
	}
	w = br.get(strings.ReplaceAll(older, "&amp;", "&"))
	want(t, w, http.StatusOK, fmt.Sprintf(`href="/inbox/%d"`, first), fmt.Sprintf(`href="/inbox/%d"`, first+4), `href="/inbox?topic=wages"`)
	if n := strings.Count(w.Body.String(), `<tr`); n != 6 {
		t.Fatalf("%d rows on the last page, want 5", n-1)
	}
	dontWant(t, w, `rel="next"`, fmt.Sprintf(`href="/inbox/%d"`, first+5))
}

func TestInboxRefusesWhoMayNotAnswer(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	wages := b.ask(b.teacher, "wages", "Вопрос школы")
	legal := b.ask(b.pupil, "legal", "Вопрос гимназии")
	path := func(id int64, action string) string { return fmt.Sprintf("/inbox/%d%s", id, action) }

	// A chair of a primary, by the sibling's number in the URL.
	school := b.browser("192.0.2.1")
	school.signIn(b.schoolChair)
	want(t, school.get(path(legal, "")), http.StatusForbidden, "нет прав")
	for _, action := range []string{"/take", "/reply", "/up", "/close"} {
		want(t, school.send(path(legal, action), url.Values{"text": {"Чужой ответ"}}), http.StatusForbidden, "нет прав")
	}
	want(t, school.get(path(987654, "")), http.StatusNotFound)
	want(t, school.send(path(987654, "/take"), nil), http.StatusNotFound)
	if tk := b.ticket(legal); tk.Status != storage.TicketOpen || tk.AssigneeID != 0 || tk.FirstResponseAt != nil {
		t.Fatalf("the sibling's question changed: %+v", tk)
	}

	// Staff who answer nothing: no entry, no page, no stream.
	info := b.browser("192.0.2.2")
	info.signIn(b.person("Информова Ия", "edu", storage.RoleInfoworker))
	dontWant(t, info.get("/"), `href="/inbox"`)
	want(t, info.get("/inbox"), http.StatusForbidden, "нет прав")
	want(t, info.get(path(wages, "")), http.StatusForbidden)
	want(t, info.get("/inbox/events"), http.StatusForbidden)
	want(t, info.send(path(wages, "/take"), nil), http.StatusForbidden)

	// Named a responder for legal help, the same worker answers that only.
	lawyer := b.person("Законова Ирина", "edu", storage.RoleInfoworker)
	if err := b.console.cfg.Hotline.NameResponder(b.ctx, b.eduChair, storage.Responder{PersonID: lawyer.PersonID, OrgID: b.org("edu").ID, Topic: "legal"}); err != nil {
		t.Fatal(err)
	}
	law := b.browser("192.0.2.3")
	law.signIn(lawyer)
	want(t, law.get("/"), http.StatusOK, `href="/inbox"`)
	w := law.get("/inbox")
	want(t, w, http.StatusOK, fmt.Sprintf(`href="/inbox/%d"`, legal))
	dontWant(t, w, fmt.Sprintf(`href="/inbox/%d"`, wages))
	want(t, law.get(path(wages, "")), http.StatusForbidden)
	want(t, law.get(path(legal, "")), http.StatusOK, "Вопрос гимназии")

	// Changes need the session's token.
	want(t, school.post(path(wages, "/take"), url.Values{}), http.StatusForbidden, "Форма устарела")
	want(t, school.post(path(wages, "/reply"), url.Values{"csrf": {"forged"}, "text": {"Ответ"}}), http.StatusForbidden, "Форма устарела")
	if tk := b.ticket(wages); tk.Status != storage.TicketOpen || tk.FirstResponseAt != nil {
		t.Fatalf("a change without its token went through: %+v", tk)
	}

	// A chair who lost the role is signed out at the next request.
	b.endMemberships(b.schoolChair.PersonID)
	if w := school.get("/inbox"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/signin") {
		t.Fatalf("a chair without the role: %d %s", w.Code, w.Header().Get("Location"))
	}
	if got := b.told(); len(got.answers)+len(got.moved)+len(got.closed) != 0 || len(b.audited(auditTicketTake)) != 0 {
		t.Fatalf("refused requests told or audited something: %+v", got)
	}
}

// told is what the hot line told people.
func (b *inboxBed) told() hotlineTold { return b.heard.told() }

func TestInboxActionsReachTheMemberAndAreAudited(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	id := b.ask(b.teacher, "wages", "Почему не доплатили за классное руководство?\nС сентября её нет.")
	if _, err := b.db.AddTicketMessage(b.ctx, storage.TicketMessage{TicketID: id, AuthorID: b.teacher.PersonID, FromMember: true,
		Text: "Прикладываю расчётный листок.", At: b.clock.Now(),
		Attachments: []storage.Attachment{{Platform: storage.Telegram, Kind: "photo", FileID: "AgAC"},
			{Platform: storage.Telegram, Kind: "document", FileID: "BQAC", Name: "листок.pdf"}}}); err != nil {
		t.Fatal(err)
	}
	record := fmt.Sprintf("ticket:%d", id)
	page := fmt.Sprintf("/inbox/%d", id)
	school := b.browser("192.0.2.1")
	school.signIn(b.schoolChair)
	w := school.get(page)
	want(t, w, http.StatusOK, fmt.Sprintf("Обращение № %d", id), "Учителева Мария", "Школа № 5", "Зарплата",
		"Почему не доплатили за классное руководство?\nС сентября её нет.", "Прикладываю расчётный листок.", "📎 Фото", "📎 Файл «листок.pdf»",
		"В переписке 2 сообщения", "ответ нужен через", `action="/inbox/`+fmt.Sprint(id)+`/take"`, `action="/inbox/`+fmt.Sprint(id)+`/reply"`,
		`action="/inbox/`+fmt.Sprint(id)+`/up"`, `action="/inbox/`+fmt.Sprint(id)+`/close"`, `data-ticket="`+fmt.Sprint(id)+`"`)

	// Take.
	w = school.send(page+"/take", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != page+"?done=taken" {
		t.Fatalf("take: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	want(t, school.get(page+"?done=taken"), http.StatusOK, fmt.Sprintf("Обращение № %d теперь ваше.", id), "в работе у: Школьная Анна")
	if tk := b.ticket(id); tk.Status != storage.TicketTaken || tk.AssigneeID != b.schoolChair.PersonID {
		t.Fatalf("taken: %+v", tk)
	}
	// Another responder is told who has it.
	edu := b.browser("192.0.2.2")
	edu.signIn(b.eduChair)
	w = edu.send(page+"/take", nil)
	if w.Header().Get("Location") != page+"?done=taken_by" {
		t.Fatalf("a second take: %d %s", w.Code, w.Header().Get("Location"))
	}
	want(t, edu.get(page+"?done=taken_by"), http.StatusOK, "уже взято в работу: Школьная Анна")

	// Reply: refused when empty, then delivered, signed, and kept.
	w = school.send(page+"/reply", url.Values{"text": {"   "}})
	want(t, w, http.StatusUnprocessableEntity, "Пустой ответ")
	w = school.send(page+"/reply", url.Values{"text": {strings.Repeat("я", hotline.MaxText+1)}})
	want(t, w, http.StatusUnprocessableEntity, "Слишком длинно")
	w = school.send(page+"/reply", url.Values{"text": {"Доплату вернут в ноябре.\r\nПодробности у бухгалтера."}, "ref": {"0123456789abcdef0123456789abcdef"}})
	if w.Header().Get("Location") != page+"?done=answered" {
		t.Fatalf("reply: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	told := b.told()
	if len(told.answers) != 1 || told.answers[0].Text != "Доплату вернут в ноябре.\nПодробности у бухгалтера." ||
		told.answers[0].Responder.ID != b.schoolChair.PersonID || told.answers[0].Ref != "console:0123456789abcdef0123456789abcdef" ||
		told.answers[0].As == nil || told.answers[0].As.Role != storage.RoleChair {
		t.Fatalf("the member was told %+v", told.answers)
	}
	want(t, school.get(page+"?done=answered"), http.StatusOK, "Ответ доставлен участнику в мессенджер.", "Доплату вернут в ноябре.",
		"В переписке 3 сообщения", "ответ дан в срок", "есть ответ")

	// To a member out of reach the answer is kept, and the page says so.
	b.heard.block(b.teacher.PersonID)
	accounts, err := b.db.Accounts(b.ctx, b.teacher.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.db.MarkBlocked(b.ctx, storage.Telegram, accounts[0].ExternalID, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w = school.send(page+"/reply", url.Values{"text": {"Ещё одно уточнение."}})
	if w.Header().Get("Location") != page+"?done=saved" {
		t.Fatalf("a reply to an unreachable member: %d %s", w.Code, w.Header().Get("Location"))
	}
	want(t, school.get(page+"?done=saved"), http.StatusOK, "Ответ сохранён, но до участника не дошёл", "Ещё одно уточнение.",
		"Участник сейчас недоступен в мессенджере")

	// Hand up: the branch answers now, the member is told.
	w = school.send(page+"/up", nil)
	if w.Header().Get("Location") != page+"?done=up" {
		t.Fatalf("hand up: %d %s", w.Code, w.Header().Get("Location"))
	}
	want(t, school.get(page+"?done=up"), http.StatusOK, fmt.Sprintf("Обращение № %d передано выше: «Образование».", id))
	if tk := b.ticket(id); tk.LevelOrgID != b.org("edu").ID || tk.Status != storage.TicketOpen {
		t.Fatalf("handed up: %+v", tk)
	}
	if told := b.told(); len(told.moved) != 1 || told.moved[0].To.Code != "edu" {
		t.Fatalf("moved: %+v", told.moved)
	}

	// Close: the member is asked for a rating; the page shows the outcome
	// and no more actions.
	w = edu.send(page+"/close", nil)
	if w.Header().Get("Location") != page+"?done=closed_unrated" {
		t.Fatalf("close for an unreachable member: %d %s", w.Code, w.Header().Get("Location"))
	}
	told = b.told()
	if len(told.closed) != 1 || told.closed[0] != id || len(told.ratings) != 1 {
		t.Fatalf("closed %v, ratings %v", told.closed, told.ratings)
	}
	w = edu.get(page)
	want(t, w, http.StatusOK, "Итог", "Закрыто 02.03.2026", "Участник пока не оценил ответ.", "закрыто")
	dontWant(t, w, "/take\"", "/reply\"", "/up\"", "/close\"", "<textarea")
	w = edu.send(page+"/reply", url.Values{"text": {"Поздно"}})
	if w.Header().Get("Location") != page+"?done=closed_already" {
		t.Fatalf("a reply to a closed question: %d %s", w.Code, w.Header().Get("Location"))
	}
	want(t, edu.get(page+"?done=closed_already"), http.StatusOK, fmt.Sprintf("Обращение № %d уже закрыто.", id))

	for action, want := range map[string][]string{
		auditTicketTake:   {record},
		auditTicketAnswer: {record, record},
		auditTicketUp:     {record},
		auditTicketClose:  {record},
	} {
		if got := b.audited(action); len(got) != len(want) || got[0] != record {
			t.Errorf("audit of %s: %v, want %v", action, got, want)
		}
	}
}

func TestInboxHandUpAtTheTopAndCloseReachable(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	top := b.ask(b.person("Союзный Член", "union", storage.RoleMember), "wages", "Вопрос на уровне Союза")
	br := b.browser("192.0.2.1")
	br.signIn(b.unionChair)
	page := fmt.Sprintf("/inbox/%d", top)
	dontWant(t, br.get(page), `/up"`)
	if got := br.send(page+"/up", nil); got.Header().Get("Location") != page+"?done=top" {
		t.Fatalf("hand up at the top: %d %s", got.Code, got.Header().Get("Location"))
	}
	want(t, br.get(page+"?done=top"), http.StatusOK, "Выше передать некуда")
	if got := br.send(page+"/close", nil); got.Header().Get("Location") != page+"?done=closed" {
		t.Fatalf("close: %d %s", got.Code, got.Header().Get("Location"))
	}
	want(t, br.get(page+"?done=closed"), http.StatusOK, "закрыто, участника попросили оценить ответ")
	if got := b.audited(auditTicketUp); len(got) != 0 {
		t.Errorf("a refused hand-up was audited: %v", got)
	}
}

// stream opens the inbox's event stream as the browser, on a server of
// its own, and returns its lines as they come.
func (br *browser) stream(t *testing.T, query string, headers ...string) (<-chan string, *http.Response) {
	t.Helper()
	srv := httptest.NewServer(br.r.console)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(br.r.ctx)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/inbox/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range br.cookies {
		req.AddCookie(c)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines, resp
}

// expectEvent waits for the stream's next event and returns its lines.
func expectEvent(t *testing.T, lines <-chan string) []string {
	t.Helper()
	var ev []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended after %q", ev)
			}
			if l == "" {
				if len(ev) > 0 {
					return ev
				}
				continue
			}
			if !strings.HasPrefix(l, "retry:") {
				ev = append(ev, l)
			}
		case <-deadline:
			t.Fatalf("no event; so far %q", ev)
		}
	}
}

func TestInboxEventsStreamNewQuestionsAndReplies(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	before := b.ask(b.teacher, "wages", "Старый вопрос")
	school := b.browser("192.0.2.1")
	school.signIn(b.schoolChair)
	lines, resp := school.stream(t, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b.ask(b.pupil, "wages", "Вопрос гимназии: не для школы")
	asked := b.ask(b.teacher, "legal", "Новый вопрос")
	ev := expectEvent(t, lines)
	if len(ev) != 3 || !strings.HasPrefix(ev[0], "id: ") || ev[1] != "event: question" || ev[2] != fmt.Sprintf(`data: {"ticket":%d}`, asked) {
		t.Fatalf("event %q, want the school's new question", ev)
	}
	if err := b.console.cfg.Hotline.FollowUp(b.ctx, b.teacher, before, hotline.Message{Text: "Есть новости?"}, "f1"); err != nil {
		t.Fatal(err)
	}
	reply := expectEvent(t, lines)
	if len(reply) != 3 || reply[1] != "event: reply" || reply[2] != fmt.Sprintf(`data: {"ticket":%d}`, before) {
		t.Fatalf("event %q, want the member's reply", reply)
	}

	// Resumed after the question, the stream brings the reply again.
	again, _ := school.stream(t, "?after=1", "Last-Event-ID", strings.TrimPrefix(ev[0], "id: "))
	if got := expectEvent(t, again); got[0] != reply[0] || got[1] != "event: reply" {
		t.Fatalf("resumed: %q, want %q", got, reply)
	}

	// Signed out, the stream says it ended and stops.
	if w := school.send("/signout", nil); w.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", w.Code)
	}
	if got := expectEvent(t, lines); got[0] != "event: ended" {
		t.Fatalf("after signing out: %q", got)
	}
	for l := range lines {
		if l != "" && !strings.HasPrefix(l, "data:") {
			t.Fatalf("the stream went on: %q", l)
		}
	}
}

func TestInboxEventsEndWithTheServer(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	school := b.browser("192.0.2.1")
	school.signIn(b.schoolChair)
	lines, _ := school.stream(t, "")
	b.console.EndStreams()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream is still open")
		}
	}
}

// TestInboxEventsKeepNoSessionAlive: a page left open on the inbox polls
// its events, which is not the person's activity: the session still ends
// when they are away.
func TestInboxEventsKeepNoSessionAlive(t *testing.T) {
	t.Parallel()
	b := newInboxBed(t)
	school := b.browser("192.0.2.1")
	school.signIn(b.schoolChair)
	b.clock.Advance(6 * time.Hour)
	// The stream runs until its request ends: long enough for its first
	// reads under the race detector on a loaded machine, where 100 ms was
	// not.
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://console.test/inbox/events", nil)
	req.RemoteAddr = "192.0.2.1:40000"
	for _, c := range school.cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	b.console.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "retry: ") {
		t.Fatalf("stream: %d %q", w.Code, w.Body)
	}
	b.clock.Advance(6*time.Hour + time.Minute)
	if w := school.get("/inbox"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?ended=idle" {
		t.Fatalf("twelve hours after the last page: %d %s", w.Code, w.Header().Get("Location"))
	}
}
