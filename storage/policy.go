package storage

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
)

// rolesFor lists, per action, the roles that grant it. A role held in an org
// grants the action on that org and on everything below it, never sideways
// or upwards.
var rolesFor = map[Action][]Role{
	ActApprove:        {RoleChair, RoleInfoworker},
	ActBindChat:       {RoleChair, RoleInfoworker},
	ActAnswerTicket:   {RoleChair},
	ActNameResponders: {RoleChair},
	ActHotlineStats:   {RoleChair, RoleInfoworker},
	ActPublish:        {RoleChair, RoleInfoworker},
	ActMonitoring:     {RoleChair, RoleInfoworker},
}

// RolesFor lists the roles that grant act.
func RolesFor(act Action) []Role {
	return append([]Role(nil), rolesFor[act]...)
}

// Allowed reports whether someone with the memberships ms may do act to target.
func Allowed(ms []Membership, act Action, target Org) bool {
	for _, m := range ms {
		if m.Status != StatusActive || !m.Org.Contains(target) {
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
func ManagedOrgs(ms []Membership, act Action) []Org {
	var orgs []Org
	seen := map[int64]bool{}
	for _, m := range ms {
		if seen[m.Org.ID] || !Allowed([]Membership{m}, act, m.Org) {
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
func CanAnswer(ms []Membership, rs []Responder, orgOf map[int64]Org, memberOrg Org, topic string) bool {
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
func AsksTicket(personID int64, t Ticket) bool { return personID != 0 && t.PersonID == personID }

// ActiveIn reports whether ms hold an active membership of org: a responder
// removed from the org loses the right at once.
func ActiveIn(ms []Membership, orgID int64) bool {
	for _, m := range ms {
		if m.Status == StatusActive && m.Org.ID == orgID {
			return true
		}
	}
	return false
}
