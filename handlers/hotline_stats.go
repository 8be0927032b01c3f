package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// statsPeriod is what /stats looks back over; maxStatsOrgs bounds the
// summaries in one message.
const (
	statsPeriod  = 30 * 24 * time.Hour
	maxStatsOrgs = 3
)

// cmdStats shows chairs and information workers the hot line of their
// organisations over the last 30 days.
func (h *Hub) cmdStats(ctx context.Context, s *session) error {
	if !s.private() {
		return nil
	}
	if ok, err := h.requireRegistered(ctx, s); !ok {
		return err
	}
	active, err := s.activeRoles(ctx)
	if err != nil {
		return err
	}
	orgs := storage.ManagedOrgs(active, storage.ActHotlineStats)
	if len(orgs) == 0 {
		return s.refuse(ctx, "error.not_allowed")
	}
	// A few summaries fit a message; CLI reports cover any org and period.
	orgs = orgs[:min(len(orgs), maxStatsOrgs)]
	now := h.Clock()
	var b strings.Builder
	for i, org := range orgs {
		r, err := BuildHotlineReport(ctx, h.Store, org, now.Add(-statsPeriod), now, now)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s.plural("stats.summary", r.Tickets, "Org", org.Name,
			"FirstMedian", s.duration(r.First.Median), "FirstP90", s.duration(r.First.P90),
			"CloseMedian", s.duration(r.Close.Median), "Escalations", r.Escalate, "Unanswered", r.UnansweredNow,
			"Rating", strconv.FormatFloat(r.Ratings.Average, 'f', 1, 64), "Ratings", r.Ratings.Count))
		for _, tc := range r.ByTopic {
			b.WriteString("\n" + s.t("stats.topic", "Topic", h.topicName(s.lang, tc.Topic), "Count", tc.Count))
		}
	}
	return s.reply(ctx, b.String(), s.mainMenu())
}

// duration writes a span as hours and minutes in the session's language.
func (s *session) duration(d time.Duration) string {
	if d <= 0 {
		return s.t("profile.none")
	}
	return s.t("stats.duration", "Hours", int(d.Hours()), "Minutes", int(d.Minutes())%60)
}
