package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/unionhub/unionhub/orgs"
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

// orgTree is the organisation tree's use cases over db, for the operator.
func (a *app) orgTree(db orgs.Store) *orgs.Service {
	return orgs.New(orgs.Config{Store: db, Clock: a.clock, Logger: a.logger})
}

func (a *app) orgImport(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open org file: %w", err)
	}
	defer f.Close()
	in, err := orgs.ParseFile(path, f)
	if err != nil {
		return fmt.Errorf("nothing imported:\n%w", firstProblems(err))
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := a.orgTree(db).Import(ctx, in)
	if err != nil {
		return fmt.Errorf("nothing imported:\n%w", firstProblems(err))
	}
	a.printf("imported %s: %d created, %d updated, %d unchanged\n", path, res.Created, res.Updated, res.Unchanged)
	return nil
}

// maxShownProblems is how many problems of a rejected org file are printed;
// the rest are counted, so a wholly wrong file does not flood the terminal.
const maxShownProblems = 20

// problems are the problems of a rejected org file, one a line.
type problems []error

func (p problems) Error() string {
	lines := make([]string, 0, maxShownProblems+1)
	for _, e := range p[:min(len(p), maxShownProblems)] {
		lines = append(lines, e.Error())
	}
	switch more := len(p) - maxShownProblems; {
	case more == 1:
		lines = append(lines, "and 1 more problem")
	case more > 1:
		lines = append(lines, fmt.Sprintf("and %d more problems", more))
	}
	return strings.Join(lines, "\n")
}

func (p problems) Unwrap() []error { return p }

// firstProblems makes the problems of a rejected file print the first
// maxShownProblems and a count of the rest: err is the import's
// storage.ImportError, or the parser's joined errors.
func firstProblems(err error) error {
	var ie *storage.ImportError
	if errors.As(err, &ie) {
		return problems(ie.Problems)
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		return problems(joined.Unwrap())
	}
	return err
}

func (a *app) orgList(ctx context.Context) error {
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	orgs, err := a.orgTree(db).Orgs(ctx)
	if err != nil {
		return err
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
