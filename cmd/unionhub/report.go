package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlstore"
)

func (a *app) report(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "broadcast" {
		return a.reportBroadcast(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "monitoring" {
		return a.reportMonitoring(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "action" {
		return a.reportAction(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "hotline" {
		return usageError{"usage: unionhub report hotline --org CODE [--from 2026-01-01] [--to 2027-01-01] [--format table|csv|json] | report broadcast ID [--format table|csv|json] | report action ID [--format table|csv|json] | report monitoring --org CODE [--period 2026] [--format table|csv|json]"}
	}
	fs := flag.NewFlagSet("report hotline", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	code := fs.String("org", "", "organisation code; its whole subtree is counted")
	fromS := fs.String("from", "", "first day, YYYY-MM-DD (default: a year before --to)")
	toS := fs.String("to", "", "day after the last, YYYY-MM-DD (default: tomorrow)")
	format := fs.String("format", "table", "table, csv or json")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *code == "" || fs.NArg() != 0 {
		return usageError{"report hotline needs --org CODE and nothing else"}
	}
	if err := checkFormat(*format); err != nil {
		return err
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
	now := a.clock()
	loc, err := time.LoadLocation(org.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	to := time.Date(now.In(loc).Year(), now.In(loc).Month(), now.In(loc).Day()+1, 0, 0, 0, 0, loc)
	if *toS != "" {
		if to, err = time.ParseInLocation(time.DateOnly, *toS, loc); err != nil {
			return usageError{fmt.Sprintf("--to %q: use YYYY-MM-DD", *toS)}
		}
	}
	from := to.AddDate(-1, 0, 0)
	if *fromS != "" {
		if from, err = time.ParseInLocation(time.DateOnly, *fromS, loc); err != nil {
			return usageError{fmt.Sprintf("--from %q: use YYYY-MM-DD", *fromS)}
		}
	}
	if !from.Before(to) {
		return usageError{"--from must be before --to"}
	}
	r, err := hotline.BuildReport(ctx, db, org, from, to, now)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return a.writeJSON(r)
	case "csv":
		return writeReportCSV(a.stdout, r)
	}
	return writeReportTable(a.stdout, r)
}

// reportRows are the report as metric, value pairs, shared by CSV and table.
func reportRows(r hotline.Report) [][2]string {
	hours := func(d time.Duration) string { return strconv.FormatFloat(d.Hours(), 'f', 1, 64) }
	rows := [][2]string{
		{"org", r.Org},
		{"from", r.From.Format(time.DateOnly)},
		{"to", r.To.Format(time.DateOnly)},
		{"tickets", strconv.Itoa(r.Tickets)},
		{"first_response_count", strconv.Itoa(r.First.Count)},
		{"first_response_median_hours", hours(r.First.Median)},
		{"first_response_p90_hours", hours(r.First.P90)},
		{"close_count", strconv.Itoa(r.Close.Count)},
		{"close_median_hours", hours(r.Close.Median)},
		{"close_p90_hours", hours(r.Close.P90)},
		{"escalations", strconv.Itoa(r.Escalate)},
		{"unanswered_now", strconv.Itoa(r.UnansweredNow)},
		{"ratings", strconv.Itoa(r.Ratings.Count)},
		{"rating_average", strconv.FormatFloat(r.Ratings.Average, 'f', 2, 64)},
	}
	for i, n := range r.Ratings.Stars {
		rows = append(rows, [2]string{fmt.Sprintf("rating_%d", i+1), strconv.Itoa(n)})
	}
	for _, tc := range r.ByTopic {
		rows = append(rows, [2]string{"topic_" + tc.Topic, strconv.Itoa(tc.Count)})
	}
	for _, oc := range r.ByOrg {
		rows = append(rows, [2]string{"org_" + oc.Code, strconv.Itoa(oc.Tickets)})
	}
	return rows
}

func writeReportCSV(w io.Writer, r hotline.Report) error {
	return writeMetricsCSV(w, reportRows(r))
}

// writeMetricsCSV writes metric, value pairs under their header.
func writeMetricsCSV(w io.Writer, rows [][2]string) error {
	table := [][]string{{"metric", "value"}}
	for _, row := range rows {
		table = append(table, []string{row[0], row[1]})
	}
	return sheet.WriteCSV(w, table)
}

func writeReportTable(w io.Writer, r hotline.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range reportRows(r) {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

func (a *app) reportBroadcast(ctx context.Context, args []string) error {
	db, b, format, err := a.reportedBroadcast(ctx, "broadcast", args)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := news.BuildReport(ctx, db, b)
	if err != nil {
		return err
	}
	if format == "json" {
		return a.writeJSON(r)
	}
	rows := broadcastRows(r)
	if format == "csv" {
		return writeMetricsCSV(a.stdout, rows)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", row[0], row[1])
	}
	return tw.Flush()
}

// broadcastRows are the broadcast report as metric, value pairs, shared by CSV and table.
func broadcastRows(r news.Report) [][2]string {
	rows := [][2]string{
		{"id", strconv.FormatInt(r.ID, 10)}, {"org", r.Org}, {"mode", r.Mode}, {"status", r.Status},
		{"audience", strconv.Itoa(r.Audience)}, {"delivered", strconv.Itoa(r.Delivered)}, {"failed", strconv.Itoa(r.Failed)},
		{"unreachable", strconv.Itoa(r.Unreachable)}, {"queued", strconv.Itoa(r.Queued)}, {"cancelled", strconv.Itoa(r.Cancelled)},
		{"relay_steps", strconv.Itoa(r.RelaySteps)}, {"relayed", strconv.Itoa(r.Relayed)},
		{"link_opens", strconv.Itoa(r.Opens)}, {"shares", strconv.Itoa(r.Shares)},
	}
	for _, o := range r.ByOrg {
		rows = append(rows, [2]string{"org_" + o.Code, fmt.Sprintf("%d/%d", o.Delivered, o.Audience)})
	}
	for _, l := range r.RelayLevels {
		rows = append(rows, [2]string{fmt.Sprintf("relay_depth_%d_median_hours", l.Depth), strconv.FormatFloat(l.Median.Hours(), 'f', 2, 64)})
	}
	if a := r.Action; a != nil {
		rows = append(rows, [2]string{"action_yes", strconv.Itoa(a.Yes)}, [2]string{"action_no", strconv.Itoa(a.No)},
			[2]string{"action_attended", strconv.Itoa(a.Attended)}, [2]string{"action_signed", strconv.Itoa(a.Signed)})
	}
	return rows
}

func (a *app) reportAction(ctx context.Context, args []string) error {
	db, b, format, err := a.reportedBroadcast(ctx, "action", args)
	if err != nil {
		return err
	}
	defer db.Close()
	if b.Action == nil {
		return usageError{fmt.Sprintf("broadcast № %d carries no action", b.ID)}
	}
	r, err := news.BuildActionReport(ctx, db, b)
	if err != nil {
		return err
	}
	switch format {
	case "json":
		return a.writeJSON(r)
	case "csv":
		return sheet.WriteCSV(a.stdout, actionRows(r))
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s · %s · %s %s (%s)\n", r.Org, r.Title, r.Kind, r.At.Format("02.01.2006 15:04"), r.Zone)
	for i, row := range actionRows(r) {
		if i > 0 {
			row[1] = strings.Repeat("  ", r.ByOrg[i-1].Depth) + row[1]
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// actionRows are the action report as a header and a row per organisation
// (its subtree's answers), the sender first, shared by CSV and table.
func actionRows(r news.ActionReport) [][]string {
	rows := [][]string{{"code", "org", "yes", "no", "attended", "signed"}}
	for _, o := range r.ByOrg {
		rows = append(rows, []string{o.Code, o.Name, strconv.Itoa(o.Yes), strconv.Itoa(o.No), strconv.Itoa(o.Attended), strconv.Itoa(o.Signed)})
	}
	return rows
}

// reportedBroadcast reads "ID [--format F]" of report what and loads the
// broadcast from the migrated database, which the caller closes.
func (a *app) reportedBroadcast(ctx context.Context, what string, args []string) (*sqlstore.DB, storage.Broadcast, string, error) {
	if len(args) == 0 {
		return nil, storage.Broadcast{}, "", usageError{"usage: unionhub report " + what + " ID [--format table|csv|json]"}
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return nil, storage.Broadcast{}, "", usageError{fmt.Sprintf("%q is not a broadcast number", args[0])}
	}
	fs := flag.NewFlagSet("report "+what, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "table", "table, csv or json")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return nil, storage.Broadcast{}, "", usageError{"report " + what + " takes ID and --format only"}
	}
	if err := checkFormat(*format); err != nil {
		return nil, storage.Broadcast{}, "", err
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return nil, storage.Broadcast{}, "", err
	}
	b, err := db.Broadcast(ctx, id)
	if err != nil {
		db.Close()
		if errors.Is(err, storage.ErrNotFound) {
			return nil, b, "", usageError{fmt.Sprintf("no broadcast № %d", id)}
		}
		return nil, b, "", fmt.Errorf("load broadcast: %w", err)
	}
	return db, b, *format, nil
}
