package handlers

import (
	"slices"
	"strconv"
)

// Button routes of the hot line.
const (
	cbAsk        = "ask" // a step of /ask
	cbTicket     = "tk"  // an action on a ticket
	cbLoose      = "txt" // where a text written beside an open question goes
	cbResponders = "rsp" // /responders
)

// Actions on a ticket: the responders' and the member's.
const (
	tkTake      = "take"
	tkReply     = "reply"
	tkUp        = "up"
	tkClose     = "close"
	tkShow      = "show"
	tkFollow    = "follow"
	tkDone      = "done"
	tkRate      = "rate"
	tkNoComment = "nocomment"
	tkView      = "view"
)

var (
	responderActions = []string{tkTake, tkReply, tkUp, tkClose, tkShow}
	memberActions    = []string{tkFollow, tkDone, tkRate, tkNoComment, tkView}
)

// ticketButton is an action on a ticket, "tk:take:42"; a rating carries its
// stars, "tk:rate:42:5".
type ticketButton struct {
	Action   string
	TicketID int64
	Stars    int
}

func (b ticketButton) data() string {
	if b.Action == tkRate {
		return joinData(cbTicket, b.Action, idData(b.TicketID), strconv.Itoa(b.Stars))
	}
	return joinData(cbTicket, b.Action, idData(b.TicketID))
}

func parseTicketButton(data string) (ticketButton, bool) {
	f, ok := fieldsOf(data, cbTicket, 2)
	if !ok {
		if f, ok = fieldsOf(data, cbTicket, 3); !ok || f[0] != tkRate {
			return ticketButton{}, false
		}
	}
	b := ticketButton{Action: f[0]}
	if !slices.Contains(responderActions, b.Action) && !slices.Contains(memberActions, b.Action) {
		return ticketButton{}, false
	}
	if b.TicketID, ok = idField(f[1]); !ok {
		return ticketButton{}, false
	}
	if b.Action == tkRate {
		stars, err := strconv.Atoi(f[len(f)-1])
		if len(f) != 3 || err != nil {
			return ticketButton{}, false
		}
		b.Stars = stars
	}
	return b, true
}

// Actions of /ask's buttons.
const (
	askTopic  = "topic"
	askNext   = "next"
	askShare  = "share"
	askKeep   = "keep"
	askSend   = "send"
	askCancel = "cancel"
)

// askButton is a button of a step of /ask, "ask:send:confirm", which does
// nothing once the conversation has moved on; a topic carries its id,
// "ask:topic:topic:wages".
type askButton struct {
	Action, Step, Topic string
}

func (b askButton) data() string {
	if b.Action == askTopic {
		return joinData(cbAsk, b.Action, b.Step, b.Topic)
	}
	return joinData(cbAsk, b.Action, b.Step)
}

func parseAskButton(data string) (askButton, bool) {
	if f, ok := fieldsOf(data, cbAsk, 3); ok && f[0] == askTopic && f[2] != "" {
		return askButton{Action: f[0], Step: f[1], Topic: f[2]}, true
	}
	f, ok := fieldsOf(data, cbAsk, 2)
	if !ok || !slices.Contains([]string{askNext, askShare, askKeep, askSend, askCancel}, f[0]) {
		return askButton{}, false
	}
	return askButton{Action: f[0], Step: f[1]}, true
}

// Choices for a text written beside an open question.
const (
	looseAdd    = "add"
	looseNew    = "new"
	looseCancel = "cancel"
)

// looseButton sends the waiting text somewhere: "txt:add:42" to a ticket,
// "txt:new" into a new question, "txt:cancel" nowhere.
type looseButton struct {
	Action   string
	TicketID int64
}

func (b looseButton) data() string {
	if b.Action == looseAdd {
		return joinData(cbLoose, b.Action, idData(b.TicketID))
	}
	return joinData(cbLoose, b.Action)
}

func parseLooseButton(data string) (looseButton, bool) {
	if f, ok := fieldsOf(data, cbLoose, 2); ok && f[0] == looseAdd {
		id, ok := idField(f[1])
		return looseButton{Action: looseAdd, TicketID: id}, ok
	}
	f, ok := fieldsOf(data, cbLoose, 1)
	if !ok || (f[0] != looseNew && f[0] != looseCancel) {
		return looseButton{}, false
	}
	return looseButton{Action: f[0]}, true
}

// Actions of /responders.
const (
	rspOrg    = "org"  // list an org's responders
	rspAdd    = "add"  // list its members to name one, a page
	rspPick   = "pick" // ask a picked member's topic
	rspSet    = "set"  // name the member for the topic
	rspRemove = "rm"   // remove a responder's entry

	// rspAllTopics is the topic of a responder for every topic in set.
	rspAllTopics = "*"
)

// responderButton is a button of /responders: "rsp:org:ORG",
// "rsp:add:ORG:PAGE", "rsp:pick:ORG:PERSON", "rsp:set:ORG:PERSON:TOPIC"
// (TOPIC "*" for all) and "rsp:rm:ORG:PERSON:TOPIC" (TOPIC "" for all).
type responderButton struct {
	Action   string
	OrgID    int64
	Page     int
	PersonID int64
	Topic    string
}

func (b responderButton) data() string {
	org := idData(b.OrgID)
	switch b.Action {
	case rspAdd:
		return joinData(cbResponders, b.Action, org, strconv.Itoa(b.Page))
	case rspPick:
		return joinData(cbResponders, b.Action, org, idData(b.PersonID))
	case rspSet, rspRemove:
		return joinData(cbResponders, b.Action, org, idData(b.PersonID), b.Topic)
	}
	return orgButton{Route: cbResponders, Action: rspOrg, OrgID: b.OrgID}.data()
}

func parseResponderButton(data string) (responderButton, bool) {
	if b, ok := parseOrgButton(data, cbResponders, rspOrg); ok {
		return responderButton{Action: rspOrg, OrgID: b.OrgID}, true
	}
	var b responderButton
	f, ok := fieldsOf(data, cbResponders, 3)
	if !ok {
		if f, ok = fieldsOf(data, cbResponders, 4); !ok || (f[0] != rspSet && f[0] != rspRemove) {
			return responderButton{}, false
		}
		b.Topic = f[3]
	}
	b.Action = f[0]
	if b.OrgID, ok = idField(f[1]); !ok {
		return responderButton{}, false
	}
	switch b.Action {
	case rspAdd:
		page, err := strconv.Atoi(f[2])
		b.Page = page
		return b, err == nil && page >= 0
	case rspPick, rspSet, rspRemove:
		b.PersonID, ok = idField(f[2])
		return b, ok && (b.Action == rspPick) == (len(f) == 3)
	}
	return responderButton{}, false
}
