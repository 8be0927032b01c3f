package handlers

import "slices"

// Button routes of news.
const (
	cbNews    = "nw" // composing a broadcast, and stopping one
	cbRelay   = "rl" // a relay level's decision
	cbSuggest = "sg" // a suggestion's kind, and the decisions on one
)

// Actions of composing a broadcast.
const (
	nwCancel   = "cancel"
	nwFrom     = "from" // which organisation sends it, with its id
	nwRoles    = "roles"
	nwWhere    = "where"
	nwMode     = "mode"
	nwPublic   = "public" // news for supporters too, or for members only
	nwOrgs     = "orgs"   // open the choice of organisations below
	nwOrg      = "org"    // toggle one of them, with its id
	nwDone     = "done"
	nwSchedule = "schedule"
	nwSend     = "send"
	nwStop     = "stop" // stop a running broadcast, with its id

	nwAction      = "action"   // add an action to the item
	nwNoAction    = "noaction" // drop it
	nwKindMeeting = "ameet"    // the kinds of action
	nwKindOnline  = "aonline"
	nwKindSign    = "asign"
)

var (
	newsPlainActions = []string{nwCancel, nwRoles, nwWhere, nwMode, nwPublic, nwOrgs, nwDone, nwSchedule, nwSend,
		nwAction, nwNoAction, nwKindMeeting, nwKindOnline, nwKindSign}
	newsIDActions = []string{nwFrom, nwOrg, nwStop}
)

// newsButton is a step of composing, "nw:send"; the choice of an
// organisation and the Stop of a running broadcast carry an id,
// "nw:org:4", "nw:stop:12".
type newsButton struct {
	Action string
	ID     int64
}

func (b newsButton) data() string {
	if slices.Contains(newsIDActions, b.Action) {
		return joinData(cbNews, b.Action, idData(b.ID))
	}
	return joinData(cbNews, b.Action)
}

func parseNewsButton(data string) (newsButton, bool) {
	if f, ok := fieldsOf(data, cbNews, 1); ok && slices.Contains(newsPlainActions, f[0]) {
		return newsButton{Action: f[0]}, true
	}
	f, ok := fieldsOf(data, cbNews, 2)
	if !ok || !slices.Contains(newsIDActions, f[0]) {
		return newsButton{}, false
	}
	id, ok := idField(f[1])
	return newsButton{Action: f[0], ID: id}, ok
}

// A relay level's decisions.
const (
	rlPublish = "pub"
	rlNote    = "note"
	rlSkip    = "skip"
)

// relayButton is a level's decision on a relayed item, "rl:pub:12:4":
// the broadcast, then the organisation it decides for.
type relayButton struct {
	Action             string
	BroadcastID, OrgID int64
}

func (b relayButton) data() string {
	return joinData(cbRelay, b.Action, idData(b.BroadcastID), idData(b.OrgID))
}

func parseRelayButton(data string) (relayButton, bool) {
	f, ok := fieldsOf(data, cbRelay, 3)
	if !ok || !slices.Contains([]string{rlPublish, rlNote, rlSkip}, f[0]) {
		return relayButton{}, false
	}
	bid, ok1 := idField(f[1])
	orgID, ok2 := idField(f[2])
	return relayButton{Action: f[0], BroadcastID: bid, OrgID: orgID}, ok1 && ok2
}

// Actions on suggestions.
const (
	sgKind    = "kind" // what a new one is: news or a call, "sg:kind:call"
	sgShow    = "show"
	sgPublish = "pub"
	sgUp      = "up"
	sgDecline = "no"
)

// suggestButton picks the kind of a new suggestion, "sg:kind:news", or
// acts on one, "sg:pub:7".
type suggestButton struct {
	Action string
	Kind   string // with sgKind: "news" or "call"
	ID     int64
}

func (b suggestButton) data() string {
	if b.Action == sgKind {
		return joinData(cbSuggest, b.Action, b.Kind)
	}
	return joinData(cbSuggest, b.Action, idData(b.ID))
}

func parseSuggestButton(data string) (suggestButton, bool) {
	f, ok := fieldsOf(data, cbSuggest, 2)
	switch {
	case !ok:
		return suggestButton{}, false
	case f[0] == sgKind:
		return suggestButton{Action: sgKind, Kind: f[1]}, f[1] == "news" || f[1] == "call"
	case !slices.Contains([]string{sgShow, sgPublish, sgUp, sgDecline}, f[0]):
		return suggestButton{}, false
	}
	id, ok := idField(f[1])
	return suggestButton{Action: f[0], ID: id}, ok
}
