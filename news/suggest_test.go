package news_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

func TestASuggestionGoesToTheNearestLevelWithAPublisher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// publishers registers who publishes where.
		publishers []string // org codes of information workers
		kind       storage.SuggestionKind
		at         string
		waiting    bool
		union      bool // the union is shown it, without the decisions
	}{
		{"news, the branch decides", []string{"edu", "union"}, storage.SuggestNews, "edu", false, false},
		{"news, nobody in the branch", []string{"union"}, storage.SuggestNews, "union", false, false},
		{"news, nobody at all", nil, storage.SuggestNews, "edu", true, false},
		{"a call, the branch decides, the union sees it", []string{"edu", "union"}, storage.SuggestCall, "edu", false, true},
		{"a call the union decides itself", []string{"union"}, storage.SuggestCall, "union", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			byOrg := map[string]int64{}
			for _, code := range tt.publishers {
				byOrg[code] = f.person(code, storage.RoleInfoworker).ID
			}
			author := f.person("school", storage.RoleMember)
			sent, err := f.svc.Submit(f.ctx, f.actor(author), news.Suggestion{FromOrgID: f.org["school"].ID, Kind: tt.kind, Text: "Школа выиграла конкурс"})
			if err != nil {
				t.Fatal(err)
			}
			sg := sent.Suggestion
			if sent.At.Code != tt.at || sent.Waiting != tt.waiting || sg.AtOrgID != f.org[tt.at].ID || sg.AuthorID != author.ID ||
				sg.Kind != tt.kind || sg.Solidarity != (tt.kind == storage.SuggestCall) || sg.Status != storage.SuggestionPending {
				t.Fatalf("submitted %+v at %s, waiting %v", sg, sent.At.Code, sent.Waiting)
			}
			var want []told
			if !tt.waiting {
				want = append(want, told{kind: "suggestion", person: byOrg[tt.at], org: tt.at, decide: true})
			}
			if tt.union {
				want = append(want, told{kind: "suggestion", person: byOrg["union"], org: "union"})
			}
			got := f.told.take()
			if len(got) != len(want) {
				t.Fatalf("told %+v, want %+v", got, want)
			}
			for i, w := range want {
				g := got[i]
				if g.kind != w.kind || g.person != w.person || g.org != w.org || g.decide != w.decide {
					t.Errorf("told %+v, want %+v", g, w)
				}
				if g.item.ID != sg.ID || g.item.From.Code != "school" || g.item.Author == nil || g.item.Author.ID != author.ID || g.item.At.Code != tt.at {
					t.Errorf("shown %+v", g.item)
				}
			}
		})
	}
}

func TestSubmitRefusals(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.person("edu", storage.RoleInfoworker)
	member := f.actor(f.person("school", storage.RoleMember))
	school := f.org["school"].ID
	tests := []struct {
		name string
		by   access.Actor
		sg   news.Suggestion
		err  error
	}{
		{"from an org not theirs", member, news.Suggestion{FromOrgID: f.org["gym"].ID, Text: "Новость"}, access.ErrForbidden},
		{"a stranger", access.Actor{}, news.Suggestion{FromOrgID: school, Text: "Новость"}, access.ErrForbidden},
		{"empty", member, news.Suggestion{FromOrgID: school, Text: ""}, news.ErrInvalid},
		{"too long", member, news.Suggestion{FromOrgID: school, Text: strings.Repeat("я", news.MaxText+1)}, news.ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := f.svc.Submit(f.ctx, tt.by, tt.sg); !errors.Is(err, tt.err) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
		}
	}
	if got := f.told.take(); len(got) != 0 {
		t.Fatalf("a refused suggestion was shown: %+v", got)
	}
}

// suggestCrew is a member's suggestion waiting at edu, with who publishes
// at edu and at the union.
type suggestCrew struct {
	author, edu, union storage.Person
	id                 int64
}

func (f *fixture) suggestion() suggestCrew {
	f.t.Helper()
	c := suggestCrew{edu: f.person("edu", storage.RoleInfoworker), union: f.person("union", storage.RoleInfoworker), author: f.person("school", storage.RoleMember)}
	sent, err := f.svc.Submit(f.ctx, f.actor(c.author), news.Suggestion{FromOrgID: f.org["school"].ID, Text: "Школа выиграла конкурс"})
	if err != nil || sent.At.Code != "edu" {
		f.t.Fatalf("submitted at %s: %v", sent.At.Code, err)
	}
	c.id = sent.Suggestion.ID
	f.told.take()
	return c
}

func TestPassUpPublishAndDecline(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.suggestion()
	f.people()
	member := f.actor(f.person("school", storage.RoleMember))
	for _, by := range []access.Actor{member, f.actor(c.author)} {
		if _, err := f.svc.PassUp(f.ctx, by, c.id); !errors.Is(err, access.ErrForbidden) {
			t.Fatalf("a member passes it up: %v", err)
		}
	}
	to, err := f.svc.PassUp(f.ctx, f.actor(c.edu), c.id)
	if err != nil || to.Code != "union" {
		t.Fatalf("passed up to %s: %v", to.Code, err)
	}
	if got := f.told.take(); len(got) != 1 || got[0].person != c.union.ID || !got[0].decide || got[0].item.At.Code != "union" {
		t.Fatalf("told %+v: want the union asked to decide", got)
	}
	if _, err := f.svc.Suggestion(f.ctx, f.actor(c.edu), c.id); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("the branch still sees it to decide: %v", err)
	}
	if _, err := f.svc.PassUp(f.ctx, f.actor(c.union), c.id); !errors.Is(err, news.ErrTopLevel) {
		t.Fatalf("passed up from the top: %v", err)
	}
	item, err := f.svc.Suggestion(f.ctx, f.actor(c.union), c.id)
	if err != nil || item.At.Code != "union" || item.From.Code != "school" || item.Author == nil {
		t.Fatalf("the union sees %+v (%v)", item, err)
	}

	published, err := f.svc.Publish(f.ctx, f.actor(c.union), c.id)
	if err != nil {
		t.Fatal(err)
	}
	b := f.broadcast(published.Broadcast.ID)
	if b.OrgID != f.org["union"].ID || b.FromOrgID != f.org["school"].ID || b.AuthorID != c.union.ID || b.Mode != storage.ModeDirect ||
		b.Text != "Школа выиграла конкурс" || b.Status != storage.BroadcastSending || published.Suggestion.Status != storage.SuggestionPublished {
		t.Fatalf("published as %+v, suggestion %+v", b, published.Suggestion)
	}
	// Down the union's whole subtree: the branch's information worker, the
	// school's four members (its author among them), the clinic's.
	if f.queued(b.ID, "edu") != 1 || f.queued(b.ID, "school") != 4 || f.queued(b.ID, "clinic") != 1 {
		t.Fatalf("rows %v", f.rows(b.ID))
	}
	if got := f.told.take(); len(got) != 1 || got[0].kind != "decided" || got[0].person != c.author.ID || !got[0].published || got[0].org != "union" {
		t.Fatalf("told %+v: want the author told it was published by the union", got)
	}
	for name, call := range map[string]func() error{
		"publish": func() error { _, err := f.svc.Publish(f.ctx, f.actor(c.union), c.id); return err },
		"pass up": func() error { _, err := f.svc.PassUp(f.ctx, f.actor(c.union), c.id); return err },
		"decline": func() error { _, err := f.svc.Decline(f.ctx, f.actor(c.union), c.id, "Поздно"); return err },
		"show":    func() error { _, err := f.svc.Suggestion(f.ctx, f.actor(c.union), c.id); return err },
	} {
		if err := call(); !errors.Is(err, news.ErrDecided) {
			t.Errorf("%s after publishing: %v, want decided", name, err)
		}
	}
}

func TestDeclineTellsTheAuthorWhy(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.suggestion()
	if _, err := f.svc.Decline(f.ctx, f.actor(c.edu), c.id, ""); !errors.Is(err, news.ErrInvalid) {
		t.Fatalf("declined without a reason: %v", err)
	}
	if _, err := f.svc.Decline(f.ctx, f.actor(c.author), c.id, "Нет"); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("the author declines it: %v", err)
	}
	// The union may decide for the branches below it too.
	sg, err := f.svc.Decline(f.ctx, f.actor(c.union), c.id, "Сначала обсудим на профкоме.")
	if err != nil || sg.Status != storage.SuggestionDeclined || sg.Reason != "Сначала обсудим на профкоме." {
		t.Fatalf("declined %+v (%v)", sg, err)
	}
	got := f.told.take()
	if len(got) != 1 || got[0].kind != "decided" || got[0].published || got[0].person != c.author.ID || got[0].reason != "Сначала обсудим на профкоме." || got[0].org != "edu" {
		t.Fatalf("told %+v", got)
	}
	if _, err := f.svc.Decline(f.ctx, f.actor(c.edu), c.id, "Нет"); !errors.Is(err, news.ErrDecided) {
		t.Fatalf("declined twice: %v", err)
	}
}

func TestNobodyAboveKeepsASuggestionWhereItIs(t *testing.T) {
	t.Parallel()
	f := setup(t)
	edu := f.person("edu", storage.RoleInfoworker)
	author := f.person("school", storage.RoleMember)
	sent := must(f.svc.Submit(f.ctx, f.actor(author), news.Suggestion{FromOrgID: f.org["school"].ID, Text: "Новость"}))(t)
	if _, err := f.svc.PassUp(f.ctx, f.actor(edu), sent.Suggestion.ID); !errors.Is(err, news.ErrNobodyAbove) {
		t.Fatalf("passed to nobody: %v", err)
	}
	if item, err := f.svc.Suggestion(f.ctx, f.actor(edu), sent.Suggestion.ID); err != nil || item.At.Code != "edu" {
		t.Fatalf("it moved: %+v (%v)", item, err)
	}
}

func TestPendingListsEachSuggestionOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	both := f.person("union", storage.RoleInfoworker, "edu", "infoworker")
	var ids []int64
	for _, code := range []string{"school", "clinic", "gym"} {
		author := f.person(code, storage.RoleMember)
		sent := must(f.svc.Submit(f.ctx, f.actor(author), news.Suggestion{FromOrgID: f.org[code].ID, Text: "Новость из " + code}))(t)
		ids = append(ids, sent.Suggestion.ID)
	}
	got, err := f.svc.Pending(f.ctx, f.actor(both))
	if err != nil {
		t.Fatal(err)
	}
	var gotIDs []int64
	for _, sg := range got {
		gotIDs = append(gotIDs, sg.ID)
	}
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, ids) {
		t.Fatalf("pending %v, want %v once each", gotIDs, ids)
	}
	if _, err := f.svc.Pending(f.ctx, f.actor(f.person("school", storage.RoleMember))); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a member's list: %v", err)
	}
}
