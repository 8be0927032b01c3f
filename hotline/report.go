package hotline

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// Report is the hot line of an organisation's subtree over a period.
type Report struct {
	Org     string       `json:"org"`
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
	Tickets int          `json:"tickets"`
	ByTopic []TopicCount `json:"by_topic"`
	// ByOrg counts the tickets of each organisation of the subtree whose
	// members asked, busiest first.
	ByOrg    []OrgCount      `json:"by_org"`
	First    DurationSummary `json:"first_response"`
	Close    DurationSummary `json:"close"`
	Escalate int             `json:"escalations"`
	// UnansweredNow counts the subtree's unclosed tickets without any answer
	// at the time of the report, whenever they were asked.
	UnansweredNow int           `json:"unanswered_now"`
	Ratings       RatingSummary `json:"ratings"`
}

// TopicCount is how many tickets a topic had.
type TopicCount struct {
	Topic string `json:"topic"`
	Count int    `json:"count"`
}

// OrgCount is how many tickets the members of an organisation asked.
type OrgCount struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Tickets int    `json:"tickets"`
}

// DurationSummary describes how long something took over the tickets that
// got there.
type DurationSummary struct {
	Count  int           `json:"count"`
	Median time.Duration `json:"median_ns"`
	P90    time.Duration `json:"p90_ns"`
}

// RatingSummary describes the members' ratings.
type RatingSummary struct {
	Count   int     `json:"count"`
	Average float64 `json:"average"`
	// Stars counts ratings 1 to 5 at index 0 to 4.
	Stars [5]int `json:"stars"`
}

// ReportStore is what a report reads.
type ReportStore interface {
	FindTickets(ctx context.Context, q storage.TicketQuery) ([]storage.Ticket, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
}

// BuildReport computes the report of org's subtree for tickets asked in
// [from, to). It checks no rights: the operator's CLI reads any org, and
// Service.Stats checks the actor's.
func BuildReport(ctx context.Context, st ReportStore, org storage.Org, from, to, now time.Time) (Report, error) {
	r := Report{Org: org.Name, From: from, To: to}
	tickets, err := st.FindTickets(ctx, storage.TicketQuery{Under: org, CreatedFrom: from, CreatedTo: to})
	if err != nil {
		return r, fmt.Errorf("list tickets: %w", err)
	}
	topics := map[string]int{}
	orgs := map[int64]int{}
	var first, closing []time.Duration
	ratingSum := 0
	for _, t := range tickets {
		r.Tickets++
		topics[t.Topic]++
		orgs[t.OrgID]++
		r.Escalate += t.Escalations
		if t.FirstResponseAt != nil {
			first = append(first, t.FirstResponseAt.Sub(t.CreatedAt))
		}
		if t.ClosedAt != nil {
			closing = append(closing, t.ClosedAt.Sub(t.CreatedAt))
		}
		if t.Rating > 0 {
			r.Ratings.Count++
			r.Ratings.Stars[t.Rating-1]++
			ratingSum += t.Rating
		}
	}
	for topic, n := range topics {
		r.ByTopic = append(r.ByTopic, TopicCount{Topic: topic, Count: n})
	}
	sort.Slice(r.ByTopic, func(i, j int) bool {
		if r.ByTopic[i].Count != r.ByTopic[j].Count {
			return r.ByTopic[i].Count > r.ByTopic[j].Count
		}
		return r.ByTopic[i].Topic < r.ByTopic[j].Topic
	})
	for id, n := range orgs {
		o, err := st.Org(ctx, id)
		if err != nil {
			return r, fmt.Errorf("load org: %w", err)
		}
		r.ByOrg = append(r.ByOrg, OrgCount{Code: o.Code, Name: o.Name, Tickets: n})
	}
	sort.Slice(r.ByOrg, func(i, j int) bool {
		if r.ByOrg[i].Tickets != r.ByOrg[j].Tickets {
			return r.ByOrg[i].Tickets > r.ByOrg[j].Tickets
		}
		return r.ByOrg[i].Code < r.ByOrg[j].Code
	})
	r.First, r.Close = Summarize(first), Summarize(closing)
	if r.Ratings.Count > 0 {
		r.Ratings.Average = float64(ratingSum) / float64(r.Ratings.Count)
	}
	open, err := st.FindTickets(ctx, storage.TicketQuery{Under: org, Statuses: []storage.TicketStatus{storage.TicketOpen, storage.TicketTaken}})
	if err != nil {
		return r, fmt.Errorf("list open tickets: %w", err)
	}
	for _, t := range open {
		if t.FirstResponseAt == nil && !t.CreatedAt.After(now) {
			r.UnansweredNow++
		}
	}
	return r, nil
}

// Summarize gives the median and 90th percentile of ds by the nearest-rank
// method; it sorts ds.
func Summarize(ds []time.Duration) DurationSummary {
	s := DurationSummary{Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(ds))+0.999999) - 1 // ceil(p·n) − 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	s.Median, s.P90 = rank(0.5), rank(0.9)
	return s
}

// StatsPeriod is what Stats looks back over.
const StatsPeriod = 30 * 24 * time.Hour

// Stats is the report of org's subtree over the last StatsPeriod, for
// someone who may read its statistics.
func (s *Service) Stats(ctx context.Context, by access.Actor, org storage.Org) (Report, error) {
	if !by.Can(access.ActHotlineStats, org) {
		return Report{}, fmt.Errorf("statistics of org %d: %w", org.ID, access.ErrForbidden)
	}
	now := s.clock()
	return BuildReport(ctx, s.store, org, now.Add(-StatsPeriod), now, now)
}
