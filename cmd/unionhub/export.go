package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/unionhub/unionhub/monitoring"
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
	contacts, err := monitoring.New(monitoring.Config{Store: db, Clock: a.clock, Logger: a.logger}).Contacts(ctx, org)
	if err != nil {
		return err
	}
	table := contactTable(contacts)

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

// contactTable lays out the contact base, header first.
func contactTable(contacts []monitoring.Contact) [][]string {
	table := [][]string{contactHeader}
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

// writeContactsCSV writes UTF-8 with a byte-order mark, without which Excel
// takes the file for the ANSI code page and garbles Cyrillic.
func writeContactsCSV(w io.Writer, table [][]string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return writeCSV(w, table)
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
