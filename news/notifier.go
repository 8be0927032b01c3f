package news

import (
	"context"

	"github.com/unionhub/unionhub/storage"
)

// Notifier tells people about news. The service decides who is told and
// when; the notifier decides how: language, platform, buttons. Methods
// that report reached say whether the person got the message; a message is
// named by its facts, so that the same notice sent again is not delivered
// twice where the platform can tell.
type Notifier interface {
	// OfferRelay asks a person who publishes for a level to publish a
	// relayed item there, add a note to it, or skip it; a reminder
	// halfway to the deadline asks again.
	OfferRelay(ctx context.Context, to storage.Contact, o RelayOffer) (reached bool, err error)
	// RelayNoted gives a level's note before any delivery of that level
	// exists: each recipient's copy carries the note of the nearest
	// relaying level above them.
	RelayNoted(broadcastID, orgID int64, note string)
	// OfferSuggestion shows a suggestion to a person of a level: with the
	// decisions to take when Decide, for information otherwise (the Union
	// seeing a call for support decided below).
	OfferSuggestion(ctx context.Context, to storage.Contact, o SuggestionOffer) (reached bool, err error)
	// SuggestionDecided tells the author what became of their suggestion.
	SuggestionDecided(ctx context.Context, d Decision) (reached bool, err error)
	// ShowProgress brings the author's progress message of a broadcast up
	// to date.
	ShowProgress(ctx context.Context, p Progress) error
	// BroadcastFailed tells the author that a broadcast's outbox could not
	// be built and nobody gets it.
	BroadcastFailed(ctx context.Context, b storage.Broadcast) (reached bool, err error)
	// ActionNotice tells a person who said yes to an action about it: a
	// reminder before it, or after it the question whether they were
	// there.
	ActionNotice(ctx context.Context, n ActionNote) (reached bool, err error)
}

// RelayOffer is a relayed item waiting for a level's decision.
type RelayOffer struct {
	Broadcast storage.Broadcast
	// Sender is the organisation the item comes from; Level the one that
	// decides now.
	Sender, Level storage.Org
	// Reminder: the level has not acted halfway to the deadline.
	Reminder bool
	// File is the file uploaded with the item, without its bytes; nil
	// for none. The level's people get it with the item.
	File *storage.NewsFile
}

// Suggested is a suggestion as those who decide it see it.
type Suggested struct {
	storage.Suggestion
	// From is the author's organisation; only its ID is known when it
	// could not be read.
	From storage.Org
	// Author is nil once erased or anonymised.
	Author *storage.Person
	// At is the organisation that decides it now.
	At storage.Org
}

// SuggestionOffer is a suggestion shown to the people of Level.
type SuggestionOffer struct {
	Item  Suggested
	Level storage.Org
	// Decide: they decide it (publish down, pass up when Level has a
	// parent, decline); otherwise it is only shown.
	Decide bool
}

// Decision is what became of a suggestion, for its author.
type Decision struct {
	Suggestion storage.Suggestion
	// At decided it.
	At storage.Org
	// Published, or else declined for Reason.
	Published bool
	Reason    string
}

// Progress is where a broadcast stands, for its author's progress message
// (Broadcast.Progress).
type Progress struct {
	Broadcast storage.Broadcast
	Report    Report
	// Final: the engine has nothing left to send.
	Final bool
}
