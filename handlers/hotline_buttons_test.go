package handlers

import (
	"testing"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/hotline"
)

const bigID = 9_007_199_254_740_993

func TestHotlineButtonsRoundTripInTheirWireFormat(t *testing.T) {
	t.Parallel()
	check := func(data, want string) {
		t.Helper()
		if data != want {
			t.Errorf("data %q, want %q as older messages carry", data, want)
		}
		if len(data) > bot.MaxButtonData {
			t.Errorf("data %q over %d bytes", data, bot.MaxButtonData)
		}
	}
	for _, tt := range []struct {
		b    ticketButton
		want string
	}{
		{ticketButton{Action: tkTake, TicketID: 42}, "tk:take:42"},
		{ticketButton{Action: tkNoComment, TicketID: 42}, "tk:nocomment:42"},
		{ticketButton{Action: tkRate, TicketID: 42, Stars: 5}, "tk:rate:42:5"},
		{ticketButton{Action: tkView, TicketID: bigID}, "tk:view:9007199254740993"},
	} {
		check(tt.b.data(), tt.want)
		if got, ok := parseTicketButton(tt.want); !ok || got != tt.b {
			t.Errorf("parse(%q) = %+v, %v", tt.want, got, ok)
		}
	}
	for _, tt := range []struct {
		b    askButton
		want string
	}{
		{askButton{Action: askSend, Step: stepConfirm}, "ask:send:confirm"},
		{askButton{Action: askCancel, Step: stepQuestion}, "ask:cancel:question"},
		{askButton{Action: askTopic, Step: stepTopic, Topic: "wages"}, "ask:topic:topic:wages"},
	} {
		check(tt.b.data(), tt.want)
		if got, ok := parseAskButton(tt.want); !ok || got != tt.b {
			t.Errorf("parse(%q) = %+v, %v", tt.want, got, ok)
		}
	}
	for _, tt := range []struct {
		b    looseButton
		want string
	}{
		{looseButton{Action: looseAdd, TicketID: 7}, "txt:add:7"},
		{looseButton{Action: looseNew}, "txt:new"},
		{looseButton{Action: looseCancel}, "txt:cancel"},
	} {
		check(tt.b.data(), tt.want)
		if got, ok := parseLooseButton(tt.want); !ok || got != tt.b {
			t.Errorf("parse(%q) = %+v, %v", tt.want, got, ok)
		}
	}
	for _, tt := range []struct {
		b    responderButton
		want string
	}{
		{responderButton{Action: rspOrg, OrgID: 3}, "rsp:org:3"},
		{responderButton{Action: rspAdd, OrgID: 3, Page: 2}, "rsp:add:3:2"},
		{responderButton{Action: rspAdd, OrgID: 3}, "rsp:add:3:0"},
		{responderButton{Action: rspPick, OrgID: 3, PersonID: 8}, "rsp:pick:3:8"},
		{responderButton{Action: rspSet, OrgID: 3, PersonID: 8, Topic: rspAllTopics}, "rsp:set:3:8:*"},
		{responderButton{Action: rspRemove, OrgID: 3, PersonID: 8}, "rsp:rm:3:8:"},
		{responderButton{Action: rspRemove, OrgID: bigID, PersonID: bigID, Topic: "employment"}, "rsp:rm:9007199254740993:9007199254740993:employment"},
	} {
		check(tt.b.data(), tt.want)
		if got, ok := parseResponderButton(tt.want); !ok || got != tt.b {
			t.Errorf("parse(%q) = %+v, %v", tt.want, got, ok)
		}
	}
}

func TestHotlineButtonsRefuseForgedData(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"tk", "tk:take", "tk:take:x", "tk:take:0", "tk:take:-1", "tk:take:5:6", "tk:burn:5",
		"tk:rate:5", "tk:rate:5:x", "ask:take:5", "txt:take:5"} {
		if got, ok := parseTicketButton(bad); ok {
			t.Errorf("ticket parse(%q) = %+v, want refused", bad, got)
		}
	}
	for _, bad := range []string{"ask", "ask:send", "ask:topic:topic", "ask:topic:topic:", "ask:burn:confirm", "ask:send:confirm:x", "tk:send:confirm"} {
		if got, ok := parseAskButton(bad); ok {
			t.Errorf("ask parse(%q) = %+v, want refused", bad, got)
		}
	}
	for _, bad := range []string{"txt", "txt:add", "txt:add:0", "txt:add:x", "txt:new:5", "txt:burn", "ask:new"} {
		if got, ok := parseLooseButton(bad); ok {
			t.Errorf("loose parse(%q) = %+v, want refused", bad, got)
		}
	}
	for _, bad := range []string{"rsp", "rsp:org", "rsp:org:x", "rsp:add:3", "rsp:add:3:-1", "rsp:add:x:1", "rsp:pick:3:0",
		"rsp:pick:3:8:wages", "rsp:set:3:8", "rsp:rm:3", "rsp:burn:3:8", "rsp:burn:3:8:x", "tk:org:3"} {
		if got, ok := parseResponderButton(bad); ok {
			t.Errorf("responder parse(%q) = %+v, want refused", bad, got)
		}
	}
}

// Every topic of the programme, and the supporters' one, has a name in
// the locales.
func TestBuiltinTopicsHaveLocaleKeys(t *testing.T) {
	t.Parallel()
	builtin := append(hotline.DefaultSettings().Topics, hotline.Topic{ID: hotline.TopicJoining})
	for _, tp := range builtin {
		if topicKeys[tp.ID] == "" || !hotline.IsBuiltin(tp.ID) {
			t.Errorf("topic %q has no locale key", tp.ID)
		}
	}
	if len(topicKeys) != len(builtin) {
		t.Errorf("%d topic keys for %d topics", len(topicKeys), len(builtin))
	}
}
