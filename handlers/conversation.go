package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/storage"
)

// conversationTTL bounds how long an unfinished conversation, with the
// personal data typed so far, is kept.
const conversationTTL = 24 * time.Hour

// Flows and their steps.
const (
	flowRegister = "register"
	flowProfile  = "profile"
	flowAsk      = "ask"
	flowAnswer   = "answer"   // a responder writes a reply to TicketID
	flowFollowUp = "followup" // a member adds to TicketID
	flowRate     = "rate"     // a member may comment the Rating of TicketID
	flowNews     = "news"     // composing a broadcast
	flowSuggest  = "suggest"  // a member sends news or a call for support up
	flowNote     = "note"     // a relay level writes its note to BroadcastID
	flowDecline  = "decline"  // an information worker gives the reason to decline SuggestionID
	flowSurvey   = "survey"   // answering Question of SurveyRun for the org OrgID
	flowLoose    = "loose"    // a member's text beside an open question waits for where it goes

	stepPick          = "pick"
	stepConsent       = "consent"
	stepName          = "name"
	stepPosition      = "position"
	stepWorkEmail     = "work_email"
	stepPersonalOffer = "personal_offer"
	stepPersonalEmail = "personal_email"
	stepConfirm       = "confirm"

	stepEdit           = "edit"
	stepPersonalAccept = "personal_accept"

	stepSettings = "settings"
	stepOrgs     = "orgs"
	stepSchedule = "schedule"
	stepTopic    = "topic"
	stepQuestion = "question"
	stepAttach   = "attach"
	stepText     = "text"
	stepMore     = "more"   // texts keep joining TicketID for a while
	stepChoose   = "choose" // the member picks with buttons

	stepActionKind  = "action_kind" // composing news: the kind of its action
	stepActionTitle = "action_title"
	stepActionWhen  = "action_when"
	stepActionPlace = "action_place" // a meeting's place or an online link
)

// conversation is the step a person is at, kept in shared state so that any
// replica can continue it.
type conversation struct {
	Flow string `json:"flow,omitempty"`
	Step string `json:"step,omitempty"`
	Lang string `json:"lang,omitempty"`

	// Registration.
	OrgID           int64        `json:"org,omitempty"`
	Role            storage.Role `json:"role,omitempty"`
	Invite          string       `json:"invite,omitempty"`
	PickParent      int64        `json:"pick_parent,omitempty"`
	PickPage        int          `json:"pick_page,omitempty"`
	ConsentAt       time.Time    `json:"consent_at,omitzero"`
	FullName        string       `json:"full_name,omitempty"`
	Position        string       `json:"position,omitempty"`
	WorkEmail       string       `json:"work_email,omitempty"`
	PersonalEmail   string       `json:"personal_email,omitempty"`
	PersonalOfferAt time.Time    `json:"personal_consent_at,omitzero"`

	// Profile editing.
	Field string `json:"field,omitempty"`

	// Hot line.
	TicketID    int64                `json:"ticket,omitempty"`
	Topic       string               `json:"topic,omitempty"`
	Question    string               `json:"question,omitempty"`
	Format      []storage.Span       `json:"format,omitempty"` // of Question (news)
	Attachments []storage.Attachment `json:"attachments,omitempty"`
	ShareName   bool                 `json:"share_name,omitempty"`
	KeepText    bool                 `json:"keep_text,omitempty"`
	Rating      int                  `json:"rating,omitempty"`

	// News.
	SenderOrgID  int64   `json:"sender_org,omitempty"`
	Roles        string  `json:"roles,omitempty"` // "", "activists" or "leaders"
	Where        string  `json:"where,omitempty"` // "", "private" or "chats"
	Relay        bool    `json:"relay,omitempty"`
	Public       bool    `json:"public,omitempty"`
	ChosenOrgs   []int64 `json:"chosen_orgs,omitempty"`
	BroadcastID  int64   `json:"broadcast,omitempty"`
	Card         string  `json:"card,omitempty"` // the settings message, replaced by the outcome once sent
	SuggestionID int64   `json:"suggestion,omitempty"`
	Kind         string  `json:"kind,omitempty"`
	// The action the news item carries, as composed so far.
	ActionKind  string    `json:"action_kind,omitempty"`
	ActionTitle string    `json:"action_title,omitempty"`
	ActionAt    time.Time `json:"action_at,omitzero"`
	ActionPlace string    `json:"action_place,omitempty"`

	// Surveys.
	SurveyRun int64    `json:"survey_run,omitempty"`
	Selected  []string `json:"selected,omitempty"` // options of a multiple choice being made
}

// ConversationKey names the conversation of the update's sender, where
// erasure finds it (membership.ConversationKey); bot.Admit reads it with
// the update's claim.
func ConversationKey(u *bot.Update) string {
	return membership.ConversationKey(storage.Platform(u.Platform), u.From.ID)
}

// conversation returns the sender's conversation, empty when there is none.
func (s *session) conversation(ctx context.Context) (*conversation, error) {
	if s.conv != nil {
		return s.conv, nil
	}
	key := ConversationKey(s.u)
	raw, ok, read := bot.AdmittedValue(ctx, key)
	if !read {
		var err error
		if raw, ok, err = s.hub.State.Load(ctx, key); err != nil {
			return nil, fmt.Errorf("load conversation: %w", err)
		}
	}
	c := &conversation{}
	if ok {
		if err := json.Unmarshal(raw, c); err != nil {
			// A record from an incompatible older version: start afresh,
			// and tell the person (see withSession).
			c, s.outdated = &conversation{}, true
			if err := s.hub.State.Delete(ctx, key); err != nil {
				return nil, fmt.Errorf("drop an unreadable conversation: %w", err)
			}
		}
	}
	s.conv = c
	return c, nil
}

func (s *session) saveConversation(ctx context.Context, c *conversation) error {
	return s.saveConversationFor(ctx, c, conversationTTL)
}

// saveConversationFor keeps the conversation for ttl.
func (s *session) saveConversationFor(ctx context.Context, c *conversation, ttl time.Duration) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode conversation: %w", err)
	}
	if err := s.hub.State.Save(ctx, ConversationKey(s.u), raw, ttl); err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	s.conv = c
	return nil
}

// endConversation forgets the conversation but keeps a chosen language.
func (s *session) endConversation(ctx context.Context) error {
	c, err := s.conversation(ctx)
	if err != nil {
		return err
	}
	if s.person == nil && c.Lang != "" {
		return s.saveConversation(ctx, &conversation{Lang: c.Lang})
	}
	if err := s.hub.State.Delete(ctx, ConversationKey(s.u)); err != nil {
		return fmt.Errorf("delete conversation: %w", err)
	}
	s.conv = &conversation{}
	return nil
}

// continueConversation takes a typed answer for the current step.
func (h *Hub) continueConversation(ctx context.Context, s *session, c *conversation) error {
	switch c.Flow {
	case flowRegister:
		return h.registrationText(ctx, s, c)
	case flowProfile:
		return h.profileText(ctx, s, c)
	case flowAsk:
		return h.askText(ctx, s, c)
	case flowAnswer, flowFollowUp, flowRate:
		return h.ticketText(ctx, s, c)
	case flowNews:
		return h.newsText(ctx, s, c)
	case flowSuggest, flowNote, flowDecline:
		return h.itemText(ctx, s, c)
	case flowSurvey:
		return h.surveyText(ctx, s, c)
	case flowLoose:
		// Another text before the choice: it joins the one waiting.
		if s.person == nil {
			return s.endConversation(ctx)
		}
		handled, err := h.holdText(ctx, s, c)
		if handled || err != nil {
			return err
		}
		// The questions were closed meanwhile: nothing to add the text to.
		if err := s.endConversation(ctx); err != nil {
			return err
		}
		return h.showMenu(ctx, s, "menu.title")
	}
	return s.endConversation(ctx)
}
