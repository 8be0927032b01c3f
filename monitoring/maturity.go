package monitoring

import (
	"context"
	"fmt"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// MaturityParts name the parts of an organisation's digital maturity, in
// the order the report shows them.
var MaturityParts = []string{
	"infoworker_in_bot",    // an information worker who uses the bot
	"hotline_responder",    // a responder named for the hot line
	"bound_chats",          // a group chat bound to the org
	"activists_work_email", // the share of its activists with a work e-mail
	"surveys_on_time",      // the share of its surveys submitted by the deadline
	"contact_base_sent",    // its contact base sent up this year (not the root's)
}

// maturityOf is the value (0 to 1) of each part that applies to the org:
// yes or no for what it has, a share for its activists and surveys (none
// when it has no activists, or no survey was due).
func maturityOf(m storage.Maturity, root bool) map[string]float64 {
	yes := func(ok bool) float64 {
		if ok {
			return 1
		}
		return 0
	}
	parts := map[string]float64{
		"infoworker_in_bot": yes(m.Infoworkers > 0),
		"hotline_responder": yes(m.Responders > 0),
		"bound_chats":       yes(m.Chats > 0),
	}
	if m.Activists > 0 {
		parts["activists_work_email"] = float64(m.WithEmail) / float64(m.Activists)
	}
	if m.SurveysDue > 0 {
		parts["surveys_on_time"] = float64(m.SurveysOnTime) / float64(m.SurveysDue)
	}
	if !root {
		parts["contact_base_sent"] = yes(m.ContactBaseSent)
	}
	return parts
}

// maturitySums gathers the parts and scores of a subtree's orgs.
type maturitySums struct {
	part  map[string]float64
	parts map[string]int
	score float64
	orgs  int
}

// observeMaturity reads every org's maturity and gives each org of the
// subtree the mean of its orgs' parts and scores (an org's score is the
// mean of the parts that apply to it).
func (s *Service) observeMaturity(ctx context.Context, under storage.Org, out map[int64]*Observed, up func(int64, []int64) []int64,
	byID map[int64]storage.Org, p Period, now time.Time) error {
	ms, err := s.store.MaturityUnder(ctx, under, p.From, p.To, now, p.From.Year())
	if err != nil {
		return fmt.Errorf("observe maturity: %w", err)
	}
	sums := map[int64]*maturitySums{}
	var orgs []int64
	for _, m := range ms {
		parts := maturityOf(m, byID[m.OrgID].ParentID == 0)
		score := 0.0
		for _, v := range parts {
			score += v
		}
		score /= float64(len(parts))
		for _, id := range up(m.OrgID, orgs[:0]) {
			sum := sums[id]
			if sum == nil {
				sum = &maturitySums{part: map[string]float64{}, parts: map[string]int{}}
				sums[id] = sum
			}
			for name, v := range parts {
				sum.part[name] += v
				sum.parts[name]++
			}
			sum.score += score
			sum.orgs++
		}
	}
	for id, sum := range sums {
		o := out[id]
		o.Maturity = map[string]float64{}
		for name, v := range sum.part {
			o.Maturity[name] = 100 * v / float64(sum.parts[name])
		}
		o.MaturityScore = 100 * sum.score / float64(sum.orgs)
		o.MaturityOrgs = sum.orgs
	}
	return nil
}
