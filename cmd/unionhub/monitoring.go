package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/sheet"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/storage/sqlstore"
	"github.com/unionhub/unionhub/surveys"
)

// surveys loads the built-in surveys and those of UNIONHUB_SURVEYS_DIR.
func (a *app) surveys() ([]surveys.Survey, error) {
	defs, err := surveys.Load(a.cfg.SurveysDir)
	if err != nil {
		return nil, usageError{fmt.Sprintf("UNIONHUB_SURVEYS_DIR: %v", err)}
	}
	return defs, nil
}

// monitoring is the monitoring service of commands that keep records but
// send nothing: the serving replicas send what those records call for.
func (a *app) monitoring(db *sqlstore.DB) (*monitoring.Service, error) {
	defs, err := a.surveys()
	if err != nil {
		return nil, err
	}
	return monitoring.New(monitoring.Config{Store: db, Surveys: defs, ContactBaseCron: a.cfg.ContactBaseCron, Clock: a.clock, Logger: a.logger}), nil
}

const surveyUsage = "usage: unionhub survey list | survey run ID [--org CODE] | survey status ID"

func (a *app) survey(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{surveyUsage}
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := a.monitoring(db)
	if err != nil {
		return err
	}
	switch {
	case args[0] == "list" && len(args) == 1:
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "id\ttitle\tquestions\tschedules\tsource")
		for _, sv := range svc.Surveys() {
			var sched []string
			for _, sc := range sv.Schedules {
				sched = append(sched, fmt.Sprintf("%s %q deadline %s", sc.Name, sc.Cron, sc.Deadline))
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", sv.ID, sv.Title.T("ru"), len(sv.Questions), strings.Join(sched, "; "), sv.Source)
		}
		return tw.Flush()
	case args[0] == "run" && len(args) >= 2:
		return a.surveyRun(ctx, svc, args[1], args[2:])
	case args[0] == "status" && len(args) == 2:
		return a.surveyStatus(ctx, svc, args[1])
	}
	return usageError{surveyUsage}
}

// surveyRun opens a run of a survey now, for its first schedule's audience
// (or that audience under --org); the serving replicas invite the
// responders.
func (a *app) surveyRun(ctx context.Context, svc *monitoring.Service, id string, args []string) error {
	fs := flag.NewFlagSet("survey run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	code := fs.String("org", "", "survey the subtree of this organisation instead of the schedule's")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return usageError{surveyUsage}
	}
	st, err := svc.StartRun(ctx, id, *code)
	switch {
	case errors.Is(err, monitoring.ErrNoSurvey):
		return usageError{fmt.Sprintf("no survey %q; see unionhub survey list", id)}
	case errors.Is(err, monitoring.ErrNoSchedule):
		return usageError{fmt.Sprintf("survey %q has no schedule to take the audience from", id)}
	case errors.Is(err, storage.ErrNotFound):
		return usageError{fmt.Sprintf("no organisation with code %q (see unionhub org list)", *code)}
	case err != nil:
		return err
	}
	a.printf("survey run %d of %q opened for %d organisations, answers until %s\n", st.Run.ID, st.Survey.ID, st.Targets, st.Run.Deadline.Format(time.RFC3339))
	return nil
}

// surveyStatus prints the runs of a survey and, for the newest, where each
// organisation stands.
func (a *app) surveyStatus(ctx context.Context, svc *monitoring.Service, id string) error {
	runs, err := svc.Runs(ctx, id)
	if errors.Is(err, monitoring.ErrNoSurvey) {
		return usageError{fmt.Sprintf("no survey %q; see unionhub survey list", id)}
	}
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		a.printf("survey %q has not run yet\n", id)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tfired for\tdeadline\tstatus\tanswered")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d/%d\n", r.Run.ID, r.Run.FiredFor.Format(time.RFC3339), r.Run.Deadline.Format(time.RFC3339), r.Run.Status, r.Answered(), len(r.Targets))
	}
	fmt.Fprintf(tw, "\norg\tstatus\tnotices sent\n")
	for _, t := range runs[0].Targets {
		status := "waiting"
		if t.SubmittedAt != nil {
			status = "answered " + t.SubmittedAt.Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\n", t.Org.Code, status, t.RemindersSent)
	}
	return tw.Flush()
}

// jobs lists every scheduled job with its next and last run.
func (a *app) jobs(ctx context.Context, args []string) error {
	if len(args) != 0 {
		return usageError{"usage: unionhub jobs"}
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := a.monitoring(db)
	if err != nil {
		return err
	}
	jobs, err := svc.JobStates(ctx)
	if err != nil {
		return err
	}
	now := a.clock()
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "job\tschedule\tnext run\tlast run\toutcome")
	for _, j := range jobs {
		lastRun, outcome := "never", ""
		if r := j.Last; r != nil {
			lastRun, outcome = r.FiredFor.In(j.Loc).Format("2006-01-02 15:04 MST"), r.Outcome
			if r.FinishedAt == nil {
				outcome = "running since " + r.StartedAt.In(j.Loc).Format("2006-01-02 15:04")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Name, j.Spec, j.Next(now).In(j.Loc).Format("2006-01-02 15:04 MST"), lastRun, outcome)
	}
	return tw.Flush()
}

const targetUsage = "usage: unionhub target set --org CODE --period 2026 --norm NORM --value N | target list --period 2026"

// target sets an organisation's own target for a norm in a period,
// overriding the programme's default for it and the orgs below it.
func (a *app) target(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "set" && args[0] != "list") {
		return usageError{targetUsage}
	}
	fs := flag.NewFlagSet("target", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	code := fs.String("org", "", "organisation code")
	period := fs.String("period", "", "year (2026) or month (2026-03)")
	norm := fs.String("norm", "", "a norm ("+strings.Join(surveys.Norms, ", ")+") or an observed indicator (see the README)")
	value := fs.String("value", "", "the target value")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return usageError{targetUsage}
	}
	if _, err := monitoring.ParsePeriod(*period, time.UTC); err != nil {
		return usageError{err.Error()}
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := a.monitoring(db)
	if err != nil {
		return err
	}
	if args[0] == "list" {
		ts, err := svc.Targets(ctx, *period)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "org\tnorm\ttarget\tdefault")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%g\t%g\n", t.Org.Code, t.Target.Indicator, t.Target.Value, t.Default)
		}
		return tw.Flush()
	}
	v, err := strconv.ParseFloat(strings.Replace(*value, ",", ".", 1), 64)
	if err != nil {
		v = math.NaN() // refused with the norm checked first
	}
	t, org, err := svc.SetTarget(ctx, *code, *period, *norm, v)
	var bad *monitoring.InvalidError
	switch {
	case errors.As(err, &bad) && bad.Field == "value":
		return usageError{fmt.Sprintf("--value %q: a number from 0", *value)}
	case errors.As(err, &bad):
		return usageError{"--" + bad.Error()}
	case errors.Is(err, storage.ErrNotFound):
		return usageError{fmt.Sprintf("no organisation with code %q (see unionhub org list)", *code)}
	case err != nil:
		return err
	}
	a.printf("target of %s for %s in %s: %g (default %g)\n", org.Code, t.Indicator, t.Period, t.Value, surveys.DefaultTargets[t.Indicator])
	return nil
}

// reportMonitoring prints the programme's indicators for a subtree.
func (a *app) reportMonitoring(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("report monitoring", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	code := fs.String("org", "", "organisation code; its whole subtree is reported")
	periodS := fs.String("period", "", "year (2026) or month (2026-03); default this year")
	format := fs.String("format", "table", "table, csv or json")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 || *code == "" {
		return usageError{"usage: unionhub report monitoring --org CODE [--period 2026] [--format table|csv|json]"}
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	db, err := a.openMigrated(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc, err := a.monitoring(db)
	if err != nil {
		return err
	}
	org, err := orgByCode(ctx, db, *code)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(org.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	if *periodS == "" {
		*periodS = strconv.Itoa(a.clock().In(loc).Year())
	}
	p, err := monitoring.ParsePeriod(*periodS, loc)
	if err != nil {
		return usageError{err.Error()}
	}
	r, err := svc.ObservedReport(ctx, org, p)
	if err != nil {
		return err
	}
	switch *format {
	case "json":
		return a.writeJSON(r)
	case "csv":
		return writeMonitoringCSV(a.stdout, r)
	}
	return writeMonitoringTable(a.stdout, r)
}

func writeMonitoringCSV(w io.Writer, r monitoring.Report) error {
	return sheet.WriteCSV(w, r.Table())
}

func writeMonitoringTable(w io.Writer, r monitoring.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "org\t%s\nperiod\t%s (previous %s)\nsurveyed\t%d\nanswered\t%d\nresponse_rate\t%.1f%% (previous %.1f%%)\n\n",
		r.Org, r.Period, r.Previous, r.Surveyed, r.Answered, r.ResponseRate, r.PrevResponseRate)
	fmt.Fprintln(tw, "norm\tpassed\tfailed\tno_data\tprevious passed\tprevious failed")
	for _, n := range r.Norms {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", n.Norm, n.Passed, n.Failed, n.NoData, n.PrevPassed, n.PrevFailed)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "observed\tthis period\tprevious period")
	now, before := r.Observed.Cells(), r.PrevObserved.Cells()
	for i, name := range monitoring.ObservedHeader() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, noData(now[i]), noData(before[i]))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, strings.Join(r.Header(), "\t"))
	for _, o := range r.Orgs {
		fmt.Fprintln(tw, strings.Join(o.Row(), "\t"))
	}
	return tw.Flush()
}

// noData shows an empty cell of the table as such.
func noData(cell string) string {
	if cell == "" {
		return "no data"
	}
	return cell
}
