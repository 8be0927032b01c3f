package main

import (
	"context"
	"fmt"

	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

// signIn is the console's sign-in service on db, with links to the
// console's public address.
func (a *app) signIn(db *sqlstore.DB, catalog *locales.Catalog) *signin.Service {
	return signin.New(signin.Config{
		Store: db, BaseURL: a.cfg.PublicURL, StaffName: catalog.T(locales.Default, "console.staff_name"),
		Clock: a.clock, Logger: a.logger.With("component", "signin"),
	})
}

// console runs "console link --admin": a sign-in link for the Union's
// staff, printed for whoever runs the server.
func (a *app) console(ctx context.Context, args []string) error {
	if len(args) != 2 || args[0] != "link" || args[1] != "--admin" {
		return usageError{"usage: unionhub console link --admin"}
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	catalog, err := locales.Load()
	if err != nil {
		return err
	}
	l, err := a.signIn(db, catalog).AdminLink(ctx)
	if err != nil {
		return err
	}
	a.printf("Sign-in link for the Union's staff (valid for %d minutes, works once):\n%s\n", int(signin.LinkTTL.Minutes()), l.URL)
	if l.GrantAdmin {
		a.printf("Nobody holds the admin role yet: the link makes the console's staff person the Union's admin\n" +
			"(or, while no organisation tree is loaded, opens a session that may only load it).\n")
	}
	return nil
}

// offerAdminLink prints a sign-in link for the Union's staff when nobody
// holds the admin role yet, on the terminal only: never into the log,
// which may be shipped elsewhere, as the link is a secret.
func (a *app) offerAdminLink(ctx context.Context, svc *signin.Service) {
	has, err := svc.HasAdmin(ctx)
	if err == nil && has {
		return
	}
	var l signin.Link
	if err == nil {
		l, err = svc.AdminLink(ctx)
	}
	if err != nil {
		a.logger.WarnContext(ctx, "make the first sign-in link", "err", err)
		return
	}
	fmt.Fprintf(a.stderr, "\nUnionHub console: nobody is the Union's staff yet. Sign in within %d minutes (the link works once):\n\n    %s\n\n",
		int(signin.LinkTTL.Minutes()), l.URL)
}
