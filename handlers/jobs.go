package handlers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// DefaultBoardCron is when primaries are asked about their notice board
// unless their org says otherwise: Monday 10:00 in the org's time zone.
const DefaultBoardCron = "0 10 * * 1"

// boardWindow is how late a missed weekly reminder is still sent: within
// its week.
const boardWindow = 7 * 24 * time.Hour

// staleJobRun is how long a started run may stay without an outcome before
// it is taken for the work of a crashed replica and run again. Job work is
// idempotent, so running it again only finishes what was left.
const staleJobRun = 10 * time.Minute

// Job is recurring work fired by a cron schedule in a time zone. Each fire
// time runs once across replicas and restarts: a fire time missed while
// everything was down runs on start if it is still within Window, and the
// newest such fire time only.
type Job struct {
	Name   string
	Spec   string
	Loc    *time.Location
	Window time.Duration
	run    func(ctx context.Context, firedFor time.Time) error
}

// schedule parses the job's cron expression in its zone.
func (j Job) schedule() (cron.Schedule, error) {
	s, err := cron.ParseStandard("CRON_TZ=" + j.Loc.String() + " " + j.Spec)
	if err != nil {
		return nil, fmt.Errorf("parse schedule of job %s: %w", j.Name, err)
	}
	return s, nil
}

// Next is the job's next fire time after now.
func (j Job) Next(now time.Time) time.Time {
	s, err := j.schedule()
	if err != nil {
		return time.Time{}
	}
	return s.Next(now)
}

// latest returns the newest fire time in (now-Window, now], if any.
func (j Job) latest(now time.Time) (time.Time, bool) {
	s, err := j.schedule()
	if err != nil {
		return time.Time{}, false
	}
	var last time.Time
	// A schedule firing every minute has 10,080 fire times in a week;
	// stepping through them costs microseconds.
	for t := s.Next(now.Add(-j.Window)); !t.IsZero() && !t.After(now); t = s.Next(t) {
		last = t
	}
	return last, !last.IsZero()
}

// Jobs lists the scheduled jobs of the deployment: one per survey schedule
// and one per weekly notice-board schedule and time zone in use by
// primaries.
func (h *Hub) Jobs(ctx context.Context) ([]Job, error) {
	orgs, err := h.Store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	var jobs []Job
	for _, sv := range h.Surveys {
		for _, sc := range sv.Schedules {
			// A schedule whose org is not in the tree still fires, and
			// fails visibly in `unionhub jobs`.
			root, _ := scheduleRoot(orgs, sc)
			sv, sc, name := sv, sc, surveys.JobName(sv.ID, sc.Name)
			jobs = append(jobs, Job{
				Name: name, Spec: sc.Cron, Loc: zone(root), Window: sc.Deadline,
				run: func(ctx context.Context, firedFor time.Time) error {
					_, _, err := h.OpenSurvey(ctx, sv, sc, name, firedFor)
					return err
				},
			})
		}
	}
	type group struct{ spec, tz string }
	groups := map[group][]storage.Org{}
	for _, o := range orgs {
		if o.Level != storage.LevelPrimary {
			continue
		}
		g := group{spec: o.BoardCron, tz: zone(o).String()}
		if g.spec == "" {
			g.spec = DefaultBoardCron
		}
		groups[g] = append(groups[g], o)
	}
	for g, members := range groups {
		loc, _ := time.LoadLocation(g.tz)
		members := members
		jobs = append(jobs, Job{
			Name: "board " + g.tz + " " + g.spec, Spec: g.spec, Loc: loc, Window: boardWindow,
			run: func(ctx context.Context, firedFor time.Time) error {
				return h.remindBoards(ctx, members, firedFor)
			},
		})
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].Name < jobs[k].Name })
	return jobs, nil
}

// scheduleRoot is the org a survey schedule surveys below: its named org, or
// the first root of the tree.
func scheduleRoot(orgs []storage.Org, sc surveys.Schedule) (storage.Org, bool) {
	for _, o := range orgs {
		if (sc.Org != "" && o.Code == sc.Org) || (sc.Org == "" && o.ParentID == 0) {
			return o, true
		}
	}
	return storage.Org{}, false
}

// RunJobs fires due jobs and does the surveys' and notice boards' follow-up
// work (reminders, deadlines, snoozes) every interval until ctx ends.
func (h *Hub) RunJobs(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := h.JobsRound(ctx); err != nil && ctx.Err() == nil {
			h.Logger.ErrorContext(ctx, "scheduled jobs", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// JobsRound runs one round of RunJobs. Replicas take turns; each fire time
// and each reminder is claimed in the database, so even two rounds at once
// never repeat one.
func (h *Hub) JobsRound(ctx context.Context) error {
	unlock, err := h.State.Lock(ctx, "jobs:round", time.Minute)
	if err != nil {
		return fmt.Errorf("lock jobs: %w", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	jobs, err := h.Jobs(ctx)
	if err != nil {
		return err
	}
	now := h.Clock()
	last, err := h.Store.LastJobRuns(ctx)
	if err != nil {
		return fmt.Errorf("list job runs: %w", err)
	}
	unfinished := map[string]storage.JobRun{}
	for _, r := range last {
		if r.FinishedAt == nil && now.Sub(r.StartedAt) > staleJobRun {
			unfinished[r.Job] = r
		}
	}
	var errs []error
	for _, j := range jobs {
		if r, ok := unfinished[j.Name]; ok {
			errs = append(errs, h.finishJob(ctx, j, r.FiredFor))
		}
		at, ok := j.latest(now)
		if !ok {
			continue
		}
		started, err := h.Store.StartJobRun(ctx, j.Name, at, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("start job %s: %w", j.Name, err))
			continue
		}
		if started {
			errs = append(errs, h.finishJob(ctx, j, at))
		}
	}
	errs = append(errs, h.surveyFollowUps(ctx, now), h.boardSnoozes(ctx, now))
	return errors.Join(errs...)
}

// finishJob runs a job's work for a fire time and records the outcome.
func (h *Hub) finishJob(ctx context.Context, j Job, firedFor time.Time) error {
	h.Logger.InfoContext(ctx, "job fires", "job", j.Name, "for", firedFor)
	runErr := j.run(ctx, firedFor)
	outcome := "ok"
	if runErr != nil {
		outcome = runErr.Error()
	}
	if err := h.Store.FinishJobRun(ctx, j.Name, firedFor, outcome, h.Clock()); err != nil {
		return errors.Join(runErr, fmt.Errorf("record job %s: %w", j.Name, err))
	}
	if runErr != nil {
		return fmt.Errorf("job %s: %w", j.Name, runErr)
	}
	return nil
}
