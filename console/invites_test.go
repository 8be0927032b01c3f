package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

func TestInviteCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		by       storage.Role
		at, into string
		form     url.Values
		status   int
		text     string
		role     storage.Role
		uses     int
		expires  bool
	}{
		{"a member's invite for a month", storage.RoleChair, "school", "school", url.Values{"role": {"member"}, "uses": {""}, "days": {"30"}}, http.StatusSeeOther, "", storage.RoleMember, 0, true},
		{"a chair's invite, never ends", storage.RoleChair, "edu", "school", url.Values{"role": {"chair"}, "days": {"0"}}, http.StatusSeeOther, "", storage.RoleChair, 1, false},
		{"the public link for supporters", storage.RoleChair, "school", "school", url.Values{"role": {"supporter"}, "days": {"0"}}, http.StatusSeeOther, "", storage.RoleSupporter, 0, false},
		{"thirty activists", storage.RoleChair, "school", "school", url.Values{"role": {"activist"}, "uses": {"30"}, "days": {"7"}}, http.StatusSeeOther, "", storage.RoleActivist, 30, true},
		{"the Union's staff by the Union's staff", storage.RoleAdmin, "union", "union", url.Values{"role": {"admin"}, "days": {"7"}}, http.StatusSeeOther, "", storage.RoleAdmin, 1, true},
		{"the Union's staff below the root", storage.RoleAdmin, "union", "edu", url.Values{"role": {"admin"}, "days": {"7"}}, http.StatusUnprocessableEntity, "только в самом Союзе", "", 0, false},
		{"the Union's staff by a chair", storage.RoleChair, "union", "union", url.Values{"role": {"admin"}, "days": {"7"}}, http.StatusForbidden, "нет прав", "", 0, false},
		{"an unknown role", storage.RoleChair, "school", "school", url.Values{"role": {"king"}, "days": {"7"}}, http.StatusUnprocessableEntity, "Выберите роль", "", 0, false},
		{"negative uses", storage.RoleChair, "school", "school", url.Values{"role": {"member"}, "uses": {"-1"}, "days": {"7"}}, http.StatusUnprocessableEntity, "целое число", "", 0, false},
		{"uses not a number", storage.RoleChair, "school", "school", url.Values{"role": {"member"}, "uses": {"all"}, "days": {"7"}}, http.StatusUnprocessableEntity, "целое число", "", 0, false},
		{"a lifetime not offered", storage.RoleChair, "school", "school", url.Values{"role": {"member"}, "days": {"forever"}}, http.StatusUnprocessableEntity, "срок действия", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			b, by := r.staff("Иванова Анна", tt.at, tt.by)
			w := b.send(r.orgPath(tt.into)+"/invites", tt.form)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tt.status, w.Body)
			}
			if tt.text != "" {
				want(t, w, tt.status, tt.text)
			}
			invites, err := r.db.Invites(r.ctx, r.org(tt.into).ID)
			if err != nil {
				t.Fatal(err)
			}
			var made []storage.Invite
			for _, inv := range invites {
				if !strings.HasPrefix(inv.Code, "inv-") { // the rig's own
					made = append(made, inv)
				}
			}
			if tt.status != http.StatusSeeOther {
				if len(made) != 0 || r.audited(by.PersonID, auditInviteCreate) {
					t.Fatalf("a refused invite made %+v", made)
				}
				return
			}
			if len(made) != 1 || made[0].Role != tt.role || made[0].MaxUses != tt.uses || (made[0].ExpiresAt != nil) != tt.expires {
				t.Fatalf("invites %+v", made)
			}
			if loc := w.Header().Get("Location"); loc != "/invites/"+made[0].Code {
				t.Errorf("to %q", loc)
			}
			if !r.audited(by.PersonID, auditInviteCreate) {
				t.Error("not in the audit log")
			}
		})
	}
}

func TestInviteQRPrintAndRevoke(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, chair := r.staff("Иванова Анна", "school", storage.RoleChair)
	w := b.send(r.orgPath("school")+"/invites", url.Values{"role": {"member"}, "days": {"30"}})
	page := w.Header().Get("Location")
	code := strings.TrimPrefix(page, "/invites/")
	want(t, b.get(page), http.StatusOK, "https://t.me/test_bot?start="+code, `<img src="/invites/`+code+`/qr/telegram"`,
		`href="/invites/`+code+`/print"`, "Отозвать приглашение", "до 2026-04-01")
	// VK has no group name here: no link, no QR code.
	if strings.Contains(b.get(page).Body.String(), "/qr/vk") {
		t.Error("a VK QR code without a VK link")
	}
	qr := b.get(page + "/qr/telegram")
	if qr.Code != http.StatusOK || qr.Header().Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.Body.String(), "\x89PNG") {
		t.Fatalf("QR code: %d %s", qr.Code, qr.Header().Get("Content-Type"))
	}
	want(t, b.get(page+"/qr/vk"), http.StatusNotFound)
	want(t, b.get(page+"/qr/icq"), http.StatusNotFound)
	want(t, b.get(page+"/print"), http.StatusOK, `class="sheet"`, "Наведите камеру", `<img src="/invites/`+code+`/qr/telegram"`, `class="noprint"`)
	want(t, b.get(r.orgPath("school")), http.StatusOK, `href="/invites/`+code+`"`, "до 2026-04-01")

	w = b.send(page+"/revoke", nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != r.orgPath("school")+"?done=revoked" {
		t.Fatalf("revoke: %d to %q", w.Code, w.Header().Get("Location"))
	}
	want(t, b.get(w.Header().Get("Location")), http.StatusOK, "Приглашение отозвано", "отозвано 2026-03-02")
	if inv, err := r.db.Invite(r.ctx, code); err != nil || inv.RevokedAt == nil {
		t.Errorf("invite %+v, %v", inv, err)
	}
	if !r.audited(chair.PersonID, auditInviteRevoke) {
		t.Error("the revocation is not in the audit log")
	}
	// A revoked invite offers neither its QR code page's actions nor a revoke.
	if strings.Contains(b.get(page).Body.String(), "Отозвать приглашение") {
		t.Error("a revoked invite offers to be revoked")
	}
}
