package storage

import (
	"errors"
	"time"
)

// ErrClosed is returned for an answer to a survey run that is closed or past
// its deadline.
var ErrClosed = errors.New("closed")

// SurveyRunStatus says whether a run takes answers.
type SurveyRunStatus string

// Survey run states.
const (
	RunOpen   SurveyRunStatus = "open"
	RunClosed SurveyRunStatus = "closed"
)

// SurveyRun is one firing of a scheduled survey: the orgs that must answer
// it (its targets) and until when.
type SurveyRun struct {
	ID       int64
	SurveyID string
	// Job names the schedule that fired it; with FiredFor it is unique, so
	// replicas and catch-ups create a run once.
	Job      string
	FiredFor time.Time
	OrgID    int64 // root of the surveyed subtree
	Roles    []Role
	OpenedAt time.Time
	Deadline time.Time
	Status   SurveyRunStatus
	ClosedAt *time.Time
}

// SurveyTarget is one org that answers a run, with where it stands.
type SurveyTarget struct {
	RunID         int64
	OrgID         int64
	RemindersSent int
	// SubmittedBy and SubmittedAt are set once someone confirmed the
	// answers; a correction after that keeps them.
	SubmittedBy int64
	SubmittedAt *time.Time
	UpdatedAt   time.Time
	// NoticedAt is when the newest notice (RemindersSent) was claimed; nil
	// before the invitation, or when the newest was given back.
	NoticedAt *time.Time
}

// SurveyAnswer is an org's answer to one question, saved as it is given.
type SurveyAnswer struct {
	RunID      int64
	OrgID      int64
	QuestionID string
	Value      string
	PersonID   int64
	At         time.Time
}

// BoardAnswer is what an org said to a weekly notice-board reminder.
type BoardAnswer string

// Notice-board answers; "" means none yet.
const (
	BoardUpdated BoardAnswer = "updated"
	BoardNone    BoardAnswer = "no_board"
)

// BoardCheck is one weekly notice-board reminder of an org.
type BoardCheck struct {
	OrgID int64
	// Week is the reminder's scheduled time; the week runs seven days from it.
	Week         time.Time
	RemindedAt   time.Time
	Answer       BoardAnswer
	AnsweredBy   int64
	AnsweredAt   *time.Time
	SnoozedUntil *time.Time // "remind me tomorrow"
}

// Compliant reports whether the board was reported updated within its week.
func (c BoardCheck) Compliant() bool {
	return c.Answer == BoardUpdated && c.AnsweredAt != nil && c.AnsweredAt.Before(c.Week.AddDate(0, 0, 7))
}

// BoardTally counts an org's weekly board checks in a period: those
// observed (the reminder reached someone), those answered at all, and those
// compliant (answered "updated" within their week).
type BoardTally struct {
	OrgID                    int64
	Weeks, Answered, Updated int
}

// Target overrides the programme's norm of an indicator for an org (and the
// orgs below it without their own) in a period ("2026").
type Target struct {
	OrgID     int64
	Period    string
	Indicator string
	Value     float64
}

// JobRun is one firing of a scheduled job.
type JobRun struct {
	Job       string
	FiredFor  time.Time
	StartedAt time.Time
	// Outcome is "" while running, then "ok" or the error.
	Outcome    string
	FinishedAt *time.Time
}

// ContactRow is one activist or leader of the contact base.
type ContactRow struct {
	Org      Org
	Role     Role
	Person   Person
	Accounts []Account
}

// Reach is a person's active membership of an org, as coverage counts it;
// Supporter marks a supporter's, which coverage reports beside the members.
type Reach struct {
	PersonID, OrgID int64
	Supporter       bool
}

// FeedbackTime is when a member's question came, was due a first answer
// and got it (nil: not yet), as the speed of feedback counts it.
type FeedbackTime struct {
	OrgID            int64
	CreatedAt, DueAt time.Time
	FirstResponseAt  *time.Time
}

// Maturity is what an organisation has of the digital maturity the
// programme asks for: the people in the bot who run its channels, its
// chats, its activists' work e-mail, its surveys answered on time in a
// period, and its contact base sent up in a year.
type Maturity struct {
	OrgID int64
	// Infoworkers counts its active information workers with an account
	// that does not block the bot; Responders the hot-line responders
	// named for it; Chats its bound group chats (not answer desks).
	Infoworkers int
	Responders  int
	Chats       int
	// Activists counts its active activists, information workers and
	// chairs; WithEmail those of them who gave a work e-mail.
	Activists int
	WithEmail int
	// SurveysDue counts the survey runs that asked it and whose deadline
	// fell in the period by then; OnTime those it submitted by it.
	SurveysDue    int
	SurveysOnTime int
	// ContactBaseSent tells whether its contact base went up in the year.
	ContactBaseSent bool
}

// NewsReach is what the news finished in a period reached in one org:
// the recipients the outbox held (Audience, not counting cancelled ones),
// those it delivered to, and their link opens and Share presses.
type NewsReach struct {
	OrgID     int64
	Audience  int
	Delivered int
	Opens     int
	Shares    int
}

// NewsStart is a broadcast an org started, as regularity counts it.
type NewsStart struct {
	OrgID     int64
	StartedAt time.Time
}
