package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/postgres"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/storage/storagetest"
)

// backend names the storage a rig runs on.
type backend string

const (
	onSQLite   backend = "sqlite"
	onPostgres backend = "postgres"
)

// rig is one hub under test: its environment, the fake platforms it talks to,
// and a running `serve` once started.
type rig struct {
	t       testing.TB
	tg      *platformtest.Telegram
	vk      *platformtest.VK
	env     map[string]string
	backend backend
	logs    *syncBuffer
	clock   *fakeClock
	opts    []runOption // for every command the rig runs

	mu      sync.Mutex
	cancel  context.CancelFunc
	stopped chan int
}

type rigOption func(r *rig)

// withoutRedis runs the hub on its in-process state twin.
func withoutRedis() rigOption { return func(r *rig) { delete(r.env, "REDIS_URL") } }

// newRig prepares a hub on backend with both platforms, fresh storage and a
// Redis prefix of its own.
func newRig(t testing.TB, b backend, opts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, tg: platformtest.NewTelegram(t), vk: platformtest.NewVK(t), backend: b, logs: &syncBuffer{}, clock: &fakeClock{}}
	redisURL, prefix := storagetest.RedisURL(t)
	r.env = map[string]string{
		"TELEGRAM_TOKEN":        platformtest.TelegramToken,
		"TELEGRAM_API_URL":      r.tg.URL(),
		"VK_TOKEN":              platformtest.VKToken,
		"VK_GROUP_ID":           strconv.Itoa(platformtest.VKGroupID),
		"VK_API_URL":            r.vk.APIURL(),
		"REDIS_URL":             redisURL,
		"UNIONHUB_REDIS_PREFIX": prefix,
		"UNIONHUB_ADMIN_ADDR":   freeAddr(t),
		"UNIONHUB_HTTP_ADDR":    freeAddr(t),
		"UNIONHUB_LOG_LEVEL":    "debug",
		"UNIONHUB_WORKERS":      "4",
	}
	switch b {
	case onSQLite:
		r.env["UNIONHUB_DATA_DIR"] = t.TempDir()
	case onPostgres:
		r.env["DATABASE_URL"] = storagetest.PostgresDSN(t)
	}
	for _, o := range opts {
		o(r)
	}
	t.Cleanup(func() {
		r.stop()
		if !t.Failed() {
			r.assertPressesAnsweredOnce()
		}
		if t.Failed() {
			t.Logf("hub logs:\n%s", r.logs.String())
		}
	})
	return r
}

// routesPressed records which button routes (data prefixes) the tests
// pressed on each platform, so that a full run can tell a route no test
// presses.
var routesPressed = &routeLog{seen: map[storage.Platform]map[string]bool{}}

type routeLog struct {
	mu   sync.Mutex
	seen map[storage.Platform]map[string]bool
}

func (l *routeLog) add(p storage.Platform, data string) {
	prefix, _, _ := strings.Cut(data, ":")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[p] == nil {
		l.seen[p] = map[string]bool{}
	}
	l.seen[p][prefix] = true
}

// unpressed lists, per platform, the routes of routes no test pressed.
func (l *routeLog) unpressed(routes []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var missing []string
	for _, p := range []storage.Platform{storage.Telegram, storage.VK} {
		for _, r := range routes {
			if !l.seen[p][r] {
				missing = append(missing, string(p)+":"+r)
			}
		}
	}
	return missing
}

// assertPressesAnsweredOnce fails the test unless the hub answered every
// button press of the test exactly once, on both platforms: a press left
// unanswered keeps spinning for the person, a second answer is refused.
func (r *rig) assertPressesAnsweredOnce() {
	r.t.Helper()
	for platform, answers := range map[string]map[string]int{"telegram": r.tg.PressAnswers(), "vk": r.vk.PressAnswers()} {
		for id, n := range answers {
			if n != 1 {
				r.t.Errorf("%s press %s was answered %d times, want once", platform, id, n)
			}
		}
	}
}

// freeAddr returns a local address nobody listens on now, never the same
// one twice in this process: the binary binds it later, and a port closed
// here may be handed out again by the kernel to another replica's freeAddr.
func freeAddr(t testing.TB) string {
	t.Helper()
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if _, taken := handedOut.LoadOrStore(addr, true); !taken {
			return addr
		}
	}
}

// handedOut are the addresses freeAddr returned.
var handedOut sync.Map

// run executes a CLI command against the rig's environment.
func (r *rig) run(args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, r.getenv, &out, &errOut, r.clock.Now, r.opts...)
	return out.String(), errOut.String(), code
}

// mustRun executes a CLI command that must succeed.
func (r *rig) mustRun(args ...string) string {
	r.t.Helper()
	out, errOut, code := r.run(args...)
	if code != exitOK {
		r.t.Fatalf("unionhub %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (r *rig) getenv(k string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.env[k]
}

func (r *rig) setenv(k, v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.env[k] = v
}

// importExample loads examples/orgs.yaml.
func (r *rig) importExample() {
	r.t.Helper()
	r.mustRun("org", "import", "../../examples/orgs.yaml")
}

var inviteCodePattern = regexp.MustCompile(`invite ([A-Za-z0-9_-]{22}):`)

// invite creates an invite with the CLI and returns its code.
func (r *rig) invite(org, role string, extra ...string) string {
	r.t.Helper()
	out := r.mustRun(append([]string{"invite", org, "--role", role, "--out", r.t.TempDir()}, extra...)...)
	m := inviteCodePattern.FindStringSubmatch(out)
	if m == nil {
		r.t.Fatalf("no invite code in:\n%s", out)
	}
	return m[1]
}

// serve starts `unionhub serve` and waits until /healthz answers. Another
// process may bind a port freeAddr found free before serve does: then it
// starts again on a new one.
func (r *rig) serve() {
	r.t.Helper()
	for attempt := 1; ; attempt++ {
		code, healthy := r.tryServe()
		if healthy {
			break
		}
		m := busyAddrPattern.FindStringSubmatch(r.logs.String())
		if m == nil || attempt == 3 {
			r.t.Fatalf("serve exited with %d before becoming healthy:\n%s", code, r.logs.String())
		}
		r.t.Logf("serve start %d: %s was taken, starting on another port", attempt, m[1])
		r.moveAddr(m[1], freeAddr(r.t))
	}
	if r.getenv("VK_TOKEN") != "" && r.getenv("VK_CALLBACK_CONFIRMATION") == "" {
		r.vk.WaitLongPoll(r.t)
	}
}

// busyAddrPattern finds the address serve could not bind in its output.
var busyAddrPattern = regexp.MustCompile(`listen on (\S+): listen tcp \S+: bind: address already in use`)

// tryServe starts serve; healthy is false when it exited first, with code.
func (r *rig) tryServe() (code int, healthy bool) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan int, 1)
	r.mu.Lock()
	r.cancel, r.stopped = cancel, stopped
	r.mu.Unlock()
	go func() { stopped <- run(ctx, []string{"serve"}, r.getenv, r.logs, r.logs, r.clock.Now, r.opts...) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + r.getenv("UNIONHUB_ADMIN_ADDR") + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return 0, true
			}
		}
		select {
		case code := <-stopped:
			r.mu.Lock()
			r.cancel = nil
			r.mu.Unlock()
			cancel()
			return code, false
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("serve not healthy after 20 s:\n%s", r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// moveAddr puts to into every setting that named from.
func (r *rig) moveAddr(from, to string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, v := range r.env {
		r.env[k] = strings.ReplaceAll(v, from, to)
	}
}

// stop sends the equivalent of SIGTERM and returns serve's exit code.
func (r *rig) stop() int {
	r.mu.Lock()
	cancel, stopped := r.cancel, r.stopped
	r.cancel = nil
	r.mu.Unlock()
	if cancel == nil {
		return exitOK
	}
	cancel()
	select {
	case code := <-stopped:
		return code
	case <-time.After(40 * time.Second):
		r.t.Fatal("serve did not stop within 40 s")
		return exitFail
	}
}

// store opens the rig's database beside the running hub, for checks.
func (r *rig) store() *sqlstore.DB {
	r.t.Helper()
	var db *sqlstore.DB
	var err error
	if r.backend == onPostgres {
		db, err = postgres.Open(context.Background(), r.getenv("DATABASE_URL"), nil)
	} else {
		db, err = sqlite.Open(context.Background(), r.getenv("UNIONHUB_DATA_DIR"), nil)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { db.Close() })
	return db
}

// fakeClock is the hub's clock in a test: real time until the test moves it.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the hub's time forward by d.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// syncBuffer collects logs written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// botMsg is a message the bot sent, as either platform shows it.
type botMsg struct {
	id      int
	text    string
	buttons [][]btn
	// files are its photos and documents: on Telegram "photo:<file_id>"
	// or "document:<file_id>", on VK the attachment strings.
	files []string
}

type btn struct{ label, data, url string }

// button returns the first button whose label contains label.
func (m botMsg) button(t testing.TB, label string) btn {
	t.Helper()
	for _, row := range m.buttons {
		for _, b := range row {
			if strings.Contains(b.label, label) {
				return b
			}
		}
	}
	t.Fatalf("no button %q on message %q (buttons %v)", label, m.text, m.buttons)
	return btn{}
}

func (m botMsg) hasButton(label string) bool {
	for _, row := range m.buttons {
		for _, b := range row {
			if strings.Contains(b.label, label) {
				return true
			}
		}
	}
	return false
}

// chat is a conversation a test person has with the bot: their private chat
// or a group. It remembers which message states the test has already seen,
// so that expect waits for something new.
type chat struct {
	t    testing.TB
	seen map[int]string
	list func() []botMsg
}

// expect waits up to 10 s for a new or changed message containing every part.
func (c *chat) expect(parts ...string) botMsg {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := c.list()
		for _, m := range msgs {
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
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, m := range msgs {
				fmt.Fprintf(&b, "  #%d %q\n", m.id, m.text)
			}
			c.t.Fatalf("no new message containing %q; the chat has:\n%s", parts, b.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// before is the message the chat shows just before m.
func (c *chat) before(m botMsg) botMsg {
	c.t.Helper()
	msgs := c.list()
	for i := 1; i < len(msgs); i++ {
		if msgs[i].id == m.id {
			return msgs[i-1]
		}
	}
	c.t.Fatalf("nothing before message #%d %q", m.id, m.text)
	return botMsg{}
}

// quiet asserts that nothing new arrives for a while.
func (c *chat) quiet(d time.Duration) {
	c.t.Helper()
	time.Sleep(d)
	for _, m := range c.list() {
		if c.seen[m.id] != m.text {
			c.t.Fatalf("unexpected message #%d %q", m.id, m.text)
		}
	}
}

// person is a test user on one platform.
type person interface {
	platform() storage.Platform
	id() string
	dm() *chat
	say(text string) string // returns the platform's update or event id
	sendPhoto(caption string)
	sendVoice()
	openInvite(code string)
	start()
	press(m botMsg, label string) string
	pressData(m botMsg, data string) string
	redeliver(updateID string)
	group(id int, title string) *groupChat
	block()
	// notice waits for the pop-up answer to the button press with updateID.
	notice(updateID string) string
}

type groupChat struct {
	*chat
	say    func(text string)
	press  func(m botMsg, label string) string
	chatID string // the chat's id as the hub stores it
}

func (g *groupChat) id() string { return g.chatID }

// tgPerson plays a Telegram user.
type tgPerson struct {
	t    testing.TB
	f    *platformtest.Telegram
	u    platformtest.TGUser
	chat *chat
}

func newTGPerson(t testing.TB, f *platformtest.Telegram, id int64, first string) *tgPerson {
	p := &tgPerson{t: t, f: f, u: platformtest.TGUser{ID: id, FirstName: first, LanguageCode: "ru"}}
	p.chat = &chat{t: t, seen: map[int]string{}, list: func() []botMsg { return tgMessages(f.Messages(id)) }}
	return p
}

func tgMessages(ms []platformtest.TGMessage) []botMsg {
	out := make([]botMsg, len(ms))
	for i, m := range ms {
		out[i] = botMsg{id: m.ID, text: m.Text}
		for _, a := range m.Attachments {
			out[i].files = append(out[i].files, a.Kind+":"+a.FileID)
		}
		for _, row := range m.Buttons {
			var r []btn
			for _, b := range row {
				r = append(r, btn{label: b.Text, data: b.Data, url: b.URL})
			}
			out[i].buttons = append(out[i].buttons, r)
		}
	}
	return out
}

func (p *tgPerson) platform() storage.Platform { return storage.Telegram }
func (p *tgPerson) id() string                 { return strconv.FormatInt(p.u.ID, 10) }
func (p *tgPerson) dm() *chat                  { return p.chat }
func (p *tgPerson) say(text string) string {
	return strconv.FormatInt(p.f.SendText(p.u, text), 10)
}
func (p *tgPerson) sendPhoto(caption string) { p.f.SendPhoto(p.u, caption) }
func (p *tgPerson) sendVoice()               { p.f.SendVoice(p.u) }
func (p *tgPerson) openInvite(code string)   { p.f.SendText(p.u, "/start "+code) }
func (p *tgPerson) start()                   { p.f.SendText(p.u, "/start") }
func (p *tgPerson) press(m botMsg, label string) string {
	p.t.Helper()
	return p.pressData(m, m.button(p.t, label).data)
}
func (p *tgPerson) pressData(m botMsg, data string) string {
	routesPressed.add(storage.Telegram, data)
	return strconv.FormatInt(p.f.Press(p.u, p.u.ID, m.id, data), 10)
}
func (p *tgPerson) redeliver(id string) {
	n, _ := strconv.ParseInt(id, 10, 64)
	p.f.Redeliver(n)
}
func (p *tgPerson) block() { p.f.Block(p.u.ID) }
func (p *tgPerson) notice(updateID string) string {
	n, _ := strconv.ParseInt(updateID, 10, 64)
	return waitNotice(p.t, func() (string, bool) { return p.f.CallbackAnswer(p.f.CallbackQueryID(n)) })
}
func (p *tgPerson) group(id int, title string) *groupChat {
	g := tgGroup(id, title)
	c := &chat{t: p.t, seen: map[int]string{}, list: func() []botMsg { return tgMessages(p.f.Messages(g.ID)) }}
	return &groupChat{chat: c, say: func(text string) { p.f.SendGroupText(p.u, g, text) }, chatID: strconv.FormatInt(g.ID, 10),
		press: func(m botMsg, label string) string {
			data := m.button(p.t, label).data
			routesPressed.add(storage.Telegram, data)
			return strconv.FormatInt(p.f.Press(p.u, g.ID, m.id, data), 10)
		}}
}

func tgGroup(id int, title string) platformtest.TGGroup {
	return platformtest.TGGroup{ID: -int64(id), Title: title}
}

// vkPerson plays a VK user.
type vkPerson struct {
	t    testing.TB
	f    *platformtest.VK
	u    platformtest.VKUser
	chat *chat
}

func newVKPerson(t testing.TB, f *platformtest.VK, id int, first string) *vkPerson {
	p := &vkPerson{t: t, f: f, u: platformtest.VKUser{ID: id, FirstName: first}}
	p.chat = &chat{t: t, seen: map[int]string{}, list: func() []botMsg { return vkMessages(f.Messages(id)) }}
	return p
}

func vkMessages(ms []platformtest.VKMessage) []botMsg {
	out := make([]botMsg, len(ms))
	for i, m := range ms {
		out[i] = botMsg{id: m.ConversationMessageID, text: m.Text, files: m.Attachments}
		for _, row := range m.Buttons {
			var r []btn
			for _, b := range row {
				var payload struct {
					D string `json:"d"`
				}
				_ = json.Unmarshal([]byte(b.Payload), &payload)
				r = append(r, btn{label: b.Label, data: payload.D, url: b.Link})
			}
			out[i].buttons = append(out[i].buttons, r)
		}
	}
	return out
}

func (p *vkPerson) platform() storage.Platform { return storage.VK }
func (p *vkPerson) id() string                 { return strconv.Itoa(p.u.ID) }
func (p *vkPerson) dm() *chat                  { return p.chat }
func (p *vkPerson) say(text string) string     { return p.f.SendText(p.u, text) }
func (p *vkPerson) sendPhoto(caption string)   { p.f.SendPhoto(p.u, caption) }
func (p *vkPerson) sendVoice()                 { p.f.SendVoice(p.u) }
func (p *vkPerson) openInvite(code string)     { p.f.SendTextRef(p.u, "Начать", code, "") }
func (p *vkPerson) start()                     { p.f.SendStart(p.u) }
func (p *vkPerson) press(m botMsg, label string) string {
	p.t.Helper()
	return p.pressData(m, m.button(p.t, label).data)
}
func (p *vkPerson) pressData(m botMsg, data string) string {
	routesPressed.add(storage.VK, data)
	return p.f.Press(p.u, p.u.ID, m.id, vkPayload(data))
}
func (p *vkPerson) redeliver(id string) { p.f.Redeliver(id) }
func (p *vkPerson) block()              { p.f.Block(p.u.ID) }
func (p *vkPerson) notice(eventID string) string {
	return waitNotice(p.t, func() (string, bool) { return p.f.EventAnswer(eventID) })
}

// waitNotice waits up to 10 s for a button press to be answered.
func waitNotice(t testing.TB, answer func() (string, bool)) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if text, ok := answer(); ok {
			return text
		}
	}
	t.Fatal("the button press was never answered")
	return ""
}
func (p *vkPerson) group(id int, title string) *groupChat {
	peer := 2000000000 + id
	c := &chat{t: p.t, seen: map[int]string{}, list: func() []botMsg { return vkMessages(p.f.Messages(peer)) }}
	return &groupChat{chat: c, say: func(text string) { p.f.SendChatText(p.u, peer, text) }, chatID: strconv.Itoa(peer),
		press: func(m botMsg, label string) string {
			data := m.button(p.t, label).data
			routesPressed.add(storage.VK, data)
			return p.f.Press(p.u, peer, m.id, vkPayload(data))
		}}
}

func vkPayload(data string) string {
	raw, _ := json.Marshal(map[string]string{"d": data})
	return string(raw)
}

// people makes n people on platform p with distinct ids.
func (r *rig) person(p storage.Platform, id int, name string) person {
	if p == storage.VK {
		return newVKPerson(r.t, r.vk, id, name)
	}
	return newTGPerson(r.t, r.tg, int64(id), name)
}
