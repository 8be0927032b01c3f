package handlers

import (
	"context"
	"time"

	"github.com/unionhub/unionhub/hotline"
	"github.com/unionhub/unionhub/membership"
	"github.com/unionhub/unionhub/monitoring"
	"github.com/unionhub/unionhub/news"
	"github.com/unionhub/unionhub/orgs"
	"github.com/unionhub/unionhub/signin"
	"github.com/unionhub/unionhub/storage"
)

// Store is what the chat front end reads and writes itself — the caller of
// each update, what its screens and notices show, the posts it keeps — and
// what the domains it builds by default (see New) need.
type Store interface {
	membership.Store
	orgs.Store
	hotline.Store
	monitoring.Store
	news.Store
	signin.Store

	Caller(ctx context.Context, p storage.Platform, externalID string) (storage.Caller, error)
	TouchAccount(ctx context.Context, p storage.Platform, externalID string, at time.Time) error
	MarkBlocked(ctx context.Context, p storage.Platform, externalID string, at time.Time) error
	Person(ctx context.Context, id int64) (storage.Person, error)
	Accounts(ctx context.Context, personID int64) ([]storage.Account, error)
	Memberships(ctx context.Context, personID int64) ([]storage.Membership, error)
	Org(ctx context.Context, id int64) (storage.Org, error)
	OrgByCode(ctx context.Context, code string) (storage.Org, error)
	ChildOrgs(ctx context.Context, parentID int64) ([]storage.Org, error)
	TicketMessages(ctx context.Context, ticketID int64) ([]storage.TicketMessage, error)
	AddTicketPost(ctx context.Context, p storage.TicketPost) error
	TakeTicketPosts(ctx context.Context, ticketID int64) ([]storage.TicketPost, error)
	AddDeskPost(ctx context.Context, p storage.DeskPost) error
	RelaySteps(ctx context.Context, broadcastID int64) ([]storage.RelayStep, error)
	DeliveryIDTo(ctx context.Context, broadcastID int64, p storage.Platform, chatID string) (int64, error)
}
