package monitoring

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// manualJob prefixes the job of a run started by hand rather than by its
// schedule; the fire time keeps such runs apart.
const manualJob = "manual:"

// ManualJob names the run of a survey started by hand at now.
func ManualJob(surveyID, schedule string, now time.Time) string {
	return manualJob + surveys.JobName(surveyID, schedule) + "@" + strconv.FormatInt(now.Unix(), 10)
}

// Deadline is when a run fired at firedFor with an answer window closes:
// at 23:59:59, in the surveyed root's zone, of the day in which the
// window's last instant falls. A deadline is a day to work to, never an
// hour such as 01:40 that the fire time happened to leave.
func Deadline(firedFor time.Time, window time.Duration, loc *time.Location) time.Time {
	last := firedFor.Add(window - time.Nanosecond).In(loc)
	return time.Date(last.Year(), last.Month(), last.Day(), 23, 59, 59, 0, loc)
}

// OpenRun opens a run of sv for the orgs sc surveys, once per job and fire
// time (created is false for a run opened before); the jobs round then
// invites their responders. The answer window counts from the fire time,
// so a caught-up run closes when it would have (see Deadline).
func (s *Service) OpenRun(ctx context.Context, sv surveys.Survey, sc surveys.Schedule, job string, firedFor time.Time) (run storage.SurveyRun, created bool, err error) {
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return storage.SurveyRun{}, false, fmt.Errorf("list orgs: %w", err)
	}
	root, ok := scheduleRoot(orgs, sc)
	if !ok {
		return storage.SurveyRun{}, false, fmt.Errorf("open survey %s: no organisation %q", sv.ID, sc.Org)
	}
	var targets []int64
	for _, o := range orgs {
		if slices.Contains(sc.Levels, o.Level) && root.Contains(o) {
			targets = append(targets, o.ID)
		}
	}
	run = storage.SurveyRun{
		SurveyID: sv.ID, Job: job, FiredFor: firedFor, OrgID: root.ID, Roles: sc.Roles,
		OpenedAt: s.clock(), Deadline: Deadline(firedFor, sc.Deadline, zone(root)), Status: storage.RunOpen,
	}
	run, created, err = s.store.OpenSurveyRun(ctx, run, targets)
	if err != nil {
		return run, false, fmt.Errorf("open survey %s: %w", sv.ID, err)
	}
	return run, created, nil
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

// runSchedule finds the schedule a run was opened for.
func (s *Service) runSchedule(run storage.SurveyRun) (surveys.Survey, surveys.Schedule, bool) {
	sv, ok := s.Survey(run.SurveyID)
	if !ok {
		return sv, surveys.Schedule{}, false
	}
	_, name, _ := surveys.ParseJobName(strings.TrimPrefix(run.Job, manualJob))
	if name, _, _ = strings.Cut(name, "@"); name == "" && len(sv.Schedules) > 0 {
		name = sv.Schedules[0].Name
	}
	for _, sc := range sv.Schedules {
		if sc.Name == name {
			return sv, sc, true
		}
	}
	return sv, surveys.Schedule{}, false
}

// Started is a run opened by hand, or the open run that already covers the
// organisation.
type Started struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	// Org is the root of the subtree the run was asked for.
	Org storage.Org
	// New is false when a run open over Org (its own or one from above)
	// was found instead: nobody answers the same survey twice.
	New bool
	// Targets counts the organisations the new run asks.
	Targets int
}

// handSchedule is the audience of a survey started by hand: its first
// schedule's levels, roles and window.
func (s *Service) handSchedule(surveyID string) (surveys.Survey, surveys.Schedule, error) {
	sv, ok := s.Survey(surveyID)
	if !ok {
		return sv, surveys.Schedule{}, fmt.Errorf("survey %q: %w", surveyID, ErrNoSurvey)
	}
	if len(sv.Schedules) == 0 {
		return sv, surveys.Schedule{}, fmt.Errorf("survey %q: %w", surveyID, ErrNoSchedule)
	}
	return sv, sv.Schedules[0], nil
}

// StartRun opens a run of a survey now, as the operator does from the
// command line: for its first schedule's audience, or that audience under
// the org of code when one is given. The serving replicas invite.
func (s *Service) StartRun(ctx context.Context, surveyID, code string) (Started, error) {
	sv, sc, err := s.handSchedule(surveyID)
	if err != nil {
		return Started{}, err
	}
	if code != "" {
		if _, err := s.store.OrgByCode(ctx, code); err != nil {
			return Started{}, fmt.Errorf("load org %q: %w", code, err)
		}
		sc.Org = code
	}
	return s.start(ctx, sv, sc)
}

func (s *Service) start(ctx context.Context, sv surveys.Survey, sc surveys.Schedule) (Started, error) {
	now := s.clock()
	run, _, err := s.OpenRun(ctx, sv, sc, ManualJob(sv.ID, sc.Name, now), now)
	if err != nil {
		return Started{}, err
	}
	targets, err := s.store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return Started{}, fmt.Errorf("list targets: %w", err)
	}
	root, err := s.store.Org(ctx, run.OrgID)
	if err != nil {
		return Started{}, fmt.Errorf("load survey root: %w", err)
	}
	return Started{Run: run, Survey: sv, Org: root, New: true, Targets: len(targets)}, nil
}

// RunNow starts a survey now for the subtree of an upper-level org the
// actor follows the monitoring of, with the survey's first schedule's
// audience. A run already open over the org, its own or one from above,
// is returned instead (New false): nobody answers the same survey twice.
func (s *Service) RunNow(ctx context.Context, by access.Actor, surveyID string, orgID int64) (Started, error) {
	org, err := s.deskOrg(ctx, by, orgID)
	if err != nil {
		return Started{}, err
	}
	sv, sc, err := s.handSchedule(surveyID)
	if err != nil {
		return Started{}, err
	}
	open, err := s.store.OpenSurveyRuns(ctx)
	if err != nil {
		return Started{}, fmt.Errorf("list open survey runs: %w", err)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return Started{}, err
	}
	if run, err := s.runCovering(ctx, orgs, open, sv.ID, org, true); err != nil || run != nil {
		if err != nil {
			return Started{}, err
		}
		return Started{Run: *run, Survey: sv, Org: org}, nil
	}
	sc.Org = org.Code
	st, err := s.start(ctx, sv, sc)
	if err != nil {
		return Started{}, err
	}
	s.logger.InfoContext(ctx, "survey started by hand", "run", st.Run.ID, "org", org.ID, "person", by.PersonID)
	return st, nil
}

// deskOrg is an upper-level org whose surveys the actor starts and follows.
func (s *Service) deskOrg(ctx context.Context, by access.Actor, orgID int64) (storage.Org, error) {
	org, err := s.store.Org(ctx, orgID)
	if err != nil {
		return org, fmt.Errorf("load org: %w", err)
	}
	if by.PersonID == 0 || !by.Can(access.ActMonitoring, org) || org.Level == storage.LevelPrimary {
		return org, fmt.Errorf("follow the surveys of org %d: %w", orgID, access.ErrForbidden)
	}
	return org, nil
}

// followUps closes runs at their deadline and invites, then reminds, the
// responders of every org that has not submitted yet. Each notice is
// claimed in the database first, so replicas never repeat one.
func (s *Service) followUps(ctx context.Context, now time.Time) error {
	runs, err := s.store.OpenSurveyRuns(ctx)
	if err != nil {
		return fmt.Errorf("list open survey runs: %w", err)
	}
	if len(runs) == 0 {
		return nil
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, run := range runs {
		sv, sc, ok := s.runSchedule(run)
		if !now.Before(run.Deadline) {
			errs = append(errs, s.closeRun(ctx, orgs, run, sv, sc, ok))
			continue
		}
		if !ok {
			continue
		}
		targets, err := s.store.SurveyTargets(ctx, run.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("list targets of run %d: %w", run.ID, err))
			continue
		}
		// Reminders count from the invitation: a run caught up late does
		// not pour its overdue reminders on people at once.
		due := 1
		for _, r := range sc.Reminders {
			if !now.Before(run.OpenedAt.Add(r)) {
				due++
			}
		}
		for _, t := range targets {
			if t.SubmittedAt != nil || t.RemindersSent >= due {
				continue
			}
			_, err := s.remind(ctx, orgs, run, sv, t.OrgID, t.RemindersSent+1)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// noticeOutcome is what became of a notice of a run to an org.
type noticeOutcome int

const (
	// noticeTaken: another round (or replica) claimed it first.
	noticeTaken noticeOutcome = iota
	// noticeReached: at least one responder got it.
	noticeReached
	// noticeNobody: nobody in the bot answers for the org, or all of them
	// blocked it; it counts as sent.
	noticeNobody
	// noticeFailed: the platform failed everyone; it was given back for a
	// later round.
	noticeFailed
)

// remind claims and sends notice n of a run to an org's responders.
func (s *Service) remind(ctx context.Context, orgs orgIndex, run storage.SurveyRun, sv surveys.Survey, orgID int64, n int) (noticeOutcome, error) {
	claimed, err := s.store.ClaimSurveyReminder(ctx, run.ID, orgID, n, s.clock())
	if err != nil {
		return noticeFailed, fmt.Errorf("claim survey notice: %w", err)
	}
	if !claimed {
		return noticeTaken, nil
	}
	reached, err := s.invite(ctx, orgs, run, sv, orgID, n)
	switch {
	case reached:
		return noticeReached, err
	case err == nil:
		// Nobody to ask, or everyone blocked the bot: it counts as sent,
		// and the org's responders still find the run when they come.
		s.logger.InfoContext(ctx, "survey notice reached nobody", "run", run.ID, "org", orgID, "notice", n)
		return noticeNobody, nil
	}
	// Nobody got it: give it back for the next round, also when this
	// round's time is up.
	if relErr := s.releaseNotice(ctx, run.ID, orgID, n); relErr != nil {
		err = errors.Join(err, relErr)
	}
	return noticeFailed, err
}

// RemindGap is how long after an org was last told of a run a "remind
// now" passes it over: a second press, or a press after the schedule's
// own reminder, does not tell people twice in a day.
const RemindGap = 24 * time.Hour

// Reminded is what a "remind now" did in an org's subtree.
type Reminded struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	Org    storage.Org
	// Waiting counts the orgs of the subtree that have not answered. Of
	// them, Sent were reminded now; Recent were passed over, told within
	// RemindGap; Nobody have no one in the bot to tell (it counts as a
	// reminder); Failed could not be reached now, and the next round of
	// reminders tries again.
	Waiting, Sent, Recent, Nobody, Failed int
}

// RemindNow reminds, at once, the responders of every org in the subtree
// of an upper-level org the actor follows that has not answered a run the
// subtree is asked in; it is the next of the run's notices, so the
// schedule's own reminders do not repeat it. storage.ErrClosed when the
// run takes no more answers; access.ErrForbidden as for Status.
func (s *Service) RemindNow(ctx context.Context, by access.Actor, runID, orgID int64) (Reminded, error) {
	p, err := s.Status(ctx, by, runID, orgID)
	if err != nil {
		return Reminded{}, err
	}
	now := s.clock()
	if p.Run.Status != storage.RunOpen || !now.Before(p.Run.Deadline) {
		return Reminded{}, fmt.Errorf("remind survey run %d: %w", runID, storage.ErrClosed)
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return Reminded{}, err
	}
	r := Reminded{Run: p.Run, Survey: p.Survey, Org: p.Org}
	for _, t := range p.Targets {
		if t.SubmittedAt != nil {
			continue
		}
		r.Waiting++
		if t.NoticedAt != nil && now.Sub(*t.NoticedAt) < RemindGap {
			r.Recent++
			continue
		}
		outcome, err := s.remind(ctx, orgs, p.Run, p.Survey, t.Org.ID, t.RemindersSent+1)
		if err != nil {
			s.logger.WarnContext(ctx, "remind now", "run", runID, "org", t.Org.ID, "err", err)
		}
		switch outcome {
		case noticeTaken:
			r.Recent++ // told by a round at this very moment
		case noticeReached:
			r.Sent++
		case noticeNobody:
			r.Nobody++
		case noticeFailed:
			r.Failed++
		}
	}
	s.logger.InfoContext(ctx, "survey reminded by hand", "run", runID, "org", p.Org.ID, "person", by.PersonID,
		"sent", r.Sent, "waiting", r.Waiting)
	return r, nil
}

// releaseNotice gives back a claimed notice, even after ctx ended.
func (s *Service) releaseNotice(ctx context.Context, runID, orgID int64, n int) error {
	ctx, cancel := afterRound(ctx)
	defer cancel()
	if _, err := s.store.ReleaseSurveyReminder(ctx, runID, orgID, n); err != nil {
		return fmt.Errorf("release survey notice: %w", err)
	}
	return nil
}

// invite sends notice n (1: the invitation, then reminders) to the people
// who answer for org: those holding one of the run's roles in it. It
// reports whether anyone received it.
func (s *Service) invite(ctx context.Context, orgs orgIndex, run storage.SurveyRun, sv surveys.Survey, orgID int64, n int) (bool, error) {
	org, err := orgs.org(ctx, s.store, orgID)
	if err != nil {
		return false, fmt.Errorf("load surveyed org: %w", err)
	}
	people, err := s.store.Leaders(ctx, orgID, run.Roles)
	if err != nil {
		return false, fmt.Errorf("list survey responders: %w", err)
	}
	reached := false
	var errs []error
	for _, p := range people {
		got, err := s.notify.InviteToSurvey(ctx, p, SurveyNotice{Run: run, Survey: sv, Org: org, N: n})
		reached = reached || got
		if err != nil {
			errs = append(errs, fmt.Errorf("invite person %d to survey run %d: %w", p.Person.ID, run.ID, err))
		}
	}
	return reached, errors.Join(errs...)
}

// closeRun closes a run at its deadline and tells who reads the results
// of its schedule how many answered; a run of a survey or schedule no
// longer defined closes silently.
func (s *Service) closeRun(ctx context.Context, orgs orgIndex, run storage.SurveyRun, sv surveys.Survey, sc surveys.Schedule, known bool) error {
	closed, err := s.store.CloseSurveyRun(ctx, run.ID, s.clock())
	if err != nil {
		return fmt.Errorf("close survey run %d: %w", run.ID, err)
	}
	if !closed || !known {
		return nil
	}
	targets, err := s.store.SurveyTargets(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("list targets of run %d: %w", run.ID, err)
	}
	answered := 0
	for _, t := range targets {
		if t.SubmittedAt != nil {
			answered++
		}
	}
	root, err := orgs.org(ctx, s.store, run.OrgID)
	if err != nil {
		return fmt.Errorf("load survey root: %w", err)
	}
	people, err := s.store.Leaders(ctx, run.OrgID, sc.Results)
	if err != nil {
		return fmt.Errorf("list result readers: %w", err)
	}
	var errs []error
	for _, p := range people {
		if _, err := s.notify.TellSurveyClosed(ctx, p, SurveyClosed{Run: run, Survey: sv, Root: root, Targets: len(targets), Answered: answered}); err != nil {
			errs = append(errs, fmt.Errorf("tell person %d survey run %d closed: %w", p.Person.ID, run.ID, err))
		}
	}
	return errors.Join(errs...)
}

// RunState is a run with where each of its organisations stands.
type RunState struct {
	Run     storage.SurveyRun
	Targets []TargetState
}

// TargetState is an organisation asked in a run, with where it stands.
type TargetState struct {
	Org storage.Org
	storage.SurveyTarget
}

// Answered counts the organisations that confirmed their answers.
func (r RunState) Answered() int {
	n := 0
	for _, t := range r.Targets {
		if t.SubmittedAt != nil {
			n++
		}
	}
	return n
}

// Runs lists the runs of a survey, newest first, with their organisations:
// the operator's view (the command line sees every run). ErrNoSurvey when
// the deployment defines no such survey.
func (s *Service) Runs(ctx context.Context, surveyID string) ([]RunState, error) {
	if _, ok := s.Survey(surveyID); !ok {
		return nil, fmt.Errorf("survey %q: %w", surveyID, ErrNoSurvey)
	}
	runs, err := s.store.SurveyRuns(ctx, surveyID)
	if err != nil || len(runs) == 0 {
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		return nil, nil
	}
	orgs, err := s.orgIndex(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RunState, 0, len(runs))
	for _, r := range runs {
		targets, err := s.store.SurveyTargets(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("list targets: %w", err)
		}
		st := RunState{Run: r, Targets: make([]TargetState, 0, len(targets))}
		for _, t := range targets {
			o, err := orgs.org(ctx, s.store, t.OrgID)
			if err != nil {
				return nil, fmt.Errorf("load org: %w", err)
			}
			st.Targets = append(st.Targets, TargetState{Org: o, SurveyTarget: t})
		}
		out = append(out, st)
	}
	return out, nil
}
