package storage

import "time"

// ActionKind is what an action carried by a news item asks of people.
type ActionKind string

// Kinds of action: a meeting happens at a place, an online action at a
// link; a signature is signed online at a link, once, with no time to come.
const (
	ActionMeeting   ActionKind = "meeting"
	ActionOnline    ActionKind = "online"
	ActionSignature ActionKind = "signature"
)

// Valid reports whether k is a known kind.
func (k ActionKind) Valid() bool {
	switch k {
	case ActionMeeting, ActionOnline, ActionSignature:
		return true
	}
	return false
}

// Online reports whether people join k from afar (online or signing).
func (k ActionKind) Online() bool { return k == ActionOnline || k == ActionSignature }

// Action is what a news item may ask its recipients to join.
type Action struct {
	Kind  ActionKind
	Title string
	// At is when it takes place (a signature: until when it is signed).
	At time.Time
	// Place is where a meeting is, or the http(s) link of an online
	// action or a signature.
	Place string
}

// ActionAnswer is a person's answer to an action.
type ActionAnswer string

// Answers: yes and no to a meeting or an online action, signed to a
// signature.
const (
	AnswerYes    ActionAnswer = "yes"
	AnswerNo     ActionAnswer = "no"
	AnswerSigned ActionAnswer = "signed"
)

// Valid reports whether a is a known answer.
func (a ActionAnswer) Valid() bool {
	return a == AnswerYes || a == AnswerNo || a == AnswerSigned
}

// ActionReply is one person's answer to the action of a broadcast.
type ActionReply struct {
	BroadcastID int64
	PersonID    int64 // 0 once the person is forgotten
	// OrgID is the organisation the person got the item as a member of.
	OrgID      int64
	Answer     ActionAnswer
	AnsweredAt time.Time
	// Attended is what they said when asked after the action; nil before.
	Attended *bool
}

// ActionNotice is a notice about an action people who said yes get.
type ActionNotice string

// Notices: the day before, the hour before, and after it "were you there?".
const (
	NoticeDayBefore  ActionNotice = "day"
	NoticeHourBefore ActionNotice = "hour"
	NoticeFollowUp   ActionNotice = "followup"
)

// ActionCount is how a broadcast's action was answered in one organisation
// (its own members, not those below).
type ActionCount struct {
	OrgID    int64
	Yes      int
	No       int
	Attended int
	Signed   int
}

// ActionJoin is an action of the participation indicator and, when someone
// joined it, one person who did: said yes to a meeting or an online
// action, or signed.
type ActionJoin struct {
	BroadcastID int64
	OrgID       int64 // the organisation that sent it
	Kind        ActionKind
	// Person tells people apart: their id, or for a forgotten person a
	// negative key of their answer; 0 when nobody joined the action.
	Person   int64
	Attended bool
}
