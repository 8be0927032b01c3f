package orgs_test

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlite"
)

func TestTheTreeByRole(t *testing.T) {
	t.Parallel()
	f := setup(t)
	eduChair := f.person("edu", storage.RoleChair)
	schoolChair := f.person("school", storage.RoleChair)
	worker := f.person("edu", storage.RoleInfoworker)
	admin := f.person("union", storage.RoleAdmin)
	activist := f.person("school", storage.RoleActivist)
	inv, _, err := f.svc.CreateInvite(f.ctx, orgs.InviteRequest{OrgCode: "health", Role: storage.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		by   access.Actor
		do   func(by access.Actor) error
		is   error // nil: allowed
	}{
		{"a chair sees below", eduChair, func(by access.Actor) error { _, err := f.svc.View(f.ctx, by, f.org["school"].ID, 0); return err }, nil},
		{"a chair sees not sideways", eduChair, func(by access.Actor) error { _, err := f.svc.View(f.ctx, by, f.org["health"].ID, 0); return err }, access.ErrForbidden},
		{"a chair sees not up", schoolChair, func(by access.Actor) error { _, err := f.svc.View(f.ctx, by, f.org["edu"].ID, 0); return err }, access.ErrForbidden},
		{"an unknown org", admin, func(by access.Actor) error { _, err := f.svc.View(f.ctx, by, 999999, 0); return err }, storage.ErrNotFound},
		{"an activist searches nothing", activist, func(by access.Actor) error { _, _, err := f.svc.Search(f.ctx, by, "", 0); return err }, access.ErrForbidden},
		{"an information worker sees", worker, func(by access.Actor) error { _, err := f.svc.View(f.ctx, by, f.org["school"].ID, 0); return err }, nil},
		{"an information worker edits not", worker, func(by access.Actor) error {
			_, err := f.svc.Edit(f.ctx, by, f.org["school"].ID, orgs.OrgEdit{Name: "Школа"})
			return err
		}, access.ErrForbidden},
		{"a chair invites below", eduChair, func(by access.Actor) error {
			_, _, err := f.svc.InviteFor(f.ctx, by, f.org["school"].ID, storage.RoleChair, 0, 0)
			return err
		}, nil},
		{"a chair invites not sideways", eduChair, func(by access.Actor) error {
			_, _, err := f.svc.InviteFor(f.ctx, by, f.org["health"].ID, storage.RoleMember, 0, 0)
			return err
		}, access.ErrForbidden},
		{"the admin role by the admin", admin, func(by access.Actor) error {
			_, _, err := f.svc.InviteFor(f.ctx, by, f.org["union"].ID, storage.RoleAdmin, 0, 0)
			return err
		}, nil},
		{"the admin role below the root", admin, func(by access.Actor) error {
			_, _, err := f.svc.InviteFor(f.ctx, by, f.org["edu"].ID, storage.RoleAdmin, 0, 0)
			return err
		}, orgs.ErrAdminBelowRoot},
		{"a sibling's invite", eduChair, func(by access.Actor) error { _, _, err := f.svc.InviteOf(f.ctx, by, inv.Code); return err }, access.ErrForbidden},
		{"a sibling's invite revoked", eduChair, func(by access.Actor) error { _, err := f.svc.Revoke(f.ctx, by, inv.Code); return err }, access.ErrForbidden},
		{"an unknown invite", admin, func(by access.Actor) error { _, _, err := f.svc.InviteOf(f.ctx, by, "nope"); return err }, storage.ErrNotFound},
		{"a chair loads no file", eduChair, func(by access.Actor) error { return f.svc.MayImport(f.ctx, by) }, access.ErrForbidden},
		{"the admin loads files", admin, func(by access.Actor) error { return f.svc.MayImport(f.ctx, by) }, nil},
	}
	for _, tt := range tests {
		err := tt.do(tt.by)
		switch {
		case tt.is == nil && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.is != nil && !errors.Is(err, tt.is):
			t.Errorf("%s: %v, want %v", tt.name, err, tt.is)
		}
	}
	if kept, err := f.db.Invite(f.ctx, inv.Code); err != nil || kept.RevokedAt != nil {
		t.Errorf("the sibling's invite %+v, %v", kept, err)
	}
}

func TestSearchAndView(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.person("edu", storage.RoleChair)
	list, more, err := f.svc.Search(f.ctx, chair, "", 0)
	if err != nil || more || len(list) != 2 || list[0].Code != "edu" || list[1].Code != "school" {
		t.Fatalf("search %+v, %v, %v", list, more, err)
	}
	v, err := f.svc.View(f.ctx, chair, f.org["edu"].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The chair's own org: its parent is above them, so not shown.
	if v.Parent != nil || len(v.Children) != 1 || v.Children[0].Code != "school" || len(v.People) != 1 || !v.Manage {
		t.Errorf("view %+v", v)
	}
	if v, err = f.svc.View(f.ctx, chair, f.org["school"].ID, 0); err != nil || v.Parent == nil || v.Parent.Code != "edu" {
		t.Errorf("the school's view %+v, %v", v, err)
	}
}

func TestEditChecksAsTheFileDoes(t *testing.T) {
	t.Parallel()
	f := setup(t)
	chair := f.person("edu", storage.RoleChair)
	tests := []struct {
		name string
		edit orgs.OrgEdit
		ok   bool
	}{
		{"valid", orgs.OrgEdit{Name: "Школа № 5 им. Чехова", MemberCount: 70, TimeZone: "Europe/Moscow", BoardCron: "0 9 * * 2"}, true},
		{"empty name", orgs.OrgEdit{Name: ""}, false},
		{"bad zone", orgs.OrgEdit{Name: "Школа", TimeZone: "Nowhere/Land"}, false},
		{"negative members", orgs.OrgEdit{Name: "Школа", MemberCount: -1}, false},
	}
	for _, tt := range tests {
		got, err := f.svc.Edit(f.ctx, chair, f.org["school"].ID, tt.edit)
		var ie *storage.ImportError
		switch {
		case tt.ok && (err != nil || got.Name != tt.edit.Name || got.MemberCount != 70 || got.ParentID != f.org["edu"].ID || got.Code != "school"):
			t.Errorf("%s: %+v, %v", tt.name, got, err)
		case !tt.ok && !errors.As(err, &ie):
			t.Errorf("%s: %v, want an import error", tt.name, err)
		}
	}
	if kept, _ := f.svc.OrgByCode(f.ctx, "school"); kept.Name != "Школа № 5 им. Чехова" {
		t.Errorf("kept %+v", kept)
	}
}

func TestPreviewAndApply(t *testing.T) {
	t.Parallel()
	f := setup(t)
	admin := f.person("union", storage.RoleAdmin)
	file := []storage.OrgInput{
		{Code: "edu", Name: "Образование (обком)", ParentCode: "union", Level: storage.LevelBranch, Source: "a.csv:2"},
		{Code: "gym", Name: "Гимназия", ParentCode: "edu", Level: storage.LevelPrimary, Source: "a.csv:3"},
	}
	plan, digest, err := f.svc.Preview(f.ctx, admin, file)
	if err != nil || plan.Result() != (storage.ImportResult{Created: 1, Updated: 1}) {
		t.Fatalf("preview %+v, %v", plan, err)
	}
	if _, err := f.svc.OrgByCode(f.ctx, "gym"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the preview wrote: %v", err)
	}
	if _, err := f.svc.Apply(f.ctx, admin, file[1:], digest); !errors.Is(err, orgs.ErrPlanChanged) {
		t.Errorf("another file under the digest: %v", err)
	}
	if _, err := f.svc.Apply(f.ctx, f.person("edu", storage.RoleChair), file, digest); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a chair applied: %v", err)
	}
	res, err := f.svc.Apply(f.ctx, admin, file, digest)
	if err != nil || res.Created != 1 || res.Updated != 1 {
		t.Fatalf("apply %+v, %v", res, err)
	}
	// Applied once, the same digest no longer names what the file would do.
	if _, err := f.svc.Apply(f.ctx, admin, file, digest); !errors.Is(err, orgs.ErrPlanChanged) {
		t.Errorf("applied twice: %v", err)
	}
}

func TestAnEmptyTreeTakesAFileFromAnyone(t *testing.T) {
	t.Parallel()
	quiet := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(t.Context(), t.TempDir(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	svc := orgs.New(orgs.Config{Store: db, Clock: func() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }, Logger: quiet})
	// The setup session holds no role: before the tree exists, nobody does.
	setup := access.Actor{PersonID: 1}
	_, digest, err := svc.Preview(t.Context(), setup, tree)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(t.Context(), setup, tree, digest); err != nil {
		t.Fatal(err)
	}
	if err := svc.MayImport(t.Context(), setup); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("a roleless actor may load files into a tree: %v", err)
	}
}
