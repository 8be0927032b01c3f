package storage

import (
	"strings"
	"time"
	"unicode/utf16"
)

// BroadcastMode says how an item travels down the tree.
type BroadcastMode string

// Modes: direct reaches the whole audience at once; relay goes level by
// level, each organisation publishing it to its own people and passing it on.
const (
	ModeDirect BroadcastMode = "direct"
	ModeRelay  BroadcastMode = "relay"
)

// BroadcastStatus is where a broadcast stands.
type BroadcastStatus string

// Broadcast states.
const (
	BroadcastScheduled BroadcastStatus = "scheduled" // waits for ScheduledAt
	BroadcastSending   BroadcastStatus = "sending"   // being delivered, its outbox maybe still being built
	BroadcastDone      BroadcastStatus = "done"      // nothing left to deliver
	BroadcastCancelled BroadcastStatus = "cancelled" // stopped; undelivered rows dropped
	BroadcastFailed    BroadcastStatus = "failed"    // its outbox could not be built; undelivered rows dropped
)

// Audience selects who receives a broadcast within the sender's subtree.
type Audience struct {
	// OrgIDs are the organisations whose subtrees receive it; empty means
	// the sender's whole subtree.
	OrgIDs []int64
	// Roles keeps only people holding one of them (active); empty means
	// every member role. A supporter is never among them.
	Roles []Role
	// Public news reaches the supporters of the orgs in scope too.
	Public bool
	// Private sends to people's private chats; Chats to the bound group chats.
	Private, Chats bool
}

// PeopleRoles lists the roles whose holders the audience reaches: Roles
// (or every member role), and supporters when the news is public.
func (a Audience) PeopleRoles() []Role {
	roles := a.Roles
	if len(roles) == 0 {
		roles = MemberRoles()
	}
	roles = append([]Role(nil), roles...)
	if a.Public {
		roles = append(roles, RoleSupporter)
	}
	return roles
}

// SpanKind is a kind of formatting.
type SpanKind string

// The formatting a news item may carry: what Telegram's clients let an
// author apply, by Telegram's names.
const (
	SpanBold      SpanKind = "bold"
	SpanItalic    SpanKind = "italic"
	SpanUnderline SpanKind = "underline"
	SpanStrike    SpanKind = "strikethrough"
	SpanSpoiler   SpanKind = "spoiler"
	SpanCode      SpanKind = "code"
	SpanPre       SpanKind = "pre"
	SpanQuote     SpanKind = "blockquote"
	SpanLink      SpanKind = "text_link" // a word that links to URL
)

// Span is formatting over part of a text. Offset and Length count UTF-16
// code units, as Telegram does. Platforms without formatting (VK) show the
// text plain.
type Span struct {
	Kind   SpanKind `json:"kind"`
	Offset int      `json:"offset"`
	Length int      `json:"length"`
	URL    string   `json:"url,omitempty"`
}

// Valid reports whether s is a known kind over a non-empty part of a text
// of textLen UTF-16 units, a link with an http(s) or tg URL.
func (s Span) Valid(textLen int) bool {
	switch s.Kind {
	case SpanBold, SpanItalic, SpanUnderline, SpanStrike, SpanSpoiler, SpanCode, SpanPre, SpanQuote:
		if s.URL != "" {
			return false
		}
	case SpanLink:
		if !strings.HasPrefix(s.URL, "https://") && !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "tg://") {
			return false
		}
	default:
		return false
	}
	return s.Offset >= 0 && s.Length > 0 && s.Offset+s.Length <= textLen
}

// UTF16Len is the length of s in UTF-16 code units, Telegram's measure.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Broadcast is an item of news sent down the tree.
type Broadcast struct {
	ID          int64
	AuthorID    int64 // who composed it; 0 once anonymised
	OrgID       int64 // the organisation that sends it
	Text        string
	Format      []Span // formatting of Text
	Attachments []Attachment
	Mode        BroadcastMode
	Audience    Audience
	Status      BroadcastStatus
	CreatedAt   time.Time
	ScheduledAt *time.Time // when to start; nil: at once
	StartedAt   *time.Time
	FinishedAt  *time.Time
	// Building is true while its outbox is being built (StartBuild to
	// EndBuild): it is not done however few rows wait.
	Building bool
	// RelayDeadline: in relay mode, an organisation that has not acted by
	// then publishes automatically.
	RelayDeadline *time.Time
	// Progress is the sender's message that shows live progress, if any.
	Progress *DeskPost
	// FromOrgID is the organisation an item suggested from below comes
	// from, named above its text in each recipient's language; 0 for the
	// sender's own news.
	FromOrgID int64
	// FileID is the photo or document uploaded in the console that goes
	// with the text (a NewsFile); 0 for none.
	FileID int64
	// Action is what the item asks its recipients to join; nil for none.
	Action *Action
}

// Kinds of a news file, as of an Attachment.
const (
	FilePhoto    = "photo"
	FileDocument = "document"
)

// NewsFile is a photo or document uploaded in the console for a news item:
// its bytes are kept until a broadcast carries it, and each platform's own
// reference to it is learned from the broadcast's first delivery there
// (BroadcastStore.SetFileRef). A file no broadcast took is pruned.
type NewsFile struct {
	ID       int64
	PersonID int64 // who uploaded it; 0 once forgotten
	Name     string
	Kind     string // FilePhoto or FileDocument
	Size     int
	SHA256   string // of the bytes, hex
	// Data is the bytes: given to SaveNewsFile, read by NewsFileData;
	// other reads leave it out.
	Data      []byte
	CreatedAt time.Time
}

// DeliveryStatus is where one recipient of a broadcast stands.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryQueued      DeliveryStatus = "queued"
	DeliverySending     DeliveryStatus = "sending" // claimed by a worker
	DeliverySent        DeliveryStatus = "sent"
	DeliveryFailed      DeliveryStatus = "failed"      // gave up after retries
	DeliveryUnreachable DeliveryStatus = "unreachable" // blocked the bot, or chat gone
	DeliveryCancelled   DeliveryStatus = "cancelled"
)

// Delivery is one row of the outbox: one recipient of one broadcast.
type Delivery struct {
	ID          int64
	BroadcastID int64
	OrgID       int64 // the recipient's organisation, for reach per org
	PersonID    int64 // 0 for a group chat
	Platform    Platform
	ChatID      string
	// Priority orders claims: lower first. Activists get theirs first.
	Priority  int
	Status    DeliveryStatus
	Attempts  int
	NextAt    time.Time // not to be tried before
	MessageID string    // the platform's id once sent
	Error     string    // the last failure, for reports
	// Locale is the recipient's language when the row was claimed; "" for
	// a group chat.
	Locale string
}

// Delivery priorities; member-facing sends of the hot line and surveys do
// not go through the outbox and come before all of these.
const (
	PriorityActivist = 10
	PriorityMember   = 20
	PriorityChat     = 30
)

// DeliveryResult is what a worker reports about a claimed delivery.
type DeliveryResult struct {
	ID        int64
	Status    DeliveryStatus // sent, queued (retry at NextAt), failed or unreachable
	MessageID string
	Error     string
	NextAt    time.Time
}

// DeliveryCount is how many deliveries of a broadcast are in a status for
// an organisation.
type DeliveryCount struct {
	OrgID  int64
	Status DeliveryStatus
	Count  int
}

// RelayAction is what an organisation did with a relayed item.
type RelayAction string

// Relay actions; auto is the deadline publishing for a level that did nothing.
const (
	RelayPublished RelayAction = "published"
	RelayNoted     RelayAction = "noted" // published with a note of its own
	RelaySkipped   RelayAction = "skipped"
	RelayAuto      RelayAction = "auto"
)

// RelayStep records one organisation's part in a relayed broadcast.
type RelayStep struct {
	BroadcastID int64
	OrgID       int64
	ReceivedAt  time.Time
	RelayedAt   *time.Time
	Action      RelayAction // "" while pending
	Note        string
	RemindedAt  *time.Time
}

// SuggestionKind is what a member sends up the tree.
type SuggestionKind string

// Kinds of upward items.
const (
	SuggestNews SuggestionKind = "news"
	SuggestCall SuggestionKind = "call" // a call for support: bargaining, protest, conflict
)

// SuggestionStatus is where an upward item stands.
type SuggestionStatus string

// Suggestion states.
const (
	SuggestionPending   SuggestionStatus = "pending"
	SuggestionPublished SuggestionStatus = "published"
	SuggestionDeclined  SuggestionStatus = "declined"
)

// Suggestion is news or a call for support sent up the tree.
type Suggestion struct {
	ID          int64
	AuthorID    int64 // 0 once anonymised
	FromOrgID   int64 // the author's organisation
	AtOrgID     int64 // the organisation whose information worker decides now
	Kind        SuggestionKind
	Text        string
	Attachments []Attachment
	Status      SuggestionStatus
	// Solidarity flags a call for support for the union newspaper «Солидарность».
	Solidarity  bool
	Reason      string // why it was declined
	BroadcastID int64  // the broadcast it became, if published
	CreatedAt   time.Time
	DecidedAt   *time.Time
}
