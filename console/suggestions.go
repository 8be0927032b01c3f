package console

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// suggestionPages are the suggestions and calls for support sent up by
// members, waiting in the person's subtrees: publish down, pass up,
// decline with a reason, by the bot's use cases, which tell the author.
func (c *Console) suggestionPages() pageGroup {
	return pageGroup{
		Routes: []Route{
			{Pattern: "GET /suggestions", Need: access.ActPublish, Handle: c.suggestionList},
			{Pattern: "GET /suggestions/{id}", Need: access.ActPublish, Handle: c.suggestionShow},
			{Pattern: "POST /suggestions/{id}/publish", Need: access.ActPublish, Handle: c.suggestionPublish},
			{Pattern: "POST /suggestions/{id}/up", Need: access.ActPublish, Handle: c.suggestionUp},
			{Pattern: "POST /suggestions/{id}/decline", Need: access.ActPublish, Handle: c.suggestionDecline},
		},
		Nav: []NavItem{{Path: "/suggestions", Key: "console.nav_suggestions", Need: access.ActPublish}},
	}
}

// Audit actions of the suggestion pages.
const (
	auditSuggestionPublish = "suggestion_publish"
	auditSuggestionUp      = "suggestion_pass_up"
	auditSuggestionDecline = "suggestion_decline"
)

// suggestionsPerPage is how many suggestions a page of the list shows.
const suggestionsPerPage = 20

// suggestionLine is a suggestion in the list, or on its card.
type suggestionLine struct {
	ID         int64
	Kind       string
	Call       bool
	From, At   string
	Author     string
	Received   string
	Snippet    string
	Text       template.HTML
	Files      int
	CanPassUp  bool
	Solidarity bool
}

// suggestionsData is a page of the list, with what became of the last
// decision.
type suggestionsData struct {
	Total            int
	Items            []suggestionLine
	Page, Prev, Next int
	Last             int
	Message, Error   string
	// Broadcast is the broadcast a suggestion just published became.
	Broadcast int64
}

// cardData is one suggestion's card, with the reason as typed when it was
// refused.
type cardData struct {
	Item      suggestionLine
	Reason    string
	Error     string
	MaxReason int
}

// line shows a suggestion as those who decide it see it, in the zone of
// the organisation deciding it.
func line(rq *Request, sg news.Suggested) suggestionLine {
	l := suggestionLine{ID: sg.ID, Kind: rq.T("suggest.kind_news"), Call: sg.Kind == storage.SuggestCall,
		From: sg.From.Name, At: sg.At.Name, Author: rq.T("ticket.anonymous"),
		Received: sg.CreatedAt.In(zoneOf(sg.At)).Format("02.01.2006 15:04"), Snippet: snippet(sg.Text, 120),
		Text: formatHTML(sg.Text, nil), Files: len(sg.Attachments), CanPassUp: sg.At.ParentID != 0, Solidarity: sg.Solidarity}
	if l.Call {
		l.Kind = rq.T("suggest.kind_call")
	}
	if l.From == "" {
		l.From = strconv.FormatInt(sg.FromOrgID, 10)
	}
	if sg.Author != nil {
		l.Author = sg.Author.FullName
	}
	return l
}

// suggestionList lists the suggestions waiting in the person's subtrees,
// oldest first, a page at a time.
func (c *Console) suggestionList(w http.ResponseWriter, rq *Request) error {
	return c.renderSuggestions(w, rq, http.StatusOK, "")
}

func (c *Console) renderSuggestions(w http.ResponseWriter, rq *Request, status int, errText string) error {
	ctx, by := rq.Context(), rq.Session.Actor
	pending, err := c.cfg.News.Pending(ctx, by)
	if err != nil {
		return err
	}
	q := rq.URL.Query()
	d := suggestionsData{Total: len(pending), Page: pageOf(q), Last: max(1, (len(pending)+suggestionsPerPage-1)/suggestionsPerPage), Error: errText}
	d.Page = min(d.Page, d.Last)
	if d.Page > 1 {
		d.Prev = d.Page - 1
	}
	if d.Page < d.Last {
		d.Next = d.Page + 1
	}
	for _, sg := range pending[min((d.Page-1)*suggestionsPerPage, len(pending)):min(d.Page*suggestionsPerPage, len(pending))] {
		item, err := c.cfg.News.Suggestion(ctx, by, sg.ID)
		if errors.Is(err, news.ErrDecided) {
			continue // decided between the two reads
		}
		if err != nil {
			return err
		}
		d.Items = append(d.Items, line(rq, item))
	}
	id, _ := strconv.ParseInt(q.Get("id"), 10, 64)
	switch q.Get("done") {
	case "published":
		d.Broadcast, _ = strconv.ParseInt(q.Get("broadcast"), 10, 64)
		d.Message = rq.T("suggest.published", "ID", id, "Broadcast", d.Broadcast)
	case "passed":
		d.Message = rq.T("console.sugg_passed", "ID", id)
	case "declined":
		d.Message = rq.T("suggest.declined", "ID", id)
	}
	return c.render(w, rq, status, "suggestions/list", d)
}

// suggestionShow is one suggestion's card with its decisions.
func (c *Console) suggestionShow(w http.ResponseWriter, rq *Request) error {
	return c.renderCard(w, rq, http.StatusOK, "", "")
}

// renderCard shows a pending suggestion's card; one decided meanwhile
// sends back to the list, which says so.
func (c *Console) renderCard(w http.ResponseWriter, rq *Request, status int, reason, errText string) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	item, err := c.cfg.News.Suggestion(rq.Context(), rq.Session.Actor, id)
	if errors.Is(err, news.ErrDecided) {
		return c.renderSuggestions(w, rq, http.StatusConflict, rq.T("suggest.already", "ID", id))
	}
	if err != nil {
		return err
	}
	return c.render(w, rq, status, "suggestions/card", cardData{Item: line(rq, item), Reason: reason, Error: errText, MaxReason: news.MaxReason})
}

// decided answers a decision news refused: decided already, nowhere to
// pass it, or nobody above to decide it. ok is false for any other error,
// which is returned as it is.
func (c *Console) decided(w http.ResponseWriter, rq *Request, id int64, err error) (bool, error) {
	switch {
	case errors.Is(err, news.ErrDecided):
		return true, c.renderSuggestions(w, rq, http.StatusConflict, rq.T("suggest.already", "ID", id))
	case errors.Is(err, news.ErrTopLevel):
		return true, c.renderCard(w, rq, http.StatusConflict, "", rq.T("ticket.top_level"))
	case errors.Is(err, news.ErrNobodyAbove):
		return true, c.renderCard(w, rq, http.StatusConflict, "", rq.T("suggest.nobody_above"))
	}
	return false, err
}

func suggestionRecord(id int64) string { return "suggestion:" + strconv.FormatInt(id, 10) }

// suggestionPublish sends a suggestion down the deciding organisation's
// subtree, at once; its author is told.
func (c *Console) suggestionPublish(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	p, err := c.cfg.News.Publish(rq.Context(), rq.Session.Actor, id)
	if errors.Is(err, news.ErrBuildFailed) {
		// Decided, but nobody gets it; the decider has been told in the bot.
		if aerr := rq.Audit(auditSuggestionPublish, 0, suggestionRecord(id)); aerr != nil {
			return aerr
		}
		return err
	}
	if refused, err := c.decided(w, rq, id, err); refused || err != nil {
		return err
	}
	if err := rq.Audit(auditSuggestionPublish, p.Broadcast.OrgID, suggestionRecord(id)); err != nil {
		return err
	}
	redirect(w, rq, "/suggestions?done=published&id="+strconv.FormatInt(id, 10)+"&broadcast="+strconv.FormatInt(p.Broadcast.ID, 10))
	return nil
}

// suggestionUp passes a suggestion to the nearest organisation above with
// someone to decide it.
func (c *Console) suggestionUp(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	to, err := c.cfg.News.PassUp(rq.Context(), rq.Session.Actor, id)
	if refused, err := c.decided(w, rq, id, err); refused || err != nil {
		return err
	}
	if err := rq.Audit(auditSuggestionUp, to.ID, suggestionRecord(id)); err != nil {
		return err
	}
	redirect(w, rq, "/suggestions?done=passed&id="+strconv.FormatInt(id, 10))
	return nil
}

// suggestionDecline declines a suggestion for the reason typed, which its
// author gets.
func (c *Console) suggestionDecline(w http.ResponseWriter, rq *Request) error {
	id, err := idOf(rq)
	if err != nil {
		return err
	}
	typed := rq.PostFormValue("reason")
	reason, bad := cleanPlain(typed, news.MaxReason)
	if bad != nil {
		return c.renderCard(w, rq, http.StatusUnprocessableEntity, typed, bad.message(rq))
	}
	sg, err := c.cfg.News.Decline(rq.Context(), rq.Session.Actor, id, reason)
	if refused, err := c.decided(w, rq, id, err); refused || err != nil {
		return err
	}
	if err := rq.Audit(auditSuggestionDecline, sg.AtOrgID, suggestionRecord(id)); err != nil {
		return err
	}
	redirect(w, rq, "/suggestions?done=declined&id="+strconv.FormatInt(id, 10))
	return nil
}
