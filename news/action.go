package news

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Limits and times of actions.
const (
	// MaxActionTitle bounds an action's title in UTF-16 units.
	MaxActionTitle = 200
	// MaxActionPlace bounds a meeting's place or an action's link.
	MaxActionPlace = 500
	// FollowUpAfter is how long after an action starts those who said yes
	// are asked whether they were there: a meeting's usual length.
	FollowUpAfter = 2 * time.Hour
	// FollowUpWithin bounds how late the question is still asked (a hub
	// that was down for longer asks nothing).
	FollowUpWithin = 7 * 24 * time.Hour
	// actionCardSlack is what an action's card adds to its title and place
	// in any language: the labels, the time and the blank line before it.
	actionCardSlack = 80
)

// What is wrong with an action; each wraps ErrInvalid, and a past or too
// distant time ErrBadTime.
var (
	ErrActionKind  = errors.New("unknown kind of action")
	ErrActionTitle = errors.New("action title empty or too long")
	ErrActionPlace = errors.New("action place empty or too long")
	ErrActionLink  = errors.New("action link is not an http(s) address")
	// ErrActionTooLong: the item's text with the action's card would not
	// fit one message (MaxText).
	ErrActionTooLong = errors.New("text and action longer than a message")
	// ErrActionOver: the action has taken place (or a signature closed):
	// answers no longer change.
	ErrActionOver = errors.New("action is over")
)

// CheckAction refuses an action that no front end should let through: an
// unknown kind, an empty or long title, a meeting without a place, an
// online action or signature without an http(s) link, a time that is not
// in the coming year.
func CheckAction(a storage.Action, now time.Time) error {
	if !a.Kind.Valid() {
		return fmt.Errorf("%w: %w %q", ErrInvalid, ErrActionKind, a.Kind)
	}
	if err := CheckActionTitle(a.Title); err != nil {
		return err
	}
	if err := CheckActionPlace(a.Kind, a.Place); err != nil {
		return err
	}
	if !a.At.After(now) || a.At.After(now.AddDate(1, 0, 0)) {
		return fmt.Errorf("action at %v: %w", a.At, ErrBadTime)
	}
	return nil
}

// ActionFits reports whether an item's text with a's card fits MaxText,
// which leaves room for the header and a level's note in one message.
func ActionFits(text string, a storage.Action) bool {
	return storage.UTF16Len(text)+storage.UTF16Len(a.Title)+storage.UTF16Len(a.Place)+actionCardSlack <= MaxText
}

// CheckActionTitle refuses an empty or long title.
func CheckActionTitle(title string) error {
	if strings.TrimSpace(title) == "" || storage.UTF16Len(title) > MaxActionTitle {
		return fmt.Errorf("%w: %w", ErrInvalid, ErrActionTitle)
	}
	return nil
}

// CheckActionPlace refuses a meeting's empty or long place, and for the
// online kinds anything but an http(s) link with a host.
func CheckActionPlace(kind storage.ActionKind, place string) error {
	if strings.TrimSpace(place) == "" || storage.UTF16Len(place) > MaxActionPlace {
		return fmt.Errorf("%w: %w", ErrInvalid, ErrActionPlace)
	}
	if !kind.Online() {
		return nil
	}
	u, err := url.Parse(place)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(place, " \n\t") {
		return fmt.Errorf("%w: %w", ErrInvalid, ErrActionLink)
	}
	return nil
}

// Answered is a person's answer to an action, with the item that carries
// it.
type Answered struct {
	Broadcast storage.Broadcast
	Reply     storage.ActionReply
}

// actionOf loads a broadcast with an action and its sender; one without
// gives storage.ErrNotFound.
func (s *Service) actionOf(ctx context.Context, broadcastID int64) (storage.Broadcast, storage.Org, error) {
	b, err := s.store.Broadcast(ctx, broadcastID)
	if err != nil {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("load broadcast: %w", err)
	}
	if b.Action == nil {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("broadcast %d has no action: %w", broadcastID, storage.ErrNotFound)
	}
	org, err := s.store.Org(ctx, b.OrgID)
	if err != nil {
		return storage.Broadcast{}, storage.Org{}, fmt.Errorf("load org: %w", err)
	}
	return b, org, nil
}

// AnswerAction records personID's answer to the action of a broadcast that
// reached them: yes or no to a meeting or an online action, signed to a
// signature. A new answer replaces the old until the action's time
// (ErrActionOver after); the same answer again changes nothing. Someone
// the item did not reach, or an item without an action, gets
// storage.ErrNotFound; an answer that does not fit the kind, ErrInvalid.
func (s *Service) AnswerAction(ctx context.Context, personID, broadcastID int64, answer storage.ActionAnswer) (Answered, error) {
	b, _, err := s.actionOf(ctx, broadcastID)
	if err != nil {
		return Answered{}, err
	}
	if (b.Action.Kind == storage.ActionSignature) != (answer == storage.AnswerSigned) || !answer.Valid() {
		return Answered{}, fmt.Errorf("answer %q to a %s: %w", answer, b.Action.Kind, ErrInvalid)
	}
	now := s.clock()
	if !now.Before(b.Action.At) {
		return Answered{}, fmt.Errorf("answer action of broadcast %d: %w", b.ID, ErrActionOver)
	}
	r, err := s.store.AnswerAction(ctx, broadcastID, personID, answer, now)
	if err != nil {
		return Answered{}, fmt.Errorf("answer action: %w", err)
	}
	s.answered.add(b.ID)
	return Answered{Broadcast: b, Reply: r}, nil
}

// Attended records whether personID, who said yes and was asked after the
// action, was there; anyone else gets storage.ErrNotFound.
func (s *Service) Attended(ctx context.Context, personID, broadcastID int64, attended bool) (Answered, error) {
	b, _, err := s.actionOf(ctx, broadcastID)
	if err != nil {
		return Answered{}, err
	}
	r, err := s.store.SetAttended(ctx, broadcastID, personID, attended)
	if err != nil {
		return Answered{}, fmt.Errorf("record attendance: %w", err)
	}
	s.answered.add(b.ID)
	return Answered{Broadcast: b, Reply: r}, nil
}

// ActionNote is a notice about an action for one person who said yes.
type ActionNote struct {
	Broadcast storage.Broadcast
	// Sender is the organisation whose zone the time is told in.
	Sender   storage.Org
	PersonID int64
	Notice   storage.ActionNotice
}

// ActionRound reminds those who said yes to a meeting or an online action
// the day before it (when it is between an hour and a day away) and the
// hour before it, and asks them FollowUpAfter its start whether they were
// there. Each notice is claimed once across replicas before it is sent,
// so a notice that fails to go is not sent again. Signatures get none.
func (s *Service) ActionRound(ctx context.Context) error {
	now := s.clock()
	windows := []struct {
		notice   storage.ActionNotice
		from, to time.Time
	}{
		{storage.NoticeDayBefore, now.Add(time.Hour), now.Add(24 * time.Hour)},
		{storage.NoticeHourBefore, now, now.Add(time.Hour)},
		{storage.NoticeFollowUp, now.Add(-FollowUpWithin), now.Add(-FollowUpAfter)},
	}
	var errs []error
	items := map[int64]ActionNote{}
	for _, w := range windows {
		replies, err := s.store.ClaimActionNotices(ctx, w.notice, w.from, w.to, now)
		if err != nil {
			return fmt.Errorf("claim %s notices: %w", w.notice, err)
		}
		for _, r := range replies {
			item, ok := items[r.BroadcastID]
			if !ok {
				b, org, err := s.actionOf(ctx, r.BroadcastID)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				item = ActionNote{Broadcast: b, Sender: org}
				items[r.BroadcastID] = item
			}
			item.PersonID, item.Notice = r.PersonID, w.notice
			if _, err := s.notifier.ActionNotice(ctx, item); err != nil {
				errs = append(errs, fmt.Errorf("send %s notice of broadcast %d to person %d: %w", w.notice, r.BroadcastID, r.PersonID, err))
			}
		}
	}
	return errors.Join(errs...)
}

// ActionTally counts the answers to an action.
type ActionTally struct {
	Yes      int `json:"yes"`
	No       int `json:"no"`
	Attended int `json:"attended"`
	Signed   int `json:"signed"`
}

func (t *ActionTally) add(c ActionTally) {
	t.Yes += c.Yes
	t.No += c.No
	t.Attended += c.Attended
	t.Signed += c.Signed
}

// ActionOrg is an organisation's row of an action report: the answers of
// its members and of everyone below it.
type ActionOrg struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Depth int    `json:"depth"` // below the sender
	ActionTally
}

// ActionReport is how a broadcast's action was answered, by organisation,
// the counts of each rolling up the tree to the sender.
type ActionReport struct {
	ID    int64              `json:"id"`
	Org   string             `json:"org"`
	Kind  storage.ActionKind `json:"kind"`
	Title string             `json:"title"`
	At    time.Time          `json:"at"` // in Zone, the sender's
	Zone  string             `json:"zone"`
	Total ActionTally        `json:"total"`
	ByOrg []ActionOrg        `json:"by_org"`
}

// ActionReportStore is what an action report reads.
type ActionReportStore interface {
	ActionCounts(ctx context.Context, broadcastID int64) ([]storage.ActionCount, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
}

// BuildActionReport counts the answers to b's action by organisation, each
// row with its subtree, in the tree's order; b must carry an action.
func BuildActionReport(ctx context.Context, st ActionReportStore, b storage.Broadcast) (ActionReport, error) {
	if b.Action == nil {
		return ActionReport{}, fmt.Errorf("report broadcast %d: no action: %w", b.ID, storage.ErrNotFound)
	}
	sender, err := st.Org(ctx, b.OrgID)
	if err != nil {
		return ActionReport{}, fmt.Errorf("load org: %w", err)
	}
	r := ActionReport{ID: b.ID, Org: sender.Name, Kind: b.Action.Kind, Title: b.Action.Title, At: b.Action.At.In(sender.Location()),
		Zone: sender.Location().String()}
	counts, err := st.ActionCounts(ctx, b.ID)
	if err != nil {
		return ActionReport{}, fmt.Errorf("count action answers: %w", err)
	}
	rows := map[int64]*ActionOrg{}
	paths := map[int64]string{}
	senderDepth := len(pathIDs(sender.Path))
	for _, c := range counts {
		tally := ActionTally{Yes: c.Yes, No: c.No, Attended: c.Attended, Signed: c.Signed}
		r.Total.add(tally)
		o, err := st.Org(ctx, c.OrgID)
		if err != nil {
			return ActionReport{}, fmt.Errorf("load org: %w", err)
		}
		ids := pathIDs(o.Path)
		for i := len(ids) - 1; i >= 0; i-- {
			row, ok := rows[ids[i]]
			if !ok {
				up := o
				if ids[i] != o.ID {
					if up, err = st.Org(ctx, ids[i]); err != nil {
						return ActionReport{}, fmt.Errorf("load org: %w", err)
					}
				}
				row = &ActionOrg{Code: up.Code, Name: up.Name, Depth: i + 1 - senderDepth}
				rows[ids[i]], paths[ids[i]] = row, up.Path
			}
			row.add(tally)
			if ids[i] == sender.ID {
				break
			}
		}
	}
	order := make([]int64, 0, len(rows))
	for id := range rows {
		order = append(order, id)
	}
	slices.SortFunc(order, func(a, b int64) int { return cmp.Compare(paths[a], paths[b]) })
	for _, id := range order {
		r.ByOrg = append(r.ByOrg, *rows[id])
	}
	return r, nil
}
