package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/unionhub/unionhub/storage"
)

// contactFrom picks the active activists, information workers and chairs of
// a subtree who are not erased; its arguments come from contactArgs.
const contactFrom = ` FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN people p ON p.id = m.person_id
	WHERE m.status = ? AND m.role IN (?, ?, ?) AND o.path LIKE ? AND p.erased_at IS NULL`

func contactArgs(under storage.Org) []any {
	return []any{storage.StatusActive, storage.RoleActivist, storage.RoleInfoworker, storage.RoleChair, under.Path + "%"}
}

// contactRank puts leaders before the activists of the same org.
var contactRank = map[storage.Role]int{storage.RoleChair: 0, storage.RoleInfoworker: 1, storage.RoleActivist: 2}

// ContactBase lists the contact base of under's subtree, one row per
// membership, ordered by org path, role (chair first) and name; it takes two
// queries whatever the number of people.
func (db *DB) ContactBase(ctx context.Context, under storage.Org) ([]storage.ContactRow, error) {
	if under.Path == "" {
		return nil, fmt.Errorf("contact base: org %d has no path", under.ID)
	}
	c := db.conn()
	rowDest := func(r *storage.ContactRow) []any {
		return append(append([]any{&r.Role}, orgDest(&r.Org)...), personDest(&r.Person)...)
	}
	rows, err := queryAll(ctx, c, rowDest, "SELECT m.role, "+orgCols+", "+personCols+contactFrom+" ORDER BY o.path, m.id",
		contactArgs(under)...)
	if err != nil {
		return nil, fmt.Errorf("contact base of org %d: %w", under.ID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	accounts, err := queryAll(ctx, c, accountDest, "SELECT "+accountCols+` FROM accounts a
		WHERE a.person_id IN (SELECT m.person_id`+contactFrom+`)
		ORDER BY a.person_id, a.last_seen_at DESC, a.platform, a.external_id`, contactArgs(under)...)
	if err != nil {
		return nil, fmt.Errorf("contact base of org %d: accounts: %w", under.ID, err)
	}
	byPerson := make(map[int64][]storage.Account)
	for _, a := range accounts {
		byPerson[a.PersonID] = append(byPerson[a.PersonID], a)
	}
	for i := range rows {
		rows[i].Accounts = slices.Clone(byPerson[rows[i].Person.ID])
	}
	// Names are compared here, not in SQL, so that both databases order them
	// alike and as a Russian reader expects, whatever the collation.
	coll := collate.New(language.Russian, collate.IgnoreCase)
	slices.SortStableFunc(rows, func(a, b storage.ContactRow) int {
		return cmp.Or(
			strings.Compare(a.Org.Path, b.Org.Path),
			cmp.Compare(contactRank[a.Role], contactRank[b.Role]),
			coll.CompareString(a.Person.FullName, b.Person.FullName),
			cmp.Compare(a.Person.ID, b.Person.ID),
		)
	})
	return rows, nil
}
