package handlers

import (
	"testing"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/membership"
)

// TestMembershipButtonsKeepTheirWireFormat pins the data older messages
// carry and reads it back; data of another shape is refused.
func TestMembershipButtonsKeepTheirWireFormat(t *testing.T) {
	t.Parallel()
	type button interface{ data() string }
	tests := []struct {
		b     button
		wire  string
		parse func(string) (button, bool)
	}{
		{regButton{Action: regBegin}, "reg:begin", func(d string) (button, bool) { return parseRegButton(d) }},
		{regButton{Action: "accept", Step: stepConsent}, "reg:accept:consent", func(d string) (button, bool) { return parseRegButton(d) }},
		{regButton{Action: "skip", Step: stepPersonalOffer}, "reg:skip:personal_offer", func(d string) (button, bool) { return parseRegButton(d) }},
		{pickButton{Open: true}, "pick:n:0:0", func(d string) (button, bool) { return parsePickButton(d) }},
		{pickButton{Open: true, OrgID: 7, Page: 2}, "pick:n:7:2", func(d string) (button, bool) { return parsePickButton(d) }},
		{pickButton{OrgID: 9_007_199_254_740_993}, "pick:s:9007199254740993", func(d string) (button, bool) { return parsePickButton(d) }},
		{approveButton{MembershipID: 12, Approve: true}, "appr:12:y", func(d string) (button, bool) { return parseApproveButton(d) }},
		{approveButton{MembershipID: 12}, "appr:12:n", func(d string) (button, bool) { return parseApproveButton(d) }},
		{profileButton{Action: profEdit, Field: membership.FieldPersonalEmail}, "prof:edit:personal_email", func(d string) (button, bool) { return parseProfileButton(d) }},
		{profileButton{Action: profClear, Field: membership.FieldPosition}, "prof:clear:position", func(d string) (button, bool) { return parseProfileButton(d) }},
		{profileButton{Action: profConsent}, "prof:consent", func(d string) (button, bool) { return parseProfileButton(d) }},
		{forgetButton{Yes: true}, "forget:yes", func(d string) (button, bool) { return parseForgetButton(d) }},
		{forgetButton{}, "forget:no", func(d string) (button, bool) { return parseForgetButton(d) }},
		{bindButton{OrgID: 42}, "bind:42", func(d string) (button, bool) { return parseBindButton(d) }},
		{langButton{Lang: "en"}, "lang:en", func(d string) (button, bool) { return parseLangButton(d) }},
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
		{func(d string) (button, bool) { return parseRegButton(d) }, []string{"reg", "reg:accept", "reg:begin:consent", "reg:accept:", "reg:a:b:c", "pick:begin"}},
		{func(d string) (button, bool) { return parsePickButton(d) }, []string{"pick:n:5", "pick:n:-1:0", "pick:n:5:-1", "pick:n:x:0", "pick:s:0", "pick:s:-3", "pick:s:x", "pick:x:5", "reg:s:5"}},
		{func(d string) (button, bool) { return parseApproveButton(d) }, []string{"appr:12", "appr:12:maybe", "appr:x:y", "appr:0:y", "appr:12:y:1"}},
		{func(d string) (button, bool) { return parseProfileButton(d) }, []string{"prof:edit", "prof:edit:salary", "prof:clear:x", "prof:consent:name", "prof:show:name"}},
		{func(d string) (button, bool) { return parseForgetButton(d) }, []string{"forget", "forget:maybe", "forget:yes:no"}},
		{func(d string) (button, bool) { return parseBindButton(d) }, []string{"bind", "bind:x", "bind:0", "bind:1:2"}},
		{func(d string) (button, bool) { return parseLangButton(d) }, []string{"lang", "lang:de", "lang:EN", "lang:en:ru"}},
	}
	for _, r := range refused {
		for _, d := range r.data {
			if got, ok := r.parse(d); ok {
				t.Errorf("parse(%q) = %+v, want refused", d, got)
			}
		}
	}
}
