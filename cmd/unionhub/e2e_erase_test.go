package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/redis"
	"github.com/unionhub/unionhub/storage/sqlite"
)

// The person erased in these tests and what would give them away.
const (
	eraseName          = "Зайцекрылова Ефросинья"
	eraseWorkEmail     = "zaitsekrylova@school5.ru"
	erasePersonalEmail = "efrosinya.zk@mail.ru"
	erasePhoneDigits   = "9147654321" // typed as "+7 914 765-43-21" or "8 (914) 765-43-21"
	eraseTelegramID    = 7301234567
	eraseVKID          = 613370042
)

// needle is a distinctive value the walks look for.
type needle struct {
	label, value string
	digits       bool // compare with the digits of a value only: a phone number typed any way
}

func (n needle) in(v string) bool {
	if n.digits {
		return strings.Contains(strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v), n.value)
	}
	return strings.Contains(strings.ToLower(v), strings.ToLower(n.value))
}

// personal are the needles of what the person typed; ids are their
// messenger ids.
var (
	personal = []needle{
		// Word stems: declined forms of the name count too.
		{label: "surname", value: "Зайцекрылов"},
		{label: "first name", value: "Ефросинь"},
		{label: "work e-mail", value: eraseWorkEmail},
		{label: "personal e-mail", value: erasePersonalEmail},
		{label: "phone", value: erasePhoneDigits, digits: true},
	}
	ids = []needle{
		{label: "telegram id", value: fmt.Sprint(eraseTelegramID)},
		{label: "vk id", value: fmt.Sprint(eraseVKID)},
	}
)

// hit is a needle found: in a table's column or under a state key.
type hit struct{ place, label string }

func findAll(place, v string, ns []needle) []hit {
	var out []hit
	for _, n := range ns {
		if n.in(v) {
			out = append(out, hit{place, n.label})
		}
	}
	return out
}

// databaseHits walks every column of every table the database's catalog
// lists, whatever its type (text, JSON, integers, times...), and returns
// where the needles are; a column added later is walked too. It also
// returns the tables it walked.
func databaseHits(t *testing.T, r *rig, ns []needle) ([]hit, []string) {
	t.Helper()
	ctx := context.Background()
	var (
		db      *sql.DB
		err     error
		catalog string
	)
	if r.backend == onPostgres {
		db, err = sql.Open("pgx", r.getenv("DATABASE_URL"))
		catalog = `SELECT c.table_name, c.column_name FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
			ORDER BY c.table_name, c.ordinal_position`
	} else {
		file := filepath.Join(r.getenv("UNIONHUB_DATA_DIR"), sqlite.FileName)
		db, err = sql.Open("sqlite", (&url.URL{Scheme: "file", Path: file, RawQuery: "_pragma=busy_timeout(5000)&mode=ro"}).String())
		catalog = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY m.name, p.cid`
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, catalog)
	if err != nil {
		t.Fatalf("read the catalog: %v", err)
	}
	columns := map[string][]string{}
	var tables []string
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		if len(columns[table]) == 0 {
			tables = append(tables, table)
		}
		columns[table] = append(columns[table], column)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()

	var hits []hit
	for _, table := range tables {
		casts := make([]string, len(columns[table]))
		for i, c := range columns[table] {
			casts[i] = `CAST("` + c + `" AS TEXT)`
		}
		rows, err := db.QueryContext(ctx, "SELECT "+strings.Join(casts, ", ")+` FROM "`+table+`"`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		values := make([]sql.NullString, len(casts))
		dest := make([]any, len(casts))
		for i := range values {
			dest[i] = &values[i]
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			for i, v := range values {
				hits = append(hits, findAll(table+"."+columns[table][i], v.String, ns)...)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
	}
	return hits, tables
}

// stateKeys reads every key the hub keeps in its shared state, named as the
// in-process twin names them (value:conv:..., rate:...), with its value:
// from the twin when the rig has one, else from Redis under the rig's
// prefix, where the rate limiter's keys are prefixed once more.
func stateKeys(t *testing.T, r *rig, twin *redis.Memory) map[string]string {
	t.Helper()
	if twin != nil {
		return twin.Snapshot()
	}
	ctx := context.Background()
	opts, err := goredis.ParseURL(r.getenv("REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	defer client.Close()
	prefix := r.getenv("UNIONHUB_REDIS_PREFIX")
	out := map[string]string{}
	for _, pattern := range []string{prefix, "rate:" + prefix} {
		iter := client.Scan(ctx, 0, pattern+"*", 500).Iterator()
		for iter.Next(ctx) {
			key := iter.Val()
			typ, err := client.Type(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if typ == "none" {
				continue // expired since the scan saw it
			}
			if typ != "string" {
				t.Fatalf("state key %q holds a %s: teach the walk to read it", key, typ)
			}
			v, err := client.Get(ctx, key).Result()
			if err != nil && err != goredis.Nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(key, pattern)] = v
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func stateHits(keys map[string]string, ns []needle) []hit {
	var hits []hit
	for k, v := range keys {
		hits = append(hits, findAll(k, k+" "+v, ns)...)
	}
	return hits
}

// shortLived reports whether a state key lives only seconds: a chat lock
// held while an update is handled, or a rate limit's slot.
func shortLived(key string) bool {
	return strings.HasPrefix(key, "lock:") || strings.HasPrefix(key, "rate:")
}

// waitStateClean asserts that no state key names or holds the needles: at
// once for every key that lives longer than seconds, and within 10 s for
// chat locks and rate slots, which the walk waits out.
func waitStateClean(t *testing.T, r *rig, twin *redis.Memory, ns []needle) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for waited := false; ; waited = true {
		keys := stateKeys(t, r, twin)
		hits := stateHits(keys, ns)
		var lasting []hit
		for _, h := range hits {
			if !shortLived(h.place) {
				lasting = append(lasting, h)
			}
		}
		if len(lasting) > 0 {
			t.Fatalf("the state still holds the person: %v", lasting)
		}
		if len(hits) == 0 {
			return
		}
		if !waited {
			t.Logf("waiting out short-lived state keys: %v", hits)
		}
		if time.Now().After(deadline) {
			t.Fatalf("chat locks or rate slots still name the person after 10 s: %v", hits)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wantHits asserts that the walk found each of want, so that it can fail.
func wantHits(t *testing.T, what string, got []hit, want ...hit) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("the %s walk did not find %s in %s; it found %v", what, w.label, w.place, got)
		}
	}
}

// eraseCase is where the person lives: home is where they registered, ask
// and broadcast, the other platform where they abandoned a registration,
// linked the account and suggested news.
type eraseCase struct {
	home    storage.Platform
	backend backend
	twin    bool // the in-process state instead of Redis
}

func (c eraseCase) name() string {
	state := "redis"
	if c.twin {
		state = "in-process"
	}
	return fmt.Sprintf("%s/%s/%s", c.home, c.backend, state)
}

// withStateTwin runs the hub on m, an in-process state the test can read.
func withStateTwin(m *redis.Memory) rigOption {
	return func(r *rig) {
		delete(r.env, "REDIS_URL")
		r.opts = append(r.opts, func(a *app) { a.state = m })
	}
}

// accountOf returns the person's messenger id on plat.
func accountOf(plat storage.Platform) int {
	if plat == storage.VK {
		return eraseVKID
	}
	return eraseTelegramID
}

func otherPlatform(plat storage.Platform) storage.Platform {
	if plat == storage.VK {
		return storage.Telegram
	}
	return storage.VK
}

func idLabel(plat storage.Platform) string {
	if plat == storage.VK {
		return "vk id"
	}
	return "telegram id"
}

// TestForgetLeavesNoTrace walks a person through everything that stores
// what they typed, on both platforms, then /forget, then every column of
// every table and every state key: none may hold their name, e-mail
// addresses, phone number or messenger ids, while the anonymous figures
// stay as they were.
func TestForgetLeavesNoTrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []eraseCase{
		{storage.Telegram, onSQLite, false},
		{storage.VK, onPostgres, false},
		{storage.Telegram, onPostgres, true},
		{storage.VK, onSQLite, true},
	} {
		t.Run(tc.name(), func(t *testing.T) {
			t.Parallel()
			var twin *redis.Memory
			var opts []rigOption
			if tc.twin {
				twin = redis.NewMemory(time.Now)
				opts = append(opts, withStateTwin(twin))
			}
			r := newRig(t, tc.backend, opts...)
			r.importExample()
			r.serve()
			away := otherPlatform(tc.home)
			x := r.person(tc.home, accountOf(tc.home), "Ефросинья")
			xa := r.person(away, accountOf(away), "Ефросинья")
			infoworker := r.person(tc.home, 5101, "Обком")
			register(t, infoworker, r.invite("edu", "infoworker"), "Обкомова Ева")
			reader := r.person(tc.home, 5102, "Корсаковец")
			register(t, reader, r.invite("edu-korsakov-school-2", "member"), "Корсаковцев Кирилл")

			// Registered at home with every field, then a chair upstream.
			c := x.dm()
			x.openInvite(r.invite("edu-school-5", "member"))
			x.press(c.expect("Согласие"), "Согласен")
			c.expect("фамилию, имя")
			x.say(eraseName)
			c.expect("должность")
			x.say("Учитель-логопед")
			c.expect("Рабочий адрес")
			x.say(eraseWorkEmail)
			x.press(c.expect("личный адрес"), "Согласен(на) указать")
			c.expect("Напишите личный адрес")
			x.say(erasePersonalEmail)
			x.press(c.expect("Проверьте"), "Всё верно")
			c.expect("вы зарегистрированы")
			x.openInvite(r.invite("edu-korsakov", "chair"))
			c.expect("Готово: вы — председатель")

			// Away, a registration begun and abandoned: the typed name
			// leaves the state with the cancel.
			ca := xa.dm()
			xa.openInvite(r.invite("edu-school-5", "member"))
			xa.press(ca.expect("Согласие"), "Согласен")
			ca.expect("фамилию, имя")
			xa.say(eraseName)
			position := ca.expect("должность")
			awayConv := "value:conv:" + string(away) + ":" + xa.id()
			wantHits(t, "state", stateHits(stateKeys(t, r, twin), personal), hit{awayConv, "surname"})
			xa.press(position, "Отмена")
			ca.expect("Регистрация отменена")
			if hits := stateHits(stateKeys(t, r, twin), personal); len(hits) > 0 {
				t.Fatalf("the cancelled registration left %v in the state", hits)
			}

			// A wrong code, then the account linked.
			xa.say("/link AAAA2222")
			ca.expect("Код не подошёл")
			x.say("/link")
			code := linkCodePattern.FindStringSubmatch(c.expect("Ваш код:").text)[1]
			xa.say("/link " + code)
			ca.expect(eraseName + ", мессенджер подключён")

			// Two questions at home: one to erase, one to keep anonymously.
			erasedTicket := ask(t, x, "Зарплата", "Почему не доплачивают за проверку тетрадей? Перезвоните: +7 914 765-43-21")
			x.say("/ask")
			x.press(c.expect("Выберите тему вопроса"), "Условия труда")
			c.expect("Опишите вопрос")
			x.say("В кабинете логопеда нет отопления с ноября. " + eraseName)
			x.press(c.expect("Вопрос записан"), "Настроить и проверить")
			x.press(c.expect("Проверьте обращение"), "Хранить ли текст")
			x.press(c.expect("Хранить текст обезличенно после удаления ваших данных: да"), "Отправить")
			m := c.expect("Вопрос принят, №")
			var keptTicket int64
			if _, err := fmt.Sscanf(m.text[strings.Index(m.text, "№"):], "№ %d", &keptTicket); err != nil {
				t.Fatalf("no ticket number in %q", m.text)
			}

			// Away, a call for support declined with a reason naming her,
			// and news still pending, both with her phone number.
			xa.say("/suggest")
			xa.press(ca.expect("Что вы хотите сообщить"), "Призыв к поддержке")
			ca.expect("Опишите")
			xa.say(eraseName + ": администрация отказывает в отпуске. Мой телефон 8 (914) 765-43-21")
			ca.expect("Отправлено, №", "«Областная организация профсоюза работников образования»")
			ic := infoworker.dm()
			infoworker.press(ic.expect("Призыв к поддержке №", "отказывает в отпуске"), "Отклонить")
			ic.expect("Почему отклоняете")
			infoworker.say("Ефросинья, сначала обратитесь в профком школы.")
			ca.expect("не опубликует", "сначала обратитесь")
			xa.say("/suggest")
			xa.press(ca.expect("Что вы хотите сообщить"), "Новость")
			ca.expect("Опишите")
			xa.say("Наш логопед провела открытый урок. Подробности: +7 914 765-43-21")
			ic.expect("Предложена новость №", "открытый урок")

			// At home, news as the chair: the progress is shown in her chat.
			settings := compose(t, x, "Семинар председателей первичных организаций — 20 мая.")
			x.press(settings, "Отправить сейчас")
			broadcastID := broadcastIDOf(t, c.expect("Рассылка №"))
			reader.dm().expect("Семинар председателей")
			c.expect(fmt.Sprintf("Рассылка № %d завершена", broadcastID))

			// Away, a question typed and left unsent.
			xa.say("/ask")
			xa.press(ca.expect("Выберите тему вопроса"), "Зарплата")
			ca.expect("Опишите вопрос")
			xa.say("Черновик: позвоните мне, +7 914 765-43-21")
			ca.expect("Вопрос записан")

			// The walks see her everywhere before /forget, so they can fail.
			dbHits, tables := databaseHits(t, r, append(personal, ids...))
			for _, table := range []string{"people", "accounts", "tickets", "ticket_messages", "suggestions", "broadcasts", "deliveries",
				"survey_answers", "board_checks", "relay_steps"} {
				if !slices.Contains(tables, table) {
					t.Fatalf("the catalog walk missed table %s: %v", table, tables)
				}
			}
			home, awayID := idLabel(tc.home), idLabel(away)
			wantHits(t, "database", dbHits,
				hit{"people.full_name", "surname"}, hit{"people.work_email", "work e-mail"}, hit{"people.personal_email", "personal e-mail"},
				hit{"accounts.external_id", home}, hit{"accounts.external_id", awayID},
				hit{"ticket_messages.text", "phone"}, hit{"ticket_messages.text", "surname"},
				hit{"suggestions.text", "phone"}, hit{"suggestions.text", "surname"}, hit{"suggestions.reason", "first name"},
				hit{"broadcasts.progress_chat_id", home})
			wantHits(t, "state", stateHits(stateKeys(t, r, twin), append(personal, ids...)),
				hit{awayConv, "phone"}, hit{awayConv, awayID}, hit{"value:linkfail:" + string(away) + ":" + xa.id(), awayID})

			type hotlineFigures struct {
				Tickets int `json:"tickets"`
				ByTopic []struct {
					Topic string `json:"topic"`
					Count int    `json:"count"`
				} `json:"by_topic"`
			}
			var hotlineBefore, hotlineAfter hotlineFigures
			type broadcastFigures struct{ Audience, Delivered int }
			var newsBefore, newsAfter broadcastFigures
			figures := func(hot *hotlineFigures, news *broadcastFigures) {
				t.Helper()
				out := r.mustRun("report", "hotline", "--org", "edu", "--format", "json")
				if err := json.Unmarshal([]byte(out), hot); err != nil {
					t.Fatalf("hot-line report %s: %v", out, err)
				}
				out = r.mustRun("report", "broadcast", fmt.Sprint(broadcastID), "--format", "json")
				if err := json.Unmarshal([]byte(out), news); err != nil {
					t.Fatalf("broadcast report %s: %v", out, err)
				}
			}
			figures(&hotlineBefore, &newsBefore)
			// The author is not in her own audience: the reader is.
			if hotlineBefore.Tickets != 2 || newsBefore.Audience != 1 || newsBefore.Delivered != 1 {
				t.Fatalf("before /forget: hot line %+v, news %+v; want 2 tickets and 1 of 1 delivered", hotlineBefore, newsBefore)
			}

			x.say("/forget")
			x.press(c.expect("Удалить ваши персональные данные"), "Да, удалить")
			c.expect("персональные данные удалены")

			if hits, _ := databaseHits(t, r, append(personal, ids...)); len(hits) > 0 {
				t.Errorf("the database still holds the person: %v", hits)
			}
			waitStateClean(t, r, twin, append(personal, ids...))
			for _, n := range personal {
				if n.in(r.logs.String()) {
					t.Errorf("the logs hold the %s", n.label)
				}
			}

			// What stays is anonymous and counts as before.
			figures(&hotlineAfter, &newsAfter)
			if hb, ha := fmt.Sprintf("%+v", hotlineBefore), fmt.Sprintf("%+v", hotlineAfter); hb != ha {
				t.Errorf("hot-line figures changed: %s, then %s", hb, ha)
			}
			if newsAfter != newsBefore {
				t.Errorf("broadcast figures changed: %+v, then %+v", newsBefore, newsAfter)
			}
			db := r.store()
			thread := func(id int64) []string {
				ms, err := db.TicketMessages(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				var texts []string
				for _, m := range ms {
					texts = append(texts, m.Text)
				}
				return texts
			}
			if got := thread(keptTicket); len(got) != 1 || got[0] != "В кабинете логопеда нет отопления с ноября. ***" {
				t.Errorf("the question kept anonymously reads %q", got)
			}
			if got := thread(erasedTicket); len(got) != 1 || got[0] != "" {
				t.Errorf("the erased question reads %q", got)
			}
			for _, id := range []int64{erasedTicket, keptTicket} {
				if tk := ticketOf(t, db, id); tk.PersonID != 0 || tk.Status != storage.TicketClosed {
					t.Errorf("ticket %d after /forget: %+v; want it closed and anonymous", id, tk)
				}
			}
			pending, err := db.Suggestions(context.Background(), mustOrg(t, r, "edu").ID)
			if err != nil || len(pending) != 0 {
				t.Errorf("suggestions still pending after /forget: %+v, %v", pending, err)
			}
		})
	}
}

// TestAbandonedRegistrationLeavesNoNameInState types a name into a
// registration and leaves it in each of four ways: the name is gone from
// the state at once, not 24 hours later.
func TestAbandonedRegistrationLeavesNoNameInState(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		for _, twin := range []bool{false, true} {
			tc := eraseCase{home: plat, backend: onSQLite, twin: twin}
			t.Run(tc.name(), func(t *testing.T) {
				t.Parallel()
				var m *redis.Memory
				var opts []rigOption
				if twin {
					m = redis.NewMemory(time.Now)
					opts = append(opts, withStateTwin(m))
				}
				r := newRig(t, onSQLite, opts...)
				r.importExample()
				r.serve()
				code := r.invite("edu-school-5", "member")
				for i, leave := range []struct {
					name string
					do   func(p person, first, last botMsg)
					want string
				}{
					{"cancel button", func(p person, _, last botMsg) { p.press(last, "Отмена") }, "Регистрация отменена"},
					// The person scrolls up: a cancel is never stale.
					{"cancel button of an earlier step", func(p person, first, _ botMsg) { p.press(first, "Отмена") }, "Регистрация отменена"},
					{"/cancel", func(p person, _, _ botMsg) { p.say("/cancel") }, "Регистрация отменена"},
					{"/forget", func(p person, _, _ botMsg) { p.say("/forget") }, "не храним о вас"},
				} {
					p := r.person(plat, accountOf(plat)+i, "Ефросинья")
					c := p.dm()
					p.openInvite(code)
					p.press(c.expect("Согласие"), "Согласен")
					first := c.expect("фамилию, имя")
					p.say(eraseName)
					c.expect("должность")
					p.say("Учитель-логопед")
					c.expect("Рабочий адрес")
					p.say(eraseWorkEmail)
					last := c.expect("личный адрес")
					conv := "value:conv:" + string(plat) + ":" + p.id()
					wantHits(t, "state", stateHits(stateKeys(t, r, m), personal), hit{conv, "surname"}, hit{conv, "work e-mail"})
					leave.do(p, first, last)
					c.expect(leave.want)
					if hits := stateHits(stateKeys(t, r, m), personal); len(hits) > 0 {
						t.Errorf("%s: the abandoned registration left %v in the state", leave.name, hits)
					}
				}
			})
		}
	}
}
