package storage

import (
	"context"
	"time"
)

// LinkShare is the link number of a news item's Share button: its opens
// are shares.
const LinkShare = -1

// LinkTarget is the delivery a short link was made for.
type LinkTarget struct {
	DeliveryID  int64
	BroadcastID int64
	OrgID       int64
	Platform    Platform
}

// LinkOpenCount is how often the recipients of one organisation opened the
// links of a broadcast (each recipient each link once) and pressed Share.
type LinkOpenCount struct {
	BroadcastID int64
	OrgID       int64
	Opens       int
	Shares      int
}

// LinkStore keeps the opens of the short links in news.
type LinkStore interface {
	// HubKey is the key stored under name; when there is none yet, fresh
	// is stored and returned. Across replicas the first stored wins.
	HubKey(ctx context.Context, name string, fresh []byte) ([]byte, error)
	// DeliveryIDTo finds the delivery of a broadcast to a chat, whose
	// short links a message rebuilt later must keep; ErrNotFound when
	// there is none.
	DeliveryIDTo(ctx context.Context, broadcastID int64, p Platform, chatID string) (int64, error)
	// LinkTarget finds the delivery a short link was made for;
	// ErrNotFound when there is none.
	LinkTarget(ctx context.Context, deliveryID int64) (LinkTarget, error)
	// RecordLinkOpen records that a delivery's recipient opened its link
	// number link (LinkShare: pressed Share) and counts it; false when
	// they had already (or the delivery is gone).
	RecordLinkOpen(ctx context.Context, deliveryID int64, link int, at time.Time) (bool, error)
	// PruneLinkOpens forgets who opened what before before, and returns
	// how many opens it forgot; their counts stay.
	PruneLinkOpens(ctx context.Context, before time.Time) (int, error)
	// LinkOpenCounts counts a broadcast's opens by organisation.
	LinkOpenCounts(ctx context.Context, broadcastID int64) ([]LinkOpenCount, error)
}
