package storage

import (
	"context"
	"time"
)

// Store keeps the records. One implementation (sqlstore) serves both Postgres
// and the embedded SQLite file; the conformance suite in storagetest runs
// against both.
type Store interface {
	OrgStore
	InviteStore
	PersonStore
	ChatStore
	TicketStore
	BroadcastStore
	MonitoringStore
	ConsoleStore
	LinkStore
	Ping(ctx context.Context) error
	Close() error
}

// OrgStore keeps the organisation tree.
type OrgStore interface {
	// ImportOrgs validates the file's orgs against each other and the stored
	// tree and upserts them by code, all or nothing.
	ImportOrgs(ctx context.Context, orgs []OrgInput, at time.Time) (ImportResult, error)
	Orgs(ctx context.Context) ([]Org, error)
	Org(ctx context.Context, id int64) (Org, error)
	OrgByCode(ctx context.Context, code string) (Org, error)
	// ChildOrgs lists the direct children of parentID (0: the roots), by name.
	ChildOrgs(ctx context.Context, parentID int64) ([]Org, error)
	// SearchOrgs lists a page of the orgs of the subtrees under whose name
	// or code holds text, case-insensitively (ASCII only on SQLite), by name.
	SearchOrgs(ctx context.Context, under []Org, text string, limit, offset int) ([]Org, error)
	// OrgPeople lists a page of an org's active and pending memberships,
	// leaders first, with each person's accounts and latest decision on
	// personal data.
	OrgPeople(ctx context.Context, orgID int64, limit, offset int) ([]OrgPerson, error)
}

// InviteStore keeps invite codes.
type InviteStore interface {
	CreateInvite(ctx context.Context, inv Invite) error
	Invite(ctx context.Context, code string) (Invite, error)
	RevokeInvite(ctx context.Context, code string, at time.Time) error
	// Invites lists the invites of an org, newest first.
	Invites(ctx context.Context, orgID int64) ([]Invite, error)
}

// PersonStore keeps people, their accounts, consents and memberships.
type PersonStore interface {
	// Register commits a registration: it consumes the invite (if any),
	// creates the person, the account, the consents and the membership.
	// It fails with ErrAlreadyRegistered when the account belongs to someone.
	Register(ctx context.Context, reg Registration) (Person, Membership, error)
	// JoinByInvite gives an already registered person the invite's role. A
	// member role ends the person's supporter role in that org; a supporter
	// invite opened by someone active there already changes nothing and
	// returns the role they hold (nobody is demoted).
	JoinByInvite(ctx context.Context, personID int64, code string, at time.Time) (Membership, error)
	// ApplyToJoin records a supporter's request to become a member of org: a
	// pending member membership. A person who is not an active supporter
	// there, or who asked already and waits, or is a member, gets
	// ErrConflict.
	ApplyToJoin(ctx context.Context, personID, orgID int64, at time.Time) (Membership, error)
	// RecordRefusal stores a declined consent and nothing else.
	RecordRefusal(ctx context.Context, c Consent) error
	// RecordConsent stores a consent decision of a registered person.
	RecordConsent(ctx context.Context, c Consent) error
	Consents(ctx context.Context, personID int64) ([]Consent, error)

	Person(ctx context.Context, id int64) (Person, error)
	// PersonByAccount finds the person behind a platform account.
	PersonByAccount(ctx context.Context, p Platform, externalID string) (Person, error)
	// Caller reads the person behind a platform account with the account, in
	// one statement: what every update from a registered person starts with.
	Caller(ctx context.Context, p Platform, externalID string) (Caller, error)
	UpdateProfile(ctx context.Context, personID int64, patch ProfilePatch) (Person, error)
	// Forget erases a person's personal data and accounts; memberships stay
	// as anonymous rows for the aggregates. Their tickets lose the link to
	// them, and their threads' texts unless the member allowed KeepText;
	// texts kept lose the person's name and e-mail addresses; their unclosed
	// tickets are closed, as nobody is left to answer. Their suggestions
	// stay without text, and no broadcast keeps a progress message in their
	// chat. Their console sign-in links go, their console sessions end, and
	// the console's audit log keeps their entries without addresses.
	Forget(ctx context.Context, personID int64, at time.Time) error

	Accounts(ctx context.Context, personID int64) ([]Account, error)
	// TouchAccount notes that the person wrote to the bot: it updates
	// LastSeenAt and clears a block.
	TouchAccount(ctx context.Context, p Platform, externalID string, at time.Time) error
	MarkBlocked(ctx context.Context, p Platform, externalID string, at time.Time) error

	// Memberships lists a person's memberships with their orgs, any status.
	Memberships(ctx context.Context, personID int64) ([]Membership, error)
	Membership(ctx context.Context, id int64) (Membership, error)
	// DecideMembership approves or rejects a pending membership; exactly one
	// decision wins, later ones get ErrAlreadyDecided. An approved member
	// role ends the person's supporter role in that org.
	DecideMembership(ctx context.Context, id int64, approve bool, deciderID int64, at time.Time) (Membership, error)
	// Leaders lists the people holding one of roles, active, in exactly that
	// org, with their accounts; callers take roles from RolesFor.
	Leaders(ctx context.Context, orgID int64, roles []Role) ([]Contact, error)
	// PendingMemberships lists the registrations waiting for a decision in
	// the subtree of under, oldest first.
	PendingMemberships(ctx context.Context, under Org) ([]Membership, error)

	CreateLinkCode(ctx context.Context, lc LinkCode) error
	// UseLinkCode attaches the account to the code's person and burns the code.
	UseLinkCode(ctx context.Context, code string, p Platform, externalID string, at time.Time) (Person, error)
}

// TicketQuery selects tickets for lists and reports.
type TicketQuery struct {
	// Under selects tickets of members of this org's subtree (required).
	Under Org
	// Statuses, when set, keeps only tickets in one of them.
	Statuses []TicketStatus
	// CreatedFrom and CreatedTo, when set, bound the creation time [from, to).
	CreatedFrom, CreatedTo time.Time
}

// AnswerScope is a part of the tree whose tickets someone answers: the
// tickets of members of the org whose path is Path ("/1/7/") and below, on
// every topic or, with Topic set, on that one.
type AnswerScope struct {
	Path  string
	Topic string
}

// InboxQuery selects a page of the tickets a responder answers, newest
// first (by number), or oldest first.
type InboxQuery struct {
	// Scopes are what the responder answers (required): a ticket is
	// selected when it falls in any of them.
	Scopes []AnswerScope
	// Under, when set, keeps the tickets of members of the subtree of the
	// org with this path.
	Under string
	// Statuses, when set, keeps only tickets in one of them.
	Statuses []TicketStatus
	// Topic, when set, keeps the tickets about it.
	Topic string
	// OverdueAt, when set, keeps the unclosed tickets without a first
	// response that were due by then.
	OverdueAt time.Time
	// AssigneeID, when set, keeps the tickets that person took.
	AssigneeID int64
	// After, when set, continues the list past the ticket of this number:
	// the last one of the previous page.
	After int64
	// Oldest lists the oldest first.
	Oldest bool
	// Limit bounds the tickets returned (1 to 1,000), or counted.
	Limit int
}

// InboxTicket is a ticket of the inbox with its member's organisation.
type InboxTicket struct {
	Ticket
	Org Org
}

// InboxEvent is a member's message on a ticket: a new question (First) or
// a reply to its thread.
type InboxEvent struct {
	MessageID int64
	TicketID  int64
	First     bool
}

// TicketStore keeps the hot line: tickets, their threads, responders and
// the staff-group desk posts.
type TicketStore interface {
	// CreateTicket commits a question with its first message and returns
	// the ticket with its number.
	CreateTicket(ctx context.Context, t Ticket, first TicketMessage) (Ticket, error)
	Ticket(ctx context.Context, id int64) (Ticket, error)
	// TicketsOf lists a member's tickets, newest first.
	TicketsOf(ctx context.Context, personID int64) ([]Ticket, error)
	// FindTickets lists the tickets q selects, oldest first.
	FindTickets(ctx context.Context, q TicketQuery) ([]Ticket, error)
	// InboxTickets lists the tickets q selects, a page at a time.
	InboxTickets(ctx context.Context, q InboxQuery) ([]InboxTicket, error)
	// CountInbox counts the tickets q selects, up to its Limit (any
	// positive number), After aside: a count that stops early stays cheap
	// over a large tree.
	CountInbox(ctx context.Context, q InboxQuery) (int, error)
	// InboxEvents lists the members' messages newer than the message
	// afterID on the tickets scopes select, oldest first, at most limit.
	InboxEvents(ctx context.Context, scopes []AnswerScope, afterID int64, limit int) ([]InboxEvent, error)
	// LastTicketMessage is the number of the newest message of any ticket,
	// 0 when there is none: where a watch for new ones starts.
	LastTicketMessage(ctx context.Context) (int64, error)
	// AddTicketMessage adds to a ticket's thread; the first message not from
	// the member sets FirstResponseAt. A closed ticket refuses with
	// ErrTicketClosed. It returns the ticket as it now is.
	AddTicketMessage(ctx context.Context, m TicketMessage) (Ticket, error)
	// TicketMessages lists a ticket's thread, oldest first.
	TicketMessages(ctx context.Context, ticketID int64) ([]TicketMessage, error)
	// TakeTicket assigns an open ticket; of racing responders exactly one
	// wins, the others get ErrAlreadyTaken with the ticket as it is.
	TakeTicket(ctx context.Context, id, responderID int64, at time.Time) (Ticket, error)
	// MoveTicket hands a ticket from level fromOrgID to toOrgID with a new
	// first-response deadline; it is open again and unassigned. escalated
	// counts the move as an escalation. A ticket no longer at fromOrgID, or
	// closed, gives ErrConflict, so two replicas never move it twice.
	MoveTicket(ctx context.Context, id, fromOrgID, toOrgID int64, due time.Time, escalated bool) (Ticket, error)
	// EscalateTicket moves an overdue ticket from fromOrgID to toOrgID (the
	// same org at the top) with a new deadline, open and unassigned, counting
	// an escalation when it goes up. It holds only while the ticket is still
	// at fromOrgID, unanswered and due by now; otherwise ErrConflict, so a
	// reply or another sweep in between wins.
	EscalateTicket(ctx context.Context, id, fromOrgID, toOrgID int64, due, now time.Time) (Ticket, error)
	// CloseTicket closes a ticket; a closed one gives ErrTicketClosed.
	CloseTicket(ctx context.Context, id int64, at time.Time) (Ticket, error)
	// RateTicket stores the member's rating (1–5) and comment of a closed ticket.
	RateTicket(ctx context.Context, id int64, rating int, comment string) error
	// OverdueTickets lists unclosed tickets without a first response whose
	// deadline is at or before now.
	OverdueTickets(ctx context.Context, now time.Time) ([]Ticket, error)

	// SetResponder names a hot-line responder (idempotent).
	SetResponder(ctx context.Context, r Responder) error
	RemoveResponder(ctx context.Context, r Responder) error
	// Responders lists an org's named responders.
	Responders(ctx context.Context, orgID int64) ([]Responder, error)

	AddDeskPost(ctx context.Context, p DeskPost) error
	// AddTicketPost remembers a message that carries a ticket's buttons.
	AddTicketPost(ctx context.Context, p TicketPost) error
	// TakeTicketPosts forgets a ticket's posts and returns them, each to
	// one caller only, so that they are spent once.
	TakeTicketPosts(ctx context.Context, ticketID int64) ([]TicketPost, error)
	// DeskPost finds the ticket posted as a staff-group message.
	DeskPost(ctx context.Context, p Platform, chatID, messageID string) (DeskPost, error)
}

// OutboxScope says whose deliveries BuildOutbox creates.
type OutboxScope struct {
	// Orgs whose people and bound chats receive it.
	Orgs []Org
	// Subtree extends each org to everything below it; without it only the
	// org's own people and chats (a relay level publishing for itself).
	Subtree bool
}

// OutboxStream is how StreamOutbox runs.
type OutboxStream struct {
	// At is when the deliveries are created and first due.
	At time.Time
	// Owner holds the broadcast's build (StartBuild).
	Owner string
	// Progress, when set, is called after each committed chunk with the
	// rows created so far; an error from it stops the build.
	Progress func(created int) error
}

// BroadcastStore keeps broadcasts, their outbox, relay steps and the news
// members send up the tree.
type BroadcastStore interface {
	CreateBroadcast(ctx context.Context, b Broadcast) (Broadcast, error)
	Broadcast(ctx context.Context, id int64) (Broadcast, error)
	// Broadcasts lists the broadcasts sent by an org, newest first.
	Broadcasts(ctx context.Context, orgID int64, limit int) ([]Broadcast, error)
	// CountAudience counts whom b's audience reaches within scope: people
	// (one each, however many accounts) and bound group chats.
	CountAudience(ctx context.Context, b Broadcast, scope OutboxScope) (people, chats int, err error)
	// BuildOutbox creates, by SQL in bulk, one queued delivery per recipient
	// of b within scope: each person active in a scope org with one of the
	// audience's roles, on the account seen last that is not blocked, and
	// each bound (non-desk) chat of a scope org. Activists get
	// PriorityActivist, other people PriorityMember, chats PriorityChat.
	// People go in chunks, each committed on its own, then chats. A
	// recipient already in the outbox is skipped, so it is idempotent.
	// Every chunk is bounded by the store's statement timeout (ErrTimeout).
	// A broadcast neither scheduled nor sending gets nothing: ErrConflict.
	// It returns how many rows it created.
	BuildOutbox(ctx context.Context, b Broadcast, scope OutboxScope, at time.Time) (int, error)
	// StreamOutbox is BuildOutbox by the holder of the broadcast's build
	// (StartBuild), made for the engine to send while it builds: each chunk
	// goes in only while s.Owner still builds the broadcast (else
	// ErrConflict), and starts after the last person a chunk committed, so
	// a build taken over from a crashed owner resumes there.
	StreamOutbox(ctx context.Context, b Broadcast, scope OutboxScope, s OutboxStream) (int, error)
	// StartBuild makes owner the builder of a broadcast's outbox until
	// leaseUntil: a scheduled broadcast becomes sending and Building; a
	// Building one whose builder's lease ran out by now (it crashed) is
	// taken over. Anything else (another builder's lease runs, the outbox
	// is built, the broadcast is over) is ErrConflict, so that one replica
	// builds a broadcast at a time.
	StartBuild(ctx context.Context, id int64, owner string, now, leaseUntil time.Time) (Broadcast, error)
	// RenewBuild extends owner's lease; ErrConflict when owner no longer
	// builds the broadcast.
	RenewBuild(ctx context.Context, id int64, owner string, leaseUntil time.Time) error
	// EndBuild records that owner built the whole outbox: from now on the
	// broadcast is done once nothing is left to send. ErrConflict when owner
	// no longer builds it.
	EndBuild(ctx context.Context, id int64, owner string) error
	// FailBuild marks the broadcast owner builds as failed and cancels its
	// queued deliveries, returning how many; ErrConflict when owner no
	// longer builds it.
	FailBuild(ctx context.Context, id int64, owner string, at time.Time) (int, error)
	// SetBroadcastStatus moves a broadcast from one status to another, or
	// fails with ErrConflict when it is not in from.
	SetBroadcastStatus(ctx context.Context, id int64, from, to BroadcastStatus, at time.Time) (Broadcast, error)
	// DueBroadcasts lists scheduled broadcasts whose time has come and the
	// Building ones whose builder's lease ran out by now.
	DueBroadcasts(ctx context.Context, now time.Time) ([]Broadcast, error)
	SetBroadcastProgress(ctx context.Context, id int64, p DeskPost) error
	// CancelBroadcast stops a broadcast that is scheduled or sending (its
	// build too): its queued deliveries become cancelled. It returns how
	// many were.
	CancelBroadcast(ctx context.Context, id int64, at time.Time) (int, error)

	// ClaimDeliveries leases up to n deliveries to worker until leaseUntil:
	// queued ones due by now, lowest priority first, and those whose lease
	// ran out (a worker died). Several replicas never claim the same row.
	ClaimDeliveries(ctx context.Context, worker string, n int, now, leaseUntil time.Time) ([]Delivery, error)
	// RenewDeliveries extends to leaseUntil the lease of those of ids that
	// worker still holds (sending, claimed by it, even if the lease ran out
	// meanwhile) and returns them: a row missing was taken over elsewhere.
	RenewDeliveries(ctx context.Context, worker string, ids []int64, leaseUntil time.Time) ([]int64, error)
	// CompleteDeliveries records what worker did, in one transaction; only
	// rows it still holds (sending, claimed by it) change, so a late result
	// never overwrites a row another worker took over.
	CompleteDeliveries(ctx context.Context, worker string, results []DeliveryResult, at time.Time) error
	// FinishBroadcasts marks sending broadcasts that are not Building and
	// have nothing queued or being sent as done, and returns them.
	FinishBroadcasts(ctx context.Context, at time.Time) ([]Broadcast, error)
	// DeliveryCounts counts a broadcast's deliveries by org and status.
	DeliveryCounts(ctx context.Context, broadcastID int64) ([]DeliveryCount, error)

	// SaveNewsFile stores an uploaded file with its bytes and returns it
	// with its id.
	SaveNewsFile(ctx context.Context, f NewsFile) (NewsFile, error)
	// NewsFile finds a stored file, without its bytes.
	NewsFile(ctx context.Context, id int64) (NewsFile, error)
	// NewsFileData reads a stored file's bytes.
	NewsFileData(ctx context.Context, id int64) ([]byte, error)
	// PruneNewsFiles deletes the files stored before before that no
	// broadcast carries, and returns how many.
	PruneNewsFiles(ctx context.Context, before time.Time) (int, error)
	// FileRef is platform p's own reference to the file of a broadcast,
	// learned from its first delivery there; ErrNotFound before.
	FileRef(ctx context.Context, broadcastID int64, p Platform) (string, error)
	// SetFileRef records ref unless a reference is recorded already, and
	// returns the one that stays: across replicas, the first learned wins.
	SetFileRef(ctx context.Context, broadcastID int64, p Platform, ref string) (string, error)

	// AnswerAction records a person's answer to the action of a broadcast
	// that reached them (else ErrNotFound), under the organisation it
	// reached them as a member of; a new answer replaces the old one.
	AnswerAction(ctx context.Context, broadcastID, personID int64, answer ActionAnswer, at time.Time) (ActionReply, error)
	// SetAttended records whether a person who said yes was there, once
	// they were asked (ClaimActionNotices with NoticeFollowUp); anyone
	// else gets ErrNotFound.
	SetAttended(ctx context.Context, broadcastID, personID int64, attended bool) (ActionReply, error)
	// ActionCounts counts a broadcast's action answers by organisation.
	ActionCounts(ctx context.Context, broadcastID int64) ([]ActionCount, error)
	// ClaimActionNotices claims a notice, once across replicas, for the
	// people who said yes to a meeting or online action taking place in
	// (from, to] of a broadcast neither cancelled nor failed, and returns
	// their answers.
	ClaimActionNotices(ctx context.Context, notice ActionNotice, from, to, at time.Time) ([]ActionReply, error)

	// AddRelaySteps records that orgs received a relayed item (idempotent).
	AddRelaySteps(ctx context.Context, steps []RelayStep) error
	RelaySteps(ctx context.Context, broadcastID int64) ([]RelayStep, error)
	// CompleteRelayStep records an org's action once; a second gives
	// ErrAlreadyDecided.
	CompleteRelayStep(ctx context.Context, broadcastID, orgID int64, action RelayAction, note string, at time.Time) (RelayStep, error)
	// PendingRelaySteps lists steps without an action, oldest first.
	PendingRelaySteps(ctx context.Context) ([]RelayStep, error)
	MarkRelayReminded(ctx context.Context, broadcastID, orgID int64, at time.Time) error

	CreateSuggestion(ctx context.Context, s Suggestion) (Suggestion, error)
	Suggestion(ctx context.Context, id int64) (Suggestion, error)
	// PassSuggestionUp moves a pending suggestion from fromOrgID to toOrgID;
	// ErrConflict when it is no longer pending at fromOrgID.
	PassSuggestionUp(ctx context.Context, id, fromOrgID, toOrgID int64) (Suggestion, error)
	// DecideSuggestion publishes (with the broadcast it became) or declines
	// a pending suggestion at atOrgID; ErrConflict when already decided or
	// no longer there.
	DecideSuggestion(ctx context.Context, id, atOrgID int64, status SuggestionStatus, reason string, broadcastID int64, at time.Time) (Suggestion, error)
	// Suggestions lists the pending suggestions at an org or below it,
	// oldest first.
	Suggestions(ctx context.Context, underOrgID int64) ([]Suggestion, error)
}

// MonitoringStore keeps survey runs and answers, weekly notice-board checks,
// targets, the contact base and the scheduled jobs' runs.
type MonitoringStore interface {
	// OpenSurveyRun creates run (status open) with one target per org, once
	// per (Job, FiredFor): a second call returns the existing run and false.
	OpenSurveyRun(ctx context.Context, run SurveyRun, orgIDs []int64) (SurveyRun, bool, error)
	SurveyRun(ctx context.Context, id int64) (SurveyRun, error)
	// SurveyRuns lists the runs of a survey ("" for all), newest first.
	SurveyRuns(ctx context.Context, surveyID string) ([]SurveyRun, error)
	// OpenSurveyRuns lists the runs still open, oldest first.
	OpenSurveyRuns(ctx context.Context) ([]SurveyRun, error)
	// CloseSurveyRun closes an open run; false when it already was.
	CloseSurveyRun(ctx context.Context, id int64, at time.Time) (bool, error)
	SurveyTargets(ctx context.Context, runID int64) ([]SurveyTarget, error)
	SurveyTarget(ctx context.Context, runID, orgID int64) (SurveyTarget, error)
	// SaveSurveyAnswer upserts an org's answer; ErrClosed when the run is
	// closed or a.At is at or past its deadline, ErrNotFound when the org is
	// not a target of the run.
	SaveSurveyAnswer(ctx context.Context, a SurveyAnswer) error
	// SurveyAnswers lists an org's answers to a run.
	SurveyAnswers(ctx context.Context, runID, orgID int64) ([]SurveyAnswer, error)
	// RunAnswers lists every org's answers to a run to the questions named
	// (nil: all), by org and question, without PersonID and At: one query
	// for a report over a thousand orgs.
	RunAnswers(ctx context.Context, runID int64, questions []string) ([]SurveyAnswer, error)
	// SubmitSurvey marks the org's answers confirmed (the first submission
	// stays recorded); ErrClosed as for SaveSurveyAnswer.
	SubmitSurvey(ctx context.Context, runID, orgID, personID int64, at time.Time) (SurveyTarget, error)
	// ReopenSurvey withdraws an org's submission (a correction left a
	// required answer missing) while the run takes answers; false when it
	// was not submitted. ErrClosed as for SaveSurveyAnswer.
	ReopenSurvey(ctx context.Context, runID, orgID int64, at time.Time) (bool, error)
	// ClaimSurveyReminder records reminder n (1-based) of an unsubmitted
	// target of an open run, sent at at, once: false when it was sent
	// already, or the org submitted, or the run closed.
	ClaimSurveyReminder(ctx context.Context, runID, orgID int64, n int, at time.Time) (bool, error)
	// ReleaseSurveyReminder gives back a claimed reminder n that reached
	// nobody, so that a later round sends it, and clears when the org was
	// last told; false when n is no longer the last one claimed.
	ReleaseSurveyReminder(ctx context.Context, runID, orgID int64, n int) (bool, error)

	// ClaimBoardCheck creates an org's weekly reminder for week, once: false
	// when it exists already.
	ClaimBoardCheck(ctx context.Context, orgID int64, week, at time.Time) (bool, error)
	// ReleaseBoardCheck drops the org's unanswered check of week, claimed
	// for a reminder that reached nobody: the week was not observed. False
	// when there is no such check.
	ReleaseBoardCheck(ctx context.Context, orgID int64, week time.Time) (bool, error)
	// AnswerBoardCheck records an answer to the org's reminder of week
	// (a later answer replaces an earlier one; it clears a snooze).
	AnswerBoardCheck(ctx context.Context, orgID int64, week time.Time, a BoardAnswer, personID int64, at time.Time) (BoardCheck, error)
	// SnoozeBoardCheck asks for the reminder again at until, unless answered.
	SnoozeBoardCheck(ctx context.Context, orgID int64, week, until time.Time) error
	// ClaimDueBoardSnoozes clears and returns the snoozes due by now, each
	// once across replicas.
	ClaimDueBoardSnoozes(ctx context.Context, now time.Time) ([]BoardCheck, error)
	// BoardChecks lists the checks of orgs in under's subtree whose week
	// starts in [from, to), oldest first.
	BoardChecks(ctx context.Context, under Org, from, to time.Time) ([]BoardCheck, error)
	// BoardTallies counts, per org of under's subtree with a check whose
	// week starts in [from, to), its checks as BoardCheck.Compliant judges
	// them, by org id: a report reads a count per org, not a row per week.
	BoardTallies(ctx context.Context, under Org, from, to time.Time) ([]BoardTally, error)

	// ClaimContactBaseSend claims sending the org's contact base up for a
	// year, once across replicas: false when it was sent already, or
	// another claim of it is newer than staleBefore (a send under way).
	ClaimContactBaseSend(ctx context.Context, orgID int64, year int, at, staleBefore time.Time) (bool, error)
	// MarkContactBaseSent records that the org's contact base of a year
	// reached someone.
	MarkContactBaseSent(ctx context.Context, orgID int64, year int, at time.Time) error
	// ReleaseContactBaseSend drops an unsent claim (the file reached
	// nobody), so that a later run sends it.
	ReleaseContactBaseSend(ctx context.Context, orgID int64, year int) error

	// ReachableMemberships lists the active memberships of under's subtree
	// that began before before, of people with an account that does not
	// block the bot: whom the union's channels reach. Reach.Supporter marks
	// a supporter's.
	ReachableMemberships(ctx context.Context, under Org, before time.Time) ([]Reach, error)
	// FeedbackTimes lists, for the questions members of under's subtree
	// asked in [from, to), when each came, was due and was first answered.
	FeedbackTimes(ctx context.Context, under Org, from, to time.Time) ([]FeedbackTime, error)
	// MaturityUnder reads the digital maturity of every org of under's
	// subtree: the people and chats as they are, the surveys whose
	// deadline fell in [from, to) before now, the contact base of year.
	MaturityUnder(ctx context.Context, under Org, from, to, now time.Time, year int) ([]Maturity, error)
	// NewsReachUnder sums, per org of under's subtree with any, what the
	// broadcasts finished in [from, to) reached there.
	NewsReachUnder(ctx context.Context, under Org, from, to time.Time) ([]NewsReach, error)
	// NewsStarts lists the broadcasts orgs of under's subtree started in
	// [from, to) as their authors' orgs.
	NewsStarts(ctx context.Context, under Org, from, to time.Time) ([]NewsStart, error)
	// RelayStepsUnder lists the relay steps of under's subtree received in
	// [from, to).
	RelayStepsUnder(ctx context.Context, under Org, from, to time.Time) ([]RelayStep, error)
	// ActionJoins lists the actions orgs of under's subtree sent (neither
	// cancelled nor failed) that take place in [from, to), once for each
	// person who joined one and once, with Person 0, for one nobody joined.
	ActionJoins(ctx context.Context, under Org, from, to time.Time) ([]ActionJoin, error)

	// SetTarget stores (or replaces) a target.
	SetTarget(ctx context.Context, t Target) error
	// Targets lists the targets of a period.
	Targets(ctx context.Context, period string) ([]Target, error)

	// ContactBase lists the active activists, information workers and
	// chairs of under's subtree with their accounts, by org path then name;
	// erased people are left out.
	ContactBase(ctx context.Context, under Org) ([]ContactRow, error)

	// StartJobRun records that job fires for firedFor, once across replicas
	// and restarts: false when it was started already.
	StartJobRun(ctx context.Context, job string, firedFor, at time.Time) (bool, error)
	// FinishJobRun records the outcome ("ok" or the error) of a started run.
	FinishJobRun(ctx context.Context, job string, firedFor time.Time, outcome string, at time.Time) error
	// LastJobRuns lists the newest run of every job that ever ran.
	LastJobRuns(ctx context.Context) ([]JobRun, error)
}

// Rate is a sending limit: PerPeriod calls per Period, with bursts up to
// Burst for interactive calls and BulkBurst (at least 1) for bulk ones.
type Rate struct {
	PerPeriod int
	Period    time.Duration
	Burst     int
	BulkBurst int
	// CatchUp is how late a call may be for its slot: a caller that
	// comes up to CatchUp after a slot nobody took still takes it, so a
	// late wake-up is caught up instead of lost; a bulk caller that slept
	// past its slot by more gives it up and takes another. Calls then go
	// up to CatchUp after their slot, which a sliding window's margin must
	// allow for.
	CatchUp time.Duration
}

// RateLimiter paces calls under limits shared by every replica (Redis) or
// one process (its twin), with GCRA. Interactive calls may use the whole
// burst; bulk calls only what interactive ones leave, so a big broadcast
// never delays an answer to a question.
type RateLimiter interface {
	// Wait blocks until one call under r on key may go, or ctx ends.
	Wait(ctx context.Context, key string, r Rate, bulk bool) error
	// Allow takes one interactive call under r on key if it may go now;
	// otherwise it takes nothing and says how long until one may.
	Allow(ctx context.Context, key string, r Rate) (ok bool, retryAfter time.Duration, err error)
}

// ChatStore keeps group chats bound to organisations.
type ChatStore interface {
	// BindChat attaches a chat to an org, replacing an earlier binding.
	BindChat(ctx context.Context, b ChatBinding) error
	UnbindChat(ctx context.Context, p Platform, chatID string) error
	ChatBinding(ctx context.Context, p Platform, chatID string) (ChatBinding, error)
	// DeskOf finds the chat an org uses as its hot-line desk.
	DeskOf(ctx context.Context, orgID int64) (ChatBinding, error)
	// BoundChats lists the chats bound to the orgs of under's subtree, desks
	// included, by org path, platform and title.
	BoundChats(ctx context.Context, under Org) ([]ChatBinding, error)
}

// State is fast, shared, short-lived state: conversation steps, update
// dedupe and locks. Redis holds it when configured, else the process.
type State interface {
	// Claim marks key as being processed for ttl. It returns ClaimNew the first
	// time, ClaimBusy while another holder works on it, ClaimDone once Done.
	Claim(ctx context.Context, key string, ttl time.Duration) (ClaimResult, error)
	// Done marks a claimed key as finished and keeps the mark for ttl.
	Done(ctx context.Context, key string, ttl time.Duration) error
	// Release forgets a claim so that a retry can process the key again.
	Release(ctx context.Context, key string) error

	// Load reads the value stored under key; ok is false when there is none.
	Load(ctx context.Context, key string) (value []byte, ok bool, err error)
	Save(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error

	Locker
	RateLimiter
	// Admit lets an update in: its claim and its chat's lock taken, and a
	// value it will read, all in one round trip where the state allows.
	Admit(ctx context.Context, a Admission) (Admitted, error)
	Ping(ctx context.Context) error
	Close() error
}

// Admission is what an update takes on its way in: the claim that makes it
// handled once, the lock that keeps its chat's updates one at a time, and a
// value to read (its conversation), so that they cost one trip, not four.
type Admission struct {
	Claim    string
	ClaimTTL time.Duration
	Lock     string
	LockTTL  time.Duration
	Read     string // "" for none
}

// Admitted is the outcome of Admit. Unless Result is ClaimNew nothing is
// held and Leave is nil.
type Admitted struct {
	Result ClaimResult
	Value  []byte // of Read, when Found
	Found  bool
	// Leave marks the claim done (kept for keep) or, when the work failed,
	// releases it so a retry can run; and unlocks the chat. One trip.
	Leave func(ctx context.Context, done bool, keep time.Duration) error
}

// ClaimResult is the outcome of State.Claim.
type ClaimResult int

// Claim outcomes.
const (
	ClaimNew ClaimResult = iota
	ClaimBusy
	ClaimDone
)

// Locker serialises work on a key across replicas.
type Locker interface {
	// Lock waits until key is free or ctx ends, then holds it for at most ttl.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(context.Context) error, err error)
}
