package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/unionhub/unionhub/storage"
)

const orgCols = "o.id, o.code, o.name, o.parent_id, o.level, o.member_count, o.time_zone, o.path, o.board_cron, o.updated_at"

func orgDest(o *storage.Org) []any {
	return []any{&o.ID, &o.Code, &o.Name, idCol{&o.ParentID}, &o.Level, &o.MemberCount, &o.TimeZone, &o.Path, &o.BoardCron, timeCol{&o.UpdatedAt}}
}

func (c conn) orgs(ctx context.Context, where string, args ...any) ([]storage.Org, error) {
	return queryAll(ctx, c, orgDest, "SELECT "+orgCols+" FROM orgs o "+where, args...)
}

// Orgs lists every org in tree order: parents first, each subtree together.
func (db *DB) Orgs(ctx context.Context) ([]storage.Org, error) {
	orgs, err := db.conn().orgs(ctx, "ORDER BY o.id")
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	// Byte order of paths, which a database collation might not keep.
	slices.SortStableFunc(orgs, func(a, b storage.Org) int { return strings.Compare(a.Path, b.Path) })
	return orgs, nil
}

// Org finds an org by id.
func (db *DB) Org(ctx context.Context, id int64) (storage.Org, error) {
	var o storage.Org
	err := db.conn().row(ctx, "SELECT "+orgCols+" FROM orgs o WHERE o.id = ?", id).Scan(orgDest(&o)...)
	if err != nil {
		return storage.Org{}, fmt.Errorf("get org %d: %w", id, notFound(err))
	}
	return o, nil
}

// OrgByCode finds an org by its import code.
func (db *DB) OrgByCode(ctx context.Context, code string) (storage.Org, error) {
	var o storage.Org
	err := db.conn().row(ctx, "SELECT "+orgCols+" FROM orgs o WHERE o.code = ?", code).Scan(orgDest(&o)...)
	if err != nil {
		return storage.Org{}, fmt.Errorf("get org by code: %w", notFound(err))
	}
	return o, nil
}

// ChildOrgs lists the direct children of parentID (0: the roots), by name.
func (db *DB) ChildOrgs(ctx context.Context, parentID int64) ([]storage.Org, error) {
	var (
		orgs []storage.Org
		err  error
	)
	if parentID == 0 {
		orgs, err = db.conn().orgs(ctx, "WHERE o.parent_id IS NULL ORDER BY o.id")
	} else {
		orgs, err = db.conn().orgs(ctx, "WHERE o.parent_id = ? ORDER BY o.id", parentID)
	}
	if err != nil {
		return nil, fmt.Errorf("list child orgs of %d: %w", parentID, err)
	}
	// Sorted here, not in SQL, so that both databases order names alike and
	// as a Russian reader expects, whatever the database's collation.
	coll := collate.New(language.Russian, collate.IgnoreCase)
	slices.SortStableFunc(orgs, func(a, b storage.Org) int { return coll.CompareString(a.Name, b.Name) })
	return orgs, nil
}

// ImportOrgs validates the file against the stored tree and writes it in one
// transaction: nothing is written when anything is wrong.
func (db *DB) ImportOrgs(ctx context.Context, in []storage.OrgInput, at time.Time) (storage.ImportResult, error) {
	var result storage.ImportResult
	err := db.inTx(ctx, func(c conn) error {
		if db.d.LockOrgs != "" {
			if _, err := c.exec(ctx, db.d.LockOrgs); err != nil {
				return fmt.Errorf("lock orgs: %w", err)
			}
		}
		existing, err := c.orgs(ctx, "ORDER BY o.id")
		if err != nil {
			return fmt.Errorf("read orgs: %w", err)
		}
		plan, err := storage.PlanImport(existing, in)
		if err != nil {
			return err
		}
		ids := make(map[string]int64, len(existing)+len(plan.Steps))
		for _, o := range existing {
			ids[o.Code] = o.ID
		}
		for _, s := range plan.Steps {
			if err := c.writeOrg(ctx, s, ids, at); err != nil {
				return err
			}
		}
		if len(plan.Steps) > 0 {
			if err := c.updatePaths(ctx); err != nil {
				return err
			}
		}
		result = plan.Result()
		return nil
	})
	if err != nil {
		return storage.ImportResult{}, fmt.Errorf("import orgs: %w", err)
	}
	db.logger.InfoContext(ctx, "orgs imported", "created", result.Created, "updated", result.Updated, "unchanged", result.Unchanged)
	// The tree is read by every query of the members below it: the planner
	// should know it now, not when autovacuum comes round.
	if db.d.AnalyzeOrgs != "" && (result.Created > 0 || result.Updated > 0) {
		if _, err := db.conn().exec(ctx, db.d.AnalyzeOrgs); err != nil {
			db.logger.WarnContext(ctx, "analyse orgs after import", "err", err)
		}
	}
	return result, nil
}

// writeOrg creates or updates one org of a plan; ids learns the new org's id.
func (c conn) writeOrg(ctx context.Context, s storage.ImportStep, ids map[string]int64, at time.Time) error {
	o := s.Input
	var parent any
	if o.ParentCode != "" {
		parent = ids[o.ParentCode]
	}
	if s.ID != 0 {
		_, err := c.exec(ctx, `UPDATE orgs SET name = ?, parent_id = ?, level = ?, member_count = ?, time_zone = ?, board_cron = ?, updated_at = ?
			WHERE id = ?`, o.Name, parent, o.Level, o.MemberCount, o.TimeZone, o.BoardCron, c.d.t(at), s.ID)
		if err != nil {
			return fmt.Errorf("update org %d: %w", s.ID, err)
		}
		return nil
	}
	var id int64
	err := c.row(ctx, `INSERT INTO orgs (code, name, parent_id, level, member_count, time_zone, board_cron, path, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?) RETURNING id`,
		o.Code, o.Name, parent, o.Level, o.MemberCount, o.TimeZone, o.BoardCron, c.d.t(at), c.d.t(at)).Scan(&id)
	if err != nil {
		return fmt.Errorf("insert org %s: %w", o.Source, err)
	}
	ids[o.Code] = id
	return nil
}

// updatePaths recomputes every org's path from the parent links and writes
// those that changed. A path is derived data: updated_at stays.
func (c conn) updatePaths(ctx context.Context) error {
	rows, err := c.query(ctx, "SELECT id, parent_id, path FROM orgs")
	if err != nil {
		return fmt.Errorf("read org paths: %w", err)
	}
	type node struct {
		parent int64
		path   string
	}
	nodes := map[int64]node{}
	for rows.Next() {
		var (
			id int64
			n  node
		)
		if err := rows.Scan(&id, idCol{&n.parent}, &n.path); err != nil {
			rows.Close()
			return fmt.Errorf("read org paths: %w", err)
		}
		nodes[id] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read org paths: %w", err)
	}

	computed := make(map[int64]string, len(nodes))
	var pathOf func(id int64, depth int) (string, error)
	pathOf = func(id int64, depth int) (string, error) {
		if p, ok := computed[id]; ok {
			return p, nil
		}
		if depth > len(nodes) {
			return "", fmt.Errorf("org %d: parent cycle", id)
		}
		prefix := "/"
		if parent := nodes[id].parent; parent != 0 {
			var err error
			if prefix, err = pathOf(parent, depth+1); err != nil {
				return "", err
			}
		}
		p := prefix + strconv.FormatInt(id, 10) + "/"
		computed[id] = p
		return p, nil
	}
	for id, n := range nodes {
		p, err := pathOf(id, 0)
		if err != nil {
			return fmt.Errorf("compute org paths: %w", err)
		}
		if p == n.path {
			continue
		}
		if _, err := c.exec(ctx, "UPDATE orgs SET path = ? WHERE id = ?", p, id); err != nil {
			return fmt.Errorf("update path of org %d: %w", id, err)
		}
	}
	return nil
}
