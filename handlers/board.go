package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/storage"
)

// cbBoard prefixes the buttons of the weekly notice-board reminder.
const cbBoard = "brd"

// boardAction is an answer to a weekly notice-board reminder.
type boardAction string

const (
	boardUpdated  boardAction = "u"
	boardTomorrow boardAction = "t"
	boardNone     boardAction = "n"
)

// boardButton answers the reminder of an org's board for the week that
// began at Week (Unix seconds): "brd:u:ORG:WEEK".
type boardButton struct {
	Action boardAction
	OrgID  int64
	Week   int64
}

func (b boardButton) data() string {
	return joinData(cbBoard, string(b.Action), idData(b.OrgID), idData(b.Week))
}

func parseBoardButton(data string) (boardButton, bool) {
	f, ok := fieldsOf(data, cbBoard, 3)
	if !ok {
		return boardButton{}, false
	}
	b := boardButton{Action: boardAction(f[0])}
	switch b.Action {
	case boardUpdated, boardTomorrow, boardNone:
	default:
		return boardButton{}, false
	}
	var okOrg, okWeek bool
	b.OrgID, okOrg = idField(f[1])
	b.Week, okWeek = idField(f[2])
	return b, okOrg && okWeek
}

// onBoardButton records the answer to a weekly reminder, or asks for it
// again tomorrow.
func (h *Hub) onBoardButton(ctx context.Context, s *session) error {
	b, ok := parseBoardButton(s.u.Callback.Data)
	if !ok || s.person == nil {
		return s.notice(ctx, "error.stale_button")
	}
	act, err := s.actor(ctx)
	if err != nil {
		return err
	}
	week := time.Unix(b.Week, 0)
	if b.Action == boardTomorrow {
		_, err := h.Monitoring.SnoozeBoard(ctx, act, b.OrgID, week)
		switch {
		case errors.Is(err, monitoring.ErrSnoozeTooLate):
			return s.notice(ctx, "board.snooze_late") // the buttons stay for an answer now
		case errors.Is(err, monitoring.ErrAlreadyAnswered):
			return s.reply(ctx, s.t("board.already"), nil)
		case err != nil:
			return boardErr(ctx, s, err)
		}
		return s.reply(ctx, s.t("board.snoozed"), nil)
	}
	answer, key := storage.BoardUpdated, "board.thanks_updated"
	if b.Action == boardNone {
		answer, key = storage.BoardNone, "board.thanks_none"
	}
	org, err := h.Monitoring.AnswerBoard(ctx, act, b.OrgID, week, answer)
	if err != nil {
		return boardErr(ctx, s, err)
	}
	return s.reply(ctx, s.t(key, "Org", org.Name), nil)
}

// boardErr tells the presser why their answer was not taken.
func boardErr(ctx context.Context, s *session, err error) error {
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return s.notice(ctx, "error.stale_button")
	case errors.Is(err, access.ErrForbidden):
		return s.notice(ctx, "error.not_allowed")
	case errors.Is(err, monitoring.ErrWeekOver):
		return s.reply(ctx, s.t("board.week_over"), nil)
	}
	return err
}
