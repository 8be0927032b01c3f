package handlers_test

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/broadcast"
	"github.com/unionhub/unionhub/handlers"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/surveys"
)

// The fast rig drives the conversations in-process: the hub's router is
// called directly with updates, each handled to the end before the call
// returns; what each person saw is recorded by a Sender per platform; the
// records are an embedded SQLite file in a temporary directory, the state is
// in-process, the clock is moved by the test. No HTTP, no PostgreSQL, no
// Redis: a whole journey takes milliseconds. The end-to-end tests in
// cmd/unionhub walk the same flows over the platform fakes.

// chatRig is one hub under test.
type chatRig struct {
	t       testing.TB
	ctx     context.Context
	hub     *handlers.Hub
	handle  bot.HandlerFunc
	store   *sqlstore.DB
	state   *redis.Memory
	clock   *manualClock
	senders map[bot.Platform]*recorder
	updates int
	engine  *broadcast.Engine // see deliverNews
}

// manualClock stands still until the test moves it.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rigTree is a small organisation tree with the example's names.
var rigTree = []storage.OrgInput{
	{Code: "union", Name: "Сахалинский областной союз организаций профсоюзов", Level: storage.LevelUnion, MemberCount: 42000},
	{Code: "edu", Name: "Областная организация профсоюза работников образования", ParentCode: "union", Level: storage.LevelBranch, MemberCount: 12800},
	{Code: "health", Name: "Областная организация профсоюза работников здравоохранения", ParentCode: "union", Level: storage.LevelBranch, MemberCount: 7400},
	{Code: "edu-school-5", Name: "ППО МАОУ СОШ № 5 г. Южно-Сахалинска", ParentCode: "edu", Level: storage.LevelPrimary, MemberCount: 86},
	{Code: "edu-gymnasium-1", Name: "ППО МБОУ Гимназия № 1 г. Южно-Сахалинска", ParentCode: "edu", Level: storage.LevelPrimary, MemberCount: 112},
	{Code: "health-polyclinic-4", Name: "ППО ГБУЗ «Городская поликлиника № 4»", ParentCode: "health", Level: storage.LevelPrimary, MemberCount: 210},
}

// rigOption adds to the hub's dependencies.
type rigOption func(d *handlers.Deps)

// withSurveys gives the hub survey definitions.
func withSurveys(svs ...surveys.Survey) rigOption {
	return func(d *handlers.Deps) { d.Surveys = svs }
}

// newChatRig starts a hub on a fresh SQLite file with rigTree imported, on
// Monday 2 March 2026, 10:00 in Sakhalin: within working hours.
func newChatRig(t testing.TB, opts ...rigOption) *chatRig {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(ctx, t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &manualClock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("Sakhalin", 11*3600))}
	if _, err := db.ImportOrgs(ctx, rigTree, clock.Now()); err != nil {
		t.Fatal(err)
	}
	catalog, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := &chatRig{t: t, ctx: ctx, store: db, state: redis.NewMemory(clock.Now), clock: clock,
		senders: map[bot.Platform]*recorder{bot.Telegram: newRecorder(bot.Telegram), bot.VK: newRecorder(bot.VK)}}
	senders := map[bot.Platform]bot.Sender{}
	for p, s := range r.senders {
		senders[p] = s
	}
	deps := handlers.Deps{Store: db, State: r.state, Catalog: catalog, Senders: senders,
		Links: handlers.Links{TelegramBot: "unionhub_test_bot", VKGroup: "club1"}, Clock: clock.Now, Logger: quiet}
	for _, o := range opts {
		o(&deps)
	}
	r.hub = handlers.New(deps)
	r.handle = r.hub.Router(bot.Recover()).Handler()
	t.Cleanup(r.assertPressesAnsweredOnce)
	return r
}

// deliverNews runs a broadcast engine in-process over the rig's senders
// until nothing is left to send: the news in the outbox reaches its
// recipients' chats, composed by the hub, and each broadcast it finishes
// shows its final figures to its author.
func (r *chatRig) deliverNews() {
	r.t.Helper()
	if r.engine == nil {
		senders := map[bot.Platform]bot.Sender{}
		for p, s := range r.senders {
			senders[p] = s
		}
		r.engine = broadcast.New(broadcast.Config{Store: r.store, Platforms: senders, Limiter: r.state, Compose: r.hub.ComposeDelivery, Clock: r.clock.Now, Logger: slog.New(slog.DiscardHandler)})
		r.engine.OnFinish = r.hub.News.BroadcastFinished
	}
	for {
		worked, err := r.engine.Step(r.ctx)
		if err != nil {
			r.t.Fatal(err)
		}
		if !worked {
			return
		}
	}
}

// invite creates an invite code for org and role.
func (r *chatRig) invite(org string, role storage.Role) string {
	r.t.Helper()
	inv, _, err := r.hub.Orgs.CreateInvite(r.ctx, orgs.InviteRequest{OrgCode: org, Role: role})
	if err != nil {
		r.t.Fatal(err)
	}
	return inv.Code
}

// assertPressesAnsweredOnce checks that every press got exactly one answer.
func (r *chatRig) assertPressesAnsweredOnce() {
	for p, s := range r.senders {
		s.mu.Lock()
		for id, answers := range s.answers {
			if len(answers) != 1 {
				r.t.Errorf("%s press %s was answered %d times, want once", p, id, len(answers))
			}
		}
		s.mu.Unlock()
	}
}

// recorder is a Sender that keeps what each chat was shown.
type recorder struct {
	platform bot.Platform
	mu       sync.Mutex
	chats    map[string][]*shown
	next     int
	answers  map[string][]string // press id → the notices it was answered with
}

// shown is a message as its chat sees it now.
type shown struct {
	id    string
	text  string
	kb    bot.Keyboard
	files []bot.Attachment
	// upload is a file sent from its bytes.
	upload *bot.Upload
}

func newRecorder(p bot.Platform) *recorder {
	return &recorder{platform: p, chats: map[string][]*shown{}, answers: map[string][]string{}}
}

func (s *recorder) Platform() bot.Platform { return s.platform }

func (s *recorder) Send(_ context.Context, m bot.Message) (bot.Sent, error) {
	if err := bot.ValidateMessage(m); err != nil {
		return bot.Sent{}, err
	}
	if err := fitsVK(m.Keyboard); err != nil {
		return bot.Sent{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	msg := &shown{id: strconv.Itoa(s.next), text: m.Text, kb: m.Keyboard, files: m.Attachments, upload: m.Upload}
	s.chats[m.ChatID] = append(s.chats[m.ChatID], msg)
	return bot.Sent{ChatID: m.ChatID, MessageID: msg.id}, nil
}

func (s *recorder) find(at bot.Sent) (*shown, error) {
	for _, m := range s.chats[at.ChatID] {
		if m.id == at.MessageID {
			return m, nil
		}
	}
	return nil, fmt.Errorf("message %s in chat %s: %w", at.MessageID, at.ChatID, bot.ErrChatGone)
}

func (s *recorder) Edit(_ context.Context, at bot.Sent, m bot.Message) error {
	if err := bot.ValidateMessage(m); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, err := s.find(at)
	if err != nil {
		return err
	}
	msg.text, msg.kb = m.Text, m.Keyboard
	return nil
}

func (s *recorder) EditKeyboard(_ context.Context, at bot.Sent, kb bot.Keyboard) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, err := s.find(at)
	if err != nil {
		return err
	}
	msg.kb = kb
	return nil
}

func (s *recorder) AnswerCallback(_ context.Context, u *bot.Update, text string) error {
	if n := len([]rune(text)); n > 90 {
		return fmt.Errorf("a notice of %d characters: VK shows at most 90", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answers[u.Callback.ID] = append(s.answers[u.Callback.ID], text)
	return nil
}

// fitsVK refuses a keyboard VK would refuse: at most 10 buttons in 6 rows.
func fitsVK(kb bot.Keyboard) error {
	n := 0
	for _, row := range kb {
		n += len(row)
	}
	if n > bot.MaxButtons || len(kb) > bot.MaxKeyboardRows {
		return fmt.Errorf("%d buttons in %d rows: VK takes %d in %d", n, len(kb), bot.MaxButtons, bot.MaxKeyboardRows)
	}
	return nil
}

// chatter is a person talking to the hub in their private chat.
type chatter struct {
	r        *chatRig
	platform bot.Platform
	user     bot.User
	seen     map[string]string // message id → text last seen
}

// person makes a chatter on platform with id, speaking Russian.
func (r *chatRig) person(p bot.Platform, id int, first string) *chatter {
	return &chatter{r: r, platform: p, user: bot.User{ID: strconv.Itoa(id), FirstName: first, Language: "ru"}, seen: map[string]string{}}
}

// deliver hands an update to the hub and fails the test if handling failed.
func (c *chatter) deliver(u *bot.Update) {
	c.r.t.Helper()
	c.r.updates++
	u.Platform, u.ID, u.From, u.At = c.platform, strconv.Itoa(c.r.updates), c.user, c.r.clock.Now()
	u.Chat = bot.Chat{ID: c.user.ID, Kind: bot.ChatPrivate}
	if err := c.r.handle(c.r.ctx, u); err != nil {
		c.r.t.Fatalf("%s %s: handling %+v: %v", c.platform, c.user.ID, u, err)
	}
}

// say sends text; a text starting with a slash is a command.
func (c *chatter) say(text string) {
	c.r.t.Helper()
	u := &bot.Update{Text: text}
	u.Command, u.Args = bot.ParseCommand(text)
	c.deliver(u)
}

// press presses the button of m whose label contains label, and returns
// the notice the press was answered with.
func (c *chatter) press(m *shown, label string) string {
	c.r.t.Helper()
	for _, row := range m.kb {
		for _, b := range row {
			if strings.Contains(b.Text, label) && b.Data != "" {
				return c.pressData(m, b.Data)
			}
		}
	}
	c.r.t.Fatalf("no button %q on %q (buttons %v)", label, m.text, m.kb)
	return ""
}

// pressData presses a button with any data, as a modified client could.
func (c *chatter) pressData(m *shown, data string) string {
	c.r.t.Helper()
	id := fmt.Sprintf("press-%d", c.r.updates+1)
	c.deliver(&bot.Update{Callback: &bot.Callback{ID: id, Data: data, MessageID: m.id}})
	s := c.r.senders[c.platform]
	s.mu.Lock()
	defer s.mu.Unlock()
	if answers := s.answers[id]; len(answers) > 0 {
		return answers[0]
	}
	return ""
}

// messages returns the chat as the person sees it now.
func (c *chatter) messages() []shown {
	s := c.r.senders[c.platform]
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]shown, 0, len(s.chats[c.user.ID]))
	for _, m := range s.chats[c.user.ID] {
		out = append(out, *m)
	}
	return out
}

// expect returns the oldest message, new or changed since last seen, that
// contains every part; handling is synchronous, so it is there or never.
func (c *chatter) expect(parts ...string) *shown {
	c.r.t.Helper()
	msgs := c.messages()
	for i := range msgs {
		m := &msgs[i]
		if c.seen[m.id] == m.text {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m.text, p)
		}
		if ok {
			c.seen[m.id] = m.text
			return m
		}
	}
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "  #%s %q\n", m.id, m.text)
	}
	c.r.t.Fatalf("%s %s: no new message containing %q; the chat has:\n%s", c.platform, c.user.ID, parts, b.String())
	return nil
}

// current returns message m as its chat shows it now.
func (c *chatter) current(m *shown) shown {
	c.r.t.Helper()
	for _, now := range c.messages() {
		if now.id == m.id {
			return now
		}
	}
	c.r.t.Fatalf("message %s is gone", m.id)
	return shown{}
}

// labels lists the button labels of m.
func (m shown) labels() []string {
	var out []string
	for _, row := range m.kb {
		for _, b := range row {
			out = append(out, b.Text)
		}
	}
	return out
}

// register walks the person through an invite registration with a name.
func (c *chatter) register(code, name string) {
	c.r.t.Helper()
	c.say("/start " + code)
	c.press(c.expect("Согласие на обработку"), "Согласен")
	c.expect("фамилию, имя")
	c.say(name)
	c.press(c.expect("должность"), "Пропустить")
	c.press(c.expect("Рабочий адрес"), "Пропустить")
	c.press(c.expect("личный адрес"), "Пропустить")
	c.press(c.expect("Проверьте"), "Всё верно")
	c.expect("вы зарегистрированы")
}

// hasButton reports whether m carries a button whose label contains label.
func (m shown) hasButton(label string) bool {
	for _, l := range m.labels() {
		if strings.Contains(l, label) {
			return true
		}
	}
	return false
}
