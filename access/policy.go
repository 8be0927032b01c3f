// Package access decides who may do what: the actions, the roles that grant
// each, and how rights flow down the organisation tree (up may act on down,
// never sideways or up). It is the one place that decides; every use case,
// whichever front end calls it, asks here.
package access

import (
	"errors"

	"github.com/unionhub/unionhub/storage"
)

// Action is something a person may or may not do to an organisation.
type Action string

// Actions checked against the tree. Every right check goes through Allowed.
const (
	// ActApprove decides code-less registrations into the org.
	ActApprove Action = "approve"
	// ActBindChat attaches a group chat to the org or detaches it.
	ActBindChat Action = "bind_chat"
	// ActAnswerTicket takes and answers hot-line tickets of members of the
	// org; named responders have it too (see CanAnswer).
	ActAnswerTicket Action = "answer_ticket"
	// ActNameResponders names and removes the org's hot-line responders and
	// binds its staff-group desk.
	ActNameResponders Action = "name_responders"
	// ActHotlineStats reads the org's hot-line statistics.
	ActHotlineStats Action = "hotline_stats"
	// ActPublish sends news down the org's subtree, relays items from above
	// and decides news suggested from below.
	ActPublish Action = "publish"
	// ActMonitoring reads the org's monitoring reports and starts and
	// follows its surveys.
	ActMonitoring Action = "monitoring"
	// ActManageOrgs edits the org's fields and makes and revokes invites
	// into it.
	ActManageOrgs Action = "manage_orgs"
	// ActImportTree loads an organisation file, which may touch any org of
	// the tree: the Union's staff only.
	ActImportTree Action = "import_tree"
	// ActConsole signs in to the staff console, where each page then asks
	// for its own action.
	ActConsole Action = "console"
	// ActAudit reads the console's audit log of the org's subtree: who
	// signed in, approved, answered, sent, exported or changed what.
	ActAudit Action = "audit"
	// ActSetTargets sets the org's monitoring targets for a period, which
	// hold for it and the orgs below it without their own: a decision of
	// the org's elected body, entered by its chair or the Union's staff.
	ActSetTargets Action = "set_targets"
	// ActContacts exports the contact base of the org's subtree (names,
	// positions, work and consented personal e-mail, where the bot reaches
	// them): the people who already see the org's people, as the programme
	// has every level send its base up.
	ActContacts Action = "contacts"
)

// rolesFor lists, per action, the roles that grant it. A role held in an org
// grants the action on that org and on everything below it, never sideways
// or upwards.
var rolesFor = map[Action][]storage.Role{
	ActApprove:        {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
	ActBindChat:       {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
	ActAnswerTicket:   {storage.RoleChair, storage.RoleAdmin},
	ActNameResponders: {storage.RoleChair, storage.RoleAdmin},
	ActHotlineStats:   {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
	ActPublish:        {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
	ActMonitoring:     {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
	ActManageOrgs:     {storage.RoleChair, storage.RoleAdmin},
	ActImportTree:     {storage.RoleAdmin},
	ActConsole:        {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
	ActAudit:          {storage.RoleChair, storage.RoleAdmin},
	ActSetTargets:     {storage.RoleChair, storage.RoleAdmin},
	ActContacts:       {storage.RoleChair, storage.RoleInfoworker, storage.RoleAdmin},
}

// RolesFor lists the roles that grant act.
func RolesFor(act Action) []storage.Role {
	return append([]storage.Role(nil), rolesFor[act]...)
}

// Allowed reports whether someone with the memberships ms may do act to target.
func Allowed(ms []storage.Membership, act Action, target storage.Org) bool {
	for _, m := range ms {
		if m.Status != storage.StatusActive || !m.Org.Contains(target) {
			continue
		}
		for _, r := range rolesFor[act] {
			if m.Role == r {
				return true
			}
		}
	}
	return false
}

// ManagedOrgs returns the orgs in which ms grant act directly, the roots of
// the subtrees the person may act on.
func ManagedOrgs(ms []storage.Membership, act Action) []storage.Org {
	var orgs []storage.Org
	seen := map[int64]bool{}
	for _, m := range ms {
		if seen[m.Org.ID] || !Allowed([]storage.Membership{m}, act, m.Org) {
			continue
		}
		seen[m.Org.ID] = true
		orgs = append(orgs, m.Org)
	}
	return orgs
}

// CanAnswer reports whether a person may see and answer a ticket of a member
// of memberOrg about topic: a chair of that org or above, or a responder the
// chair of such an org named for the topic (or for all topics). Responders
// see down their subtree too, never sideways or up. orgOf resolves the org of
// a responder entry.
func CanAnswer(ms []storage.Membership, rs []storage.Responder, orgOf map[int64]storage.Org, memberOrg storage.Org, topic string) bool {
	if Allowed(ms, ActAnswerTicket, memberOrg) {
		return true
	}
	for _, r := range rs {
		if r.Topic != "" && r.Topic != topic {
			continue
		}
		if o, ok := orgOf[r.OrgID]; ok && o.Contains(memberOrg) && ActiveIn(ms, r.OrgID) {
			return true
		}
	}
	return false
}

// AsksTicket reports whether personID is the member who asked t: only they
// add to it, close it as solved and rate it.
func AsksTicket(personID int64, t storage.Ticket) bool {
	return personID != 0 && t.PersonID == personID
}

// ActiveIn reports whether ms hold an active member role (any role but a
// supporter's) in org: member rights such as suggesting news or answering
// as a named responder; a responder removed from the org loses the right
// at once.
func ActiveIn(ms []storage.Membership, orgID int64) bool {
	for _, m := range ms {
		if m.Status == storage.StatusActive && m.Org.ID == orgID && m.Role != storage.RoleSupporter {
			return true
		}
	}
	return false
}

// SupporterIn reports whether ms make the person a supporter of org and
// nothing more there: they may ask the hot line about joining, and ask to
// become a member.
func SupporterIn(ms []storage.Membership, orgID int64) bool {
	if ActiveIn(ms, orgID) {
		return false
	}
	for _, m := range ms {
		if m.Status == storage.StatusActive && m.Org.ID == orgID && m.Role == storage.RoleSupporter {
			return true
		}
	}
	return false
}

// SupportedOrgs returns the orgs where ms make the person a supporter and
// nothing more, in the order of ms.
func SupportedOrgs(ms []storage.Membership) []storage.Org {
	var out []storage.Org
	seen := map[int64]bool{}
	for _, m := range ms {
		if !seen[m.Org.ID] && SupporterIn(ms, m.Org.ID) {
			seen[m.Org.ID] = true
			out = append(out, m.Org)
		}
	}
	return out
}

// Member reports whether ms hold an active member role anywhere: a person
// who is only a supporter has none of a member's rights.
func Member(ms []storage.Membership) bool {
	for _, m := range ms {
		if ActiveIn(ms, m.Org.ID) {
			return true
		}
	}
	return false
}

// ErrForbidden is what a use case answers an actor whose roles do not allow
// the action; front ends tell the person they have no right, and change
// nothing.
var ErrForbidden = errors.New("not allowed")

// Actor is a person acting through any front end, with the memberships they
// hold in force.
type Actor struct {
	PersonID int64
	Roles    []storage.Membership
}

// NewActor keeps the memberships in force.
func NewActor(personID int64, ms []storage.Membership) Actor {
	a := Actor{PersonID: personID}
	for _, m := range ms {
		if m.Status == storage.StatusActive {
			a.Roles = append(a.Roles, m)
		}
	}
	return a
}

// Can reports whether the actor may do act to org.
func (a Actor) Can(act Action, org storage.Org) bool { return Allowed(a.Roles, act, org) }

// Orgs returns the organisations in which the actor's roles grant act: the
// roots of the subtrees they may act on.
func (a Actor) Orgs(act Action) []storage.Org { return ManagedOrgs(a.Roles, act) }

// Staff reports whether the actor is staff somewhere in the tree: a chair,
// an information worker or the Union's staff, who may use the console.
func (a Actor) Staff() bool { return len(a.Orgs(ActConsole)) > 0 }
