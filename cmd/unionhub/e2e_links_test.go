package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

// shortLinkIn finds the hub's short links in a text.
var shortLinkIn = regexp.MustCompile(`http://[0-9.:]+/l/[0-9a-z]+\.[0-9s]+\.[A-Za-z0-9_-]+`)

// TestLinksInNewsCountOncePerRecipient walks a news item with two links
// to a member and an activist on each platform: the links go out as the
// hub's short links, lead where the author's did, and count the member's
// two opens of one link once, a preview robot's fetch and a HEAD not at
// all; the activist's Share counts as a share; a forged link leads nowhere.
func TestLinksInNewsCountOncePerRecipient(t *testing.T) {
	t.Parallel()
	for _, plat := range platforms {
		t.Run(string(plat), func(t *testing.T) {
			t.Parallel()
			r := newRig(t, onPostgres)
			public := "http://" + r.getenv("UNIONHUB_HTTP_ADDR")
			r.setenv("UNIONHUB_PUBLIC_URL", public)
			r.importExample()
			r.serve()
			public = r.getenv("UNIONHUB_PUBLIC_URL") // moved if serve had to take another port
			author, member, activist := r.person(plat, 3101, "Инна"), r.person(plat, 3102, "Мария"), r.person(plat, 3103, "Антон")
			register(t, author, r.invite("union", "infoworker"), "Союзная Инна")
			register(t, member, r.invite("edu-school-5", "member"), "Учителева Мария")
			register(t, activist, r.invite("edu-school-5", "activist"), "Активистов Антон")

			settings := compose(t, author, "Индексация: https://union.example/indexation?year=2027. Анкета: https://union.example/form")
			author.press(settings, "Отправить сейчас")
			id := broadcastIDOf(t, author.dm().expect("Рассылка №"))
			got := member.dm().expect("Индексация:", "Анкета:")
			links := shortLinkIn.FindAllString(got.text, -1)
			if len(links) != 2 || strings.Contains(got.text, "union.example") {
				t.Fatalf("the member got %q: want both links as the hub's short links", got.text)
			}
			if !strings.Contains(got.text, links[0]+". Анкета") {
				t.Errorf("the full stop after the first link left it: %q", got.text)
			}
			shared := activist.dm().expect("Индексация:")
			share := shared.button(t, "Поделиться").url
			if !strings.HasPrefix(share, public+"/l/") {
				t.Fatalf("the activist's Share button leads to %q, not through the hub", share)
			}

			open := func(method, link, agent string) (int, string) {
				t.Helper()
				rq, err := http.NewRequestWithContext(t.Context(), method, link, nil)
				if err != nil {
					t.Fatal(err)
				}
				rq.Header.Set("User-Agent", agent)
				client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, err := client.Do(rq)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp.StatusCode, resp.Header.Get("Location")
			}
			const phone = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36"
			for _, step := range []struct{ method, agent string }{
				{http.MethodGet, "TelegramBot (like TwitterBot)"},
				{http.MethodGet, "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)"},
				{http.MethodHead, phone},
				{http.MethodGet, phone},
				{http.MethodGet, phone},
			} {
				if code, to := open(step.method, links[0], step.agent); code != http.StatusFound || to != "https://union.example/indexation?year=2027" {
					t.Fatalf("%s %s by %q: %d to %q", step.method, links[0], step.agent, code, to)
				}
			}
			wantShare := map[storage.Platform]string{storage.Telegram: "https://t.me/share/url?", storage.VK: "https://vk.com/share.php?"}[plat]
			if code, to := open(http.MethodGet, share, phone); code != http.StatusFound || !strings.HasPrefix(to, wantShare) {
				t.Fatalf("Share: %d to %q, want the platform's share dialog", code, to)
			}
			forged := links[1][:len(links[1])-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(links[1], "A")]
			if code, _ := open(http.MethodGet, forged, phone); code != http.StatusNotFound {
				t.Errorf("a forged link: %d, want 404", code)
			}

			out := r.mustRun("report", "broadcast", fmt.Sprint(id), "--format", "json")
			var rep struct {
				Opens  int `json:"link_opens"`
				Shares int `json:"shares"`
				ByOrg  []struct {
					Code   string
					Opens  int `json:"link_opens"`
					Shares int `json:"shares"`
				} `json:"by_org"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("report %s: %v", out, err)
			}
			if rep.Opens != 1 || rep.Shares != 1 {
				t.Errorf("report: %d link opens, %d shares; want 1 and 1 (%s)", rep.Opens, rep.Shares, out)
			}
			for _, o := range rep.ByOrg {
				if o.Code == "edu-school-5" && (o.Opens != 1 || o.Shares != 1) {
					t.Errorf("the school's row: %+v, want its 1 open and 1 share", o)
				}
			}
		})
	}
}
