package monitoring

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/storage"
)

// Observed is what the hub itself sees of an organisation's subtree in a
// period, beside the norms its people report: the programme's efficiency
// indicators (section X) that no survey can report honestly. A figure
// whose denominator is zero is no data, never zero.
type Observed struct {
	Code string `json:"code"`
	Name string `json:"name"`
	path string
	// Reachable counts the people of the subtree a union channel reaches
	// at the end of the period (an active membership begun by then and an
	// account that does not block the bot), each once; Declared is the
	// members the org declares. Coverage is their ratio.
	Reachable int `json:"reachable"`
	Declared  int `json:"declared_members"`
	// Supporters counts, beside them, the people a union channel reaches
	// as supporters of the subtree who are not members in it: the
	// non-members the programme's coverage names, never in Coverage.
	Supporters int `json:"supporters_reachable"`
	// Asked counts the questions the subtree's members put to the hot line
	// in the period, Answered those with a first answer. Due counts those
	// answered or past their first-answer deadline by the report's time,
	// OnTime those answered by their deadline.
	Asked    int `json:"questions"`
	Answered int `json:"answered"`
	Due      int `json:"due"`
	OnTime   int `json:"answered_on_time"`
	// FirstMedian and FirstP90 are the time to the first answer of the
	// answered questions (nearest rank).
	FirstMedian time.Duration `json:"first_answer_median_ns"`
	FirstP90    time.Duration `json:"first_answer_p90_ns"`
	// Regularity. Published counts the news the org itself started in the
	// period, Relayed the relayed news it published (with or without a
	// note of its own; not what the deadline published for it); Months is
	// how much of the period has passed, in months of 30.4 days.
	Published int     `json:"news_published"`
	Relayed   int     `json:"news_relayed"`
	Months    float64 `json:"months"`
	// RelaySteps counts the relayed news that reached levels of the
	// subtree in the period, RelayPublished those a level published;
	// RelayMedian is the median time a level took to publish.
	RelaySteps     int           `json:"relay_steps"`
	RelayPublished int           `json:"relay_published"`
	RelayMedian    time.Duration `json:"relay_median_ns"`
	// Reach and engagement, over the news finished in the period: the
	// recipients of the subtree their outboxes held (Audience) and
	// reached (Delivered), and those recipients' link opens (each link
	// once per recipient) and Share presses.
	Audience  int `json:"news_audience"`
	Delivered int `json:"news_delivered"`
	Opens     int `json:"link_opens"`
	Shares    int `json:"shares"`
	// Digital maturity, as the orgs are at the report's time (surveys:
	// those due in the period; the contact base: the period's year).
	// MaturityScore is the mean (0-100) of the subtree's orgs' scores,
	// each the mean of the parts that apply to it; Maturity each part's
	// mean (%) over the orgs it applies to, by MaturityParts' names, a
	// part that applies to none missing. MaturityOrgs counts the orgs.
	Maturity      map[string]float64 `json:"maturity_parts,omitempty"`
	MaturityScore float64            `json:"maturity_score"`
	MaturityOrgs  int                `json:"maturity_orgs"`
	// Participation. Actions counts the actions the subtree's orgs sent
	// that took place in the period; JoinedOffline the distinct people who
	// said yes to one of its meetings, JoinedOnline to one of its online
	// actions or signed one of its petitions, Attended those who said they
	// were at one.
	Actions       int `json:"actions"`
	JoinedOffline int `json:"joined_offline"`
	JoinedOnline  int `json:"joined_online"`
	Attended      int `json:"attended"`
	// Targets weighs the indicators the org has a target for (its own, or
	// the nearest set above it) in the period.
	Targets []ObservedResult `json:"targets,omitempty"`
}

// MaturityPart is a part of the digital maturity (%); ok is false when it
// applies to no org of the subtree.
func (o Observed) MaturityPart(name string) (share float64, ok bool) {
	share, ok = o.Maturity[name]
	return share, ok
}

// Reach is the share (%) of the news' recipients they reached; ok is false
// when no news finished for the subtree.
func (o Observed) Reach() (share float64, ok bool) { return percent(o.Delivered, o.Audience) }

// Engagement is link opens and Share presses per 100 delivered items; ok
// is false when nothing was delivered.
func (o Observed) Engagement() (opens, shares float64, ok bool) {
	opens, ok = percent(o.Opens, o.Delivered)
	shares, _ = percent(o.Shares, o.Delivered)
	return opens, shares, ok
}

// Participation is how many distinct people joined the subtree's actions
// in person and online, and said they were there; ok is false when it
// held none in the period.
func (o Observed) Participation() (offline, online, attended int, ok bool) {
	return o.JoinedOffline, o.JoinedOnline, o.Attended, o.Actions > 0
}

// NewsPerMonth is how many news items the org published or relayed a
// month; ok is false before any of the period has passed.
func (o Observed) NewsPerMonth() (perMonth float64, ok bool) {
	if o.Months <= 0 {
		return 0, false
	}
	return float64(o.Published+o.Relayed) / o.Months, true
}

// RelayShare is the share (%) of relayed news that levels of the subtree
// published; ok is false when none reached them.
func (o Observed) RelayShare() (share float64, ok bool) {
	return percent(o.RelayPublished, o.RelaySteps)
}

// Coverage is the share (%) of declared members a union channel reaches;
// ok is false when the org declares none.
func (o Observed) Coverage() (share float64, ok bool) { return percent(o.Reachable, o.Declared) }

// OnTimeShare is the share (%) of the questions due that were answered by
// their deadline; ok is false when none was due.
func (o Observed) OnTimeShare() (share float64, ok bool) { return percent(o.OnTime, o.Due) }

// FirstAnswer is the median and 90th percentile time to a first answer;
// ok is false when no question of the period was answered.
func (o Observed) FirstAnswer() (median, p90 time.Duration, ok bool) {
	return o.FirstMedian, o.FirstP90, o.Answered > 0
}

// observe computes Observed for every org of under's subtree in p, by org
// id, from two reads: the reachable memberships and the period's
// questions, each rolled up to every ancestor within the subtree.
func (s *Service) observe(ctx context.Context, under storage.Org, byID map[int64]storage.Org, p Period) (map[int64]*Observed, error) {
	out := map[int64]*Observed{}
	for id, o := range byID {
		if under.Contains(o) {
			out[id] = &Observed{Code: o.Code, Name: o.Name, Declared: o.MemberCount, path: o.Path}
		}
	}
	// up lists an org and its ancestors within the subtree.
	up := func(id int64, into []int64) []int64 {
		for {
			if _, ok := out[id]; !ok {
				return into
			}
			into = append(into, id)
			id = byID[id].ParentID
		}
	}
	now := s.clock()
	end := p.To
	if end.After(now) {
		end = now
	}
	reach, err := s.store.ReachableMemberships(ctx, under, end)
	if err != nil {
		return nil, fmt.Errorf("observe coverage: %w", err)
	}
	// A person counts once per org however many of its orgs they belong
	// to: their memberships are taken together. A member of an org who
	// supports another below it counts there as a member only.
	slices.SortFunc(reach, func(a, b storage.Reach) int { return int(a.PersonID - b.PersonID) })
	var orgs, supported []int64
	for i, m := range reach {
		if m.Supporter {
			supported = up(m.OrgID, supported)
		} else {
			orgs = up(m.OrgID, orgs)
		}
		if i+1 < len(reach) && reach[i+1].PersonID == m.PersonID {
			continue
		}
		slices.Sort(orgs)
		orgs = slices.Compact(orgs)
		for _, id := range orgs {
			out[id].Reachable++
		}
		slices.Sort(supported)
		for _, id := range slices.Compact(supported) {
			if _, member := slices.BinarySearch(orgs, id); !member {
				out[id].Supporters++
			}
		}
		orgs, supported = orgs[:0], supported[:0]
	}
	tickets, err := s.store.FeedbackTimes(ctx, under, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("observe feedback: %w", err)
	}
	first := map[int64][]time.Duration{}
	for _, t := range tickets {
		orgs = up(t.OrgID, orgs[:0])
		for _, id := range orgs {
			o := out[id]
			o.Asked++
			if t.FirstResponseAt != nil {
				o.Answered++
				first[id] = append(first[id], t.FirstResponseAt.Sub(t.CreatedAt))
			}
			if t.FirstResponseAt != nil || !t.DueAt.After(now) {
				o.Due++
			}
			if t.FirstResponseAt != nil && !t.FirstResponseAt.After(t.DueAt) {
				o.OnTime++
			}
		}
	}
	for id, ds := range first {
		sum := hotline.Summarize(ds)
		out[id].FirstMedian, out[id].FirstP90 = sum.Median, sum.P90
	}
	if err := s.observeNews(ctx, under, out, up, p, end); err != nil {
		return nil, err
	}
	if err := s.observeMaturity(ctx, under, out, up, byID, p, now); err != nil {
		return nil, err
	}
	reached, err := s.store.NewsReachUnder(ctx, under, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("observe reach: %w", err)
	}
	for _, r := range reached {
		for _, id := range up(r.OrgID, orgs[:0]) {
			o := out[id]
			o.Audience += r.Audience
			o.Delivered += r.Delivered
			o.Opens += r.Opens
			o.Shares += r.Shares
		}
	}
	if err := s.observeActions(ctx, under, out, up, p); err != nil {
		return nil, err
	}
	return out, nil
}

// observeActions counts the actions each subtree held in p and the
// distinct people who joined them, offline and online, and were there.
func (s *Service) observeActions(ctx context.Context, under storage.Org, out map[int64]*Observed, up func(int64, []int64) []int64, p Period) error {
	joins, err := s.store.ActionJoins(ctx, under, p.From, p.To)
	if err != nil {
		return fmt.Errorf("observe participation: %w", err)
	}
	type key struct{ org, person int64 }
	actions, offline, online, attended := map[key]bool{}, map[key]bool{}, map[key]bool{}, map[key]bool{}
	var orgs []int64
	for _, j := range joins {
		orgs = up(j.OrgID, orgs[:0])
		for _, id := range orgs {
			actions[key{id, j.BroadcastID}] = true
			if j.Person == 0 {
				continue
			}
			k := key{id, j.Person}
			if j.Kind.Online() {
				online[k] = true
			} else {
				offline[k] = true
			}
			if j.Attended {
				attended[k] = true
			}
		}
	}
	for k := range actions {
		out[k.org].Actions++
	}
	for k := range offline {
		out[k.org].JoinedOffline++
	}
	for k := range online {
		out[k.org].JoinedOnline++
	}
	for k := range attended {
		out[k.org].Attended++
	}
	return nil
}

// monthLength is the average month, which news per month divides by.
const monthLength = time.Duration(30.4 * 24 * 60 * 60 * 1e9)

// observeNews counts what each org published and relayed in p up to end,
// and how the relayed news fared at the levels of each subtree.
func (s *Service) observeNews(ctx context.Context, under storage.Org, out map[int64]*Observed, up func(int64, []int64) []int64, p Period, end time.Time) error {
	starts, err := s.store.NewsStarts(ctx, under, p.From, p.To)
	if err != nil {
		return fmt.Errorf("observe news: %w", err)
	}
	steps, err := s.store.RelayStepsUnder(ctx, under, p.From, p.To)
	if err != nil {
		return fmt.Errorf("observe relays: %w", err)
	}
	months := max(0, float64(end.Sub(p.From))/float64(monthLength))
	for _, o := range out {
		o.Months = months
	}
	for _, n := range starts {
		out[n.OrgID].Published++
	}
	took := map[int64][]time.Duration{}
	var orgs []int64
	for _, st := range steps {
		published := (st.Action == storage.RelayPublished || st.Action == storage.RelayNoted) && st.RelayedAt != nil
		if published && !st.RelayedAt.Before(p.From) && st.RelayedAt.Before(p.To) {
			out[st.OrgID].Relayed++
		}
		for _, id := range up(st.OrgID, orgs[:0]) {
			out[id].RelaySteps++
			if published {
				out[id].RelayPublished++
				took[id] = append(took[id], st.RelayedAt.Sub(st.ReceivedAt))
			}
		}
	}
	for id, ds := range took {
		out[id].RelayMedian = hotline.Summarize(ds).Median
	}
	return nil
}
