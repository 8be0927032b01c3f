package news_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// people registers the edu branch's audience: two members of the school,
// an activist of the gymnasium, and a member of the clinic elsewhere.
func (f *fixture) people() {
	f.person("school", storage.RoleMember)
	f.person("school", storage.RoleMember)
	f.person("gym", storage.RoleActivist)
	f.person("clinic", storage.RoleMember)
}

func TestPreviewCountsWhomADraftReaches(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	f.people()
	edu := f.org["edu"].ID
	tests := []struct {
		name          string
		d             news.Draft
		people, chats int
	}{
		{"the whole subtree, the author left out", news.Draft{OrgID: edu}, 3, 0},
		{"activists", news.Draft{OrgID: edu, Roles: news.RolesActivists}, 1, 0},
		{"chairs and information workers", news.Draft{OrgID: edu, Roles: news.RolesLeadership}, 0, 0},
		{"one primary", news.Draft{OrgID: edu, Orgs: []int64{f.org["gym"].ID}}, 1, 0},
		{"group chats only", news.Draft{OrgID: edu, Where: news.WhereChats}, 0, 0},
	}
	for _, tt := range tests {
		p, err := f.svc.Preview(f.ctx, chair, tt.d)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if p.People != tt.people || p.Chats != tt.chats || p.Org.Code != "edu" || len(p.Children) != 2 {
			t.Errorf("%s: %d people, %d chats from %s with %d below; want %d, %d from edu with 2",
				tt.name, p.People, p.Chats, p.Org.Code, len(p.Children), tt.people, tt.chats)
		}
	}
}

func TestOnlyTheirOwnOrgsSendNews(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	union := f.actor(f.person("union", storage.RoleInfoworker))
	member := f.actor(f.person("school", storage.RoleMember))
	if got := f.svc.SenderOrgs(chair); len(got) != 1 || got[0].Code != "edu" {
		t.Fatalf("the chair sends from %+v, want edu", got)
	}
	if got := f.svc.SenderOrgs(member); len(got) != 0 {
		t.Fatalf("a member sends from %+v", got)
	}
	tests := []struct {
		name string
		by   access.Actor
		org  string
	}{
		{"a member", member, "school"},
		{"a chair, for another branch", chair, "health"},
		{"a chair, for a primary below", chair, "school"},
		{"the union, for a branch below", union, "edu"},
	}
	for _, tt := range tests {
		d := news.Draft{OrgID: f.org[tt.org].ID, Text: "Собрание"}
		if _, err := f.svc.Preview(f.ctx, tt.by, d); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("%s: preview gives %v, want forbidden", tt.name, err)
		}
		if _, err := f.svc.Children(f.ctx, tt.by, d.OrgID); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("%s: children give %v, want forbidden", tt.name, err)
		}
		if _, err := f.svc.Create(f.ctx, tt.by, d, nil); !errors.Is(err, access.ErrForbidden) {
			t.Errorf("%s: create gives %v, want forbidden", tt.name, err)
		}
	}
}

func TestCreateChecksTheDraftAndTheTime(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	edu, now := f.org["edu"].ID, f.clock()
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	file := []storage.Attachment{{Platform: storage.Telegram, Kind: "photo", FileID: "photo-1"}}
	tests := []struct {
		name     string
		d        news.Draft
		at       *time.Time
		err      error
		deadline *time.Time
	}{
		{"now", news.Draft{OrgID: edu, Text: "Собрание"}, nil, nil, nil},
		{"a photo without a caption", news.Draft{OrgID: edu, Files: file}, nil, nil, nil},
		{"no text, no files", news.Draft{OrgID: edu, Text: "  "}, nil, news.ErrInvalid, nil},
		{"too long", news.Draft{OrgID: edu, Text: strings.Repeat("я", news.MaxText+1)}, nil, news.ErrInvalid, nil},
		{"the longest, in emoji", news.Draft{OrgID: edu, Text: strings.Repeat("📣", news.MaxText/2)}, nil, nil, nil},
		{"in the past", news.Draft{OrgID: edu, Text: "Собрание"}, at(-time.Minute), news.ErrBadTime, nil},
		{"right now, scheduled", news.Draft{OrgID: edu, Text: "Собрание"}, at(0), news.ErrBadTime, nil},
		{"over a year ahead", news.Draft{OrgID: edu, Text: "Собрание"}, at(366 * 24 * time.Hour), news.ErrBadTime, nil},
		{"tomorrow", news.Draft{OrgID: edu, Text: "Собрание"}, at(24 * time.Hour), nil, nil},
		{"relayed now", news.Draft{OrgID: edu, Text: "Собрание", Relay: true}, nil, nil, at(news.RelayPeriod)},
		{"relayed tomorrow", news.Draft{OrgID: edu, Text: "Собрание", Relay: true}, at(24 * time.Hour), nil, at(24*time.Hour + news.RelayPeriod)},
	}
	for _, tt := range tests {
		b, err := f.svc.Create(f.ctx, chair, tt.d, tt.at)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: %v, want %v", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		stored := f.broadcast(b.ID)
		if stored.Status != storage.BroadcastScheduled || stored.AuthorID != chair.PersonID || !equalTime(stored.ScheduledAt, tt.at) || !equalTime(stored.RelayDeadline, tt.deadline) {
			t.Errorf("%s: stored %+v", tt.name, stored)
		}
	}
}

func equalTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

func TestStartBuildsTheOutboxForItsAuthorOnly(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.person("edu", storage.RoleChair)
	chair := f.actor(p)
	other := f.actor(f.person("edu", storage.RoleInfoworker))
	f.people()
	b := must(f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание"}, nil))(t)
	if err := f.svc.Start(f.ctx, other, b); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("another's start: %v", err)
	}
	if f.queued(b.ID, "school", "gym", "clinic") != 0 {
		t.Fatal("rows before the start")
	}
	if err := f.svc.Start(f.ctx, chair, b); err != nil {
		t.Fatal(err)
	}
	if got := f.queued(b.ID, "school", "gym"); got != 3 || f.queued(b.ID, "clinic") != 0 {
		t.Fatalf("rows %v, want 3 in edu's primaries and none in the clinic", f.rows(b.ID))
	}
	if stored := f.broadcast(b.ID); stored.Status != storage.BroadcastSending || stored.Building {
		t.Fatalf("started %+v: want sending, built", stored)
	}
	if f.engine.kicks.Load() == 0 {
		t.Fatal("the engine was not woken")
	}
	// The branch's information worker is in the audience too.
	if people, chats := must2(f.svc.Reach(f.ctx, b))(t); people != 4 || chats != 0 {
		t.Fatalf("reach %d people, %d chats", people, chats)
	}
	// A second start finds the build over and leaves it alone.
	if err := f.svc.Start(f.ctx, chair, b); err != nil || f.queued(b.ID, "school", "gym") != 3 {
		t.Fatalf("second start: %v, rows %v", err, f.rows(b.ID))
	}
}

// must2 is must for two results.
func must2[A, B any](a A, b B, err error) func(t *testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func TestStopCancelsWhatIsLeftOnce(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	union := f.actor(f.person("union", storage.RoleChair))
	member := f.actor(f.person("school", storage.RoleMember))
	f.people()
	b := must(f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание"}, nil))(t)
	if err := f.svc.Start(f.ctx, chair, b); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Stop(f.ctx, member, b.ID); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("a member stops it: %v", err)
	}
	if _, err := f.svc.Stop(f.ctx, chair, 999); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("no such broadcast: %v", err)
	}
	// Whoever may publish above stops it too.
	n, err := f.svc.Stop(f.ctx, union, b.ID)
	if err != nil || n != 4 {
		t.Fatalf("stopped %d (%v), want the 4 queued", n, err)
	}
	if _, err := f.svc.Stop(f.ctx, chair, b.ID); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stopped twice: %v", err)
	}
	if got := f.broadcast(b.ID).Status; got != storage.BroadcastCancelled {
		t.Fatalf("status %s", got)
	}
}

func TestTimersStartScheduledNewsAndNowOnlyAfterItsSenderFailed(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	f.people()
	d := news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание"}
	at := f.clock().Add(time.Hour)
	scheduled := must(f.svc.Create(f.ctx, chair, d, &at))(t)
	now := must(f.svc.Create(f.ctx, chair, d, nil))(t) // its sender crashed before starting it
	f.round()
	if f.queued(scheduled.ID, "school", "gym") != 0 || f.queued(now.ID, "school", "gym") != 0 {
		t.Fatal("the timers started news before its time, or one its sender is starting")
	}
	f.advance(news.DefaultBuildLease)
	f.round()
	if f.queued(now.ID, "school", "gym") != 3 || f.queued(scheduled.ID, "school", "gym") != 0 {
		t.Fatalf("after the lease: now %v, scheduled %v", f.rows(now.ID), f.rows(scheduled.ID))
	}
	f.advance(time.Hour)
	f.round()
	if f.queued(scheduled.ID, "school", "gym") != 3 {
		t.Fatalf("at its time: %v", f.rows(scheduled.ID))
	}
}

func TestAFailedBuildIsMarkedAndToldToTheAuthor(t *testing.T) {
	t.Parallel()
	f := setup(t)
	p := f.person("edu", storage.RoleChair)
	chair := f.actor(p)
	f.people()
	failing := f.service(failingStore{f.db})
	d := news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание"}

	b := must(failing.Create(f.ctx, chair, d, nil))(t)
	if err := failing.Start(f.ctx, chair, b); !errors.Is(err, news.ErrBuildFailed) {
		t.Fatalf("start: %v, want the build failed", err)
	}
	if got := f.broadcast(b.ID); got.Status != storage.BroadcastFailed || got.Building {
		t.Fatalf("broadcast %+v: want failed, no longer building", got)
	}
	if got := f.told.take(); len(got) != 1 || got[0].kind != "failed" || got[0].person != p.ID || got[0].broadcast != b.ID {
		t.Fatalf("told %+v: want the author told once", got)
	}

	// A scheduled one fails in the timers' round: its progress message, if
	// it has one, shows the failure too.
	at := f.clock().Add(time.Hour)
	b = must(failing.Create(f.ctx, chair, d, &at))(t)
	if err := failing.KeepProgress(f.ctx, chair, b, storage.DeskPost{Platform: storage.Telegram, ChatID: "1", MessageID: "9"}); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour)
	if err := failing.TimersRound(f.ctx); !errors.Is(err, news.ErrBuildFailed) {
		t.Fatalf("round: %v, want the build failed", err)
	}
	got := f.told.take()
	if len(got) != 2 || got[0].kind != "progress" || got[0].status != storage.BroadcastFailed || got[1].kind != "failed" {
		t.Fatalf("told %v (%+v): want the failed progress, then the author", kinds(got), got)
	}
	// A failed broadcast's progress changes no more.
	if err := failing.ProgressRound(f.ctx); err != nil || len(f.told.take()) != 0 {
		t.Fatalf("a failed broadcast's progress was shown again (%v)", err)
	}
}

func TestProgressIsKeptUntilTheEngineFinishes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	other := f.actor(f.person("edu", storage.RoleInfoworker))
	f.people()
	b := must(f.svc.Create(f.ctx, chair, news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание"}, nil))(t)
	if err := f.svc.Start(f.ctx, chair, b); err != nil {
		t.Fatal(err)
	}
	at := storage.DeskPost{TicketID: b.ID, Platform: storage.Telegram, ChatID: "1", MessageID: "9"}
	if err := f.svc.KeepProgress(f.ctx, other, b, at); !errors.Is(err, access.ErrForbidden) {
		t.Fatalf("another's progress: %v", err)
	}
	if err := f.svc.KeepProgress(f.ctx, chair, b, at); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ProgressRound(f.ctx); err != nil {
		t.Fatal(err)
	}
	got := f.told.take()
	if len(got) != 1 || got[0].final || got[0].report.Audience != 4 || got[0].report.Queued != 4 {
		t.Fatalf("progress %+v: want 4 of 4 queued (the branch's information worker too), not final", got)
	}
	f.svc.BroadcastFinished(f.ctx, f.broadcast(b.ID))
	if got := f.told.take(); len(got) != 1 || !got[0].final {
		t.Fatalf("finished %+v: want the final figures", got)
	}
	if err := f.svc.ProgressRound(f.ctx); err != nil || len(f.told.take()) != 0 {
		t.Fatalf("a finished broadcast's progress was shown again (%v)", err)
	}
}

func TestADraftsAudienceStaysBelowItsSender(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.actor(f.person("edu", storage.RoleChair))
	edu := f.org["edu"].ID
	tests := []struct {
		name string
		d    news.Draft
		want error
	}{
		{"another branch's primary", news.Draft{OrgID: edu, Text: "x", Orgs: []int64{f.org["clinic"].ID}}, news.ErrAudience},
		{"a sibling branch", news.Draft{OrgID: edu, Text: "x", Orgs: []int64{f.org["health"].ID}}, news.ErrAudience},
		{"the sender itself", news.Draft{OrgID: edu, Text: "x", Orgs: []int64{edu}}, news.ErrAudience},
		{"unknown roles", news.Draft{OrgID: edu, Text: "x", Roles: "chairs"}, news.ErrInvalid},
		{"unknown chats", news.Draft{OrgID: edu, Text: "x", Where: "everywhere"}, news.ErrInvalid},
	}
	for _, tt := range tests {
		if _, err := f.svc.Preview(f.ctx, chair, tt.d); !errors.Is(err, tt.want) {
			t.Errorf("%s: preview gives %v, want %v", tt.name, err, tt.want)
		}
		if _, err := f.svc.Create(f.ctx, chair, tt.d, nil); !errors.Is(err, tt.want) {
			t.Errorf("%s: create gives %v, want %v", tt.name, err, tt.want)
		}
	}
	bad := news.Draft{OrgID: edu, Text: "Сбор", Format: []storage.Span{{Kind: storage.SpanBold, Offset: 2, Length: 5}}}
	if _, err := f.svc.Create(f.ctx, chair, bad, nil); !errors.Is(err, news.ErrInvalid) {
		t.Errorf("formatting past the text: %v, want invalid", err)
	}
	if sent, err := f.svc.Sent(f.ctx, chair, edu, 10); err != nil || len(sent) != 0 {
		t.Errorf("a refused draft was created: %v %v", sent, err)
	}
}

func TestFollowShowsABroadcastToItsLevelAndAbove(t *testing.T) {
	t.Parallel()
	f := setup(t)
	author := f.actor(f.person("edu", storage.RoleChair))
	union := f.actor(f.person("union", storage.RoleInfoworker))
	sibling := f.actor(f.person("health", storage.RoleChair))
	below := f.actor(f.person("school", storage.RoleChair))
	f.people()
	b, err := f.svc.Create(f.ctx, author, news.Draft{OrgID: f.org["edu"].ID, Text: "Собрание"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Start(f.ctx, author, b); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		by   access.Actor
		want error
	}{
		{"its author", author, nil},
		{"the union above", union, nil},
		{"a sibling branch", sibling, access.ErrForbidden},
		{"a primary below", below, access.ErrForbidden},
	}
	for _, tt := range tests {
		p, err := f.svc.Follow(f.ctx, tt.by, b.ID)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil && (p.Report.Queued == 0 || p.Final || p.Broadcast.ID != b.ID) {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	if _, err := f.svc.Sent(f.ctx, sibling, f.org["edu"].ID, 10); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a sibling lists the branch's broadcasts: %v", err)
	}
	if sent, err := f.svc.Sent(f.ctx, author, f.org["edu"].ID, 10); err != nil || len(sent) != 1 || sent[0].ID != b.ID {
		t.Errorf("sent %+v %v", sent, err)
	}
}
