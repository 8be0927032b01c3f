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

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/sheet"
)

const exportUsage = "usage: unionhub export contacts --org CODE [--format csv|xlsx] [--out FILE]"

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
	table := monitoring.ContactTable(contacts)

	var buf bytes.Buffer
	if *format == "xlsx" {
		err = sheet.WriteXLSX(&buf, "contacts", table)
	} else {
		err = sheet.WriteExcelCSV(&buf, table)
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
