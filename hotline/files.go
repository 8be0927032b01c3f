package hotline

import (
	"context"
	"errors"
	"fmt"

	"github.com/unionhub/unionhub/access"
	"github.com/unionhub/unionhub/storage"
)

// FileSource downloads the files people sent on one messenger, by their
// attachment: the messenger keeps them, the hot line only their references.
// A file too large for the messenger to serve is storage.ErrFileTooBig, one
// it no longer serves storage.ErrFileGone.
type FileSource interface {
	Download(ctx context.Context, a storage.Attachment) ([]byte, error)
}

var (
	// ErrNotConnected: the deployment has no bot on the file's messenger
	// to download it with.
	ErrNotConnected = errors.New("messenger not connected")
	// ErrFileUnavailable: the messenger did not give the file; the cause
	// follows it in the chain.
	ErrFileUnavailable = errors.New("file unavailable")
)

// File is a file of a ticket's thread with its content.
type File struct {
	storage.Attachment
	Data []byte
}

// CaseFile downloads the file n (from 0) of the message messageID of ticket
// id from its messenger, for someone who may open the ticket (Case); the
// ticket comes back for the audit log. A message of another ticket, or an
// n it does not have, is storage.ErrNotFound; a file of a messenger the
// deployment has no bot on ErrNotConnected; one the messenger did not give
// ErrFileUnavailable.
func (s *Service) CaseFile(ctx context.Context, by access.Actor, id, messageID int64, n int) (storage.Ticket, File, error) {
	t, _, err := s.ticketToAnswer(ctx, by, id)
	if err != nil {
		return storage.Ticket{}, File{}, err
	}
	thread, err := s.store.TicketMessages(ctx, t.ID)
	if err != nil {
		return storage.Ticket{}, File{}, fmt.Errorf("load thread: %w", err)
	}
	var a *storage.Attachment
	for _, m := range thread {
		if m.ID == messageID && n >= 0 && n < len(m.Attachments) {
			a = &m.Attachments[n]
		}
	}
	if a == nil {
		return storage.Ticket{}, File{}, fmt.Errorf("find file %d of message %d of ticket %d: %w", n, messageID, id, storage.ErrNotFound)
	}
	src, ok := s.files[a.Platform]
	if !ok {
		return storage.Ticket{}, File{}, fmt.Errorf("download file of %s: %w", a.Platform, ErrNotConnected)
	}
	data, err := src.Download(ctx, *a)
	if err != nil {
		return storage.Ticket{}, File{}, fmt.Errorf("download file of ticket %d: %w: %w", id, ErrFileUnavailable, err)
	}
	return t, File{Attachment: *a, Data: data}, nil
}
