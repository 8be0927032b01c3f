package handlers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/unionhub/unionhub/access"
)

// maxStatsOrgs bounds the summaries in one message.
const maxStatsOrgs = 3

// cmdStats shows chairs and information workers the hot line of their
// organisations over the last 30 days.
func (h *Hub) cmdStats(ctx context.Context, s *session) error {
	orgs, err := h.staffOrgs(ctx, s, access.ActHotlineStats)
	if len(orgs) == 0 {
		return err
	}
	// A few summaries fit a message; CLI reports cover any org and period.
	orgs = orgs[:min(len(orgs), maxStatsOrgs)]
	by, err := s.actor(ctx)
	if err != nil {
		return err
	}
	var b strings.Builder
	for i, org := range orgs {
		r, err := h.Hotline.Stats(ctx, by, org)
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
	return s.reply(ctx, b.String(), s.mainMenu(ctx))
}

// duration writes a span as hours and minutes in the session's language.
func (s *session) duration(d time.Duration) string {
	if d <= 0 {
		return s.t("profile.none")
	}
	return s.t("stats.duration", "Hours", int(d.Hours()), "Minutes", int(d.Minutes())%60)
}
