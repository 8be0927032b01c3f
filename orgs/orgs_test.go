package orgs_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

var tree = []storage.OrgInput{
	{Code: "union", Name: "Союз", Level: storage.LevelUnion},
	{Code: "edu", Name: "Образование", ParentCode: "union", Level: storage.LevelBranch},
	{Code: "school", Name: "Школа № 5", ParentCode: "edu", Level: storage.LevelPrimary},
	{Code: "health", Name: "Здравоохранение", ParentCode: "union", Level: storage.LevelBranch},
}

type fixture struct {
	t   *testing.T
	ctx context.Context
	db  *sqlstore.DB
	svc *orgs.Service
	now time.Time
	org map[string]storage.Org
	ids int
}

func setup(t *testing.T) *fixture {
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
	f := &fixture{t: t, ctx: ctx, db: db, now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), org: map[string]storage.Org{}}
	f.svc = orgs.New(orgs.Config{Store: db, Clock: func() time.Time { return f.now }, Logger: quiet})
	if _, err := f.svc.Import(ctx, tree); err != nil {
		t.Fatal(err)
	}
	for _, o := range tree {
		if f.org[o.Code], err = f.svc.OrgByCode(ctx, o.Code); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// person registers someone with role in org and returns them as an actor.
func (f *fixture) person(org string, role storage.Role) access.Actor {
	f.t.Helper()
	inv, _, err := f.svc.CreateInvite(f.ctx, orgs.InviteRequest{OrgCode: org, Role: role})
	if err != nil {
		f.t.Fatal(err)
	}
	f.ids++
	p, _, err := f.db.Register(f.ctx, storage.Registration{Platform: storage.Telegram, ExternalID: strconv.Itoa(f.ids), FullName: "Человек " + strconv.Itoa(f.ids),
		OrgID: f.org[org].ID, Role: role, InviteCode: inv.Code, At: f.now,
		Consents: []storage.Consent{{OrgID: f.org[org].ID, Kind: storage.ConsentPersonalData, Version: "v1", Accepted: true, At: f.now}}})
	if err != nil {
		f.t.Fatal(err)
	}
	ms, err := f.db.Memberships(f.ctx, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return access.NewActor(p.ID, ms)
}

func TestCreateInvite(t *testing.T) {
	t.Parallel()
	f := setup(t)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		req      orgs.InviteRequest
		refused  bool
		is       error // the error a refusal wraps, if one
		uses     int
		lifetime time.Duration // 0: never expires
	}{
		{"a member's: unlimited, a month", orgs.InviteRequest{OrgCode: "school", Role: storage.RoleMember}, false, nil, 0, orgs.DefaultInviteTTL},
		{"a chair's: once", orgs.InviteRequest{OrgCode: "school", Role: storage.RoleChair}, false, nil, 1, orgs.DefaultInviteTTL},
		{"a public (supporter) one: unlimited, until revoked", orgs.InviteRequest{OrgCode: "school", Role: storage.RoleSupporter}, false, nil, 0, 0},
		{"a public one with a lifetime", orgs.InviteRequest{OrgCode: "school", Role: storage.RoleSupporter, TTL: 2 * day}, false, nil, 0, 2 * day},
		{"uses and lifetime given", orgs.InviteRequest{OrgCode: "edu", Role: storage.RoleActivist, Uses: 30, TTL: 2 * day}, false, nil, 30, 2 * day},
		{"never expires", orgs.InviteRequest{OrgCode: "edu", Role: storage.RoleMember, TTL: -1}, false, nil, 0, 0},
		{"the Union's staff at the root", orgs.InviteRequest{OrgCode: "union", Role: storage.RoleAdmin}, false, nil, 1, orgs.DefaultInviteTTL},
		{"the Union's staff below the root", orgs.InviteRequest{OrgCode: "edu", Role: storage.RoleAdmin}, true, nil, 0, 0},
		{"an unknown role", orgs.InviteRequest{OrgCode: "edu", Role: "king"}, true, nil, 0, 0},
		{"negative uses", orgs.InviteRequest{OrgCode: "edu", Role: storage.RoleMember, Uses: -1}, true, nil, 0, 0},
		{"an unknown organisation", orgs.InviteRequest{OrgCode: "nowhere", Role: storage.RoleMember}, true, storage.ErrNotFound, 0, 0},
	}
	for _, tt := range tests {
		inv, org, err := f.svc.CreateInvite(f.ctx, tt.req)
		if tt.refused {
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("%s: CreateInvite = %+v, %v; want refused", tt.name, inv, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		switch {
		case org.Code != tt.req.OrgCode || inv.OrgID != org.ID || inv.Role != tt.req.Role || !orgs.LooksLikeInviteCode(inv.Code):
			t.Errorf("%s: invite %+v into %s", tt.name, inv, org.Code)
		case inv.MaxUses != tt.uses:
			t.Errorf("%s: %d uses, want %d", tt.name, inv.MaxUses, tt.uses)
		case tt.lifetime == 0 && inv.ExpiresAt != nil, tt.lifetime != 0 && (inv.ExpiresAt == nil || !inv.ExpiresAt.Equal(f.now.Add(tt.lifetime))):
			t.Errorf("%s: expires %v, want after %v", tt.name, inv.ExpiresAt, tt.lifetime)
		}
		if kept, err := f.db.Invite(f.ctx, inv.Code); err != nil || kept.MaxUses != inv.MaxUses {
			t.Errorf("%s: kept %+v, %v", tt.name, kept, err)
		}
	}
}

func TestInvitesAndRevoke(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first, _, err := f.svc.CreateInvite(f.ctx, orgs.InviteRequest{OrgCode: "school", Role: storage.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	second, _, err := f.svc.CreateInvite(f.ctx, orgs.InviteRequest{OrgCode: "school", Role: storage.RoleChair})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.RevokeInvite(f.ctx, first.Code); err != nil {
		t.Fatal(err)
	}
	org, list, err := f.svc.Invites(f.ctx, "school")
	if err != nil {
		t.Fatal(err)
	}
	if org.Code != "school" || len(list) != 2 || list[0].Code != second.Code || list[1].Code != first.Code ||
		list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(f.now) || list[0].RevokedAt != nil {
		t.Fatalf("invites of %s: %+v", org.Code, list)
	}
	if err := f.svc.RevokeInvite(f.ctx, "NoSuchCode"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking an unknown code: %v", err)
	}
	if _, _, err := f.svc.Invites(f.ctx, "nowhere"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("invites of an unknown org: %v", err)
	}
}

func TestInviteCodes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	seen := map[string]bool{}
	for range 200 {
		inv, _, err := f.svc.CreateInvite(f.ctx, orgs.InviteRequest{OrgCode: "school", Role: storage.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		if !orgs.LooksLikeInviteCode(inv.Code) || seen[inv.Code] {
			t.Fatalf("invite code %q is malformed or repeated", inv.Code)
		}
		seen[inv.Code] = true
	}
	for _, text := range []string{"Здравствуйте, я из школы", "short", "abcdefghijklmnopqrstu!", "abcdefghijklmnopqrstuvw"} {
		if orgs.LooksLikeInviteCode(text) {
			t.Errorf("%q taken for an invite code", text)
		}
	}
}

func TestImportAllOrNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res, err := f.svc.Import(f.ctx, append(tree, storage.OrgInput{Code: "school-7", Name: "Школа № 7", ParentCode: "edu", Level: storage.LevelPrimary}))
	if err != nil || res != (storage.ImportResult{Created: 1, Unchanged: len(tree)}) {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	_, err = f.svc.Import(f.ctx, []storage.OrgInput{
		{Code: "school-8", Name: "Школа № 8", ParentCode: "edu", Level: storage.LevelPrimary},
		{Code: "school-9", Name: "Школа № 9", ParentCode: "nowhere", Level: storage.LevelPrimary},
	})
	var ie *storage.ImportError
	if !errors.As(err, &ie) || len(ie.Problems) == 0 {
		t.Fatalf("a file with an unknown parent: %v", err)
	}
	all, err := f.svc.Orgs(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(tree)+1 {
		t.Fatalf("%d organisations after a refused file, want %d", len(all), len(tree)+1)
	}
}

func TestBind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// before binds the chat first, if set.
		before func(f *fixture) *storage.ChatBinding
		by     func(f *fixture) access.Actor
		org    string
		want   error
		taken  string // the org a *TakenError names
		bound  string // the org the chat is bound to after
	}{
		{"a branch chair binds below", nil, func(f *fixture) access.Actor { return f.person("edu", storage.RoleChair) }, "school", nil, "", "school"},
		{"an information worker binds their own", nil, func(f *fixture) access.Actor { return f.person("school", storage.RoleInfoworker) }, "school", nil, "", "school"},
		{"a member may not", nil, func(f *fixture) access.Actor { return f.person("school", storage.RoleMember) }, "school", access.ErrForbidden, "", ""},
		{"a chair may not above", nil, func(f *fixture) access.Actor { return f.person("school", storage.RoleChair) }, "edu", access.ErrForbidden, "", ""},
		{"a chair may not sideways", nil, func(f *fixture) access.Actor { return f.person("health", storage.RoleChair) }, "school", access.ErrForbidden, "", ""},
		{"nobody may not", nil, func(*fixture) access.Actor { return access.Actor{} }, "school", access.ErrForbidden, "", ""},
		{"an unknown org", nil, func(f *fixture) access.Actor { return f.person("edu", storage.RoleChair) }, "", storage.ErrNotFound, "", ""},
		{"moved within the chair's subtree", func(f *fixture) *storage.ChatBinding {
			return &storage.ChatBinding{OrgID: f.org["edu"].ID}
		}, func(f *fixture) access.Actor { return f.person("edu", storage.RoleChair) }, "school", nil, "", "school"},
		{"taken by an org the chair has no right on", func(f *fixture) *storage.ChatBinding {
			return &storage.ChatBinding{OrgID: f.org["edu"].ID}
		}, func(f *fixture) access.Actor { return f.person("health", storage.RoleChair) }, "health", nil, "edu", "edu"},
		{"a desk bound anew is a desk no more", func(f *fixture) *storage.ChatBinding {
			return &storage.ChatBinding{OrgID: f.org["edu"].ID, Desk: true}
		}, func(f *fixture) access.Actor { return f.person("union", storage.RoleAdmin) }, "school", nil, "", "school"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			chat := orgs.Chat{Platform: storage.VK, ID: "2000000001", Title: "Чат"}
			if tt.before != nil {
				b := tt.before(f)
				b.Platform, b.ChatID, b.BoundAt = chat.Platform, chat.ID, f.now
				if err := f.db.BindChat(f.ctx, *b); err != nil {
					t.Fatal(err)
				}
			}
			by := tt.by(f)
			id := f.org[tt.org].ID
			if tt.org == "" {
				id = 987654
			}
			f.now = f.now.Add(time.Minute)
			org, err := f.svc.Bind(f.ctx, by, chat, id)
			var taken *orgs.TakenError
			switch {
			case tt.taken != "" && (!errors.As(err, &taken) || taken.Org.Code != tt.taken):
				t.Fatalf("Bind = %v, want taken by %s", err, tt.taken)
			case tt.taken == "" && (!errors.Is(err, tt.want) || (err != nil) != (tt.want != nil)):
				t.Fatalf("Bind = %v, want %v", err, tt.want)
			case err == nil && org.Code != tt.org:
				t.Fatalf("bound to %s, want %s", org.Code, tt.org)
			}
			b, err := f.db.ChatBinding(f.ctx, chat.Platform, chat.ID)
			if tt.bound == "" {
				if !errors.Is(err, storage.ErrNotFound) {
					t.Fatalf("a refused bind left %+v, %v", b, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.OrgID != f.org[tt.bound].ID {
				t.Fatalf("chat bound to org %d, want %s", b.OrgID, tt.bound)
			}
			if tt.taken == "" && (b.Desk || b.BoundBy != by.PersonID || !b.BoundAt.Equal(f.now) || b.Title != chat.Title) {
				t.Fatalf("binding %+v", b)
			}
		})
	}
}

func TestBindingAgainWhereItIsChangesNothing(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chat := orgs.Chat{Platform: storage.Telegram, ID: "-100123", Title: "Чат школы"}
	first := f.person("school", storage.RoleChair)
	if _, err := f.svc.Bind(f.ctx, first, chat, f.org["school"].ID); err != nil {
		t.Fatal(err)
	}
	was := f.now
	f.now = f.now.Add(time.Hour)
	if _, err := f.svc.Bind(f.ctx, f.person("edu", storage.RoleChair), chat, f.org["school"].ID); err != nil {
		t.Fatal(err)
	}
	b, err := f.db.ChatBinding(f.ctx, chat.Platform, chat.ID)
	if err != nil || b.BoundBy != first.PersonID || !b.BoundAt.Equal(was) {
		t.Fatalf("binding %+v, %v", b, err)
	}
}

func TestUnbind(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chat := orgs.Chat{Platform: storage.Telegram, ID: "-100123", Title: "Чат школы"}
	if _, err := f.svc.Unbind(f.ctx, f.person("edu", storage.RoleChair), chat.Platform, chat.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unbinding a free chat: %v", err)
	}
	chair := f.person("school", storage.RoleChair)
	if _, err := f.svc.Bind(f.ctx, chair, chat, f.org["school"].ID); err != nil {
		t.Fatal(err)
	}
	for _, by := range []access.Actor{f.person("school", storage.RoleMember), f.person("health", storage.RoleChair)} {
		if _, err := f.svc.Unbind(f.ctx, by, chat.Platform, chat.ID); !errors.Is(err, access.ErrForbidden) {
			t.Fatalf("unbinding without the right: %v", err)
		}
	}
	org, err := f.svc.Unbind(f.ctx, f.person("edu", storage.RoleInfoworker), chat.Platform, chat.ID)
	if err != nil || org.Code != "school" {
		t.Fatalf("Unbind = %+v, %v", org, err)
	}
	if _, err := f.db.ChatBinding(f.ctx, chat.Platform, chat.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("binding after Unbind: %v", err)
	}
}
