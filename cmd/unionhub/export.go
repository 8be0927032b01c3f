package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

const exportUsage = "usage: unionhub export contacts --org CODE [--format csv|xlsx] [--out FILE]"

// contactHeader names the columns of the contact base, in the snake_case of
// the other reports: the file is for staff and their spreadsheets.
var contactHeader = []string{
	"org_code", "org_name", "org_path", "role", "full_name", "position",
	"work_email", "personal_email", "telegram", "vk", "last_seen", "chats",
}

func (a *app) export(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "contacts" {
		return usageError{exportUsage}
	}
	fs := flag.NewFlagSet("export contacts", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	code := fs.String("org", "", "organisation code; its whole subtree is exported")
	format := fs.String("format", "", "csv or xlsx (default: from --out's extension, else csv)")
	out := fs.String("out", "", "file to write (default: standard output; xlsx needs a file)")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *code == "" || fs.NArg() != 0 {
		return usageError{"export contacts needs --org CODE; " + exportUsage}
	}
	if *format == "" {
		*format = "csv"
		if strings.EqualFold(filepath.Ext(*out), ".xlsx") {
			*format = "xlsx"
		}
	}
	switch {
	case *format != "csv" && *format != "xlsx":
		return usageError{fmt.Sprintf("--format %q: use csv or xlsx", *format)}
	case *format == "xlsx" && *out == "":
		return usageError{"--format xlsx needs --out FILE: a workbook is not written to a terminal"}
	}

	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := orgByCode(ctx, db, *code)
	if err != nil {
		return err
	}
	table, err := contactTable(ctx, db, org)
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	if *format == "xlsx" {
		err = writeXLSX(&buf, "contacts", table)
	} else {
		err = writeContactsCSV(&buf, table)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		if _, err := a.stdout.Write(buf.Bytes()); err != nil {
			return fmt.Errorf("write contacts: %w", err)
		}
		return nil
	}
	if err := writeFileAtomic(*out, buf.Bytes()); err != nil {
		return err
	}
	a.printf("wrote %d contacts of %s (%s) to %s\n", len(table)-1, org.Code, org.Name, *out)
	return nil
}

// contactStore is what the export reads.
type contactStore interface {
	Orgs(ctx context.Context) ([]storage.Org, error)
	ContactBase(ctx context.Context, under storage.Org) ([]storage.ContactRow, error)
	Consents(ctx context.Context, personID int64) ([]storage.Consent, error)
	BoundChats(ctx context.Context, under storage.Org) ([]storage.ChatBinding, error)
}

// contactTable builds the contact base of under's subtree, header first.
func contactTable(ctx context.Context, db contactStore, under storage.Org) ([][]string, error) {
	rows, err := db.ContactBase(ctx, under)
	if err != nil {
		return nil, fmt.Errorf("load contact base: %w", err)
	}
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("load orgs: %w", err)
	}
	names := make(map[string]string, len(orgs))
	for _, o := range orgs {
		names[strconv.FormatInt(o.ID, 10)] = o.Name
	}
	// The higher organisation gets the channels too; a desk is the staff's
	// hot-line work chat, no channel of the org.
	bound, err := db.BoundChats(ctx, under)
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
	table := [][]string{contactHeader}
	for _, r := range rows {
		p := r.Person
		personal := ""
		if p.PersonalEmail != "" {
			ok, known := personalOK[p.ID]
			if !known {
				if ok, err = personalEmailConsented(ctx, db, p.ID); err != nil {
					return nil, err
				}
				personalOK[p.ID] = ok
			}
			if ok {
				personal = p.PersonalEmail
			}
		}
		var lastSeen time.Time
		for _, acc := range r.Accounts {
			if acc.LastSeenAt.After(lastSeen) {
				lastSeen = acc.LastSeenAt
			}
		}
		seen := ""
		if !lastSeen.IsZero() {
			loc, err := time.LoadLocation(r.Org.TimeZone)
			if err != nil {
				loc = time.UTC
			}
			seen = lastSeen.In(loc).Format(time.DateOnly)
		}
		table = append(table, []string{
			r.Org.Code, r.Org.Name, orgPathNames(r.Org, names), string(r.Role), p.FullName, p.Position,
			p.WorkEmail, personal, channel(r.Accounts, storage.Telegram), channel(r.Accounts, storage.VK), seen,
			strings.Join(chats[r.Org.ID], "; "),
		})
	}
	return table, nil
}

// personalEmailConsented reports whether the person's latest decision on
// their personal address is a consent.
func personalEmailConsented(ctx context.Context, db contactStore, personID int64) (bool, error) {
	cons, err := db.Consents(ctx, personID)
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

// writeContactsCSV writes UTF-8 with a byte-order mark, without which Excel
// takes the file for the ANSI code page and garbles Cyrillic.
func writeContactsCSV(w io.Writer, table [][]string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w)
	for _, row := range table {
		safe := make([]string, len(row))
		for i, cell := range row {
			safe[i] = neutralizeFormula(cell)
		}
		if err := cw.Write(safe); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// neutralizeFormula keeps a spreadsheet from running a cell a member typed
// as a formula ("=HYPERLINK(...)"): such a cell gets a leading apostrophe.
func neutralizeFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// writeFileAtomic replaces path with data, or leaves it as it was: a failed
// export never leaves half a file. The file is readable by its owner only,
// as it holds personal data.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".unionhub-export-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
