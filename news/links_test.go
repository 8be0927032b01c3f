package news_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// tracked is a sent broadcast of text to two members of the school, and
// a tracker of its links.
type tracked struct {
	*fixture
	tracker *news.Tracker
	b       storage.Broadcast
	// deliveries by person
	d map[int64]storage.Delivery
}

func trackedBroadcast(t *testing.T, text string, format []storage.Span) tracked {
	t.Helper()
	f := setup(t)
	one, two := f.person("school", storage.RoleMember), f.person("school", storage.RoleMember)
	b, err := f.db.CreateBroadcast(f.ctx, storage.Broadcast{OrgID: f.org["union"].ID, Text: text, Format: format, Mode: storage.ModeDirect,
		Audience: storage.Audience{Private: true}, Status: storage.BroadcastSending, CreatedAt: f.clock()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.BuildOutbox(f.ctx, b, storage.OutboxScope{Orgs: []storage.Org{f.org["school"]}}, f.clock()); err != nil {
		t.Fatal(err)
	}
	ds, err := f.db.ClaimDeliveries(f.ctx, "test", 10, f.clock(), f.clock().Add(time.Hour))
	if err != nil || len(ds) != 2 {
		t.Fatalf("claimed %d deliveries, %v; want 2", len(ds), err)
	}
	byPerson := map[int64]storage.Delivery{}
	for _, d := range ds {
		byPerson[d.PersonID] = d
	}
	if byPerson[one.ID].ID == 0 || byPerson[two.ID].ID == 0 {
		t.Fatalf("deliveries %+v, want one to each member", ds)
	}
	tr := news.NewTracker(news.TrackerConfig{Store: f.db, BaseURL: "https://hub.example.org/", Clock: f.clock, Logger: slog.New(slog.DiscardHandler),
		Share: func(p storage.Platform, _ string) string {
			return "https://share.example/" + string(p)
		}})
	return tracked{fixture: f, tracker: tr, b: b, d: byPerson}
}

// shortLinks are the hub's short links in a text and its formatting, in
// order.
func shortLinks(text string, format []storage.Span) []string {
	var out []string
	for _, u := range news.Targets(text, format) {
		if strings.HasPrefix(u, "https://hub.example.org/l/") {
			out = append(out, u)
		}
	}
	return out
}

func TestRewriteSendsEveryWebLinkThroughItsShortLink(t *testing.T) {
	t.Parallel()
	emoji := "🔥 Митинг: подробнее (https://a.example/x?y=1) и здесь"
	tests := []struct {
		name    string
		text    string
		format  []storage.Span
		targets []string
		// want is the rewritten text with each short link as <N>; covered
		// what each span covers in it, with a link's URL after a space.
		want    string
		covered []string
	}{
		{
			name: "an address written out, a full stop after it", text: "Читайте: https://union.example/news/1.",
			targets: []string{"https://union.example/news/1"}, want: "Читайте: <0>.",
		},
		{
			name: "a text link and an address after an emoji, formatting moved along", text: emoji,
			format: []storage.Span{span(emoji, "🔥 Митинг:", ""), span(emoji, "(https://a.example/x?y=1)", ""),
				span(emoji, "здесь", "https://b.example/")},
			targets: []string{"https://a.example/x?y=1", "https://b.example/"},
			want:    "🔥 Митинг: подробнее (<0>) и здесь",
			covered: []string{"🔥 Митинг:", "(<0>)", "здесь <1>"},
		},
		{
			name: "no web link: a tg link and a bare word stay", text: "Пишите в чат tg://resolve?domain=x и на union.example",
			targets: nil, want: "Пишите в чат tg://resolve?domain=x и на union.example",
		},
		{
			name: "a link in brackets it opened keeps its closing bracket", text: "См. https://ru.wikipedia.org/wiki/Профсоюз_(организация)",
			targets: []string{"https://ru.wikipedia.org/wiki/Профсоюз_(организация)"}, want: "См. <0>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := trackedBroadcast(t, tt.text, tt.format)
			if got := news.Targets(tt.text, tt.format); strings.Join(got, " ") != strings.Join(tt.targets, " ") {
				t.Fatalf("targets %q, want %q", got, tt.targets)
			}
			d := x.d[firstKey(x.d)]
			text, spans := x.tracker.Rewrite(x.ctx, d.ID, tt.text, tt.format)
			short := shortLinks(text, spans)
			if len(short) != len(tt.targets) {
				t.Fatalf("rewritten %q %+v: %d short links, want %d", text, spans, len(short), len(tt.targets))
			}
			// Name the short links by their number to compare.
			name := func(s string) string {
				for i, l := range short {
					s = strings.ReplaceAll(s, l, fmt.Sprintf("<%d>", i))
				}
				return s
			}
			if got := name(text); got != tt.want {
				t.Errorf("text %q, want %q", got, tt.want)
			}
			var covered []string
			for _, sp := range spans {
				units := utf16.Encode([]rune(text))
				c := string(utf16.Decode(units[sp.Offset : sp.Offset+sp.Length]))
				if sp.URL != "" {
					c += " " + sp.URL
				}
				covered = append(covered, name(c))
			}
			if strings.Join(covered, "|") != strings.Join(tt.covered, "|") {
				t.Errorf("spans cover %q, want %q", covered, tt.covered)
			}
			// Each short link leads where the original did.
			for i, s := range short {
				dest, err := x.tracker.Open(x.ctx, strings.TrimPrefix(s, "https://hub.example.org/l/"), true)
				if err != nil || dest != tt.targets[i] {
					t.Errorf("short link %d leads to %q, %v; want %q", i, dest, err, tt.targets[i])
				}
			}
		})
	}
}

// span is formatting over the first sub of text: a link to url, else bold.
func span(text, sub, url string) storage.Span {
	at := strings.Index(text, sub)
	s := storage.Span{Kind: storage.SpanBold, Offset: storage.UTF16Len(text[:at]), Length: storage.UTF16Len(sub)}
	if url != "" {
		s.Kind, s.URL = storage.SpanLink, url
	}
	return s
}

func firstKey(m map[int64]storage.Delivery) int64 {
	for k := range m {
		return k
	}
	return 0
}

func TestTooLongATextKeepsItsLinks(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("а", 4080) + " http://a.b"
	x := trackedBroadcast(t, text, nil)
	if got, _ := x.tracker.Rewrite(x.ctx, x.d[firstKey(x.d)].ID, text, nil); got != text {
		t.Errorf("a text at the limit got its link rewritten, now %d units", storage.UTF16Len(got))
	}
}

func TestOpensCountOncePerRecipientAndNeverForARobotOrAForgedLink(t *testing.T) {
	t.Parallel()
	x := trackedBroadcast(t, "Подробнее: https://union.example/a и https://union.example/b", nil)
	var ids []int64
	for _, d := range x.d {
		ids = append(ids, d.ID)
	}
	token := func(deliveryID int64, link int) string {
		t.Helper()
		s, ok := x.tracker.ShortLink(x.ctx, deliveryID, link)
		if !ok {
			t.Fatal("no short link")
		}
		return strings.TrimPrefix(s, "https://hub.example.org/l/")
	}
	open := func(tok string, count bool) string {
		t.Helper()
		dest, err := x.tracker.Open(x.ctx, tok, count)
		if err != nil {
			t.Fatalf("open %s: %v", tok, err)
		}
		return dest
	}
	// The first recipient opens the first link twice and shares; a
	// preview robot fetches the second; the other recipient opens the
	// second.
	open(token(ids[0], 0), true)
	open(token(ids[0], 0), true)
	if dest := open(token(ids[0], storage.LinkShare), true); dest != "https://share.example/telegram" {
		t.Errorf("Share leads to %q", dest)
	}
	if dest := open(token(ids[0], 1), false); dest != "https://union.example/b" {
		t.Errorf("the robot was led to %q", dest)
	}
	open(token(ids[1], 1), true)

	for _, forged := range []string{
		token(ids[0], 2), // no third link
		strings.Replace(token(ids[0], 0), ".0.", ".1.", 1),
		"", "abc", "1.0.AAAAAAAAAAAA", token(987654, 0),
	} {
		if _, err := x.tracker.Open(x.ctx, forged, true); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("open %q: %v, want not found", forged, err)
		}
	}
	counts, err := x.db.LinkOpenCounts(x.ctx, x.b.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := storage.LinkOpenCount{BroadcastID: x.b.ID, OrgID: x.org["school"].ID, Opens: 2, Shares: 1}
	if len(counts) != 1 || counts[0] != want {
		t.Errorf("counts %+v, want %+v", counts, want)
	}
}

func TestPreviewRobotsAreKnownByTheirUserAgent(t *testing.T) {
	t.Parallel()
	for ua, robot := range map[string]bool{
		"TelegramBot (like TwitterBot)":                                                                       true,
		"Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)":                                         true,
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile": false,
		"": false,
	} {
		if got := news.IsPreviewFetcher(ua); got != robot {
			t.Errorf("IsPreviewFetcher(%q) = %v, want %v", ua, got, robot)
		}
	}
}
