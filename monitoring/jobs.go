package monitoring

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

// RoundLock is how long a jobs round holds its lock across replicas. The
// loop running JobsRound must give a round less time than this, so that no
// round outlives its lock; a replica killed holding it delays the others'
// rounds by at most this long.
const RoundLock = 30 * time.Second

// staleJobRun is how long a started run may stay without an outcome before
// it is taken for work cut short (by its round's timeout, a stop or a
// crash) and run again. No round outlives its lock, so by then nobody is
// still at it; job work is idempotent, so running it again only finishes
// what was left.
const staleJobRun = RoundLock

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

// Jobs lists the scheduled jobs of the deployment, by name: one per survey
// schedule, one per weekly notice-board schedule and time zone in use by
// primaries, and the yearly send of contact bases up the tree.
func (s *Service) Jobs(ctx context.Context) ([]Job, error) {
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	var jobs []Job
	for _, sv := range s.surveys {
		for _, sc := range sv.Schedules {
			// A schedule whose org is not in the tree still fires, and
			// fails visibly in `unionhub jobs`.
			root, _ := scheduleRoot(orgs, sc)
			name := surveys.JobName(sv.ID, sc.Name)
			jobs = append(jobs, Job{
				Name: name, Spec: sc.Cron, Loc: zone(root), Window: sc.Deadline,
				run: func(ctx context.Context, firedFor time.Time) error {
					_, _, err := s.OpenRun(ctx, sv, sc, name, firedFor)
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
			g.spec = defaultBoardCron
		}
		groups[g] = append(groups[g], o)
	}
	for g, members := range groups {
		loc, _ := time.LoadLocation(g.tz)
		jobs = append(jobs, Job{
			Name: "board " + g.tz + " " + g.spec, Spec: g.spec, Loc: loc, Window: boardWindow,
			run: func(ctx context.Context, firedFor time.Time) error {
				return s.remindBoards(ctx, members, firedFor)
			},
		})
	}
	if j, ok := s.contactBaseJobOf(orgs); ok {
		jobs = append(jobs, j)
	}
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].Name < jobs[k].Name })
	return jobs, nil
}

// JobState is a job with its newest run, if it ever ran.
type JobState struct {
	Job
	Last *storage.JobRun
}

// JobStates lists every scheduled job with its newest run.
func (s *Service) JobStates(ctx context.Context) ([]JobState, error) {
	jobs, err := s.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	runs, err := s.store.LastJobRuns(ctx)
	if err != nil {
		return nil, fmt.Errorf("list job runs: %w", err)
	}
	last := map[string]storage.JobRun{}
	for _, r := range runs {
		last[r.Job] = r
	}
	out := make([]JobState, len(jobs))
	for i, j := range jobs {
		out[i].Job = j
		if r, ok := last[j.Name]; ok {
			out[i].Last = &r
		}
	}
	return out, nil
}

// JobsRound fires due jobs and does the surveys' and notice boards'
// follow-up work (invitations, reminders, deadlines, snoozes). Replicas
// take turns; each fire time and each notice is claimed in the database, so
// even two rounds at once never repeat one.
func (s *Service) JobsRound(ctx context.Context) error {
	unlock, err := s.locker.Lock(ctx, "jobs:round", RoundLock)
	if err != nil {
		return fmt.Errorf("lock jobs: %w", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	jobs, err := s.Jobs(ctx)
	if err != nil {
		return err
	}
	now := s.clock()
	last, err := s.store.LastJobRuns(ctx)
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
			errs = append(errs, s.finishJob(ctx, j, r.FiredFor))
		}
		at, ok := j.latest(now)
		if !ok {
			continue
		}
		started, err := s.store.StartJobRun(ctx, j.Name, at, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("start job %s: %w", j.Name, err))
			continue
		}
		if started {
			errs = append(errs, s.finishJob(ctx, j, at))
		}
	}
	errs = append(errs, s.followUps(ctx, now), s.boardSnoozes(ctx, now))
	return errors.Join(errs...)
}

// finishJob runs a job's work for a fire time and records the outcome. A
// run cut short by its round's end keeps no outcome, so that a later round
// finishes it.
func (s *Service) finishJob(ctx context.Context, j Job, firedFor time.Time) error {
	s.logger.InfoContext(ctx, "job fires", "job", j.Name, "for", firedFor)
	runErr := j.run(ctx, firedFor)
	if runErr != nil && ctx.Err() != nil {
		return fmt.Errorf("job %s cut short: %w", j.Name, runErr)
	}
	outcome := "ok"
	if runErr != nil {
		outcome = runErr.Error()
	}
	if err := s.store.FinishJobRun(ctx, j.Name, firedFor, outcome, s.clock()); err != nil {
		return errors.Join(runErr, fmt.Errorf("record job %s: %w", j.Name, err))
	}
	if runErr != nil {
		return fmt.Errorf("job %s: %w", j.Name, runErr)
	}
	return nil
}
