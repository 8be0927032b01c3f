package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/unionhub/unionhub/storage"
)

// likeEscaper makes a searched text match itself in LIKE: its % and _ are
// literal.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchOrgs lists the orgs of the subtrees under whose name or code holds
// text (every org when text is empty), by name, one page of at most limit
// from offset. The path prefixes use the path index, and the page bounds
// the name match.
func (db *DB) SearchOrgs(ctx context.Context, under []storage.Org, text string, limit, offset int) ([]storage.Org, error) {
	if len(under) == 0 {
		return nil, nil
	}
	var (
		where []string
		args  []any
	)
	for _, o := range under {
		if o.Path == "" {
			return nil, fmt.Errorf("search orgs: org %d has no path", o.ID)
		}
		where = append(where, "o.path LIKE ?")
		args = append(args, o.Path+"%")
	}
	q := "WHERE (" + strings.Join(where, " OR ") + ")"
	if text = strings.TrimSpace(text); text != "" {
		pattern := "%" + likeEscaper.Replace(text) + "%"
		q += fmt.Sprintf(` AND (o.name %[1]s ? ESCAPE '\' OR o.code %[1]s ? ESCAPE '\')`, db.d.ILike)
		args = append(args, pattern, pattern)
	}
	q += " ORDER BY o.name, o.id LIMIT ? OFFSET ?"
	orgs, err := db.conn().orgs(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return nil, fmt.Errorf("search orgs: %w", err)
	}
	return orgs, nil
}

// OrgPeople lists the active and pending memberships of one org, leaders
// first and supporters last, one page of at most limit from offset, with each person's
// accounts and latest decision on personal data: three queries a page.
func (db *DB) OrgPeople(ctx context.Context, orgID int64, limit, offset int) ([]storage.OrgPerson, error) {
	c := db.conn()
	dest := func(r *storage.OrgPerson) []any {
		return append(membershipDest(&r.Membership), personDest(&r.Person)...)
	}
	rows, err := queryAll(ctx, c, dest, "SELECT m.id, m.person_id, m.role, m.status, m.created_at, m.decided_by, m.decided_at, "+orgCols+", "+personCols+`
		FROM memberships m JOIN orgs o ON o.id = m.org_id JOIN people p ON p.id = m.person_id
		WHERE m.org_id = ? AND m.status IN (?, ?) AND p.erased_at IS NULL
		ORDER BY CASE m.role WHEN ? THEN 0 WHEN ? THEN 1 WHEN ? THEN 2 WHEN ? THEN 3 WHEN ? THEN 4 ELSE 5 END, p.full_name, m.id
		LIMIT ? OFFSET ?`,
		orgID, storage.StatusActive, storage.StatusPending,
		storage.RoleAdmin, storage.RoleChair, storage.RoleInfoworker, storage.RoleActivist, storage.RoleMember, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("list people of org %d: %w", orgID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]any, len(rows))
	index := make(map[int64][]int, len(rows))
	for i, r := range rows {
		ids[i] = r.Person.ID
		index[r.Person.ID] = append(index[r.Person.ID], i)
	}
	among := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")"
	accounts, err := queryAll(ctx, c, accountDest, "SELECT "+accountCols+" FROM accounts a WHERE a.person_id IN "+among+
		" ORDER BY a.person_id, a.platform, a.external_id", ids...)
	if err != nil {
		return nil, fmt.Errorf("list people of org %d: accounts: %w", orgID, err)
	}
	for _, a := range accounts {
		for _, i := range index[a.PersonID] {
			rows[i].Accounts = append(rows[i].Accounts, a)
		}
	}
	consentDest := func(k *storage.Consent) []any {
		return []any{idCol{&k.PersonID}, idCol{&k.OrgID}, &k.Kind, &k.Version, &k.Locale, &k.Accepted, timeCol{&k.At}}
	}
	// Oldest first: the last one read for a person is their latest decision.
	consents, err := queryAll(ctx, c, consentDest, `SELECT person_id, org_id, kind, version, locale, accepted, at
		FROM consents WHERE kind = ? AND person_id IN `+among+" ORDER BY at, id",
		append([]any{storage.ConsentPersonalData}, ids...)...)
	if err != nil {
		return nil, fmt.Errorf("list people of org %d: consents: %w", orgID, err)
	}
	for _, k := range consents {
		for _, i := range index[k.PersonID] {
			rows[i].Consent = &k
		}
	}
	return rows, nil
}
