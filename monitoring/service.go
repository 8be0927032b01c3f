// Package monitoring owns the information-work monitoring programme: survey
// runs (opened by a schedule, by an upper level's "run now" or by the
// operator), who is invited and reminded and when, the answers an
// organisation gives (who may answer for it, corrections, required
// questions, confirmation, late answers refused), the close at the deadline
// and its summary, the weekly notice-board checks, the cron jobs that fire
// all this once across replicas, and the report with its norms, targets and
// trend, and the contact base. Any front end calls these use cases; people
// are told things through the Notifier, and nothing here knows a platform.
package monitoring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/unionhub/unionhub/storage"
	"github.com/unionhub/unionhub/surveys"
)

// Store is what monitoring keeps and reads.
type Store interface {
	Orgs(ctx context.Context) ([]storage.Org, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
	OrgByCode(ctx context.Context, code string) (storage.Org, error)
	Leaders(ctx context.Context, orgID int64, roles []storage.Role) ([]storage.Contact, error)

	OpenSurveyRun(ctx context.Context, run storage.SurveyRun, orgIDs []int64) (storage.SurveyRun, bool, error)
	SurveyRun(ctx context.Context, id int64) (storage.SurveyRun, error)
	SurveyRuns(ctx context.Context, surveyID string) ([]storage.SurveyRun, error)
	OpenSurveyRuns(ctx context.Context) ([]storage.SurveyRun, error)
	CloseSurveyRun(ctx context.Context, id int64, at time.Time) (bool, error)
	SurveyTargets(ctx context.Context, runID int64) ([]storage.SurveyTarget, error)
	SurveyTarget(ctx context.Context, runID, orgID int64) (storage.SurveyTarget, error)
	SaveSurveyAnswer(ctx context.Context, a storage.SurveyAnswer) error
	SurveyAnswers(ctx context.Context, runID, orgID int64) ([]storage.SurveyAnswer, error)
	RunAnswers(ctx context.Context, runID int64, questions []string) ([]storage.SurveyAnswer, error)
	SubmitSurvey(ctx context.Context, runID, orgID, personID int64, at time.Time) (storage.SurveyTarget, error)
	ReopenSurvey(ctx context.Context, runID, orgID int64, at time.Time) (bool, error)
	ClaimSurveyReminder(ctx context.Context, runID, orgID int64, n int, at time.Time) (bool, error)
	ReleaseSurveyReminder(ctx context.Context, runID, orgID int64, n int) (bool, error)

	ClaimBoardCheck(ctx context.Context, orgID int64, week, at time.Time) (bool, error)
	ReleaseBoardCheck(ctx context.Context, orgID int64, week time.Time) (bool, error)
	AnswerBoardCheck(ctx context.Context, orgID int64, week time.Time, a storage.BoardAnswer, personID int64, at time.Time) (storage.BoardCheck, error)
	SnoozeBoardCheck(ctx context.Context, orgID int64, week, until time.Time) error
	ClaimDueBoardSnoozes(ctx context.Context, now time.Time) ([]storage.BoardCheck, error)
	BoardChecks(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.BoardCheck, error)
	ReachableMemberships(ctx context.Context, under storage.Org, before time.Time) ([]storage.Reach, error)
	FeedbackTimes(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.FeedbackTime, error)
	NewsStarts(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.NewsStart, error)
	NewsReachUnder(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.NewsReach, error)
	MaturityUnder(ctx context.Context, under storage.Org, from, to, now time.Time, year int) ([]storage.Maturity, error)
	ActionJoins(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.ActionJoin, error)
	RelayStepsUnder(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.RelayStep, error)
	ClaimContactBaseSend(ctx context.Context, orgID int64, year int, at, staleBefore time.Time) (bool, error)
	MarkContactBaseSent(ctx context.Context, orgID int64, year int, at time.Time) error
	ReleaseContactBaseSend(ctx context.Context, orgID int64, year int) error
	BoardTallies(ctx context.Context, under storage.Org, from, to time.Time) ([]storage.BoardTally, error)

	SetTarget(ctx context.Context, t storage.Target) error
	Targets(ctx context.Context, period string) ([]storage.Target, error)

	ContactBase(ctx context.Context, under storage.Org) ([]storage.ContactRow, error)
	Consents(ctx context.Context, personID int64) ([]storage.Consent, error)
	BoundChats(ctx context.Context, under storage.Org) ([]storage.ChatBinding, error)

	StartJobRun(ctx context.Context, job string, firedFor, at time.Time) (bool, error)
	FinishJobRun(ctx context.Context, job string, firedFor time.Time, outcome string, at time.Time) error
	LastJobRuns(ctx context.Context) ([]storage.JobRun, error)
}

// Locker lets one replica at a time do the jobs round.
type Locker interface {
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error)
}

// Notifier tells people what monitoring decides to tell them; it decides
// how (platform, language, buttons), monitoring decides who and when. Each
// method reports whether the person got the message; a message is named by
// its facts, so that the same notice sent again is not delivered twice
// where the platform can tell.
type Notifier interface {
	// InviteToSurvey sends a responder of an organisation notice N of a
	// run: the invitation (N = 1) or a reminder, with a way to answer.
	InviteToSurvey(ctx context.Context, to storage.Contact, n SurveyNotice) (bool, error)
	// TellSurveyClosed tells a reader of the results that a run closed and
	// how many of its organisations answered.
	TellSurveyClosed(ctx context.Context, to storage.Contact, c SurveyClosed) (bool, error)
	// AskBoard asks who publishes for a primary whether its notice board
	// was updated in a week, with the three answers to choose from.
	AskBoard(ctx context.Context, to storage.Contact, q BoardQuestion) (bool, error)
	// SendContactBase sends who publishes for an organisation's parent the
	// organisation's contact base of a year, as a file.
	SendContactBase(ctx context.Context, to storage.Contact, f ContactBaseFile) (bool, error)
}

// SurveyNotice is an invitation to answer a run for an organisation, or a
// reminder of it.
type SurveyNotice struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	Org    storage.Org
	// N counts the notices of the org in the run: 1 is the invitation.
	N int
}

// SurveyClosed is a run closed at its deadline.
type SurveyClosed struct {
	Run    storage.SurveyRun
	Survey surveys.Survey
	// Root is the organisation whose subtree was surveyed.
	Root              storage.Org
	Targets, Answered int
}

// BoardQuestion asks about an organisation's notice board in a week.
type BoardQuestion struct {
	Org storage.Org
	// Week is when the week's reminder was due; the answers name it.
	Week time.Time
	// Again is a repeat asked for with "remind me tomorrow"; Snoozed is
	// the time it was asked for, which tells repeats of one week apart.
	Again   bool
	Snoozed *time.Time
}

// Config is what a Service needs.
type Config struct {
	Store Store
	// Locker serialises the jobs round across replicas; only JobsRound
	// needs it.
	Locker Locker
	// Notifier tells people; only the rounds (JobsRound) tell anyone, so
	// a service that only keeps records and reports may go without.
	Notifier Notifier
	// Surveys are the deployment's survey definitions with their schedules.
	Surveys []surveys.Survey
	// ContactBaseCron is when every org's contact base goes up to its
	// parent each year, in the Union's zone: DefaultContactBaseCron when
	// empty. It must pass ValidContactBaseCron.
	ContactBaseCron string
	// Clock and Logger default to time.Now and slog.Default.
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service holds the monitoring use cases.
type Service struct {
	store   Store
	locker  Locker
	notify  Notifier
	surveys []surveys.Survey
	clock   func() time.Time
	logger  *slog.Logger
	history *settled
	// contactBaseCron is Config.ContactBaseCron, defaulted.
	contactBaseCron string
	snaps           snapshots
}

// New returns a service.
func New(c Config) *Service {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ContactBaseCron == "" {
		c.ContactBaseCron = DefaultContactBaseCron
	}
	return &Service{store: c.Store, locker: c.Locker, notify: c.Notifier, surveys: c.Surveys, clock: c.Clock, logger: c.Logger,
		history: newSettled(), contactBaseCron: c.ContactBaseCron,
		snaps: snapshots{byKey: map[snapshotKey]ObservedSnapshot{}, running: map[snapshotKey]bool{}}}
}

// Errors of the monitoring use cases, besides access.ErrForbidden,
// storage.ErrNotFound (no such run, organisation or board check, or a
// survey the deployment no longer defines) and storage.ErrClosed (the run
// is closed or past its deadline: nothing is saved).
var (
	// ErrNoSurvey: the deployment defines no survey of that id.
	ErrNoSurvey = errors.New("no such survey")
	// ErrNoSchedule: the survey has no schedule to take its audience from.
	ErrNoSchedule = errors.New("survey has no schedule")
	// ErrNotAsked: the question is not in the survey, or its skip rule
	// leaves it out given the org's answers.
	ErrNotAsked = errors.New("question not asked")
	// ErrRequired: a required question cannot be skipped.
	ErrRequired = errors.New("question required")
	// ErrWeekOver: a board week is over; its answers are no longer taken.
	ErrWeekOver = errors.New("board week over")
	// ErrSnoozeTooLate: "remind me tomorrow" would fall after the week.
	ErrSnoozeTooLate = errors.New("snooze past the week")
	// ErrAlreadyAnswered: the board of the week was answered already, so
	// there is nothing to remind of.
	ErrAlreadyAnswered = errors.New("board already answered")
	// ErrInvalid: input outside the programme's rules; an *InvalidError
	// says which and why.
	ErrInvalid = errors.New("invalid")
)

// InvalidError refuses a value outside the programme's rules.
type InvalidError struct {
	Field, Value string
	// Rule says what would be accepted.
	Rule string
}

func (e *InvalidError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Rule) }

// Unwrap makes an InvalidError an ErrInvalid.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// MissingError refuses to confirm an org's answers while required
// questions are unanswered.
type MissingError struct {
	// Questions are the ids of the required questions without an answer,
	// in the survey's order.
	Questions []string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%d required questions unanswered", len(e.Questions))
}

// Surveys are the deployment's survey definitions, in their order.
func (s *Service) Surveys() []surveys.Survey { return s.surveys }

// Survey finds a survey definition by id.
func (s *Service) Survey(id string) (surveys.Survey, bool) {
	for _, sv := range s.surveys {
		if sv.ID == id {
			return sv, true
		}
	}
	return surveys.Survey{}, false
}

// zone is an org's time zone, the programme's region when unknown.
func zone(o storage.Org) *time.Location {
	if loc, err := time.LoadLocation(o.TimeZone); err == nil && o.TimeZone != "" {
		return loc
	}
	loc, _ := time.LoadLocation(storage.DefaultTimeZone)
	return loc
}

// undoTimeout bounds giving back a claim whose work failed, which must
// happen even when the round's own time is up.
const undoTimeout = 5 * time.Second

// afterRound is a context for undoing a claim: ctx's values without its end.
func afterRound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
}

// orgIndex is the tree by id, read once for work over many organisations.
type orgIndex map[int64]storage.Org

func (s *Service) orgIndex(ctx context.Context) (orgIndex, error) {
	orgs, err := s.store.Orgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("list orgs: %w", err)
	}
	byID := make(orgIndex, len(orgs))
	for _, o := range orgs {
		byID[o.ID] = o
	}
	return byID, nil
}

// org finds id in the index, else in the store: an org imported since the
// index was read.
func (ix orgIndex) org(ctx context.Context, st Store, id int64) (storage.Org, error) {
	if o, ok := ix[id]; ok {
		return o, nil
	}
	o, err := st.Org(ctx, id)
	if err != nil {
		return o, fmt.Errorf("load org %d: %w", id, err)
	}
	return o, nil
}
