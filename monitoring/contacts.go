package monitoring

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Contact is one activist or leader of the contact base, as it leaves the
// hub in a file for staff.
type Contact struct {
	Org storage.Org
	// OrgPath spells the org's place in the tree: "Union / Branch / Primary".
	OrgPath string
	Role    storage.Role
	Person  storage.Person
	// PersonalEmail is the person's personal address only while their
	// latest decision on it is a consent; Person.PersonalEmail is cleared.
	PersonalEmail string
	// Telegram and VK say whether the bot reaches the person there: "yes",
	// "blocked" when every account there blocked the bot, or "no".
	Telegram, VK string
	// LastSeen is the person's last message to the bot on any platform, in
	// the org's zone (UTC when it has none); zero when never.
	LastSeen time.Time
	// Chats are the org's bound group chats (its channels, no hot-line
	// desk), as "platform: title".
	Chats []string
}

// ContactHeader names the columns of the contact base as a file, in the
// snake_case of the other reports: the file is for staff and their
// spreadsheets.
var ContactHeader = []string{
	"org_code", "org_name", "org_path", "role", "full_name", "position",
	"work_email", "personal_email", "telegram", "vk", "last_seen", "chats",
}

// ContactTable lays out the contact base as a file's rows, header first:
// the same columns wherever it is exported, the command line or the
// console.
func ContactTable(contacts []Contact) [][]string {
	table := make([][]string, 0, len(contacts)+1)
	table = append(table, ContactHeader)
	for _, c := range contacts {
		seen := ""
		if !c.LastSeen.IsZero() {
			seen = c.LastSeen.Format(time.DateOnly)
		}
		table = append(table, []string{
			c.Org.Code, c.Org.Name, c.OrgPath, string(c.Role), c.Person.FullName, c.Person.Position,
			c.Person.WorkEmail, c.PersonalEmail, c.Telegram, c.VK, seen, strings.Join(c.Chats, "; "),
		})
	}
	return table
}

// Contacts is the contact base of under's subtree in tree order: the
// operator's export (the command line may export any subtree).
func (s *Service) Contacts(ctx context.Context, under storage.Org) ([]Contact, error) {
	rows, err := s.store.ContactBase(ctx, under)
	if err != nil {
		return nil, fmt.Errorf("load contact base: %w", err)
	}
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("load orgs: %w", err)
	}
	names := make(map[string]string, len(orgs))
	for _, o := range orgs {
		names[strconv.FormatInt(o.ID, 10)] = o.Name
	}
	// The higher organisation gets the channels too; a desk is the staff's
	// hot-line work chat, no channel of the org.
	bound, err := s.store.BoundChats(ctx, under)
	if err != nil {
		return nil, fmt.Errorf("load bound chats: %w", err)
	}
	chats := map[int64][]string{}
	for _, b := range bound {
		if b.Desk {
			continue
		}
		title := b.Title
		if title == "" {
			title = b.ChatID
		}
		chats[b.OrgID] = append(chats[b.OrgID], string(b.Platform)+": "+title)
	}
	// The store keeps a personal address only with its consent; the latest
	// decision is checked again here, as the file leaves the hub for good.
	// It costs a query per person who gave an address, not per row.
	personalOK := map[int64]bool{}
	out := make([]Contact, 0, len(rows))
	for _, r := range rows {
		p := r.Person
		c := Contact{Org: r.Org, OrgPath: orgPathNames(r.Org, names), Role: r.Role, Person: p,
			Telegram: channel(r.Accounts, storage.Telegram), VK: channel(r.Accounts, storage.VK), Chats: chats[r.Org.ID]}
		c.Person.PersonalEmail = ""
		if p.PersonalEmail != "" {
			ok, known := personalOK[p.ID]
			if !known {
				if ok, err = s.personalEmailConsented(ctx, p.ID); err != nil {
					return nil, err
				}
				personalOK[p.ID] = ok
			}
			if ok {
				c.PersonalEmail = p.PersonalEmail
			}
		}
		for _, acc := range r.Accounts {
			if acc.LastSeenAt.After(c.LastSeen) {
				c.LastSeen = acc.LastSeenAt
			}
		}
		if !c.LastSeen.IsZero() {
			loc, err := time.LoadLocation(r.Org.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			c.LastSeen = c.LastSeen.In(loc)
		}
		out = append(out, c)
	}
	return out, nil
}

// ContactsFor is the contact base of the subtree of the org of code, for
// an actor the policy lets export it (access.ActContacts): sideways or up
// it is access.ErrForbidden.
func (s *Service) ContactsFor(ctx context.Context, by access.Actor, code string) (storage.Org, []Contact, error) {
	org, err := s.store.OrgByCode(ctx, code)
	if err != nil {
		return org, nil, fmt.Errorf("load org %q: %w", code, err)
	}
	if by.PersonID == 0 || !by.Can(access.ActContacts, org) {
		return org, nil, fmt.Errorf("export the contacts of org %d: %w", org.ID, access.ErrForbidden)
	}
	contacts, err := s.Contacts(ctx, org)
	return org, contacts, err
}

// personalEmailConsented reports whether the person's latest decision on
// their personal address is a consent.
func (s *Service) personalEmailConsented(ctx context.Context, personID int64) (bool, error) {
	cons, err := s.store.Consents(ctx, personID)
	if err != nil {
		return false, fmt.Errorf("load consents of person %d: %w", personID, err)
	}
	ok := false
	for _, c := range cons { // oldest first: the last decision wins
		if c.Kind == storage.ConsentPersonalEmail {
			ok = c.Accepted
		}
	}
	return ok, nil
}

// orgPathNames spells an org's place in the tree: "Union / Branch / Primary".
func orgPathNames(o storage.Org, names map[string]string) string {
	var parts []string
	for _, id := range strings.Split(strings.Trim(o.Path, "/"), "/") {
		if n, ok := names[id]; ok {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return o.Name
	}
	return strings.Join(parts, " / ")
}

// channel says whether the bot reaches the person on a platform: "yes",
// "blocked" when every account there blocked the bot, or "no".
func channel(accounts []storage.Account, p storage.Platform) string {
	state := "no"
	for _, a := range accounts {
		if a.Platform != p {
			continue
		}
		if a.BlockedAt == nil {
			return "yes"
		}
		state = "blocked"
	}
	return state
}
