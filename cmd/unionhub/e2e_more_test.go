package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unionhub/unionhub/bot/platformtest"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
)

var linkCodePattern = regexp.MustCompile(`Ваш код: ([A-Z2-9]{8})`)

func TestLinkingTwoPlatforms(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, b)
			r.importExample()
			r.serve()
			db := r.store()

			tg := r.person(storage.Telegram, 1101, "Анна")
			register(t, tg, r.invite("fish-port-korsakov", "activist"), "Смирнова Анна")
			tg.say("/link")
			m := tg.dm().expect("Ваш код:")
			code := linkCodePattern.FindStringSubmatch(m.text)[1]
			if b := m.button(t, "ВКонтакте"); b.url != "https://vk.me/"+platformtest.VKGroupScreenName+"?ref=link-"+code {
				t.Fatalf("VK link button %q", b.url)
			}

			vk := r.person(storage.VK, 1101, "Анна")
			vk.say("/link AAAA2222")
			vk.dm().expect("Код не подошёл")
			vk.say("/link " + strings.ToLower(code[:4]) + "-" + code[4:])
			vk.dm().expect("Смирнова Анна, мессенджер подключён")
			vk.say("/profile")
			vk.dm().expect("ФИО: Смирнова Анна", "Подключено 2 мессенджера", "профсоюзный активист")
			if personOf(t, db, vk).ID != personOf(t, db, tg).ID {
				t.Fatal("the two accounts belong to different people")
			}
			// A used code does not work twice.
			other := r.person(storage.Telegram, 1102, "Чужой")
			other.say("/link " + code)
			other.dm().expect("Код не подошёл")

			// The other way round, through the deep link.
			vk2 := r.person(storage.VK, 1103, "Борис")
			register(t, vk2, r.invite("fish-port-korsakov", "member"), "Борисов Борис")
			vk2.say("/link")
			m = vk2.dm().expect("Ваш код:")
			code = linkCodePattern.FindStringSubmatch(m.text)[1]
			if b := m.button(t, "Telegram"); b.url != "https://t.me/"+platformtest.TelegramBotUsername+"?start=link-"+code {
				t.Fatalf("Telegram link button %q", b.url)
			}
			// An account already registered to someone else is not taken over.
			tg.say("/link " + code)
			tg.dm().expect("уже зарегистрирован на другого человека")
			tg2 := r.person(storage.Telegram, 1103, "Борис")
			tg2.openInvite("link-" + code)
			tg2.dm().expect("Борисов Борис, мессенджер подключён")
		})
	}
}

func TestApprovalReachesABlockedApplicant(t *testing.T) {
	t.Parallel()
	eachPlatform(t, func(t *testing.T, r *rig, plat storage.Platform) {
		chair := r.person(plat, 1201, "Председатель")
		register(t, chair, r.invite("health-polyclinic-4", "infoworker"), "Лебедева Ольга")
		s := r.person(plat, 1202, "Заявитель")
		c := s.dm()
		applyWithoutCode(t, s, "Павлов Павел", "здравоохранения", "поликлиника № 4")
		s.block()

		chair.press(chair.dm().expect("Новая заявка", "Павлов Павел"), "Принять")
		chair.dm().expect("Заявка одобрена: Павлов Павел", "заблокировал")
		db := r.store()
		accounts, err := db.Accounts(context.Background(), personOf(t, db, s).ID)
		if err != nil || len(accounts) != 1 || accounts[0].BlockedAt == nil {
			t.Fatalf("the blocked account is not marked: %+v, %v", accounts, err)
		}
		// Writing again makes the person reachable.
		if plat == storage.VK {
			r.vk.Unblock(1202)
		}
		s.say("/menu")
		c.expect("Главное меню")
		accounts, err = db.Accounts(context.Background(), personOf(t, db, s).ID)
		if err != nil || accounts[0].BlockedAt != nil {
			t.Fatalf("the account stayed blocked after the person wrote: %+v, %v", accounts, err)
		}
	})
}

func TestWebhooksRejectForgedRequests(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	hooks := "http://" + r.getenv("UNIONHUB_HTTP_ADDR")
	r.setenv("TELEGRAM_WEBHOOK_URL", hooks+"/telegram/webhook")
	r.setenv("TELEGRAM_WEBHOOK_SECRET", "tg_webhook-Secret1")
	r.setenv("VK_CALLBACK_CONFIRMATION", "c0nfirm")
	r.setenv("VK_CALLBACK_SECRET", "vk-callback-secret")
	r.importExample()
	r.serve()
	hooks = "http://" + r.getenv("UNIONHUB_HTTP_ADDR") // moved if serve had to take another port
	// serve registers the webhook right after it starts listening.
	for deadline := time.Now().Add(10 * time.Second); r.tg.Webhook().URL == "" && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if w := r.tg.Webhook(); w.URL != hooks+"/telegram/webhook" || w.Secret != "tg_webhook-Secret1" {
		t.Fatalf("webhook registered as %+v", w)
	}
	if got, err := r.vk.Confirm(hooks+"/vk/callback", "vk-callback-secret"); err != nil || got != "c0nfirm" {
		t.Fatalf("VK confirmation = %q, %v", got, err)
	}
	r.vk.SetCallback(hooks+"/vk/callback", "vk-callback-secret")

	post := func(path, body string, header map[string]string) int {
		req, _ := http.NewRequest(http.MethodPost, hooks+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tgUpdate := `{"update_id":77001,"message":{"message_id":1,"date":1700000000,"chat":{"id":1301,"type":"private"},"from":{"id":1301,"is_bot":false,"first_name":"X"},"text":"/help"}}`
	for _, header := range []map[string]string{nil, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {"X-Telegram-Bot-Api-Secret-Token": "tg_webhook-Secret"}} {
		if code := post("/telegram/webhook", tgUpdate, header); code != http.StatusUnauthorized {
			t.Fatalf("forged Telegram webhook with %v answered %d, want 401", header, code)
		}
	}
	vkEvent := `{"type":"message_new","group_id":1001,"event_id":"forged1","v":"5.199","secret":"%s","object":{"message":{"id":1,"date":1700000000,"peer_id":1302,"from_id":1302,"text":"/help","conversation_message_id":1}}}`
	for _, secret := range []string{"", "wrong", "vk-callback-secre"} {
		if code := post("/vk/callback", strings.Replace(vkEvent, "%s", secret, 1), nil); code != http.StatusForbidden {
			t.Fatalf("forged VK callback with secret %q answered %d, want 403", secret, code)
		}
	}
	r.vk.Unblock(1302)
	time.Sleep(300 * time.Millisecond)
	if n := len(r.tg.Messages(1301)) + len(r.vk.Messages(1302)); n != 0 {
		t.Fatalf("forged requests were processed: %d replies", n)
	}
	// Refusals are counted on /metrics and logged once a minute at most.
	resp, err := http.Get("http://" + r.getenv("UNIONHUB_ADMIN_ADDR") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`unionhub_webhook_refused_total{platform="telegram",reason="secret"} 3`,
		`unionhub_webhook_refused_total{platform="vk",reason="secret"} 3`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("metrics lack %s:\n%s", want, metrics)
		}
	}
	if n := strings.Count(r.logs.String(), "webhook requests refused"); n != 2 {
		t.Fatalf("%d refusal lines for 6 forged requests on two platforms, want 2:\n%s", n, r.logs.String())
	}

	// The genuine deliveries work in webhook and callback mode.
	for _, plat := range platforms {
		p := r.person(plat, 1303, "Настоящий")
		register(t, p, r.invite("edu-gymnasium-1", "member"), "Настоящий Человек")
	}
}

func TestOperations(t *testing.T) {
	t.Parallel()
	// serve without any token: see TestServeWithNothingConfigured.
	r := newRig(t, onSQLite)
	r.setenv("TELEGRAM_WEBHOOK_URL", "https://hub.example.org/tg")
	if _, errOut, code := r.run("serve"); code != exitUsage || !strings.Contains(errOut, "TELEGRAM_WEBHOOK_SECRET") {
		t.Fatalf("serve with a webhook and no secret: exit %d, %q", code, errOut)
	}
	r.setenv("TELEGRAM_WEBHOOK_URL", "")
	if out := r.mustRun("config"); !strings.Contains(out, "TELEGRAM_TOKEN=***") || strings.Contains(out, platformtest.TelegramToken) {
		t.Fatalf("config output:\n%s", out)
	}
	if out := r.mustRun("migrate"); !strings.Contains(out, "schema version") {
		t.Fatalf("migrate output: %s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("orgs:\n  - code: root\n    name: Союз\n    level: union\n  - code: loop\n    name: Петля\n    parent: nowhere\n    level: branch\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := r.run("org", "import", bad); code == exitOK || !strings.Contains(errOut, "bad.yaml:5") || !strings.Contains(errOut, "nothing imported") {
		t.Fatalf("a bad org file: exit %d, %q", code, errOut)
	}
	if out := r.mustRun("org", "list"); !strings.Contains(out, "no organisations yet") {
		t.Fatalf("a rejected import wrote something:\n%s", out)
	}
	r.importExample()
	if out := r.mustRun("org", "import", "../../examples/orgs.yaml"); !strings.Contains(out, "0 created, 0 updated, 16 unchanged") {
		t.Fatalf("re-import changed something: %s", out)
	}
	if out := r.mustRun("org", "list"); !strings.Contains(out, "union  Сахалинский") || !strings.Contains(out, "\n      edu-korsakov-school-2  ") {
		t.Fatalf("org list:\n%s", out)
	}
	if _, errOut, code := r.run("invite", "no-such-org", "--role", "member"); code != exitUsage || !strings.Contains(errOut, "no-such-org") {
		t.Fatalf("invite to an unknown org: exit %d, %q", code, errOut)
	}
	if _, errOut, code := r.run("invite", "edu", "--role", "boss"); code == exitOK || !strings.Contains(errOut, "boss") {
		t.Fatalf("invite with an unknown role: exit %d, %q", code, errOut)
	}
	qrDir := t.TempDir()
	out := r.mustRun("invite", "edu-school-5", "--role", "activist", "--uses", "3", "--expires", "2w", "--out", qrDir)
	if !strings.Contains(out, "https://t.me/"+platformtest.TelegramBotUsername+"?start=") || !strings.Contains(out, "https://vk.me/club1001?ref=") || !strings.Contains(out, "used 0 of 3") {
		t.Fatalf("invite output:\n%s", out)
	}
	for _, name := range []string{"invite-edu-school-5-activist-telegram.png", "invite-edu-school-5-activist-vk.png"} {
		png, err := os.ReadFile(filepath.Join(qrDir, name))
		if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("QR code %s: %v", name, err)
		}
	}
	r.serve()
	p := r.person(storage.Telegram, 1401, "Метрика")
	p.say("/help")
	p.dm().expect("Это бот профсоюза")
	// The update is counted once its handler returns, just after the reply.
	want := `unionhub_updates_total{kind="command",outcome="ok",platform="telegram"} 1`
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(metrics, want) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get("http://" + r.getenv("UNIONHUB_ADMIN_ADDR") + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(body)
	}
	if !strings.Contains(metrics, want) {
		t.Fatalf("metrics lack the handled update:\n%s", metrics)
	}
	// Personal data typed into the bot stays out of the logs.
	q := r.person(storage.Telegram, 1402, "Лилия")
	qc := q.dm()
	q.openInvite(r.invite("edu-school-5", "member"))
	q.press(qc.expect("Согласие"), "Согласен")
	qc.expect("фамилию, имя")
	q.say("Логова Лилия")
	qc.expect("должность")
	q.say("Завуч")
	qc.expect("Рабочий адрес")
	q.say("lilia@school5.ru")
	q.press(qc.expect("личный адрес"), "Пропустить")
	q.press(qc.expect("Проверьте"), "Всё верно")
	qc.expect("вы зарегистрированы")
	q.say("+7 999 123-45-67")
	qc.expect("Главное меню")
	q.say("/Логова_79991234567")
	qc.expect("Неизвестная команда")
	if out, _, code := r.run("healthcheck"); code != exitOK || out != "ok\n" {
		t.Fatalf("healthcheck: exit %d %q", code, out)
	}
	if code := r.stop(); code != exitOK {
		t.Fatalf("serve stopped with %d", code)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `"command":"unknown"`) {
		t.Fatalf("the unknown command was not logged as such:\n%s", logs)
	}
	for _, secret := range []string{"Логова", "Лилия", "Завуч", "lilia@school5.ru", "999 123", "79991234567", "Метрика"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("the logs carry %q:\n%s", secret, logs)
		}
	}

	// A database migrated by a newer binary is refused.
	raw, err := sql.Open("sqlite", filepath.Join(r.getenv("UNIONHUB_DATA_DIR"), sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (9999, 1)"); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := r.run("serve"); code != exitFail || !strings.Contains(errOut, "newer than this binary") {
		t.Fatalf("serve on a newer schema: exit %d, %q", code, errOut)
	}
}

// tcpProxy stands between the hub and a service, so a test can take the
// service away and bring it back as a restart would.
type tcpProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	gate  chan struct{} // closed while traffic flows; see stall
	conns map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := make(chan struct{})
	close(open)
	p := &tcpProxy{t: t, ln: ln, target: target, gate: open, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.resume(); p.cut() })
	go p.serve()
	return p
}

func (p *tcpProxy) serve() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns[in], p.conns[out] = true, true
		p.mu.Unlock()
		go func() { p.pipe(out, in); out.Close() }()
		go func() { p.pipe(in, out); in.Close() }()
	}
}

// pipe copies src to dst, holding each chunk while the proxy is stalled.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stall holds all traffic, as a service that has stopped answering.
func (p *tcpProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = make(chan struct{})
}

// resume lets held traffic through.
func (p *tcpProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// cut drops every connection and refuses new ones.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
}

func (p *tcpProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// via rewrites a service URL to go through the proxy.
func (p *tcpProxy) via(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		p.t.Fatal(err)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

func waitHealthy(t *testing.T, r *rig) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if healthz(t, r) == http.StatusOK {
			return
		}
	}
	t.Fatal("the hub did not become healthy again")
}

func healthz(t *testing.T, r *rig) int {
	resp, err := http.Get("http://" + r.getenv("UNIONHUB_ADMIN_ADDR") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServeSurvivesDatabaseAndRedisRestarts(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			r.importExample()
			dbURL, _ := url.Parse(r.getenv("DATABASE_URL"))
			pg := newTCPProxy(t, dbURL.Host)
			r.setenv("DATABASE_URL", pg.via(r.getenv("DATABASE_URL")))
			// A Redis of this test's own, so that it can really be restarted.
			rd := startRedis(t)
			r.setenv("REDIS_URL", rd.url())
			r.serve()

			a := r.person(plat, 1501, "Ранний")
			register(t, a, r.invite("edu-university", "member"), "Ранний Участник")

			b := r.person(plat, 1502, "Поздний")
			c := b.dm()
			b.openInvite(r.invite("edu-university", "member"))
			summary := answerUpToSummary(t, b, "Поздний Участник")

			pg.cut()
			b.press(summary, "Всё верно")
			c.expect("техническая ошибка")
			if code := healthz(t, r); code != http.StatusServiceUnavailable {
				t.Fatalf("healthz with the database down = %d", code)
			}
			pg.restore()
			b.press(summary, "Всё верно")
			c.expect("Поздний Участник, вы зарегистрированы")

			rd.kill()
			n := r.person(plat, 1503, "Новый")
			n.start()
			n.dm().expect("техническая ошибка")
			if code := healthz(t, r); code != http.StatusServiceUnavailable {
				t.Fatalf("healthz with Redis down = %d", code)
			}
			rd.start()
			// The client reconnects on its own, within a second or so.
			waitHealthy(t, r)
			n.start()
			n.dm().expect("Выберите вашу организацию")

			a.say("/profile")
			a.dm().expect("ФИО: Ранний Участник")
			if code := healthz(t, r); code != http.StatusOK {
				t.Fatalf("healthz after the restarts = %d", code)
			}
		})
	}
}

func TestStopFinishesUpdatesInFlight(t *testing.T) {
	t.Parallel()
	r := newRig(t, onPostgres)
	r.importExample()
	dbURL, _ := url.Parse(r.getenv("DATABASE_URL"))
	pg := newTCPProxy(t, dbURL.Host)
	r.setenv("DATABASE_URL", pg.via(r.getenv("DATABASE_URL")))
	r.serve()

	p := r.person(storage.Telegram, 2001, "Последний")
	c := p.dm()
	p.openInvite(r.invite("edu-university", "member"))
	summary := answerUpToSummary(t, p, "Последний Участник")

	pg.stall()
	p.press(summary, "Всё верно") // its handler now waits for the database
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan int, 1)
	go func() { stopped <- r.stop() }()
	select {
	case code := <-stopped:
		t.Fatalf("serve stopped with %d while an update was in flight", code)
	case <-time.After(500 * time.Millisecond):
	}
	pg.resume()
	c.expect("Последний Участник, вы зарегистрированы")
	if code := <-stopped; code != exitOK {
		t.Fatalf("serve stopped with %d", code)
	}
	// After the stop nothing new is taken.
	p.say("/help")
	c.quiet(300 * time.Millisecond)
}

// redisServer is a redis-server process of one test's own.
type redisServer struct {
	t    *testing.T
	port string
	cmd  *exec.Cmd
}

func startRedis(t *testing.T) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is needed to restart Redis under a running hub: %v", err)
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	rs := &redisServer{t: t, port: port}
	rs.start()
	t.Cleanup(rs.kill)
	return rs
}

func (rs *redisServer) url() string { return "redis://127.0.0.1:" + rs.port + "/0" }

// start runs the server and waits until it answers.
func (rs *redisServer) start() {
	rs.t.Helper()
	rs.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", rs.port, "--save", "", "--appendonly", "no")
	if err := rs.cmd.Start(); err != nil {
		rs.t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+rs.port); err == nil {
			c.Close()
			return
		}
	}
	rs.t.Fatal("redis-server did not start")
}

// kill stops the server the hard way, as a crash would.
func (rs *redisServer) kill() {
	if rs.cmd != nil && rs.cmd.Process != nil {
		_ = rs.cmd.Process.Kill()
		_ = rs.cmd.Wait()
		rs.cmd = nil
	}
}
