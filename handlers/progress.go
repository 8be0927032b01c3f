package handlers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/unionhub/unionhub/bot"
	"github.com/unionhub/unionhub/locales"
	"github.com/unionhub/unionhub/storage"
)

// progressWatch lists the broadcasts whose progress message this process
// keeps up to date.
type progressWatch struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (w *progressWatch) add(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ids == nil {
		w.ids = map[int64]bool{}
	}
	w.ids[id] = true
}

func (w *progressWatch) remove(id int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.ids, id)
}

func (w *progressWatch) list() []int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ids []int64
	for id := range w.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// RunProgress refreshes the senders' progress messages every interval
// until ctx ends.
func (h *Hub) RunProgress(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			for _, id := range h.progress.list() {
				if err := h.showProgress(ctx, id, false); err != nil {
					h.Logger.WarnContext(ctx, "show progress", "broadcast", id, "err", err)
				}
			}
		}
	}
}

// OnBroadcastFinished shows the final figures when the engine has nothing
// left to send for a broadcast.
func (h *Hub) OnBroadcastFinished(ctx context.Context, b storage.Broadcast) {
	h.progress.remove(b.ID)
	if err := h.showProgress(ctx, b.ID, true); err != nil {
		h.Logger.WarnContext(ctx, "show final progress", "broadcast", b.ID, "err", err)
	}
}

// showProgress edits the sender's progress message in place.
func (h *Hub) showProgress(ctx context.Context, id int64, final bool) error {
	b, err := h.Store.Broadcast(ctx, id)
	if err != nil {
		return fmt.Errorf("load broadcast: %w", err)
	}
	if b.Progress == nil {
		return nil
	}
	sender, ok := h.Senders[bot.Platform(b.Progress.Platform)]
	if !ok {
		return nil
	}
	r, err := BuildBroadcastReport(ctx, h.Store, b)
	if err != nil {
		return err
	}
	lang := locales.Default
	if b.AuthorID != 0 {
		if p, err := h.Store.Person(ctx, b.AuthorID); err == nil {
			lang = locales.Normalize(p.Locale)
		}
	}
	key := "news.progress"
	var kb bot.Keyboard
	switch {
	case b.Status == storage.BroadcastCancelled:
		key = "news.progress_cancelled"
	case final || b.Status == storage.BroadcastDone:
		key = "news.progress_done"
	default:
		kb = bot.Keyboard{{{Text: h.Catalog.T(lang, "news.button_stop"), Data: fmt.Sprintf("%s:stop:%d", cbNews, b.ID)}}}
	}
	text := h.Catalog.T(lang, key, "ID", b.ID, "Delivered", r.Delivered, "Audience", r.Audience,
		"Queued", r.Queued, "Failed", r.Failed, "Unreachable", r.Unreachable)
	if b.Mode == storage.ModeRelay {
		text += "\n" + h.Catalog.T(lang, "news.progress_relay", "Relayed", r.Relayed, "Levels", r.RelaySteps)
	}
	err = sender.Edit(ctx, bot.Sent{ChatID: b.Progress.ChatID, MessageID: b.Progress.MessageID}, bot.Message{Text: text, Keyboard: kb})
	if err != nil {
		return fmt.Errorf("edit progress: %w", err)
	}
	return nil
}

// BroadcastReport is how far a broadcast got.
type BroadcastReport struct {
	ID          int64       `json:"id"`
	Org         string      `json:"org"`
	Mode        string      `json:"mode"`
	Status      string      `json:"status"`
	Audience    int         `json:"audience"`
	Delivered   int         `json:"delivered"`
	Failed      int         `json:"failed"`
	Unreachable int         `json:"unreachable"`
	Queued      int         `json:"queued"`
	Cancelled   int         `json:"cancelled"`
	ByOrg       []OrgReach  `json:"by_org"`
	RelaySteps  int         `json:"relay_steps"`
	Relayed     int         `json:"relayed"`
	RelayLevels []RelayTime `json:"relay_latency"`
}

// OrgReach is a broadcast's reach in one organisation.
type OrgReach struct {
	Code      string `json:"code"`
	Audience  int    `json:"audience"`
	Delivered int    `json:"delivered"`
}

// RelayTime is how long the organisations of one depth below the sender
// took to relay the item.
type RelayTime struct {
	Depth  int           `json:"depth"`
	Orgs   int           `json:"orgs"`
	Median time.Duration `json:"median_ns"`
	Max    time.Duration `json:"max_ns"`
}

// broadcastReportStore is what the report reads.
type broadcastReportStore interface {
	DeliveryCounts(ctx context.Context, broadcastID int64) ([]storage.DeliveryCount, error)
	RelaySteps(ctx context.Context, broadcastID int64) ([]storage.RelayStep, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
}

// BuildBroadcastReport counts a broadcast's outbox and relay.
func BuildBroadcastReport(ctx context.Context, st broadcastReportStore, b storage.Broadcast) (BroadcastReport, error) {
	r := BroadcastReport{ID: b.ID, Mode: string(b.Mode), Status: string(b.Status)}
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
			reach = &OrgReach{Code: o.Code}
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
		sum := summarize(ds)
		r.RelayLevels = append(r.RelayLevels, RelayTime{Depth: depth, Orgs: len(ds), Median: sum.Median, Max: slices.Max(ds)})
	}
	sort.Slice(r.RelayLevels, func(i, j int) bool { return r.RelayLevels[i].Depth < r.RelayLevels[j].Depth })
	return r, nil
}
