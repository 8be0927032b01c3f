package handlers

import (
	"testing"

	"github.com/unionhub/unionhub/bot"
)

// TestMonitoringButtonsKeepTheirWireFormat pins the data older survey,
// desk and board messages carry and reads it back; data of another shape
// is refused.
func TestMonitoringButtonsKeepTheirWireFormat(t *testing.T) {
	t.Parallel()
	type button interface{ data() string }
	survey := func(d string) (button, bool) { return parseSurveyButton(d) }
	runNow := func(d string) (button, bool) { return parseRunNowButton(d) }
	status := func(d string) (button, bool) { return parseRunStatusButton(d) }
	board := func(d string) (button, bool) { return parseBoardButton(d) }
	tests := []struct {
		b     button
		wire  string
		parse func(string) (button, bool)
	}{
		{surveyButton{Action: surveyGo, RunID: 3, OrgID: 17}, "srv:go:3:17", survey},
		{surveyButton{Action: surveyConfirm, RunID: 3, OrgID: 17}, "srv:ok:3:17", survey},
		{surveyButton{Action: surveyContinue, RunID: 3, OrgID: 17}, "srv:c:3:17", survey},
		{surveyButton{Action: surveyChange, RunID: 3, OrgID: 17}, "srv:e:3:17", survey},
		{surveyButton{Action: surveyChoose, RunID: 3, OrgID: 17, Question: "board_weekly", Value: "yes"}, "srv:a:3:17:board_weekly:yes", survey},
		{surveyButton{Action: surveyToggle, RunID: 3, OrgID: 17, Question: "channels_filled", Value: "5"}, "srv:t:3:17:channels_filled:5", survey},
		{surveyButton{Action: surveyDone, RunID: 3, OrgID: 17, Question: "channels_filled"}, "srv:d:3:17:channels_filled", survey},
		{surveyButton{Action: surveySkip, RunID: 3, OrgID: 17, Question: "members"}, "srv:s:3:17:members", survey},
		{surveyButton{Action: surveyKeep, RunID: 3, OrgID: 17, Question: "members"}, "srv:k:3:17:members", survey},
		{surveyButton{Action: surveyBack, RunID: 3, OrgID: 17, Question: "members"}, "srv:b:3:17:members", survey},
		{runNowButton{Survey: 0, OrgID: 2}, "srv:run:0:2", runNow},
		{runStatusButton{RunID: 9, OrgID: 2}, "srv:st:9:2", status},
		{boardButton{Action: boardUpdated, OrgID: 5, Week: 1772377200}, "brd:u:5:1772377200", board},
		{boardButton{Action: boardTomorrow, OrgID: 5, Week: 1772377200}, "brd:t:5:1772377200", board},
		{boardButton{Action: boardNone, OrgID: 5, Week: 1772377200}, "brd:n:5:1772377200", board},
	}
	for _, tt := range tests {
		data := tt.b.data()
		if data != tt.wire || len(data) > bot.MaxButtonData {
			t.Errorf("%+v.data() = %q, want %q", tt.b, data, tt.wire)
		}
		if got, ok := tt.parse(data); !ok || got != tt.b {
			t.Errorf("parse(%q) = %+v, %v; want %+v", data, got, ok, tt.b)
		}
	}
	refused := []struct {
		parse func(string) (button, bool)
		data  []string
	}{
		{survey, []string{"srv", "srv:go:3", "srv:go:3:17:q", "srv:a:3:17", "srv:a:3:17:", "srv:zz:3:17", "srv:go:x:17", "srv:go:3:0",
			"srv:a:3:17:q:v:w", "srv:run:0:2", "srv:st:9:2", "brd:go:3:17"}},
		{runNow, []string{"srv:run:-1:2", "srv:run:x:2", "srv:run:0:0", "srv:run:0", "srv:st:0:2", "srv:run:0:2:3"}},
		{status, []string{"srv:st:0:2", "srv:st:9", "srv:st:9:x", "srv:run:9:2"}},
		{board, []string{"brd", "brd:u:5", "brd:x:5:1", "brd:u:0:1", "brd:u:5:0", "brd:u:5:x", "brd:u:5:1:2", "srv:u:5:1"}},
	}
	for _, r := range refused {
		for _, d := range r.data {
			if got, ok := r.parse(d); ok {
				t.Errorf("parse(%q) = %+v, want refused", d, got)
			}
		}
	}
}
