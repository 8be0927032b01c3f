package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/unionhub/unionhub/storage"
)

// pending registers someone waiting for approval in org and returns the
// id of their application.
func (r *rig) pending(name, org string) int64 {
	r.t.Helper()
	a := r.person(name, org, "")
	ms, err := r.db.Memberships(r.ctx, a.PersonID)
	if err != nil || len(ms) != 1 || ms[0].Status != storage.StatusPending {
		r.t.Fatalf("memberships %+v, %v", ms, err)
	}
	return ms[0].ID
}

func TestApprovals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		at       string
		decision string
		status   int
		result   storage.MembershipStatus
	}{
		{"approve", "school", "approve", http.StatusSeeOther, storage.StatusActive},
		{"reject", "edu", "reject", http.StatusSeeOther, storage.StatusRejected},
		{"no decision", "school", "maybe", http.StatusUnprocessableEntity, storage.StatusPending},
		{"a sibling's chair", "health", "approve", http.StatusForbidden, storage.StatusPending},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			b, chair := r.staff("Иванова Анна", tt.at, storage.RoleChair)
			id := r.pending("Новикова Ольга", "school")
			list := b.get("/approvals")
			if tt.status == http.StatusForbidden {
				want(t, list, http.StatusOK, "Заявок, ждущих вашего решения, нет")
			} else {
				want(t, list, http.StatusOK, "Новикова Ольга", "Школа № 5", fmt.Sprintf(`action="/approvals/%d"`, id))
			}
			w := b.send(fmt.Sprintf("/approvals/%d", id), url.Values{"decision": {tt.decision}})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tt.status, w.Body)
			}
			m, err := r.db.Membership(r.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != tt.result {
				t.Errorf("status %s, want %s", m.Status, tt.result)
			}
			told := r.told.told()
			if tt.status != http.StatusSeeOther {
				if len(told) != 0 {
					t.Errorf("told %+v", told)
				}
				return
			}
			// The applicant is told as when decided in the bot.
			if len(told) != 1 || told[0].Membership.ID != id || told[0].Membership.Status != tt.result {
				t.Errorf("told %+v", told)
			}
			want(t, b.get(w.Header().Get("Location")), http.StatusOK, "сообщено в мессенджере")
			action := auditApprove
			if tt.decision == "reject" {
				action = auditReject
			}
			if !r.audited(chair.PersonID, action) {
				t.Error("not in the audit log")
			}
			// Decided once: a second press is told so, and changes nothing.
			want(t, b.send(fmt.Sprintf("/approvals/%d", id), url.Values{"decision": {"approve"}}), http.StatusConflict, "уже рассмотрели")
		})
	}
}

func TestApprovalsPages(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, _ := r.staff("Иванова Анна", "school", storage.RoleChair)
	for i := range approvalsPage + 3 {
		r.pending(fmt.Sprintf("Заявитель %02d", i), "school")
	}
	want(t, b.get("/approvals"), http.StatusOK, "Заявитель 00", "Заявитель 49", `href="/approvals?page=2"`)
	want(t, b.get("/approvals?page=2"), http.StatusOK, "Заявитель 50", "Заявитель 52", `href="/approvals?page=1"`)
}

// A supporter's request to join is an application like any other, marked
// as a supporter's; approving it makes them a member.
func TestApprovalsOfASupportersRequest(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	b, _ := r.staff("Иванова Анна", "school", storage.RoleChair)
	fan := r.person("Сторонников Пётр", "school", storage.RoleSupporter)
	r.pending("Новикова Ольга", "school")
	app, err := r.db.ApplyToJoin(r.ctx, fan.PersonID, r.org("school").ID, r.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	list := b.get("/approvals")
	want(t, list, http.StatusOK, "член профсоюза (просит сторонник организации)", "Новикова Ольга")
	if n := strings.Count(list.Body.String(), "просит сторонник"); n != 1 {
		t.Fatalf("%d rows marked as a supporter's, want the one:\n%s", n, list.Body)
	}
	if w := b.send(fmt.Sprintf("/approvals/%d", app.ID), url.Values{"decision": {"approve"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", w.Code, w.Body)
	}
	ms, err := r.db.Memberships(r.ctx, fan.PersonID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[storage.Role]storage.MembershipStatus{}
	for _, m := range ms {
		got[m.Role] = m.Status
	}
	if got[storage.RoleMember] != storage.StatusActive || got[storage.RoleSupporter] != storage.StatusEnded {
		t.Fatalf("after the approval: %v", got)
	}
}
