package news

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/unionhub/unionhub/storage"
)

// Report is how far a broadcast got.
type Report struct {
	ID          int64  `json:"id"`
	Org         string `json:"org"`
	Mode        string `json:"mode"`
	Status      string `json:"status"`
	Audience    int    `json:"audience"`
	Delivered   int    `json:"delivered"`
	Failed      int    `json:"failed"`
	Unreachable int    `json:"unreachable"`
	Queued      int    `json:"queued"`
	Cancelled   int    `json:"cancelled"`
	// Opens counts the recipients who opened a link of the item (each
	// link once), Shares those who pressed its Share button.
	Opens       int         `json:"link_opens"`
	Shares      int         `json:"shares"`
	ByOrg       []OrgReach  `json:"by_org"`
	RelaySteps  int         `json:"relay_steps"`
	Relayed     int         `json:"relayed"`
	RelayLevels []RelayTime `json:"relay_latency"`
	// Action counts the answers to the item's action; nil without one.
	Action *ActionTally `json:"action,omitempty"`
}

// OrgReach is a broadcast's reach in one organisation.
type OrgReach struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Audience  int    `json:"audience"`
	Delivered int    `json:"delivered"`
	Opens     int    `json:"link_opens"`
	Shares    int    `json:"shares"`
}

// RelayTime is how long the organisations of one depth below the sender
// took to relay the item.
type RelayTime struct {
	Depth  int           `json:"depth"`
	Orgs   int           `json:"orgs"`
	Median time.Duration `json:"median_ns"`
	Max    time.Duration `json:"max_ns"`
}

// ReportStore is what the report reads.
type ReportStore interface {
	DeliveryCounts(ctx context.Context, broadcastID int64) ([]storage.DeliveryCount, error)
	RelaySteps(ctx context.Context, broadcastID int64) ([]storage.RelayStep, error)
	LinkOpenCounts(ctx context.Context, broadcastID int64) ([]storage.LinkOpenCount, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
	ActionCounts(ctx context.Context, broadcastID int64) ([]storage.ActionCount, error)
}

// BuildReport counts a broadcast's outbox and relay.
func BuildReport(ctx context.Context, st ReportStore, b storage.Broadcast) (Report, error) {
	r := Report{ID: b.ID, Mode: string(b.Mode), Status: string(b.Status)}
	sender, err := st.Org(ctx, b.OrgID)
	if err != nil {
		return r, fmt.Errorf("load org: %w", err)
	}
	r.Org = sender.Name
	counts, err := st.DeliveryCounts(ctx, b.ID)
	if err != nil {
		return r, fmt.Errorf("count deliveries: %w", err)
	}
	byOrg := map[int64]*OrgReach{}
	for _, c := range counts {
		reach, ok := byOrg[c.OrgID]
		if !ok {
			o, err := st.Org(ctx, c.OrgID)
			if err != nil {
				return r, fmt.Errorf("load org: %w", err)
			}
			reach = &OrgReach{Code: o.Code, Name: o.Name}
			byOrg[c.OrgID] = reach
		}
		if c.Status != storage.DeliveryCancelled {
			reach.Audience += c.Count
			r.Audience += c.Count
		}
		switch c.Status {
		case storage.DeliverySent:
			r.Delivered += c.Count
			reach.Delivered += c.Count
		case storage.DeliveryFailed:
			r.Failed += c.Count
		case storage.DeliveryUnreachable:
			r.Unreachable += c.Count
		case storage.DeliveryQueued, storage.DeliverySending:
			r.Queued += c.Count
		case storage.DeliveryCancelled:
			r.Cancelled += c.Count
		}
	}
	opens, err := st.LinkOpenCounts(ctx, b.ID)
	if err != nil {
		return r, fmt.Errorf("count link opens: %w", err)
	}
	for _, c := range opens {
		r.Opens += c.Opens
		r.Shares += c.Shares
		if reach, ok := byOrg[c.OrgID]; ok {
			reach.Opens += c.Opens
			reach.Shares += c.Shares
		}
	}
	for _, reach := range byOrg {
		r.ByOrg = append(r.ByOrg, *reach)
	}
	sort.Slice(r.ByOrg, func(i, j int) bool { return r.ByOrg[i].Code < r.ByOrg[j].Code })
	steps, err := st.RelaySteps(ctx, b.ID)
	if err != nil {
		return r, fmt.Errorf("list relay steps: %w", err)
	}
	depths := map[int][]time.Duration{}
	for _, s := range steps {
		r.RelaySteps++
		if s.RelayedAt == nil || s.Action == storage.RelaySkipped {
			continue
		}
		r.Relayed++
		o, err := st.Org(ctx, s.OrgID)
		if err != nil {
			return r, fmt.Errorf("load org: %w", err)
		}
		depth := len(pathIDs(o.Path)) - len(pathIDs(sender.Path))
		depths[depth] = append(depths[depth], s.RelayedAt.Sub(s.ReceivedAt))
	}
	for depth, ds := range depths {
		r.RelayLevels = append(r.RelayLevels, RelayTime{Depth: depth, Orgs: len(ds), Median: median(ds), Max: slices.Max(ds)})
	}
	sort.Slice(r.RelayLevels, func(i, j int) bool { return r.RelayLevels[i].Depth < r.RelayLevels[j].Depth })
	if b.Action != nil {
		answers, err := st.ActionCounts(ctx, b.ID)
		if err != nil {
			return r, fmt.Errorf("count action answers: %w", err)
		}
		r.Action = &ActionTally{}
		for _, c := range answers {
			r.Action.add(ActionTally{Yes: c.Yes, No: c.No, Attended: c.Attended, Signed: c.Signed})
		}
	}
	return r, nil
}

// median is the lower median of ds (the value at rank ⌈n/2⌉), which it
// sorts; ds is not empty.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[(len(ds)+1)/2-1]
}
