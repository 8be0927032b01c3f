package news_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/storage"
)

// reportStore is a broadcast's records as the report reads them.
type reportStore struct {
	orgs   map[int64]storage.Org
	counts []storage.DeliveryCount
	steps  []storage.RelayStep
	opens  []storage.LinkOpenCount
}

func (r reportStore) LinkOpenCounts(context.Context, int64) ([]storage.LinkOpenCount, error) {
	return r.opens, nil
}

// ActionCounts has nothing to count: the reports here carry no action.
func (r reportStore) ActionCounts(context.Context, int64) ([]storage.ActionCount, error) {
	return nil, nil
}

func (r reportStore) DeliveryCounts(context.Context, int64) ([]storage.DeliveryCount, error) {
	return r.counts, nil
}

func (r reportStore) RelaySteps(context.Context, int64) ([]storage.RelayStep, error) {
	return r.steps, nil
}

func (r reportStore) Org(_ context.Context, id int64) (storage.Org, error) {
	if o, ok := r.orgs[id]; ok {
		return o, nil
	}
	return storage.Org{}, storage.ErrNotFound
}

func TestReportCountsTheOutboxAndTheRelay(t *testing.T) {
	t.Parallel()
	orgs := map[int64]storage.Org{
		1: {ID: 1, Code: "union", Name: "Союз", Path: "/1/"},
		2: {ID: 2, Code: "edu", Path: "/1/2/"},
		3: {ID: 3, Code: "health", Path: "/1/3/"},
		4: {ID: 4, Code: "fish", Path: "/1/4/"},
		5: {ID: 5, Code: "school", Path: "/1/2/5/"},
		6: {ID: 6, Code: "gym", Path: "/1/2/6/"},
		7: {ID: 7, Code: "college", Path: "/1/2/7/"},
	}
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	step := func(org int64, action storage.RelayAction, took time.Duration) storage.RelayStep {
		st := storage.RelayStep{OrgID: org, ReceivedAt: start, Action: action}
		if action != "" {
			at := start.Add(took)
			st.RelayedAt = &at
		}
		return st
	}
	st := reportStore{orgs: orgs,
		counts: []storage.DeliveryCount{
			{OrgID: 2, Status: storage.DeliverySent, Count: 5},
			{OrgID: 2, Status: storage.DeliveryQueued, Count: 2},
			{OrgID: 5, Status: storage.DeliverySending, Count: 1},
			{OrgID: 5, Status: storage.DeliveryFailed, Count: 1},
			{OrgID: 5, Status: storage.DeliveryUnreachable, Count: 3},
			{OrgID: 3, Status: storage.DeliveryCancelled, Count: 4},
		},
		steps: []storage.RelayStep{
			step(2, storage.RelayPublished, time.Hour),
			step(3, storage.RelayAuto, 5*time.Hour),
			step(4, storage.RelayNoted, 2*time.Hour),
			step(5, storage.RelaySkipped, time.Minute),
			step(5, "", 0),
			step(6, storage.RelayPublished, 90*time.Minute),
			step(7, storage.RelayAuto, 30*time.Minute),
		},
		opens: []storage.LinkOpenCount{{OrgID: 2, Opens: 3, Shares: 1}, {OrgID: 5, Opens: 1}},
	}
	got, err := news.BuildReport(context.Background(), st, storage.Broadcast{ID: 7, OrgID: 1, Mode: storage.ModeRelay, Status: storage.BroadcastSending})
	if err != nil {
		t.Fatal(err)
	}
	want := news.Report{ID: 7, Org: "Союз", Mode: "relay", Status: "sending",
		Audience: 12, Delivered: 5, Failed: 1, Unreachable: 3, Queued: 3, Cancelled: 4, Opens: 4, Shares: 1,
		ByOrg: []news.OrgReach{{Code: "edu", Audience: 7, Delivered: 5, Opens: 3, Shares: 1}, {Code: "health"}, {Code: "school", Audience: 5, Opens: 1}},
		// Skipped and pending steps count as steps, not as relayed; the
		// median of an even count is the lower one.
		RelaySteps: 7, Relayed: 5,
		RelayLevels: []news.RelayTime{
			{Depth: 1, Orgs: 3, Median: 2 * time.Hour, Max: 5 * time.Hour},
			{Depth: 2, Orgs: 2, Median: 30 * time.Minute, Max: 90 * time.Minute},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("report\n%+v\nwant\n%+v", got, want)
	}
}
