package handlers

import (
	"testing"

	"github.com/unionhub/unionhub/bot"
)

// TestNewsButtonsKeepTheirWireFormat pins the data older composing,
// progress, relay, suggestion and action messages carry and reads it back; data of
// another shape is refused.
func TestNewsButtonsKeepTheirWireFormat(t *testing.T) {
	t.Parallel()
	type button interface{ data() string }
	nw := func(d string) (button, bool) { return parseNewsButton(d) }
	rl := func(d string) (button, bool) { return parseRelayButton(d) }
	sg := func(d string) (button, bool) { return parseSuggestButton(d) }
	ac := func(d string) (button, bool) { return parseActionButton(d) }
	tests := []struct {
		b     button
		wire  string
		parse func(string) (button, bool)
	}{
		{newsButton{Action: nwCancel}, "nw:cancel", nw},
		{newsButton{Action: nwRoles}, "nw:roles", nw},
		{newsButton{Action: nwWhere}, "nw:where", nw},
		{newsButton{Action: nwMode}, "nw:mode", nw},
		{newsButton{Action: nwPublic}, "nw:public", nw},
		{newsButton{Action: nwOrgs}, "nw:orgs", nw},
		{newsButton{Action: nwDone}, "nw:done", nw},
		{newsButton{Action: nwSchedule}, "nw:schedule", nw},
		{newsButton{Action: nwSend}, "nw:send", nw},
		{newsButton{Action: nwFrom, ID: 2}, "nw:from:2", nw},
		{newsButton{Action: nwOrg, ID: 4}, "nw:org:4", nw},
		{newsButton{Action: nwStop, ID: bigID}, "nw:stop:9007199254740993", nw},
		{relayButton{Action: rlPublish, BroadcastID: 12, OrgID: 4}, "rl:pub:12:4", rl},
		{relayButton{Action: rlNote, BroadcastID: 12, OrgID: 4}, "rl:note:12:4", rl},
		{relayButton{Action: rlSkip, BroadcastID: bigID, OrgID: bigID}, "rl:skip:9007199254740993:9007199254740993", rl},
		{suggestButton{Action: sgKind, Kind: "news"}, "sg:kind:news", sg},
		{suggestButton{Action: sgKind, Kind: "call"}, "sg:kind:call", sg},
		{suggestButton{Action: sgShow, ID: 7}, "sg:show:7", sg},
		{suggestButton{Action: sgPublish, ID: 7}, "sg:pub:7", sg},
		{suggestButton{Action: sgUp, ID: 7}, "sg:up:7", sg},
		{suggestButton{Action: sgDecline, ID: 7}, "sg:no:7", sg},
		{newsButton{Action: nwAction}, "nw:action", nw},
		{newsButton{Action: nwNoAction}, "nw:noaction", nw},
		{newsButton{Action: nwKindMeeting}, "nw:ameet", nw},
		{newsButton{Action: nwKindOnline}, "nw:aonline", nw},
		{newsButton{Action: nwKindSign}, "nw:asign", nw},
		{actionButton{Action: acYes, ID: 12}, "ac:yes:12", ac},
		{actionButton{Action: acNo, ID: 12}, "ac:no:12", ac},
		{actionButton{Action: acSign, ID: 12}, "ac:sign:12", ac},
		{actionButton{Action: acWas, ID: 12}, "ac:was:12", ac},
		{actionButton{Action: acWasnt, ID: bigID}, "ac:wasnt:9007199254740993", ac},
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
	// The org chooser of /news writes the same data as the news button.
	if got, want := (orgButton{Route: cbNews, Action: nwFrom, OrgID: 2}).data(), (newsButton{Action: nwFrom, ID: 2}).data(); got != want {
		t.Errorf("chooser %q, news button %q", got, want)
	}
	refused := []struct {
		parse func(string) (button, bool)
		data  []string
	}{
		{nw, []string{"nw", "nw:", "nw:burn", "nw:send:3", "nw:org", "nw:org:x", "nw:org:0", "nw:stop", "nw:stop:-1", "nw:stop:5:6", "rl:send"}},
		{rl, []string{"rl", "rl:pub", "rl:pub:12", "rl:pub:12:0", "rl:pub:x:4", "rl:burn:12:4", "rl:pub:12:4:1", "nw:pub:12:4"}},
		{sg, []string{"sg", "sg:kind", "sg:kind:rumour", "sg:kind:", "sg:pub", "sg:pub:0", "sg:pub:x", "sg:burn:7", "sg:pub:7:8", "nw:pub:7"}},
		{ac, []string{"ac", "ac:yes", "ac:yes:0", "ac:yes:x", "ac:maybe:12", "ac:yes:12:1", "nw:yes:12", "ac::12"}},
	}
	for _, r := range refused {
		for _, d := range r.data {
			if got, ok := r.parse(d); ok {
				t.Errorf("parse(%q) = %+v, want refused", d, got)
			}
		}
	}
}
