package storage

// Action is something a person may or may not do to an organisation.
type Action string

// Actions checked against the tree. Every right check goes through Allowed.
const (
	// ActApprove decides code-less registrations into the org.
	ActApprove Action = "approve"
	// ActBindChat attaches a group chat to the org or detaches it.
	ActBindChat Action = "bind_chat"
)

// rolesFor lists, per action, the roles that grant it. A role held in an org
// grants the action on that org and on everything below it, never sideways
// or upwards.
var rolesFor = map[Action][]Role{
	ActApprove:  {RoleChair, RoleInfoworker},
	ActBindChat: {RoleChair, RoleInfoworker},
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
