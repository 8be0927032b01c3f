package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/unionhub/unionhub/storage"
)

func (a *app) org(ctx context.Context, args []string) error {
	switch {
	case len(args) == 2 && args[0] == "import":
		return a.orgImport(ctx, args[1])
	case len(args) == 1 && args[0] == "list":
		return a.orgList(ctx)
	}
	return usageError{"usage: unionhub org import FILE | unionhub org list"}
}

func (a *app) orgImport(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open org file: %w", err)
	}
	defer f.Close()
	orgs, err := parseOrgFile(path, f)
	if err != nil {
		return fmt.Errorf("nothing imported:\n%w", err)
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportOrgs(ctx, orgs, a.clock())
	if err != nil {
		return fmt.Errorf("nothing imported:\n%w", err)
	}
	a.printf("imported %s: %d created, %d updated, %d unchanged\n", path, res.Created, res.Updated, res.Unchanged)
	return nil
}

func (a *app) orgList(ctx context.Context) error {
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return fmt.Errorf("list orgs: %w", err)
	}
	children := map[int64][]storage.Org{}
	for _, o := range orgs {
		children[o.ParentID] = append(children[o.ParentID], o)
	}
	var walk func(parent int64, depth int)
	walk = func(parent int64, depth int) {
		for _, o := range children[parent] {
			a.printf("%s%s  %s  [%s, %d members, %s]\n", strings.Repeat("  ", depth), o.Code, o.Name, o.Level, o.MemberCount, o.TimeZone)
			walk(o.ID, depth+1)
		}
	}
	for _, list := range children {
		slices.SortFunc(list, func(x, y storage.Org) int { return strings.Compare(x.Name, y.Name) })
	}
	walk(0, 0)
	if len(orgs) == 0 {
		a.printf("no organisations yet: load them with unionhub org import FILE\n")
	}
	return nil
}
